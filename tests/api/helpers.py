"""Helpers for the API tests: drive the app in process and write real readings to InfluxDB.

``fastapi.testclient`` is not used: with Starlette 1.x importing it raises a
``StarletteDeprecationWarning``, which the pytest configuration turns into an error.
The app runs under ``httpx.ASGITransport`` instead, inside its own lifespan.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from sensors.lineprotocol import reading_line
from sensors.readings import Reading
from sensors.storage import quote_identifier
from sensors.topics import Topic


@asynccontextmanager
async def api_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the app, with the app's lifespan running around it."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
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
