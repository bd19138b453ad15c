"""Property-based tests of every documented operation, generated from the app's own OpenAPI.

Schemathesis loads ``/openapi.json`` from ``create_app(settings)`` in process (its ASGI
transport; no network, no ``fastapi.testclient``) and sends generated requests, valid
and invalid (both generation modes), to every operation. The app talks to the session's
real ``influxd``, into which a day of readings from every registered sensor (plus one
unregistered sensor) is written first.

Three runs, each over every operation:

- the API open (no keys): no server error (contract section 6: never a 500 for client
  input, and no 503 with a live store) and every check schemathesis runs against the
  schema (status codes, content types, response bodies and headers, negative data
  rejected);
- keys configured and a right key sent: the same;
- keys configured and a wrong key sent: every ``/api/v1`` operation answers 401 whatever
  else the request holds; the rest (``/health``) still never errs.

The lifespan (which opens the app's InfluxDB client) is run by schemathesis' ASGI
transport itself: it starts it once per app, on its own event-loop thread, before the
first request (here: the schema download), and the fixture stops it at teardown.

Bounded and reproducible: the ``smartplace-schemathesis`` hypothesis profile (at most
30 examples per operation, 12 for the wrong-key run, no deadline, derandomized, no
example database).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any, cast

import hypothesis
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck
from schemathesis.python import asgi

from api.clock import format_ms
from api.main import API_PREFIX, create_app
from sensors.readings import (
    AirQualityReading,
    Carrier,
    EnergyReading,
    Reading,
    TransportReading,
    VehicleClass,
)
from sensors.registry import load_registry
from sensors.settings import Settings
from sensors.topics import Domain, Topic
from smartplace.servers import InfluxServer
from tests.api.helpers import create_database, write_readings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

API_KEY = "schemathesis-right-key"
WRONG_KEY = "schemathesis-wrong-key"

PROFILE = "smartplace-schemathesis"
hypothesis.settings.register_profile(
    PROFILE,
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                           HealthCheck.function_scoped_fixture],
)
BOUNDED = hypothesis.settings(hypothesis.settings.get_profile(PROFILE))
# The wrong key is refused before anything else is looked at: fewer examples suffice.
BOUNDED_401 = hypothesis.settings(hypothesis.settings.get_profile(PROFILE), max_examples=12)

STEP_MS = 10 * 60_000
HISTORY_MS = 26 * 3_600_000


def _readings(now_ms: int) -> list[tuple[Topic, Reading, float | None]]:
    """Every registered sensor every 10 minutes over the last 26 hours, and a stranger."""
    registry = load_registry()
    out: list[tuple[Topic, Reading, float | None]] = []
    first = now_ms - now_ms % STEP_MS - HISTORY_MS
    for k, ts in enumerate(range(first, now_ms, STEP_MS)):
        for n, sensor in enumerate(registry.sensors):
            topic = Topic(sensor.domain, sensor.site, sensor.id)
            reading: Reading
            if sensor.domain is Domain.ENERGY:
                assert sensor.carrier is not None
                reading = EnergyReading(ts=ts, seq=k, carrier=sensor.carrier, interval_s=600,
                                        energy_kwh=1.5 + (k + n) % 7, power_kw=9.0)
            elif sensor.domain is Domain.TRANSPORT:
                reading = TransportReading(
                    ts=ts, seq=k, interval_s=600,
                    counts={VehicleClass.CAR: 40 + k % 9, VehicleClass.BUS: 2,
                            VehicleClass.BICYCLE: k % 4, VehicleClass.PEDESTRIAN: 30},
                )
            else:
                reading = AirQualityReading(
                    ts=ts, seq=k, no2_ugm3=20.0 + k % 30, pm25_ugm3=8.0 + n % 5,
                    pm10_ugm3=15.0, o3_ugm3=60.0, so2_ugm3=4.0, temperature_c=11.0,
                )
            out.append((topic, reading, sensor.link_km))
    # One sensor the registry does not know (the API lists it as unregistered).
    stranger = EnergyReading(ts=now_ms - 60_000, carrier=Carrier.ELECTRICITY, energy_kwh=2.0,
                             interval_s=60)
    out.append((Topic(Domain.ENERGY, "merseyway", "unregistered-meter"), stranger, None))
    return out


@pytest.fixture(scope="module")
def database(influx: InfluxServer) -> str:
    """A database holding the readings, shared by the module's runs (they only read)."""
    name = f"test_schemathesis_{time.time_ns()}"
    create_database(influx.url, name)
    write_readings(influx.url, name, _readings(time.time_ns() // 1_000_000))
    return name


def _settings(influx: InfluxServer, database: str, api_keys: str | None) -> Settings:
    return Settings(
        _env_file=None,
        influx_url=influx.url, influx_database=database, api_keys=api_keys, log_format="text",
    )


def _start(app: FastAPI) -> FastAPI:
    """Start the app's lifespan in schemathesis' ASGI transport (it lasts until teardown)."""
    with asgi.get_client(cast(Any, app)) as client:
        served = client.get("/openapi.json")
    assert served.status_code == 200
    assert served.json() == app.openapi()
    assert app.state.store is not None, "the app's lifespan did not run"
    return app


@pytest.fixture(scope="module")
def apps(influx: InfluxServer, database: str) -> Iterator[dict[str, FastAPI]]:
    """One app without keys and one with keys; their lifespans end with the module."""
    built = {
        "open": _start(create_app(_settings(influx, database, None))),
        "keyed": _start(create_app(_settings(influx, database, f"other-key,{API_KEY}"))),
    }
    yield built
    asgi.shutdown_lifespans()
    assert all(app.state.store is None for app in built.values()), "lifespan did not end"


def _iso(ms: int) -> str:
    return format_ms(ms - ms % 60_000)


def _with_examples(document: dict[str, Any]) -> dict[str, Any]:
    """The document with parameter examples that name real sites, sensors and times.

    Random strings almost never hit a registered site or sensor or a valid timestamp, so
    the success paths would go untested; schemathesis sends these examples (its examples
    and coverage phases) besides what it generates.
    """
    now_ms = time.time_ns() // 1_000_000
    examples: dict[str, list[str]] = {
        "site": ["town-hall", "merseyway"],
        "sensor_id": ["aq-a6-roadside", "tr-daw-bank", "unregistered-meter"],
        "start": [_iso(now_ms - 6 * 3_600_000), "2026-01-01T00:00:00+01:00"],
        "end": [_iso(now_ms), "2026-01-03T00:00:00Z"],
        "at": [_iso(now_ms - 3_600_000)],
        "interval": ["1h", "15m", "1d"],
        "group_by": ["domain", "site,carrier,vehicle_class", "sensor"],
        "domain": ["air_quality"],
    }
    for operations in document["paths"].values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                values = examples.get(parameter["name"])
                if values:
                    parameter["examples"] = {
                        f"example{n}": {"value": value} for n, value in enumerate(values)
                    }
                    # Only these: the document's own (fixed dates) would pair a January
                    # start with today's end, a backfill of eleven months (minutes).
                    parameter["schema"].pop("examples", None)
    return document


# Collection needs the operations before any fixture exists, and schemathesis' lazy
# fixture loader (`schemathesis.pytest.from_fixture`) fails on pytest 9.2 (it sets
# `node._nodeid`). The document is the same whatever the settings, so it is taken from an
# app built here, never started, whose store is a closed port: it only makes schemathesis
# choose its ASGI transport. Every request, and every probe a check sends, goes to the
# fixture's running app through `app=` (a request that reached this one would get a 503).
_DOCUMENT_APP = create_app(Settings(_env_file=None, influx_url="http://127.0.0.1:9"))
_LOADED = schemathesis.openapi.from_dict(_with_examples(_DOCUMENT_APP.openapi()))
_LOADED.app = _DOCUMENT_APP
# The live stream never ends by itself: it has its own tests.
schema = _LOADED.exclude(path_regex=r"/live$")


# Checks left out, on purpose:
# - positive_data_acceptance wants a 2xx for every schema-valid request, but `interval`
#   and `group_by` are plain strings in the schema whose meaning ("15m", known keys) is
#   checked by the app, and a schema-valid date-time can lie outside 1970..2200 or make a
#   window longer than 366 days: a 422 there is the contract's answer.
# - ignored_auth, for the open app only: without SMARTPLACE_API_KEYS the API is open by
#   design, so a made-up key is accepted. It stays on for the keyed app.
POSITIVE = schemathesis.checks.positive_data_acceptance
IGNORED_AUTH = schemathesis.checks.ignored_auth


def _no_server_error(case: Any, response: Any) -> None:
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} query={case.query!r} headers={case.headers!r} "
        f"-> {response.status_code}: {response.text[:500]}"
    )


@schema.parametrize()
@BOUNDED
def test_open_api_never_errs_and_matches_its_schema(case: Any, apps: dict[str, FastAPI]) -> None:
    app = apps["open"]
    response = case.call(app=app)
    _no_server_error(case, response)
    case.validate_response(response, transport_kwargs={"app": app},
                           excluded_checks=[POSITIVE, IGNORED_AUTH])


@schema.parametrize()
@BOUNDED
def test_keyed_api_with_the_right_key(case: Any, apps: dict[str, FastAPI]) -> None:
    app = apps["keyed"]
    headers = {"Authorization": f"Bearer {API_KEY}"}
    response = case.call(app=app, headers=headers)
    _no_server_error(case, response)
    assert response.status_code != 401, response.text
    case.validate_response(response, headers=headers, transport_kwargs={"app": app},
                           excluded_checks=[POSITIVE])


@schema.parametrize()
@BOUNDED_401
def test_keyed_api_with_a_wrong_key(case: Any, apps: dict[str, FastAPI]) -> None:
    # Both schemes wrong: a generated value for the other header must not let it through.
    app = apps["keyed"]
    response = case.call(app=app, headers={"Authorization": f"Bearer {WRONG_KEY}",
                                  "X-API-Key": WRONG_KEY})
    _no_server_error(case, response)
    if not case.path.startswith(API_PREFIX):
        return
    if case.method.upper() != case.operation.method.upper():
        # Schemathesis also tries other methods on the path: no route, so no key is asked.
        assert response.status_code == 405, response.text
        return
    assert response.status_code == 401, (
        f"{case.method} {case.formatted_path} query={case.query!r} -> "
        f"{response.status_code}: {response.text[:300]}"
    )
    assert response.headers.get("www-authenticate") == ["Bearer"]
