"""Response models of ``/api/v1/auth`` and ``/api/v1/rollups``."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.example_data import examples_of
from sensors.apikeys import Role


class KeyOut(BaseModel):
    """An API key's name and role (never the key)."""

    model_config = ConfigDict(json_schema_extra=examples_of("key"))

    name: str = Field(description="the key's name in SMARTPLACE_API_KEYS (anonymous: the "
                      "API is open)")
    role: Role = Field(description="viewer < operator < admin; each includes the ones before")


class KeysOut(BaseModel):
    """``GET /api/v1/auth/keys``."""

    model_config = ConfigDict(json_schema_extra=examples_of("keys"))

    keys: list[KeyOut] = Field(description="every configured key, by name and role")
    by: str = Field(description="the key that asked")


class BackfillOut(BaseModel):
    """``POST /api/v1/rollups/backfill``: the rolled-up hours afterwards."""

    model_config = ConfigDict(json_schema_extra=examples_of("backfill"))

    coverage_start: str | None = Field(
        description="RFC 3339 start of the hours the rollups now cover (null: none)")
    coverage_end: str | None = Field(description="RFC 3339 end (exclusive) of those hours")
    by: str = Field(description="the key that acted (its name)")
