"""Import rules: ``api`` imports only ``sensors`` from the project (never ingest/simulators)."""

from __future__ import annotations

import ast
from pathlib import Path

import api

FORBIDDEN = ("ingest", "simulators", "smartplace")


def test_api_imports_only_sensors_from_the_project() -> None:
    root = Path(api.__file__).parent
    offenders = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {name}" for name in names
                          if name.split(".")[0] in FORBIDDEN]
    assert offenders == []
