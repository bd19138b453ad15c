"""``/public``: the read-only page for residents (no key, even when keys are set).

Server-rendered HTML with one style sheet and no script, so that it works on any phone,
without JavaScript and on a slow connection. It shows only what the operator publishes
(``SMARTPLACE_PUBLIC_SITES``, ``SMARTPLACE_PUBLIC_CARBON``); the content is
:func:`api.public.page.public_page`. The page is computed at most once a minute
(:data:`CACHE_S`) however many residents read it, and browsers may keep it as long. When
InfluxDB does not answer, residents get the last page computed (however old: it says
when it was updated), or a page saying the figures are unavailable (503), never JSON.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import FactorsDep, FlagCacheDep, RegistryDep, SettingsDep, StoreDep
from api.errors import StoreError
from api.public.page import PublicPage, public_page
from api.public.render import render_page, style_sheet
from sensors.timestamps import now_ms

router = APIRouter(include_in_schema=False)

CACHE_S = 60
_HEADERS = {"Cache-Control": f"public, max-age={CACHE_S}"}


@router.api_route("/public", methods=["GET", "HEAD"], response_class=HTMLResponse)
async def page(request: Request, store: StoreDep, registry: RegistryDep, table: FactorsDep,
               settings: SettingsDep, flags: FlagCacheDep) -> HTMLResponse:
    """Air quality now, carbon this month, the sensors."""
    cached: tuple[float, str] | None = getattr(request.app.state, "public_page", None)
    if cached is None or time.monotonic() - cached[0] > CACHE_S:
        try:
            content = await public_page(store, registry, table, settings,
                                        await flags.get(store), now_ms())
        except StoreError:
            if cached is not None:
                return HTMLResponse(cached[1], headers=_HEADERS)
            return HTMLResponse(render_page(PublicPage(now_ms(), unavailable=True)),
                                status_code=503, headers={"Retry-After": str(CACHE_S)})
        cached = (time.monotonic(), render_page(content))
        request.app.state.public_page = cached
    return HTMLResponse(cached[1], headers=_HEADERS)


@router.get("/public/style.css")
async def style() -> Response:
    """The page's style sheet."""
    return Response(style_sheet(), media_type="text/css; charset=utf-8", headers=_HEADERS)
