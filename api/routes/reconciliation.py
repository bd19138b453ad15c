"""``GET /api/v1/reconciliation`` and ``GET /api/v1/budget``: the official inventory beside us.

Answers: :mod:`api.reconciliation.answers` and :mod:`api.reconciliation.budget`; the data
come from ``smartplace reconcile import``. Method: docs/methodology.md, "Reconciliation
with the official inventory" and "Carbon budget".
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status

from api.carbon.parts import PricingOptions
from api.deps import FactorsDep, RegistryDep, SettingsDep, StoreDep
from api.reconciliation.answers import reconciliation as reconciliation_answer
from api.reconciliation.budget import CarbonBudget, budget_status
from api.render import FastJSONResponse
from api.schemas.reconciliation import BudgetOut, ReconciliationOut

router = APIRouter(tags=["reconciliation"])

_RESPONSES: dict[int | str, dict[str, Any]] = {
    status.HTTP_404_NOT_FOUND: {"description": "nothing imported for this authority or year"},
}
Edition = Annotated[str | None, Query(
    max_length=100, description="the imported edition (default: the latest import)")]


@router.get("/reconciliation", response_model=ReconciliationOut,
            response_class=FastJSONResponse, responses=_RESPONSES,
            summary="The town centre beside the borough's DESNZ inventory")
async def reconciliation(
    store: StoreDep, table: FactorsDep, registry: RegistryDep, settings: SettingsDep,
    la: Annotated[str, Query(pattern=r"^[EWSN]\d{8}$",
                             description="GSS code, e.g. E08000007 (Stockport)")],
    year: Annotated[int | None, Query(ge=1990, le=2100, description="calendar year "
                                      "(default: the edition's latest)")] = None,
    edition: Edition = None,
) -> FastJSONResponse:
    """Borough figures by sector, the town centre's for the same year, coverage ratios."""
    body = await reconciliation_answer(store, table, registry, la, year, edition,
                                       PricingOptions(fleet_mix=settings.fleet_mix))
    if body is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=(
            f"no DESNZ local-authority inventory for {la}"
            + (f" in {year}" if year else "") + (f" in edition {edition!r}" if edition else "")
            + ": import the published CSV with `smartplace reconcile import FILE`"))
    return FastJSONResponse(body)


@router.get("/budget", response_model=BudgetOut, responses={
    status.HTTP_404_NOT_FOUND: {"description": "no budget configured"}},
    summary="The configured CO2 budget: used, remaining, trajectory to zero")
async def budget(request: Request, store: StoreDep, edition: Edition = None) -> BudgetOut:
    """Budget used (the borough's CO2 from the imported statistics) and what is left."""
    configured = getattr(request.app.state, "budget", None)
    if not isinstance(configured, CarbonBudget):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=(
            "no carbon budget configured: set SMARTPLACE_CARBON_BUDGET_FILE"))
    return BudgetOut.model_validate(await budget_status(store, configured, edition))
