"""A bad configuration, told to a person: one line per problem, by environment variable.

The settings themselves are :mod:`sensors.settings`; the command line prints this when
they do not validate.
"""

from __future__ import annotations

from typing import get_args

from pydantic import SecretStr, ValidationError

from sensors.settings import ENV_PREFIX, Settings


def env_name(field: str) -> str:
    """The environment variable of a setting: ``api_port`` -> ``SMARTPLACE_API_PORT``."""
    return f"{ENV_PREFIX}{field.upper()}"


_SECRET_FIELDS = frozenset(name for name, info in Settings.model_fields.items()
                           if SecretStr in (info.annotation, *get_args(info.annotation)))


def settings_error_message(exc: ValidationError, options: dict[str, str] | None = None) -> str:
    """A bad configuration, one line per problem, naming the environment variable.

    pydantic names the field (``api_port``); people set ``SMARTPLACE_API_PORT``. A value
    given on the command line is named by its option instead (``options``: field ->
    ``--port``). Secret values are never repeated.
    """
    lines = []
    for error in exc.errors(include_url=False):
        field = str(error["loc"][0]) if error["loc"] else ""
        name = (options or {}).get(field) or (env_name(field) if field else "configuration")
        message = str(error["msg"]).removeprefix("Value error, ")
        shown = "" if field in _SECRET_FIELDS or not field or "input" not in error \
            else f" (got {error['input']!r:.80})"
        lines.append(f"  {name}: {message}{shown}")
    return "invalid configuration:\n" + "\n".join(lines)
