"""How the ingestor's writer classifies InfluxDB's answers (fake transport, no server).

The real-server tests (pipeline, resilience) show the same paths end to end; this table
pins each answer to its outcome, including the ones a real influxd is hard to provoke
into (413, a timeout).
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from pydantic import SecretStr

from ingest.errors import StoreAuthError, StoreRejectedError, StoreUnavailableError
from ingest.store import InfluxStore
from sensors.settings import Settings

Handler = Callable[[httpx.Request], httpx.Response]
GOOD = "energy,site=a,sensor=m,carrier=gas energy_kwh=1.0,interval_s=60i 1"


def _store(handler: Handler) -> tuple[InfluxStore, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    settings = Settings(_env_file=None, influx_database="db",
                        influx_username="u", influx_password=SecretStr("p"))
    return InfluxStore(settings, transport=httpx.MockTransport(record)), seen


def _raise(error: type[httpx.TransportError]) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error("no answer", request=request)
    return handler


@pytest.mark.parametrize(("handler", "outcome"), [
    (lambda _: httpx.Response(204), None),
    (lambda _: httpx.Response(400, json={"error": "partial write: unable to parse"}),
     StoreRejectedError),
    (lambda _: httpx.Response(500, json={"error": "engine failed"}), StoreUnavailableError),
    (lambda _: httpx.Response(503, text="overloaded"), StoreUnavailableError),
    (lambda _: httpx.Response(429, text="slow down"), StoreUnavailableError),
    (lambda _: httpx.Response(401, json={"error": "authorization failed"}),
     StoreUnavailableError),
    (lambda _: httpx.Response(403, json={"error": "forbidden"}), StoreUnavailableError),
    (_raise(httpx.ReadTimeout), StoreUnavailableError),
    (_raise(httpx.ConnectError), StoreUnavailableError),
])
def test_answers_are_classified(handler: Handler, outcome: type[Exception] | None) -> None:
    store, seen = _store(handler)
    if outcome is None:
        store.write([GOOD])
    else:
        with pytest.raises(outcome):
            store.write([GOOD])
    request = seen[0]
    assert request.url.path == "/write"
    assert dict(request.url.params) == {"db": "db", "precision": "ns", "u": "u", "p": "p"}
    assert request.content == GOOD.encode()


def test_a_missing_database_is_created_then_written() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/query":
            return httpx.Response(200, json={"results": [{"statement_id": 0}]})
        if sum(r.url.path == "/query" for r in seen) == 0:
            return httpx.Response(404, json={"error": 'database not found: "db"'})
        return httpx.Response(204)

    store, seen = _store(handler)
    store.write([GOOD])
    assert [r.url.path for r in seen] == ["/write", "/query", "/write"]
    assert b"CREATE+DATABASE" in seen[1].content


def test_a_database_that_cannot_be_created_is_unavailable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/query":
            return httpx.Response(403, json={"error": "not an admin"})
        return httpx.Response(404, json={"error": 'database not found: "db"'})

    store, _ = _store(handler)
    with pytest.raises(StoreUnavailableError, match="missing"):
        store.write([GOOD])


def test_a_batch_too_large_is_split_in_halves() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        lines = request.content.count(b"\n") + 1
        return httpx.Response(413 if lines > 2 else 204)

    store, seen = _store(handler)
    store.write([GOOD] * 8)
    sizes = [r.content.count(b"\n") + 1 for r in seen]
    assert sizes == [8, 4, 2, 2, 4, 2, 2]


def test_refused_lines_are_found_by_halving_and_the_good_ones_are_kept() -> None:
    bad = "energy,site=a,sensor=m,carrier=gas energy_kwh=oops 2"

    def handler(request: httpx.Request) -> httpx.Response:
        if b"oops" in request.content:
            return httpx.Response(400, json={"error": "partial write: unable to parse"})
        return httpx.Response(204)

    store, seen = _store(handler)
    refused = store.write_keeping_good([GOOD, GOOD, bad, GOOD])
    assert list(refused) == [2]
    assert "unable to parse" in refused[2]
    written = [r.content for r in seen if b"oops" not in r.content]
    assert sum(body.count(b"\n") + 1 for body in written) == 3


def test_a_type_conflict_sets_aside_every_line_with_that_field_at_once() -> None:
    conflict = ('partial write: field type conflict: input field "energy_kwh" on measurement '
                '"energy" is type integer, already exists as type float dropped=2')
    # The ingestor writes a field with one type, so every line carrying it conflicts alike
    # (here the field already exists with another type, e.g. from another writer).
    other = "transport,site=a,sensor=c count_car=1i,interval_s=60i 3"

    def handler(request: httpx.Request) -> httpx.Response:
        if b"energy_kwh" in request.content:
            return httpx.Response(400, json={"error": conflict})
        return httpx.Response(204)

    store, seen = _store(handler)
    refused = store.write_keeping_good([GOOD, other, GOOD])
    assert sorted(refused) == [0, 2]
    assert len(seen) == 2  # the whole batch once, then the rest: no request per line


def test_an_outage_part_way_through_narrowing_is_raised_for_a_retry() -> None:
    answers = iter([httpx.Response(400, json={"error": "partial write: unable to parse"}),
                    httpx.Response(503)])
    store, _ = _store(lambda _: next(answers))
    with pytest.raises(StoreUnavailableError):
        store.write_keeping_good([GOOD, GOOD])


@pytest.mark.parametrize("status", [401, 403])
def test_refused_credentials_are_an_auth_error_naming_the_setting(status: int) -> None:
    store, _ = _store(lambda _: httpx.Response(status, json={"error": "authorization failed"}))
    with pytest.raises(StoreAuthError, match="SMARTPLACE_INFLUX_USERNAME"):
        store.write([GOOD])
    assert store.last_outcome is not None
    assert store.last_outcome[0] is False


def test_the_latest_outcome_is_kept_for_readiness() -> None:
    answers = iter([httpx.Response(503), httpx.Response(204)])
    store, _ = _store(lambda _: next(answers))
    assert store.last_outcome is None
    with pytest.raises(StoreUnavailableError):
        store.write([GOOD])
    assert store.last_outcome == (False, "InfluxDB answered 503: ")
    store.write([GOOD])
    assert store.last_outcome == (True, None)
