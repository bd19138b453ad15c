"""Store failures become 503 (never 500); /health degrades instead of failing."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from pydantic import SecretStr

from api.errors import StoreAuthError, StoreQueryError, StoreUnavailableError
from api.influx import InfluxStore
from api.main import create_app
from sensors.settings import Settings
from smartplace.servers import free_port
from tests.api.helpers import api_client

pytestmark = pytest.mark.anyio


def _settings() -> Settings:
    return Settings(_env_file=None, influx_url=f"http://127.0.0.1:{free_port()}")


async def test_store_down_answers_503_and_health_degraded() -> None:
    app = create_app(_settings())
    async with api_client(app) as client:
        health = await client.get("/health")
        assert health.status_code == 200
        body = health.json()
        assert body["status"] == "degraded"
        assert body["influxdb"]["reachable"] is False
        for path in ("/api/v1/emissions", "/api/v1/emissions?group_by=site&interval=1h",
                     "/api/v1/sensors", "/api/v1/sensors/mw-elec-main"):
            response = await client.get(path)
            assert response.status_code == 503, path
            assert response.json()["detail"].startswith("store unavailable")
        # Bad input is still a 422, even with the store down.
        assert (await client.get("/api/v1/emissions?interval=1w")).status_code == 422


def _store(handler: Callable[[httpx.Request], httpx.Response]) -> InfluxStore:
    settings = _settings().model_copy(
        update={"influx_username": "u", "influx_password": SecretStr("secret")}
    )
    return InfluxStore(settings, transport=httpx.MockTransport(handler))


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (httpx.Response(500, text="boom"), StoreUnavailableError),
        (httpx.Response(503, json={"error": "overloaded"}), StoreUnavailableError),
        (httpx.Response(401, json={"error": "authorization failed"}), StoreUnavailableError),
        (httpx.Response(200, text="<html>proxy</html>"), StoreUnavailableError),
        (httpx.Response(400, json={"error": "error parsing query"}), StoreQueryError),
        (httpx.Response(200, json={"results": [{"statement_id": 0, "error": "bad"}]}),
         StoreQueryError),
        (httpx.Response(200, json={"results": [{"statement_id": 0, "partial": True}]}),
         StoreQueryError),
        (httpx.Response(200, json={"error": "no results"}), StoreQueryError),
    ],
)
async def test_classification(response: httpx.Response, error: type[Exception]) -> None:
    store = _store(lambda request: response)
    with pytest.raises(error):
        await store.query(["SELECT 1"])


async def test_timeouts_and_network_errors_are_unavailable_without_secrets() -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        assert request.url.params["p"] == "secret"
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(StoreUnavailableError, match="did not answer") as info:
        await _store(fail).query(["SELECT 1"])
    assert "secret" not in str(info.value)


async def test_missing_database_reads_as_empty() -> None:
    body = {"results": [{"statement_id": 0, "error": "database not found: x"}]}
    store = _store(lambda request: httpx.Response(200, json=body))
    assert await store.query(["SELECT 1", "SELECT 2"]) == [[], []]


async def test_bound_parameters_travel_as_json() -> None:
    seen: dict[str, str] = {}

    def answer(request: httpx.Request) -> httpx.Response:
        form = httpx.QueryParams(request.content.decode())
        seen.update(form)
        return httpx.Response(200, json={"results": [{"statement_id": 0}]})

    await _store(answer).query(["SELECT 1 WHERE site = $site"], {"site": "x' OR 1=1"})
    assert seen["params"] == '{"site":"x\' OR 1=1"}'
    assert seen["epoch"] == "ms"


async def test_not_executed_is_explained_by_the_first_statement() -> None:
    def missing(request: httpx.Request) -> httpx.Response:
        statements = httpx.QueryParams(request.content.decode())["q"].split(";")
        if len(statements) > 1:
            return httpx.Response(200, json={"results": [{"statement_id": 0,
                                                          "error": "not executed"}]})
        return httpx.Response(200, json={"results": [{"statement_id": 0,
                                                      "error": "database not found: x"}]})

    assert await _store(missing).query(["SELECT 1", "SELECT 2"]) == [[], []]

    def odd(request: httpx.Request) -> httpx.Response:
        statements = httpx.QueryParams(request.content.decode())["q"].split(";")
        if len(statements) > 1:
            return httpx.Response(200, json={"results": [{"statement_id": 0,
                                                          "error": "not executed"}]})
        return httpx.Response(200, json={"results": [{"statement_id": 0}]})

    with pytest.raises(StoreQueryError, match="did not execute"):
        await _store(odd).query(["SELECT 1", "SELECT 2"])


@pytest.mark.parametrize(("status", "body", "error", "says"), [
    # InfluxDB 2.x's v1 /query answers errors as {"code", "message"}.
    (400, {"code": "invalid", "message": "failed to parse query: found SOMETHING"},
     StoreQueryError, "failed to parse query"),
    (401, {"code": "unauthorized", "message": "unauthorized access"}, StoreAuthError,
     "SMARTPLACE_INFLUX_USERNAME"),
    # InfluxDB 3 answers with {"error": ...}.
    (400, {"error": "error while planning query: table 'x' not found"}, StoreQueryError,
     "table 'x' not found"),
])
async def test_error_answers_of_2x_and_3x_keep_their_message(
        status: int, body: dict[str, str], error: type[Exception], says: str) -> None:
    store = _store(lambda request: httpx.Response(status, json=body))
    with pytest.raises(error, match=says):
        await store.query(["SELECT 1"])
