"""The writer against recorded answers of InfluxDB 1.x, 2.x and 3.x (docs/storage.md).

No 2.x or 3.x server can be installed here, so their answers are replayed over a fake
transport, exactly as their documentation and issue trackers show them: 2.x answers
errors as ``{"code", "message"}`` and a partial write as 422; 3.x names the refused
lines of a partial write (``data[].line_number``) and has stored the rest.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx
import pytest
from pydantic import SecretStr

from ingest.errors import StoreAuthError, StoreRejectedError, StoreUnavailableError
from ingest.store import InfluxStore
from sensors.settings import Settings

LINE = "energy,site=a,sensor=m,carrier=gas energy_kwh=1.0,interval_s=60i {ts}"
CONFLICT = ('partial write: field type conflict: input field \\"energy_kwh\\" on measurement '
            '\\"energy\\" is type integer, already exists as type float dropped=1')

# (server, status, body) as the servers send them.
V1_CONFLICT = (400, {"error": CONFLICT.replace("\\", "")})
V2_CONFLICT = (422, {"code": "unprocessable entity",
                     "message": f"failure writing points to database: {CONFLICT}"})
V2_UNAUTHORISED = (401, {"code": "unauthorized", "message": "unauthorized access"})
V2_BAD_LINE = (400, {"code": "invalid", "message": "unable to parse 'energy x': missing fields"})
V2_NO_BUCKET = (404, {"code": "not found", "message": 'bucket "smartplace" not found'})
V3_UNAUTHORISED = (401, {"error": "the request was not authenticated"})


def v3_partial(*numbers: int) -> tuple[int, dict[str, object]]:
    return 400, {"error": "partial write of line protocol occurred", "data": [
        {"original_line": "energy,site=a,sensor=m,carrier=gas energy_kwh=1i 2",
         "line_number": n, "error_message": "invalid column type for column 'energy_kwh', "
         "expected iox::column_type::field::float, got iox::column_type::field::integer"}
        for n in numbers]}


def _store(answer: tuple[int, Mapping[str, object]]) -> tuple[InfluxStore, list[bytes]]:
    bodies: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(request.content)
        return httpx.Response(answer[0], json=answer[1])

    settings = Settings(_env_file=None, influx_token=SecretStr("t"))
    return InfluxStore(settings, transport=httpx.MockTransport(handler)), bodies


@pytest.mark.parametrize(("answer", "error", "says"), [
    (V1_CONFLICT, StoreRejectedError, "field type conflict"),
    (V2_CONFLICT, StoreRejectedError, "field type conflict"),
    (V2_BAD_LINE, StoreRejectedError, "missing fields"),
    (V2_UNAUTHORISED, StoreAuthError, "SMARTPLACE_INFLUX_TOKEN"),
    (V3_UNAUTHORISED, StoreAuthError, "not authenticated"),
    (V2_NO_BUCKET, StoreUnavailableError, 'bucket "smartplace" not found'),
    (v3_partial(1), StoreRejectedError, "partial write of line protocol occurred"),
])
def test_answers_of_every_version_are_classified_with_their_message(
        answer: tuple[int, dict[str, object]], error: type[Exception], says: str) -> None:
    store, _ = _store(answer)
    with pytest.raises(error, match=says):
        store.write([LINE.format(ts=1)])


def test_a_v2_type_conflict_is_narrowed_to_its_lines_not_retried_for_ever() -> None:
    store, bodies = _store(V2_CONFLICT)
    refused = store.write_keeping_good([LINE.format(ts=1), LINE.format(ts=2)])
    assert sorted(refused) == [0, 1]  # every line carries the conflicting field
    assert len(bodies) == 1


def test_v3_names_the_refused_lines_and_keeps_the_rest() -> None:
    store, bodies = _store(v3_partial(2, 4))
    lines = [LINE.format(ts=n) for n in range(1, 6)]
    refused = store.write_keeping_good(lines)
    assert sorted(refused) == [1, 3]  # body lines 2 and 4
    assert "invalid column type" in refused[1]
    assert len(bodies) == 1  # no bisection: the server said which


def test_v3_line_numbers_map_to_items_of_several_lines() -> None:
    store, _ = _store(v3_partial(3))
    feed = "grid_intensity,region=a forecast_gco2_kwh=1.0 1\ngrid_intensity,region=a x=1 2"
    refused = store.write_keeping_good([LINE.format(ts=1), feed, LINE.format(ts=3)])
    assert list(refused) == [1]  # body line 3 is the feed's second line
