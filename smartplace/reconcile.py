"""``smartplace reconcile import FILE``: load the DESNZ local-authority statistics.

The published CSV (any edition) is parsed by :mod:`api.reconciliation.inventory` and
written to InfluxDB, where ``/api/v1/reconciliation`` and ``/api/v1/budget`` read it. The
edition is recorded with the file's SHA-256; importing it again overwrites it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from api.errors import ApiError
from api.influx import InfluxStore
from api.reconciliation.inventory import Inventory, parse_inventory, store_inventory
from sensors.settings import Settings
from sensors.timestamps import now_ms
from smartplace.help import PlainFlagsCommand, PlainFlagsGroup

app = typer.Typer(cls=PlainFlagsGroup, help="The official inventory beside the town centre.",
                  no_args_is_help=True, add_completion=False)


async def _store(settings: Settings, inventory: Inventory, edition: str, name: str) -> int:
    store = InfluxStore(settings)
    try:
        return await store_inventory(store, inventory, edition, name, now_ms())
    finally:
        await store.aclose()


@app.command("import", cls=PlainFlagsCommand)
def import_command(
    file: Annotated[Path, typer.Argument(help="the DESNZ local-authority GHG CSV")],
    edition: Annotated[str | None, typer.Option(
        help="edition name (default: its years, e.g. 2005-2023)")] = None,
    la: Annotated[list[str] | None, typer.Option(
        help="only this authority's rows (GSS code; repeatable), e.g. E08000007")] = None,
) -> None:
    """Import DESNZ's UK local authority greenhouse gas emissions statistics (CSV)."""
    from smartplace.options import load_settings

    settings = load_settings()
    try:
        inventory = parse_inventory(file.read_bytes(), la or ())
        name = edition or inventory.default_edition()
        rows = asyncio.run(_store(settings, inventory, name, file.name))
    except OSError as exc:
        typer.echo(f"error: cannot read {file}: {exc.strerror}", err=True)
        raise typer.Exit(1) from None
    except ApiError as exc:
        typer.echo(f"error: {file.name}: {exc.message}", err=True)
        raise typer.Exit(1) from None
    first, last = inventory.years
    authorities = len({row.la for row in inventory.rows})
    typer.echo(f"imported {rows:,} rows of edition {name!r} ({first}-{last}, "
               f"{authorities} authorities) from {file.name}, sha256 {inventory.sha256[:16]}…")
