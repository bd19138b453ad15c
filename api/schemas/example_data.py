"""OpenAPI examples: real answers of this API, kept in ``api/schemas/examples/``.

Each file is an answer the API gave on simulated readings (and the sample DESNZ file for
``/reconciliation``), with long lists cut to their first two entries; the API keys are
made up. ``tests/api/test_openapi.py`` validates every example against its model, so an
example cannot drift from the schema it illustrates. The JSON files are read when the
OpenAPI document is built; the report's CSV example when its route module is imported.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib.resources import files
from typing import Any, cast


def example_text(name: str) -> str:
    """The example file ``name`` (with its suffix) as text."""
    return files("api.schemas").joinpath("examples", name).read_text(encoding="utf-8")


def load_example(name: str) -> dict[str, Any]:
    """The JSON example ``<name>.json``."""
    return cast(dict[str, Any], json.loads(example_text(f"{name}.json")))


def examples_of(name: str) -> Callable[[dict[str, Any]], None]:
    """A ``json_schema_extra`` that adds ``<name>.json`` as the model's example."""
    def add(schema: dict[str, Any]) -> None:
        schema["examples"] = [load_example(name)]

    return add
