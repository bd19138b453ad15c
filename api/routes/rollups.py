"""``POST /api/v1/rollups/backfill``: roll up a range again (operator), e.g. after readings
were imported or repaired; the scheduled job only recomputes the last hours
(docs/methodology.md, "Rollups")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.activity.rollup_job import backfill
from api.auth import ROLE_RESPONSES, audited, require_role
from api.clock import format_ms
from api.deps import AnswersDep, LastSeenDep, StoreDep
from api.errors import ParamError
from api.params import as_validation_error, parse_window
from api.schemas import BackfillOut
from sensors.apikeys import ApiKey
from sensors.timestamps import NS_PER_MS, now_ms

router = APIRouter(tags=["rollups"])

# One request stays within an HTTP client's patience (an eleven-month backfill of an empty
# database took over 10 s on a loaded 2-core machine); longer ranges are sent in parts.
MAX_BACKFILL_DAYS = 31


@router.post("/rollups/backfill", response_model=BackfillOut,
             responses={**ROLE_RESPONSES, 503: {"description": "InfluxDB unavailable"}},
             summary="Recompute the rollups of a window (operator)")
async def rollup_backfill(
    store: StoreDep,
    answers: AnswersDep,
    last_seen: LastSeenDep,
    actor: Annotated[ApiKey, Depends(require_role("operator"))],
    start: Annotated[str, Query(max_length=64, description="RFC 3339 with offset")],
    end: Annotated[str, Query(max_length=64, description="RFC 3339 with offset, exclusive")],
) -> BackfillOut:
    """Roll up the complete hours touching [start, end) (at most 31 days; 422 beyond);
    coverage stays contiguous."""
    now = now_ms()
    try:
        window = parse_window(start, end, now * NS_PER_MS)
        if window.end_ns - window.start_ns > MAX_BACKFILL_DAYS * 86_400 * 1_000_000_000:
            raise ParamError("end", f"a backfill covers at most {MAX_BACKFILL_DAYS} days: "
                             "send a longer range in parts", end)
    except ParamError as exc:
        raise as_validation_error(exc) from exc
    coverage = await backfill(store, window.start_ns // NS_PER_MS, window.end_ns // NS_PER_MS,
                              now)
    answers.invalidate()
    # A backfill usually follows an import: readings with old timestamps, which only a
    # re-read of the look-back finds (api/network/last_seen_index.py).
    last_seen.invalidate()
    audited(actor, "rollup backfill", start=start, end=end)
    return BackfillOut(
        coverage_start=format_ms(coverage.since_ms) if coverage else None,
        coverage_end=format_ms(coverage.until_ms) if coverage else None, by=actor.name)
