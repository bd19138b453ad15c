"""``smartplace report``: a council report of a period, written to a file (docs/methodology.md).

The same report as ``GET /api/v1/reports/{period}``, made directly against InfluxDB, so
no API needs to be running. ``--format pdf`` prints through headless Chromium.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from api.carbon.parts import PricingOptions
from api.errors import ApiError, ParamError
from api.influx import InfluxStore
from api.params import parse_period
from api.reports.report import Report, ReportFormat, make_report
from sensors.errors import SensorsError
from sensors.factors import load_factor_table
from sensors.registry import load_registry
from sensors.settings import Settings
from sensors.version import smartplace_version


async def _make(settings: Settings, period: str, output: ReportFormat, wtt: bool,
                ev_memo: bool, factor_year: int | None) -> Report:
    store = InfluxStore(settings)
    try:
        options = PricingOptions(wtt, ev_memo, settings.fleet_mix, factor_year)
        return await make_report(store, load_factor_table(settings.factors_file),
                                 load_registry(), settings, parse_period(period), output,
                                 options, smartplace_version())
    finally:
        await store.aclose()


def report_command(
    period: Annotated[str, typer.Option(help="fy2025 (April to March), 2025 or 2025-11")],
    output_format: Annotated[str, typer.Option(
        "--format", help="html, pdf or csv")] = "html",
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="file to write (default: smartplace-report-<period>.<format>)")
    ] = None,
    wtt: Annotated[bool, typer.Option(help="include well-to-tank emissions (Scope 3)")] = False,
    ev_memo: Annotated[bool, typer.Option(
        help="report EV charging beside the total, not in it")] = False,
    factor_year: Annotated[int | None, typer.Option(
        help="price with this DESNZ set instead of the period's")] = None,
) -> None:
    """Write a council report of a period (HTML, PDF or CSV).

    Totals by scope and source, the trend against the previous period, data completeness,
    DAQI days by band, the factors with their sources, the method and its limits, and the
    queries and input hash that reproduce every figure.
    """
    from smartplace.options import load_settings

    if output_format not in ("html", "pdf", "csv"):
        typer.echo("error: --format must be html, pdf or csv", err=True)
        raise typer.Exit(2)
    settings = load_settings()
    chosen: ReportFormat = output_format  # type: ignore[assignment]
    try:
        made = asyncio.run(_make(settings, period, chosen, wtt, ev_memo, factor_year))
    except ParamError as exc:
        typer.echo(f"error: --period: {exc.message}", err=True)
        raise typer.Exit(2) from None
    except (ApiError, SensorsError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    path = output or Path(made.filename)
    path.write_bytes(made.content)
    typer.echo(f"wrote {path} ({len(made.content):,} bytes); inputs sha256 "
               f"{made.figures.inputs_sha256}")
