"""The ``smartplace import`` command: options, progress bar and summary (see
:mod:`smartplace.importer` for what it does and why)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ingest.errors import StateStoreError
from sensors.errors import DevicesFileError
from sensors.formats.devices import Format
from smartplace.errors import ImportFileError
from smartplace.import_sources import read_csv, read_jsonl
from smartplace.importer import Importer, ImportState, count_rows, summary_lines


class Kind(StrEnum):
    """How the file is written."""

    AUTO = "auto"
    CSV = "csv"
    JSONL = "jsonl"


def _constants(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise typer.BadParameter(f"{pair!r} is not NAME=VALUE", param_hint="'--set'")
        out[name.strip()] = value
    return out


def import_file(
    path: Annotated[Path, typer.Argument(metavar="FILE", exists=True, dir_okay=False,
                                         help="CSV or JSONL file of readings.")],
    kind: Annotated[Kind, typer.Option("--kind", help="csv or jsonl (auto: by extension)."
                                       )] = Kind.AUTO,
    fmt: Annotated[Format | None, typer.Option(
        "--format", help="JSONL: every line is one message of this device format.")] = None,
    constants: Annotated[list[str] | None, typer.Option(
        "--set", metavar="NAME=VALUE",
        help="CSV: a column every row shares (domain, site, sensor, carrier, interval_s...)."
    )] = None,
    again: Annotated[bool, typer.Option(
        "--again", help="Import a file that was imported before, from its first row (the "
                        "same points are stored again).")] = False,
    batch: Annotated[int, typer.Option("--batch", min=1, max=50_000,
                                       help="Lines per InfluxDB write.")] = 5000,
    retry_s: Annotated[float, typer.Option(
        "--retry", metavar="S", min=1, help="Give up after InfluxDB is down this long.")] = 60,
) -> None:
    """Import historical readings with their own timestamps, validated like live messages.

    Resumable (run it again after an interruption) and idempotent (the same file stores
    the same points). Exit status: 0 done, 1 stopped (InfluxDB or the register history
    unavailable; what was stored is kept), 2 bad options, settings or devices file.
    """
    from smartplace.options import load_settings

    settings = load_settings()
    chosen = kind if kind is not Kind.AUTO else (
        Kind.CSV if path.suffix.lower() == ".csv" else Kind.JSONL)
    if chosen is Kind.CSV and fmt is not None:
        raise typer.BadParameter("a CSV holds contract fields, not a device format",
                                 param_hint="'--format'")
    shared = _constants(constants or [])
    try:
        importer = Importer(settings, batch_lines=batch, retry_s=retry_s)
    except (DevicesFileError, StateStoreError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    state = ImportState.for_file(settings.spool_dir, path)
    if state.complete and not again:
        typer.echo("\n".join(summary_lines(state)))
        typer.echo(f"already imported ({state.path}); --again imports it again")
        return
    if again:
        state.restart()
    if chosen is Kind.CSV:
        rows = read_csv(path, settings.topic_prefix, shared)
    else:
        translator = importer.formats.translator if importer.formats else None
        rows = read_jsonl(path, fmt, translator)
    console = Console(stderr=True)
    columns = [TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    total = count_rows(path) - (1 if chosen is Kind.CSV else 0)
    try:
        with Progress(*columns, console=console, disable=not console.is_terminal,
                      transient=True) as bar:
            task = bar.add_task("import", total=total, completed=state.rows_done)
            importer.run(rows, state, progress=lambda done: bar.update(task, completed=done))
    except (ImportFileError, StateStoreError) as exc:
        typer.echo("\n".join(summary_lines(state)))
        typer.echo(f"stopped: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        importer.close()
    typer.echo("\n".join(summary_lines(state)))
    typer.echo(f"state: {state.path} (importing the file again stores the same points)")
