"""``/api/v1/auth/me`` (which key am I) and ``/api/v1/auth/keys`` (admin: the key list).

Keys are named; answers give names and roles, never a key.
"""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import APIRouter, Depends, Request

from api.auth import ROLE_RESPONSES, require_api_key, require_role
from api.schemas import KeyOut, KeysOut
from sensors.apikeys import ApiKey

router = APIRouter(tags=["access"])


@router.get("/auth/me", response_model=KeyOut, summary="The name and role of the key used")
async def me(actor: Annotated[ApiKey, Depends(require_api_key)]) -> KeyOut:
    """Who this request acts as (``anonymous``, an admin, when the API is open)."""
    return KeyOut(name=actor.name, role=actor.role)


@router.get("/auth/keys", response_model=KeysOut, responses=ROLE_RESPONSES,
            summary="Every key's name and role (admin)")
async def keys(request: Request,
               actor: Annotated[ApiKey, Depends(require_role("admin"))]) -> KeysOut:
    """The configured keys, by name and role; never the keys themselves."""
    configured = cast(list[ApiKey], request.app.state.api_keys)
    return KeysOut(keys=[KeyOut(name=key.name, role=key.role) for key in configured],
                   by=actor.name)
