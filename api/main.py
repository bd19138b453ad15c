"""The application factory: ``create_app(settings)``; nothing is built at import time.

One lifespan owns what runs while the app serves: the InfluxDB client, the rollup job,
the last-seen index and the live hub (closed in reverse order).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI, Request, status
from fastapi.responses import JSONResponse

from api.activity.scheduler import RollupScheduler
from api.auth import require_api_key
from api.cache import AnswerCache
from api.errors import StoreError
from api.influx import InfluxStore
from api.live.hub import LiveHub
from api.live.lifecycle import AlertLedger
from api.metrics import ApiMetrics
from api.network.flags import FlagCache
from api.network.last_seen_index import LastSeenIndex
from api.observability import AccessLog
from api.reconciliation.budget import load_budget
from api.routes import (
    access,
    air_quality,
    alerts,
    dashboard,
    docs,
    emissions,
    health,
    indicators,
    live,
    metrics,
    public,
    reconciliation,
    reports,
    rollups,
    sensors,
)
from api.routes.formats import no_csv
from api.schemas.errors import error_responses
from api.security import SecurityHeaders
from api.webhook import Delivery, Notifier
from sensors.factors import FactorTable, load_factor_table
from sensors.formats.devices import Device
from sensors.formats.devices_loader import devices_by_sensor
from sensors.registry import Registry, load_registry
from sensors.settings import Settings
from sensors.version import smartplace_version

logger = logging.getLogger(__name__)

API_PREFIX = "/api/v1"


async def _store_error(request: Request, exc: Exception) -> JSONResponse:
    # A store failure is never the client's fault and never a 500: answer 503.
    message = exc.message if isinstance(exc, StoreError) else type(exc).__name__
    logger.warning("store unavailable for %s: %s", request.url.path, message)
    return JSONResponse(
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        content={"detail": f"store unavailable: {message}"},
        headers={"Retry-After": "5"},
    )


def create_app(
    settings: Settings, registry: Registry | None = None, factors: FactorTable | None = None,
    devices: Mapping[str, Device] | None = None,
) -> FastAPI:
    """Build the API.

    Args:
        settings: where InfluxDB is, the database, the API keys.
        registry: the site and sensor registry (default: the packaged one).
        factors: the emission-factor table (default: the packaged one with the
            settings' ``factors_file`` applied).
        devices: the devices file's devices by sensor (default: ``devices_file``'s, if
            set): which sensors send which device format.

    Returns:
        The app; its lifespan opens the InfluxDB client, starts the rollup job and makes
        the live hub, and stops them again.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = InfluxStore(settings)
        # Hourly activity rollups (api/activity/); off when rollup_interval_s is 0.
        scheduler = RollupScheduler(store, settings, app.state.metrics.observe_rollup,
                                    on_run=app.state.answers.invalidate)
        notifier, ledger = _alert_ledger(settings, store, app.state.metrics)
        last_seen = LastSeenIndex(store, refresh_s=settings.last_seen_refresh_s,
                                  reseed_s=settings.last_seen_reseed_s)
        hub = LiveHub(settings, app.state.registry, app.state.factors, store, ledger,
                      app.state.flags, app.state.devices, last_seen)
        app.state.store, app.state.rollups, app.state.live_hub = store, scheduler, hub
        app.state.last_seen = last_seen
        scheduler.start()
        if notifier is not None:
            notifier.start()
        try:
            yield
        finally:
            await close_streams(app)
            await app.state.answers.aclose()
            await scheduler.stop()
            if notifier is not None:
                await notifier.aclose()
            await ledger.aclose()
            await last_seen.aclose()
            await store.aclose()
            app.state.store = app.state.rollups = app.state.live_hub = None
            app.state.last_seen = None

    app = FastAPI(
        title="smartplace",
        summary="Stockport town-centre telemetry: carbon indicators and sensor status",
        version=smartplace_version(),
        lifespan=lifespan,
        # operationId = the route function's name (emissions, get_sensor, ...): the method
        # names a client generator gives them, instead of FastAPI's path-derived ids.
        generate_unique_id_function=lambda route: route.name,
        # Served by api/routes/docs.py from npm packages: FastAPI's own pages use a CDN.
        docs_url=None, redoc_url=None, swagger_ui_oauth2_redirect_url=None,
    )
    app.state.settings = settings
    app.state.registry = registry if registry is not None else load_registry()
    # Raises FactorFileError at start-up when the override file is invalid.
    app.state.factors = factors if factors is not None else load_factor_table(
        settings.factors_file)
    # Raises DevicesFileError at start-up when the devices file is invalid.
    app.state.devices = devices if devices is not None else devices_by_sensor(
        settings.devices_file)
    # Raises BudgetFileError at start-up when the budget file is invalid.
    app.state.budget = load_budget(settings.carbon_budget_file)
    app.state.store = app.state.rollups = app.state.live_hub = app.state.last_seen = None
    app.state.public_page = None
    app.state.answers = AnswerCache(settings.api_cache_s)
    # Raises ApiKeysError at start-up when the keys file is unusable.
    app.state.api_keys = settings.api_key_list()

    app.state.metrics = ApiMetrics(lambda: _open_streams(app))
    app.state.flags = FlagCache(app.state.registry)

    app.add_exception_handler(StoreError, _store_error)
    app.add_middleware(SecurityHeaders)
    # Outermost: the access log times the whole answer, security headers included.
    app.add_middleware(AccessLog, metrics=app.state.metrics)

    # Every /api/v1 route may answer 401 (keys configured) and 422 (parameters); routes
    # without a CSV form refuse format=csv and Accept: text/csv (api/routes/formats.py).
    v1 = APIRouter(prefix=API_PREFIX, dependencies=[Depends(require_api_key)],
                   responses=error_responses(401, 422))
    no_csv_form = [Depends(no_csv)]
    v1.include_router(sensors.router)
    v1.include_router(emissions.router)
    v1.include_router(air_quality.router)
    v1.include_router(indicators.router)
    v1.include_router(live.router, dependencies=no_csv_form, responses=error_responses(406))
    v1.include_router(access.router, dependencies=no_csv_form, responses=error_responses(406))
    v1.include_router(rollups.router, dependencies=no_csv_form, responses=error_responses(406))
    v1.include_router(alerts.router, dependencies=no_csv_form, responses=error_responses(406))
    v1.include_router(reconciliation.router)
    v1.include_router(reports.router)
    app.include_router(health.router, dependencies=no_csv_form,
                       responses=error_responses(406, 422))
    app.include_router(metrics.router, dependencies=no_csv_form,
                       responses=error_responses(406, 422))
    app.include_router(v1)
    # The operations dashboard: `/` and `/dashboard/*` (no key: the page holds no data).
    app.include_router(dashboard.router)
    app.include_router(docs.router)
    # The residents' page: outside /api/v1, so no key (it shows only what is published).
    app.include_router(public.router)

    return app


def _alert_ledger(settings: Settings, store: InfluxStore, metrics: ApiMetrics
                  ) -> tuple[Notifier | None, AlertLedger]:
    """The alert lifecycle, posting to the webhook when one is configured."""
    if settings.alert_webhook_url is None:
        return None, AlertLedger(store)
    ledger: AlertLedger | None = None

    async def delivered(delivery: Delivery) -> None:
        metrics.notifications.labels("sent" if delivery.delivered else "failed").inc()
        if ledger is not None:
            await ledger.record_delivery(delivery)

    notifier = Notifier(settings.alert_webhook_url.get_secret_value(),
                        settings.alert_webhook_attempts, delivered)
    ledger = AlertLedger(store, notifier)
    return notifier, ledger


def _open_streams(app: FastAPI) -> int:
    hub = getattr(app.state, "live_hub", None)
    return hub.clients if isinstance(hub, LiveHub) else 0


async def close_streams(app: FastAPI) -> None:
    """End every open live stream and stop the poller; idempotent.

    The lifespan calls it, but a server that waits for open responses to finish before
    running the lifespan shutdown (uvicorn does) must call it when shutdown begins, or an
    open dashboard keeps the server from ever stopping.
    """
    hub = getattr(app.state, "live_hub", None)
    if isinstance(hub, LiveHub):
        await hub.aclose()
