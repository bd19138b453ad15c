"""``POST /api/v1/rollups/backfill``: roll up a range again (operator), e.g. after readings
were imported or repaired; the scheduled job only recomputes the last hours
(docs/methodology.md, "Rollups")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from api.activity.rollup_job import MAX_BACKFILL_MS, backfill
from api.auth import ROLE_RESPONSES, audited, require_role
from api.clock import format_ms
from api.deps import AnswersDep, LastSeenDep, StoreDep
from api.errors import ParamError
from api.params import as_validation_error, parse_window, time_query
from api.schemas import BackfillOut
from api.schemas.errors import error_responses
from sensors.apikeys import ApiKey
from sensors.timestamps import NS_PER_MS, now_ms

DAY_MS = 86_400_000

router = APIRouter(tags=["rollups"])


@router.post("/rollups/backfill", response_model=BackfillOut,
             responses={**ROLE_RESPONSES, **error_responses(503)},
             summary="Recompute the rollups of a window (operator)")
async def rollup_backfill(
    store: StoreDep,
    answers: AnswersDep,
    last_seen: LastSeenDep,
    actor: Annotated[ApiKey, Depends(require_role("operator"))],
    start: Annotated[str, time_query("inclusive")],
    end: Annotated[str, time_query("exclusive")],
) -> BackfillOut:
    """Roll up the complete hours touching [start, end) (at most 31 days; 422 beyond);
    coverage stays contiguous."""
    now = now_ms()
    try:
        window = parse_window(start, end, now * NS_PER_MS)
        # The range alone is checked before InfluxDB is asked; backfill checks it again
        # with the gap to the coverage included.
        if window.end_ns - window.start_ns > MAX_BACKFILL_MS * NS_PER_MS:
            raise ParamError("end", f"a backfill covers at most {MAX_BACKFILL_MS // DAY_MS} "
                             "days: send a longer range in parts", end)
        coverage = await backfill(store, window.start_ns // NS_PER_MS,
                                  window.end_ns // NS_PER_MS, now)
    except ParamError as exc:
        raise as_validation_error(exc) from exc
    answers.invalidate()
    # A backfill usually follows an import: readings with old timestamps, which only a
    # re-read of the look-back finds (api/network/last_seen_index.py).
    last_seen.invalidate()
    audited(actor, "rollup backfill", start=start, end=end)
    return BackfillOut(
        coverage_start=format_ms(coverage.since_ms) if coverage else None,
        coverage_end=format_ms(coverage.until_ms) if coverage else None, by=actor.name)
