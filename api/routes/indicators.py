"""``GET /api/v1/indicators``: the climate team's headline figures for a window.

The answer is :func:`api.carbon.indicators.indicators`; formulas in docs/methodology.md
("Indicators"). Every ratio comes with the activity it was computed from.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.activity.rollups import Source
from api.activity.scope import sensor_scope
from api.carbon.indicators import indicators as indicators_answer
from api.deps import FactorsDep, FlagCacheDep, RegistryDep, StoreDep
from api.errors import ParamError
from api.params import DAY_S, as_validation_error, parse_window
from api.render import FastJSONResponse
from api.schemas import IndicatorsOut
from sensors.timestamps import NS_PER_MS, now_ms

router = APIRouter(tags=["indicators"])

DEFAULT_INDICATOR_RANGE_S = 7 * DAY_S


@router.get(
    "/indicators", response_model=IndicatorsOut, response_class=FastJSONResponse,
    summary="Headline carbon indicators over a window, against the previous period",
)
async def indicators(
    store: StoreDep,
    table: FactorsDep,
    registry: RegistryDep,
    flags: FlagCacheDep,
    start: Annotated[str | None, Query(
        max_length=64, description="RFC 3339 with offset (default: 7 days before end)")] = None,
    end: Annotated[str | None, Query(
        max_length=64, description="RFC 3339 with offset, exclusive (default: now)")] = None,
    source: Annotated[Source, Query(
        description="auto: rollups for windows over 2 days; raw; rollup")] = "auto",
    include_simulated: Annotated[bool, Query(
        description="also count sensors registered as simulated (smartplace simulate "
        "--sensors); default: left out")] = False,
) -> FastJSONResponse:
    """Indicators for [start, end) and the equal period before it; nothing is rounded."""
    try:
        window = parse_window(start, end, now_ms() * NS_PER_MS,
                              default_s=DEFAULT_INDICATOR_RANGE_S)
    except ParamError as exc:
        raise as_validation_error(exc) from exc
    scope = (await flags.get(store)).scope(include_simulated)
    with sensor_scope(scope):
        body = await indicators_answer(store, table, registry, window, source)
    return FastJSONResponse(body)
