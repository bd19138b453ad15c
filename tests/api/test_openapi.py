"""The OpenAPI document is one a client generator can use, and a client built from it works.

- The document validates with ``openapi-spec-validator`` (OpenAPI 3.1).
- Every operation has a response model (or a declared non-JSON body) with an example
  that validates against it, every schema property is described, the error codes carry
  their body schema, and time parameters are typed as date-times (or dates).
- :class:`DocumentClient` builds requests from nothing but the document (operationId ->
  method, path, parameters) and checks each request and answer against it with
  ``openapi-core``; it calls two operations of the real app on a real InfluxDB, one with
  a path parameter and one with query parameters, and an error answer.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_spec_validator import validate
from pydantic import BaseModel
from werkzeug.datastructures import Headers, ImmutableMultiDict

from api.main import API_PREFIX, create_app
from api.params import parse_time
from api.routes.formats import CSV_ENDPOINTS
from sensors.readings import Carrier, EnergyReading
from sensors.settings import Settings
from sensors.topics import Domain, Topic
from smartplace.servers import InfluxServer
from tests.api.helpers import api_client, create_database, response_models, write_readings

# Built once, never started: the document does not depend on the store.
APP = create_app(Settings(_env_file=None, influx_url="http://127.0.0.1:9"))
DOCUMENT = APP.openapi()
OPERATIONS = [(path, method, op) for path, ops in DOCUMENT["paths"].items()
              for method, op in ops.items()]


def test_the_document_is_valid_openapi() -> None:
    validate(DOCUMENT)
    assert DOCUMENT["openapi"].startswith("3.1")
    ids = [op["operationId"] for _, _, op in OPERATIONS]
    assert len(ids) == len(set(ids))
    assert {"emissions", "get_sensor", "indicators", "daqi_history"} <= set(ids)


def test_the_refusal_names_exactly_the_endpoints_that_offer_csv() -> None:
    offering = {path for path, _, op in OPERATIONS
                if any(media.startswith("text/csv") for media in op["responses"]["200"]["content"])}
    assert offering == set(CSV_ENDPOINTS)
    for path, _, op in OPERATIONS:  # the others document format=json only
        if path not in offering:
            (fmt,) = [p for p in op["parameters"] if p["name"] == "format"]
            assert fmt["schema"]["anyOf"] == [{"type": "string", "enum": ["json"]}]


def _schemas() -> Iterator[tuple[str, dict[str, Any]]]:
    yield from DOCUMENT["components"]["schemas"].items()


def test_every_field_is_described() -> None:
    undescribed = [f"{name}.{prop}" for name, schema in _schemas()
                   for prop, spec in schema.get("properties", {}).items()
                   if not spec.get("description")]
    assert undescribed == []


@pytest.mark.parametrize(("path", "method", "op"), OPERATIONS,
                         ids=[op["operationId"] for _, _, op in OPERATIONS])
def test_every_operation_has_a_documented_answer_and_errors(path: str, method: str,
                                                            op: dict[str, Any]) -> None:
    ok = op["responses"]["200"]["content"]
    json_body = ok.get("application/json")
    if json_body is not None:
        name = json_body["schema"]["$ref"].rsplit("/", 1)[1]
        assert DOCUMENT["components"]["schemas"][name]["examples"], name
    else:  # the live stream and the reports: a declared media type with an example
        assert any("example" in content for content in ok.values()), path
    errors = {"401", "422"} if path.startswith(API_PREFIX) else {"422"}
    assert errors <= set(op["responses"])
    for code, answer in op["responses"].items():
        if code != "200":
            ref = answer["content"]["application/json"]["schema"]["$ref"]
            assert ref.endswith("/ValidationErrorOut" if code == "422" else "/ErrorOut")
    for parameter in op.get("parameters", []):
        if parameter["name"] in ("start", "end", "at"):
            forms = {one["format"] for one in parameter["schema"]["anyOf"]}
            assert forms == {"date-time", "date"}, (path, parameter["name"])


def _models() -> list[type[BaseModel]]:
    found = {model for _, model in response_models(APP)}
    return sorted(found, key=lambda model: model.__name__)


@pytest.mark.parametrize("model", _models(), ids=lambda model: model.__name__)
def test_examples_are_valid_answers(model: type[BaseModel]) -> None:
    (example,) = model.model_json_schema()["examples"]
    model.model_validate(example)


@dataclass
class _Request:
    """An httpx request as openapi-core reads one (its ``Request`` protocol)."""

    request: httpx.Request
    parameters: RequestParameters = field(init=False)

    def __post_init__(self) -> None:
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(self.request.url.params.multi_items()),
            header=Headers(list(self.request.headers.items())),
            cookie=ImmutableMultiDict())

    @property
    def host_url(self) -> str:
        return f"{self.request.url.scheme}://{self.request.url.netloc.decode()}"

    @property
    def path(self) -> str:
        return self.request.url.path

    @property
    def method(self) -> str:
        return self.request.method.lower()

    @property
    def body(self) -> bytes | None:
        return self.request.content or None

    @property
    def content_type(self) -> str:
        return str(self.request.headers.get("content-type", ""))  # httpx types get() as Any


@dataclass
class _Response:
    """An httpx response as openapi-core reads one."""

    response: httpx.Response

    @property
    def data(self) -> bytes:
        return self.response.content

    @property
    def status_code(self) -> int:
        return self.response.status_code

    @property
    def content_type(self) -> str:
        return str(self.response.headers.get("content-type", ""))

    @property
    def headers(self) -> Headers:
        return Headers(list(self.response.headers.items()))


class DocumentClient:
    """A client made from the document alone: operations by operationId, parameters by
    name and place, each request and answer checked against the document."""

    def __init__(self, document: dict[str, Any], http: httpx.AsyncClient) -> None:
        self.spec = OpenAPI.from_dict(document)
        self.http = http
        self.operations = {op["operationId"]: (path, method, op.get("parameters", []))
                           for path, ops in document["paths"].items()
                           for method, op in ops.items()}

    async def call(self, operation_id: str, **arguments: str) -> httpx.Response:
        path, method, parameters = self.operations[operation_id]
        query: dict[str, str] = {}
        for parameter in parameters:
            name, place = parameter["name"], parameter["in"]
            if name not in arguments:
                assert not parameter.get("required"), f"{operation_id} needs {name}"
                continue
            value = arguments.pop(name)
            if place == "path":
                path = path.replace("{" + name + "}", value)
            elif place == "query":
                query[name] = value
        assert not arguments, f"{operation_id} has no parameters {sorted(arguments)}"
        request = self.http.build_request(method.upper(), path, params=query)
        # The document's security (a bearer key or X-API-Key) is checked here too.
        self.spec.validate_request(_Request(request))
        response = await self.http.send(request)
        self.spec.validate_response(_Request(request), _Response(response))
        return response


@pytest.mark.integration
@pytest.mark.anyio
async def test_a_client_built_from_the_document_calls_two_endpoints(
        influx: InfluxServer) -> None:
    database = f"test_openapi_client_{time.time_ns()}"
    create_database(influx.url, database)
    at = parse_time("ts", "2026-01-05T10:00:00Z") // 1_000_000
    write_readings(influx.url, database, [
        (Topic(Domain.ENERGY, "merseyway", "client-meter"),
         EnergyReading(ts=at, carrier=Carrier.GAS, energy_kwh=10.0, interval_s=60), None)])
    app: FastAPI = create_app(Settings(_env_file=None, influx_url=influx.url,
                                       influx_database=database, rollup_interval_s=0,
                                       api_keys="openapi-client-key"))
    async with api_client(app) as http:
        http.headers["Authorization"] = "Bearer openapi-client-key"
        client = DocumentClient(app.openapi(), http)
        sensor = await client.call("get_sensor", sensor_id="client-meter")
        emissions = await client.call("emissions", start="2026-01-05", end="2026-01-06",
                                      group_by="carrier")
        missing = await client.call("get_sensor", sensor_id="no-such-meter")
    assert sensor.status_code == 200
    assert sensor.json()["site"] == "merseyway"
    assert sensor.json()["registered"] is False
    # 10 kWh of gas x 0.18296 (DESNZ 2026) = 1.8296 kgCO2e, given as 1.83.
    assert emissions.json()["rows"][0]["carrier"] == "gas"
    assert emissions.json()["total_kgco2e"] == 1.83
    assert emissions.json()["total_tco2e"] == 0.00183
    assert missing.status_code == 404
    assert missing.json() == {"detail": "unknown sensor 'no-such-meter'"}
