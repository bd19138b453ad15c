"""``GET /metrics``: the API's Prometheus metrics (:mod:`api.metrics`).

Served on the API's own port, because that is the one address an operator already
exposes and monitors; it needs a key (any role) when keys are set, because unlike the
ingestor's metrics port (loopback by default) the API port faces wall screens and the
public page, and its traffic figures are nobody else's business. Prometheus sends the key
with ``authorization: {credentials: <key>}`` in its scrape configuration (README).
"""

from __future__ import annotations

from typing import cast

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.auth import require_api_key
from api.metrics import ApiMetrics
from api.schemas.errors import error_responses
from api.schemas.example_data import example_text

router = APIRouter(tags=["metrics"])


@router.get("/metrics", response_class=Response, summary="Prometheus metrics of the API",
            dependencies=[Depends(require_api_key)],
            responses={200: {"content": {CONTENT_TYPE_LATEST: {
                "example": example_text("metrics.txt")}},
                "description": "Prometheus text exposition format"}, **error_responses(401)})
async def metrics(request: Request) -> Response:
    """Request latency by route, open live streams, rollup runs, build information."""
    registry = cast(ApiMetrics, request.app.state.metrics).registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
