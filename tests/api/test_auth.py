"""API keys: /api/v1 needs one when keys are configured; /health never does."""

from __future__ import annotations

import pytest

from api.auth import key_matches
from api.main import create_app
from sensors.settings import Settings
from smartplace.servers import free_port
from tests.api.helpers import api_client

pytestmark = pytest.mark.anyio


def _settings(keys: str | None) -> Settings:
    return Settings(
        _env_file=None,
        influx_url=f"http://127.0.0.1:{free_port()}",
        api_keys=keys,
    )


def test_key_matches() -> None:
    assert key_matches("beta", ["alpha", "beta"])
    assert not key_matches("bet", ["alpha", "beta"])
    assert not key_matches("", ["alpha"])
    assert not key_matches("ключ", ["alpha"])


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, 401),
        ({"Authorization": "Bearer wrong"}, 401),
        ({"Authorization": "Basic YWxwaGE6"}, 401),
        ({"X-API-Key": "wrong"}, 401),
        ({"X-API-Key": "ALPHA"}, 401),
        ({"Authorization": "Bearer alpha"}, 200),
        ({"Authorization": "bearer beta"}, 200),
        ({"X-API-Key": "beta"}, 200),
        ({"Authorization": "Bearer wrong", "X-API-Key": "alpha"}, 200),
    ],
)
async def test_keys_required_when_configured(headers: dict[str, str], code: int) -> None:
    app = create_app(_settings("alpha, beta"))
    async with api_client(app) as client:
        response = await client.get("/api/v1/factors", headers=headers)
    assert response.status_code == code, response.text
    if code == 401:
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert "API key" in response.json()["detail"]


async def test_every_v1_route_is_guarded() -> None:
    app = create_app(_settings("alpha"))
    async with api_client(app) as client:
        for path in ("/api/v1/sensors", "/api/v1/sensors/mw-elec-main", "/api/v1/emissions",
                     "/api/v1/factors", "/api/v1/emissions?group_by=domain;drop"):
            assert (await client.get(path)).status_code == 401, path


async def test_health_is_open_and_api_open_without_keys() -> None:
    async with api_client(create_app(_settings("alpha"))) as client:
        assert (await client.get("/health")).status_code == 200
    async with api_client(create_app(_settings(None))) as client:
        assert (await client.get("/api/v1/factors")).status_code == 200


async def test_openapi_declares_both_schemes() -> None:
    async with api_client(create_app(_settings("alpha"))) as client:
        spec = (await client.get("/openapi.json")).json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["BearerKey"]["scheme"].lower() == "bearer"
    assert schemes["ApiKeyHeader"] == {
        "type": "apiKey", "in": "header", "name": "X-API-Key",
        "description": schemes["ApiKeyHeader"]["description"],
    }
    assert spec["paths"]["/api/v1/emissions"]["get"]["security"]
    assert "security" not in spec["paths"]["/health"]["get"]
