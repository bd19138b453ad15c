"""Serve the API with uvicorn (``smartplace api``)."""

from __future__ import annotations

import logging

import uvicorn

from api.main import create_app
from sensors.settings import Settings

logger = logging.getLogger(__name__)


def serve(settings: Settings) -> None:
    """Run the API on ``settings.api_host:settings.api_port`` until interrupted.

    Logging is the caller's (``smartplace.logs.configure_logging``); uvicorn's own
    logging configuration is switched off so that both use the same handlers.
    """
    if not settings.api_key_list():
        logger.warning(
            "SMARTPLACE_API_KEYS is not set: the API is open to anyone who can reach "
            "%s:%s", settings.api_host, settings.api_port,
        )
    app = create_app(settings)
    config = uvicorn.Config(
        app, host=settings.api_host, port=settings.api_port,
        log_config=None, access_log=False, proxy_headers=False,
    )
    uvicorn.Server(config).run()
