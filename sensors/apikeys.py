"""Named API keys with roles (``SMARTPLACE_API_KEYS`` and ``SMARTPLACE_API_KEYS_FILE``).

Roles, each including the ones before it: ``viewer`` reads every ``/api/v1`` route;
``operator`` also acts (acknowledges alerts, retires sensors, backfills rollups, imports);
``admin`` also sees the key list. An entry of ``SMARTPLACE_API_KEYS`` is a bare key (a
viewer named ``key-<n>``) or ``name:role:key``; the file is JSON
``{"keys": [{"name": ..., "role": ..., "key": ...}]}`` and keeps keys out of the
environment. Answers and audit logs name the key (``name``), never show it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from sensors.errors import SensorsError
from sensors.jsonfile import read_json_file

Role = Literal["viewer", "operator", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "operator", "admin")
_NAMED = re.compile(r"([A-Za-z0-9_.-]{1,64}):(viewer|operator|admin):(.+)")


class ApiKeysError(SensorsError):
    """The API keys setting or file is unusable; the message names which and why."""


@dataclass(frozen=True)
class ApiKey:
    """One key: who it is for, what it may do, and the secret itself."""

    name: str
    role: Role
    secret: SecretStr

    def allows(self, needed: Role) -> bool:
        """True when this key's role includes ``needed``."""
        return ROLES.index(self.role) >= ROLES.index(needed)


class _FileEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    role: Role
    key: SecretStr = Field(min_length=8)


class _KeysFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    keys: list[_FileEntry]


def parse_key_list(text: str) -> list[ApiKey]:
    """The keys of ``SMARTPLACE_API_KEYS`` (comma-separated entries)."""
    keys = []
    for number, entry in enumerate((part.strip() for part in text.split(",")), start=1):
        if not entry:
            continue
        named = _NAMED.fullmatch(entry)
        if named:
            name, role, secret = named.groups()
            keys.append(ApiKey(name, role, SecretStr(secret)))  # type: ignore[arg-type]
        else:
            keys.append(ApiKey(f"key-{number}", "viewer", SecretStr(entry)))
    return keys


def load_key_file(path: Path) -> list[ApiKey]:
    """The keys of ``SMARTPLACE_API_KEYS_FILE``.

    Raises:
        ApiKeysError: the file cannot be read or is not a valid keys file.
    """
    parsed = read_json_file(path, _KeysFile, "SMARTPLACE_API_KEYS_FILE", "keys file",
                            ApiKeysError)
    return [ApiKey(entry.name, entry.role, entry.key) for entry in parsed.keys]


def all_keys(key_list: SecretStr | None, key_file: Path | None) -> list[ApiKey]:
    """Every configured key (empty: the API is open).

    Raises:
        ApiKeysError: the file is unusable, or two keys share a name.
    """
    keys = parse_key_list(key_list.get_secret_value()) if key_list is not None else []
    if key_file is not None:
        keys += load_key_file(key_file)
    names = [key.name for key in keys]
    doubles = sorted({name for name in names if names.count(name) > 1})
    if doubles:
        raise ApiKeysError(f"API key names must be unique: {', '.join(doubles)} used twice")
    return keys
