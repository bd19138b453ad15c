"""Response models of ``/api/v1/auth`` and ``/api/v1/rollups``."""

from __future__ import annotations

from pydantic import BaseModel, Field

from sensors.apikeys import Role


class KeyOut(BaseModel):
    """An API key's name and role (never the key)."""

    name: str
    role: Role


class KeysOut(BaseModel):
    """``GET /api/v1/auth/keys``."""

    keys: list[KeyOut]
    by: str = Field(description="the key that asked")


class BackfillOut(BaseModel):
    """``POST /api/v1/rollups/backfill``: the rolled-up hours afterwards."""

    coverage_start: str | None
    coverage_end: str | None
    by: str = Field(description="the key that acted (its name)")
