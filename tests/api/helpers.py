"""Helpers for the API tests: drive the app in process and write real readings to InfluxDB.

``fastapi.testclient`` is not used: with Starlette 1.x importing it raises a
``StarletteDeprecationWarning``, which the pytest configuration turns into an error.
The app runs under ``httpx.ASGITransport`` instead, inside its own lifespan.

Every JSON answer the client receives with status 200 is validated against its route's
response model: routes that render long answers without validation (``/emissions``,
``/indicators``, the DAQI history) are held to their documented shape here.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.routing import compile_path
from starlette.types import Message, Receive, Scope, Send

from api.errors import StoreError
from api.influx import InfluxStore, QueryParam, Series
from api.network.seq_gaps import SEED_RUNS
from sensors.lineprotocol import reading_line
from sensors.readings import Carrier, Reading
from sensors.registry import Registry, Sensor, Site
from sensors.settings import Settings
from sensors.storage import quote_identifier
from sensors.topics import Domain, Topic


class ValidatingApp:
    """The app, with every 200 JSON answer validated against its route's response model.

    The route is the one the router put in the ASGI scope while answering (FastAPI keeps
    included routers' routes out of ``app.routes``, so they cannot be looked up there).
    """

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.validated = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        head: dict[str, Any] = {}
        body = bytearray()

        async def keep(message: Message) -> None:
            if message["type"] == "http.response.start":
                head.update(status=message["status"], headers=dict(message.get("headers", [])))
            elif message["type"] == "http.response.body":
                body.extend(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, keep)
        model = getattr(scope.get("route"), "response_model", None)
        content_type = head.get("headers", {}).get(b"content-type", b"")
        if (head.get("status") == 200 and content_type.startswith(b"application/json")
                and isinstance(model, type) and issubclass(model, BaseModel)):
            model.model_validate_json(bytes(body))
            self.validated += 1


def response_models(app: FastAPI) -> list[tuple[re.Pattern[str], type[BaseModel]]]:
    """Each route's full path (as a regex) and response model, routers included.

    FastAPI 0.165 keeps an included router as one route holding the router
    (``original_router``, with the prefix in ``include_context``), so ``app.routes``
    alone lists none of the API's routes: they are walked here.
    """
    def walk(routes: Iterable[Any], prefix: str) -> Iterator[tuple[str, Any]]:
        for route in routes:
            inner = getattr(route, "original_router", None)
            if inner is not None:
                yield from walk(inner.routes, prefix + route.include_context.prefix)
            elif isinstance(route, APIRoute):
                yield prefix + route.path, route.response_model

    found = [(compile_path(path)[0], model) for path, model in walk(app.routes, "")
             if isinstance(model, type) and issubclass(model, BaseModel)]
    assert len(found) >= 10, "the routes' response models were not found"
    return found


@asynccontextmanager
async def api_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the app, with the app's lifespan running around it."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=ValidatingApp(app))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


def create_database(url: str, database: str) -> None:
    """CREATE DATABASE on a real InfluxDB 1.x."""
    response = httpx.post(
        f"{url}/query", data={"q": f"CREATE DATABASE {quote_identifier(database)}"}, timeout=10
    )
    response.raise_for_status()
    assert "error" not in response.text, response.text


def write_readings(
    url: str, database: str, readings: Iterable[tuple[Topic, Reading, float | None]]
) -> None:
    """Write (topic, reading, registry link km) triples as the ingestor would."""
    lines = [reading_line(topic, reading, link_km) for topic, reading, link_km in readings]
    response = httpx.post(
        f"{url}/write", params={"db": database, "precision": "ns"},
        content="\n".join(lines).encode(), timeout=10,
    )
    assert response.status_code == 204, response.text


# The API's precision (api/precision.py, docs/methodology.md "Precision"): kilograms to 3
# decimals, tonnes to 6, shares to 6. A figure computed from n rounded rows is within
# n half-units of the unrounded one.
KG_HALF_UNIT = 0.0005
TONNE_HALF_UNIT = 0.0000005


def kg_approx(expected: float, rows: int = 1) -> Any:
    """``expected`` kilograms as the API gives them: rounded to 3 decimals, from ``rows``
    rounded parts."""
    return pytest.approx(expected, abs=KG_HALF_UNIT * rows + 1e-9)


def t_approx(expected: float, rows: int = 1) -> Any:
    """``expected`` tonnes (or a share) as the API gives them: 6 decimals."""
    return pytest.approx(expected, abs=TONNE_HALF_UNIT * rows + 1e-12)


def exact_sum(values: Iterable[float]) -> float:
    """The decimal sum of figures of few decimals, as the nearest float: what a total of
    rounded rows must equal exactly (a binary ``fsum`` can be one unit in the last place
    off: 0.1 + 0.2)."""
    return float(sum((Decimal(repr(value)) for value in values), Decimal(0)))


def meter(sensor_id: str, site: str = "alpha") -> Sensor:
    """An electricity meter reporting every minute."""
    return Sensor(id=sensor_id, site=site, domain=Domain.ENERGY, interval_s=60,
                  carrier=Carrier.ELECTRICITY)


def meters_registry(*sensor_ids: str) -> Registry:
    """A registry of one site, ``alpha``, with an electricity meter per id."""
    site = Site(id="alpha", name="Alpha", lat=53.4, lon=-2.16, kind="test")
    return Registry(network="test", sites=(site,),
                    sensors=tuple(meter(sensor_id) for sensor_id in sensor_ids))


class RecordingStore(InfluxStore):
    """The real store, recording each request's statements and parameters."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.requests: list[tuple[tuple[str, ...], dict[str, QueryParam]]] = []

    async def query(self, statements: Sequence[str],
                    params: Mapping[str, QueryParam] | None = None, *, own: bool = False,
                    timeout_s: float = 30.0) -> list[list[Series]]:
        self.requests.append((tuple(statements), dict(params or {})))
        return await super().query(statements, params, own=own, timeout_s=timeout_s)


class GatedStore(RecordingStore):
    """The real store; a request with a statement containing ``marker`` waits for
    ``opened`` and, while ``failures`` is above 0, fails instead (counting down).
    ``gated``: how many such requests were made."""

    def __init__(self, settings: Settings, marker: str) -> None:
        super().__init__(settings)
        self.marker = marker
        self.opened = asyncio.Event()
        self.failures = 0
        self.gated = 0

    async def query(self, statements: Sequence[str],
                    params: Mapping[str, QueryParam] | None = None, *, own: bool = False,
                    timeout_s: float = 30.0) -> list[list[Series]]:
        if any(self.marker in statement for statement in statements):
            self.gated += 1
            await self.opened.wait()
            if self.failures > 0:
                self.failures -= 1
                raise StoreError("InfluxDB took too long to answer")
        return await super().query(statements, params, own=own, timeout_s=timeout_s)


def seq_seed_gate(settings: Settings) -> GatedStore:
    """A store whose seq seed (its aggregate request) waits for ``opened``."""
    return GatedStore(settings, SEED_RUNS)
