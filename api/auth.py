"""API keys for ``/api/v1`` (contract section 6).

With ``SMARTPLACE_API_KEYS`` set, a request must present one of the keys as
``Authorization: Bearer <key>`` or ``X-API-Key: <key>``; without keys the API is open
(``api.server`` logs a warning). Both schemes are declared so OpenAPI shows them.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import HTTPException, Security, status
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from api.deps import SettingsDep

bearer_scheme = HTTPBearer(
    auto_error=False, scheme_name="BearerKey",
    description="An API key from SMARTPLACE_API_KEYS as `Authorization: Bearer <key>`.",
)
api_key_scheme = APIKeyHeader(
    name="X-API-Key", auto_error=False, scheme_name="ApiKeyHeader",
    description="An API key from SMARTPLACE_API_KEYS as `X-API-Key: <key>`.",
)


def key_matches(candidate: str, keys: list[str]) -> bool:
    """True when ``candidate`` equals one of ``keys``, compared in constant time.

    Every key is compared, so the time taken does not reveal which key nearly matched.
    """
    presented = candidate.encode("utf-8")
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(presented, key.encode("utf-8"))
    return matched


async def require_api_key(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
    api_key: Annotated[str | None, Security(api_key_scheme)],
) -> None:
    """Let the request through when no keys are configured or a valid key is presented.

    Raises:
        HTTPException: 401 with ``WWW-Authenticate`` when the key is missing or wrong.
    """
    keys = settings.api_key_list()
    if not keys:
        return
    candidates = [value for value in (credentials.credentials if credentials else None, api_key)
                  if value]
    if any(key_matches(candidate, keys) for candidate in candidates):
        return
    raise HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail="missing or invalid API key: send 'Authorization: Bearer <key>' "
        "or 'X-API-Key: <key>'",
        headers={"WWW-Authenticate": "Bearer"},
    )
