"""``GET /api/v1/reconciliation`` and ``GET /api/v1/budget``: the official inventory beside us.

Answers: :mod:`api.reconciliation.answers` and :mod:`api.reconciliation.budget`; the data
come from ``smartplace reconcile import``. Method: docs/methodology.md, "Reconciliation
with the official inventory" and "Carbon budget".
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import Response

from api.carbon.parts import PricingOptions
from api.deps import FactorsDep, RegistryDep, SettingsDep, StoreDep
from api.params import FormatQuery
from api.reconciliation.answers import reconciliation as reconciliation_answer
from api.reconciliation.answers import reconciliation_table
from api.reconciliation.budget import CarbonBudget, budget_status, budget_table
from api.render import FastJSONResponse, csv_response, table_responses, wants_csv
from api.schemas.errors import error_responses
from api.schemas.reconciliation import BudgetOut, ReconciliationOut

router = APIRouter(tags=["reconciliation"])

_RESPONSES = {**table_responses("one line per sector group both sides count, then every "
                                "sector"),
              **error_responses(404, 503, e404="nothing imported for this authority or year")}
Edition = Annotated[str | None, Query(
    max_length=100, description="the imported edition (default: the latest import)")]


@router.get("/reconciliation", response_model=ReconciliationOut,
            response_class=FastJSONResponse, responses=_RESPONSES,
            summary="The town centre beside the borough's DESNZ inventory")
async def reconciliation(
    request: Request,
    store: StoreDep, table: FactorsDep, registry: RegistryDep, settings: SettingsDep,
    la: Annotated[str, Query(pattern=r"^[EWSN]\d{8}$",
                             description="GSS code, e.g. E08000007 (Stockport)")],
    year: Annotated[int | None, Query(ge=1990, le=2100, description="calendar year "
                                      "(default: the edition's latest)")] = None,
    edition: Edition = None,
    output: FormatQuery = None,
) -> Response:
    """Borough figures by sector, the town centre's for the same year, coverage ratios."""
    body = await reconciliation_answer(store, table, registry, la, year, edition,
                                       PricingOptions(fleet_mix=settings.fleet_mix))
    if body is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=(
            f"no DESNZ local-authority inventory for {la}"
            + (f" in {year}" if year else "") + (f" in edition {edition!r}" if edition else "")
            + ": import the published CSV with `smartplace reconcile import FILE`"))
    if wants_csv(request, output):
        return csv_response(*reconciliation_table(body),
                            f"reconciliation_{la}_{body['year']}.csv")
    return FastJSONResponse(body)


@router.get("/budget", response_model=BudgetOut, responses={
    **table_responses("one line per year: the inventory's CO2, then the paths to zero"),
    **error_responses(404, 503, e404="no budget configured")},
    summary="The configured CO2 budget: used, remaining, trajectory to zero")
async def budget(request: Request, store: StoreDep, edition: Edition = None,
                 output: FormatQuery = None) -> Response:
    """Budget used (the borough's CO2 from the imported statistics) and what is left."""
    configured = getattr(request.app.state, "budget", None)
    if not isinstance(configured, CarbonBudget):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=(
            "no carbon budget configured: set SMARTPLACE_CARBON_BUDGET_FILE"))
    body = BudgetOut.model_validate(await budget_status(store, configured, edition))
    if wants_csv(request, output):
        return csv_response(*budget_table(body.model_dump(mode="json")), "budget.csv")
    return FastJSONResponse(body.model_dump(mode="json"))
