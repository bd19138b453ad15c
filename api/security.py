"""Security headers on every answer: a Content-Security-Policy, no framing, no referrer.

Every page passes the strict policy (scripts and styles are files of the server's own,
no inline script, no CDN): the dashboard, the public page, and ``/docs`` and ``/redoc``
(Swagger UI and ReDoc served from npm packages, api/routes/docs.py). The two API pages
differ only in what their libraries need at run time: inline ``style`` attributes
(React sets them) and a ``blob:`` worker (ReDoc's search index); no script of theirs is
inline and nothing loads from elsewhere (the one image ReDoc asks the internet for, its
logo, is refused). ``/docs`` and ``/openapi.json`` need no key even when keys are set: they
describe the API, and every route they describe still needs one (README, "API keys").
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

STRICT_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
DOCS_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; worker-src 'self' blob:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
DOCS_PATHS = ("/docs", "/redoc")
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


class SecurityHeaders:
    """Adds the headers to every HTTP response. Plain ASGI, not ``BaseHTTPMiddleware``,
    which would sit between the live event stream and its client."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = DOCS_POLICY if scope["path"].startswith(DOCS_PATHS) else STRICT_POLICY

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", policy)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
