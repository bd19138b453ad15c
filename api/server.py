"""Serve the API with uvicorn (``smartplace api``)."""

from __future__ import annotations

import logging
import socket

import uvicorn
from fastapi import FastAPI

from api.main import close_streams, create_app
from sensors.settings import Settings

logger = logging.getLogger(__name__)


def serve(settings: Settings) -> None:
    """Run the API on ``settings.api_host:settings.api_port`` until interrupted.

    Logging is the caller's (``smartplace.logs.configure_logging``); uvicorn's own
    logging configuration is switched off so that both use the same handlers.
    """
    app = create_app(settings)
    if not app.state.api_keys:
        logger.warning(
            "SMARTPLACE_API_KEYS is not set: the API is open to anyone who can reach "
            "%s:%s, its operator actions included", settings.api_host, settings.api_port,
        )
    config = uvicorn.Config(
        app, host=settings.api_host, port=settings.api_port,
        log_config=None, access_log=False, proxy_headers=False,
    )
    _Server(config, app).run()


class _Server(uvicorn.Server):
    """uvicorn waits for open responses before shutting the app down, and an event
    stream never ends by itself: close the live streams first, so Ctrl-C stops at once."""

    def __init__(self, config: uvicorn.Config, app: FastAPI) -> None:
        super().__init__(config)
        self._app = app

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await close_streams(self._app)
        await super().shutdown(sockets)
