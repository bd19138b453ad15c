"""The package boundaries: sensors is the shared domain; nothing imports ingest or simulators.

Allowed: every package may import ``sensors``; ``smartplace`` (the command line and the
demo) may import all of them; ``smartplace.logs`` and ``smartplace.servers`` are shared
infrastructure. Absolute imports only.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("sensors", "ingest", "api", "simulators", "smartplace")
FORBIDDEN = {
    "sensors": {"ingest", "api", "simulators", "smartplace"},
    "ingest": {"api", "simulators"},
    "api": {"ingest", "simulators"},
    "simulators": {"ingest", "api"},
    "smartplace": set(),
}
SHARED_SMARTPLACE = {"smartplace.logs", "smartplace.servers"}


def imports_of(path: Path) -> list[tuple[str, int]]:
    """(module, level) for every import statement in a file."""
    found: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, 0) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.module or "", node.level))
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_package_boundaries(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"no modules in {package}"
    for path in files:
        for module, level in imports_of(path):
            where = f"{path.relative_to(ROOT)} imports {module!r}"
            assert level == 0, f"{where}: relative import"
            top = module.split(".")[0]
            assert top not in FORBIDDEN[package], where
            if package != "smartplace" and top == "smartplace":
                assert module in SHARED_SMARTPLACE, where


def test_sensors_does_no_network_io() -> None:
    for path in (ROOT / "sensors").rglob("*.py"):
        for module, _ in imports_of(path):
            assert module.split(".")[0] not in {"httpx", "paho", "socket", "urllib3", "requests"}, (
                f"{path.name} imports {module}"
            )
