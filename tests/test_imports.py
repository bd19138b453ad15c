"""The layout, enforced from the imports (README, "Architecture"); no exceptions.

- ``sensors`` is the shared domain: it imports none of the other packages, and no network.
- Nothing imports ``ingest`` or ``simulators`` but the command line (``smartplace``).
- ``api`` never talks MQTT; inside it, only ``api.influx`` (to InfluxDB) and ``api.webhook``
  (alert notifications) talk HTTP, and
  the feature packages never import the routes or the app.
- Absolute imports only.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("sensors", "ingest", "api", "simulators", "smartplace")
FORBIDDEN = {
    "sensors": {"ingest", "api", "simulators", "smartplace", "httpx", "paho", "socket",
                "urllib3", "requests", "fastapi"},
    "ingest": {"api", "simulators", "smartplace"},
    "api": {"ingest", "simulators", "smartplace", "paho", "aiomqtt"},
    "simulators": {"ingest", "api", "smartplace"},
    "smartplace": set(),
}
API_FEATURES = ("activity", "carbon", "air", "network", "live", "public", "reports",
                "reconciliation")


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
            assert module.split(".")[0] not in FORBIDDEN[package], where


def test_only_api_influx_and_the_webhook_talk_http_in_the_api() -> None:
    # Two adapters: InfluxDB (api/influx.py) and the alerts' outgoing webhook (api/webhook.py).
    adapters = {ROOT / "api" / "influx.py", ROOT / "api" / "webhook.py"}
    for path in sorted((ROOT / "api").rglob("*.py")):
        if path not in adapters:
            modules = {module.split(".")[0] for module, _ in imports_of(path)}
            assert "httpx" not in modules, path.relative_to(ROOT)


@pytest.mark.parametrize("feature", API_FEATURES)
def test_api_features_never_import_routes_or_the_app(feature: str) -> None:
    for path in sorted((ROOT / "api" / feature).rglob("*.py")):
        for module, _ in imports_of(path):
            assert not module.startswith(("api.routes", "api.main", "api.server", "api.deps")), (
                f"{path.relative_to(ROOT)} imports {module}")
