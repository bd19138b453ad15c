"""API keys and roles for ``/api/v1`` (contract section 6; roles: ``sensors/apikeys.py``).

With keys configured, a request must present one as ``Authorization: Bearer <key>`` or
``X-API-Key: <key>`` (401 otherwise), and a route that acts needs a key whose role allows
it (403 otherwise). Without keys the API is open, to every route (``api.server`` logs a
warning). The key that acted is ``request.state.actor``: answers and audit logs give its
name, never the key. Both schemes are declared so OpenAPI shows them.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import HTTPException, Request, Security, status
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr

from sensors.apikeys import ApiKey, Role

audit = logging.getLogger("smartplace.audit")

bearer_scheme = HTTPBearer(
    auto_error=False, scheme_name="BearerKey",
    description="An API key from SMARTPLACE_API_KEYS as `Authorization: Bearer <key>`.",
)
api_key_scheme = APIKeyHeader(
    name="X-API-Key", auto_error=False, scheme_name="ApiKeyHeader",
    description="An API key from SMARTPLACE_API_KEYS as `X-API-Key: <key>`.",
)
# What a route behind require_role declares in OpenAPI, so clients know to expect it.
ROLE_RESPONSES: dict[int | str, dict[str, Any]] = {
    403: {"description": "The key's role does not allow this; the answer names the role "
          "needed and the key's role."},
}
# Who "acts" when the API is open (no keys configured).
OPEN_ACTOR = ApiKey("anonymous", "admin", SecretStr(""))


def key_matches(candidate: str, keys: list[str]) -> bool:
    """True when ``candidate`` equals one of ``keys``, compared in constant time.

    Every key is compared, so the time taken does not reveal which key nearly matched.
    """
    presented = candidate.encode("utf-8")
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(presented, key.encode("utf-8"))
    return matched


def find_key(candidate: str, keys: list[ApiKey]) -> ApiKey | None:
    """The key ``candidate`` is, compared in constant time against every key."""
    presented = candidate.encode("utf-8")
    found = None
    for key in keys:
        if hmac.compare_digest(presented, key.secret.get_secret_value().encode("utf-8")):
            found = key
    return found


async def require_api_key(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
    api_key: Annotated[str | None, Security(api_key_scheme)],
) -> ApiKey:
    """The key of the request (``OPEN_ACTOR`` when the API is open); also kept as
    ``request.state.actor``.

    Raises:
        HTTPException: 401 with ``WWW-Authenticate`` when the key is missing or wrong.
    """
    keys: list[ApiKey] = request.app.state.api_keys
    actor: ApiKey | None = OPEN_ACTOR if not keys else None
    for candidate in (credentials.credentials if credentials else None, api_key):
        if actor is None and candidate:
            actor = find_key(candidate, keys)
    if actor is None:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="missing or invalid API key: send 'Authorization: Bearer <key>' "
            "or 'X-API-Key: <key>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    request.state.actor = actor
    return actor


def require_role(role: Role) -> Callable[..., Awaitable[ApiKey]]:
    """A dependency: the request's key, when its role includes ``role``.

    Raises:
        HTTPException: 403 naming the role needed (401 first, for no or a wrong key).
    """
    async def check(request: Request,
                    credentials: Annotated[HTTPAuthorizationCredentials | None,
                                           Security(bearer_scheme)],
                    api_key: Annotated[str | None, Security(api_key_scheme)]) -> ApiKey:
        actor = await require_api_key(request, credentials, api_key)
        if not actor.allows(role):
            audit.warning("refused: %s needs role %s; key %s is a %s", request.url.path, role,
                          actor.name, actor.role,
                          extra={"key_name": actor.name, "role": actor.role})
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                detail=f"this needs a key with role {role} (or higher); "
                                f"the key {actor.name!r} is a {actor.role}")
        return actor

    return check


def audited(actor: ApiKey, action: str, **details: object) -> None:
    """Record an action in the audit log, with the name (never the key) of who acted."""
    audit.info("%s by %s", action, actor.name,
               extra={"key_name": actor.name, "role": actor.role, **details})
