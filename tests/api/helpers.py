"""Helpers for the API tests: drive the app in process and write real readings to InfluxDB.

``fastapi.testclient`` is not used: with Starlette 1.x importing it raises a
``StarletteDeprecationWarning``, which the pytest configuration turns into an error.
The app runs under ``httpx.ASGITransport`` instead, inside its own lifespan.

Every JSON answer the client receives with status 200 is validated against its route's
response model: routes that render long answers without validation (``/emissions``,
``/indicators``, the DAQI history) are held to their documented shape here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel

from sensors.lineprotocol import reading_line
from sensors.readings import Reading
from sensors.storage import quote_identifier
from sensors.topics import Topic


@asynccontextmanager
async def api_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the app, with the app's lifespan running around it."""
    models = [(route, route.response_model) for route in app.routes
              if isinstance(route, APIRoute) and isinstance(route.response_model, type)
              and issubclass(route.response_model, BaseModel)]

    async def validate(response: httpx.Response) -> None:
        if response.status_code != 200 or not response.headers.get(
                "content-type", "").startswith("application/json"):
            return
        for route, model in models:
            if route.path_regex.match(response.request.url.path):
                await response.aread()
                model.model_validate_json(response.content)
                return

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver",
                                     event_hooks={"response": [validate]}) as client:
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
