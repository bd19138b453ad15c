"""A JSON file named by a setting, read and validated once at start-up.

The factor override file, the API keys file and the carbon budget file are read the same
way: a file that cannot be read, is not JSON or does not fit its model stops start-up
with a message naming the setting and the file (never a traceback, never the content).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

Model = TypeVar("Model", bound=BaseModel)


def read_json_file(path: Path, model: type[Model], setting: str, kind: str,
                   error: Callable[[str], Exception]) -> Model:
    """``path`` parsed as JSON and validated as ``model``.

    Raises:
        Exception: ``error(message)``, "<setting> <path>: cannot read (...)" or
            "<setting> <path>: not a valid <kind>: ...".
    """
    try:
        return model.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except OSError as exc:
        raise error(f"{setting} {path}: cannot read ({exc.strerror})") from None
    except (ValueError, ValidationError) as exc:
        raise error(f"{setting} {path}: not a valid {kind}: {exc}") from None
