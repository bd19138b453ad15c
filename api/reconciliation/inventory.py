"""The DESNZ local-authority greenhouse gas statistics: parse the published CSV, store, read.

DESNZ publishes *UK local authority and regional greenhouse gas emissions statistics* each
June with a long-format CSV: one row per local authority, calendar year, sector, sub-sector
and gas, in kt CO2e (https://www.gov.uk/government/collections/uk-local-authority-and-
regional-greenhouse-gas-emissions-national-statistics). Its columns (2005 to 2022 and
later editions): Country, Country Code, Region, Region Code, Second Tier Authority, Local
Authority, Local Authority Code, Calendar Year, LA GHG Sector, LA GHG Sub-sector,
Greenhouse gas, Territorial emissions (kt CO2e), Emissions within the scope of influence
of LAs (kt CO2), Mid-year Population (thousands), Area (km2). Older editions differ in a
few names (the CO2-only series: "LA CO2 Sector", "Territorial emissions (kt CO2)"; 2005 to
2021: "CO2 emissions within the scope of influence of LAs (kt CO2e)"); every variant below
is accepted. Empty or "[x]" cells (no estimate) are kept as no value, never as 0.

Stored as measurement ``la_inventory`` (tags la, edition, sector, subsector, gas; time =
1 January of the year, UTC), one point per CSV row, so a re-import of an edition
overwrites itself and editions sit side by side; ``la_inventory_edition`` records each
import (file hash, rows, years). docs/methodology.md explains the choice of store.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from api.errors import InventoryFileError
from api.influx import InfluxStore, QueryParam
from sensors.lineprotocol import point_line
from sensors.storage import Measurement

INVENTORY, EDITIONS = Measurement.LA_INVENTORY, Measurement.LA_INVENTORY_EDITION
# Each field the project reads, and the header names DESNZ has used for it (first wins).
COLUMNS: dict[str, tuple[str, ...]] = {
    "la": ("Local Authority Code",),
    "la_name": ("Local Authority",),
    "year": ("Calendar Year",),
    "sector": ("LA GHG Sector", "LA CO2 Sector"),
    "subsector": ("LA GHG Sub-sector", "LA CO2 Sub-sector"),
    "gas": ("Greenhouse gas",),
    "territorial_kt": ("Territorial emissions (kt CO2e)", "Territorial emissions (kt CO2)"),
    "within_scope_kt": ("Emissions within the scope of influence of LAs (kt CO2)",
                        "Emissions within the scope of influence of LAs (kt CO2e)",
                        "CO2 emissions within the scope of influence of LAs (kt CO2e)"),
    "population_k": ("Mid-year Population (thousands)",),
    "area_km2": ("Area (km2)",),
}
REQUIRED = ("la", "la_name", "year", "sector", "subsector", "territorial_kt")
_NO_VALUE = {"", "[x]", "[c]", "[z]", "x", "..", "-"}


@dataclass(frozen=True, slots=True)
class InventoryRow:
    """One row of the statistics: an authority, year, sector, sub-sector and gas."""

    la: str
    la_name: str
    year: int
    sector: str
    subsector: str
    gas: str
    territorial_kt: float | None
    within_scope_kt: float | None = None
    population_k: float | None = None
    area_km2: float | None = None


@dataclass(frozen=True, slots=True)
class Inventory:
    """A parsed file: its rows, which header variant it used, and its hash."""

    rows: tuple[InventoryRow, ...]
    layout: dict[str, str]  # field -> the header it was read from
    sha256: str

    @property
    def years(self) -> tuple[int, int]:
        """(first, last) calendar year in the file."""
        years = [row.year for row in self.rows]
        return min(years), max(years)

    def default_edition(self) -> str:
        """DESNZ names an edition by its years, e.g. ``2005-2023``."""
        first, last = self.years
        return f"{first}-{last}"


def _number(text: str, field: str, line: int) -> float | None:
    cleaned = text.strip().replace(",", "")
    if cleaned.lower() in _NO_VALUE:
        return None
    try:
        return float(cleaned)
    except ValueError:
        raise InventoryFileError(f"line {line}: {field} is not a number: {text[:40]!r}") from None


def parse_inventory(data: bytes, la_codes: Sequence[str] = ()) -> Inventory:
    """The rows of a DESNZ local-authority CSV (optionally only some authorities).

    Raises:
        InventoryFileError: not UTF-8 CSV, a required column missing, a bad number or year,
            or no rows.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InventoryFileError("the file is not UTF-8 text") from None
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in reader.fieldnames or []]
    reader.fieldnames = header
    layout = {field: next((name for name in names if name in header), "")
              for field, names in COLUMNS.items()}
    missing = [COLUMNS[field][0] for field in REQUIRED if not layout[field]]
    if missing:
        raise InventoryFileError(f"not the DESNZ local-authority layout: no column "
                                 f"{', '.join(repr(m) for m in missing)}")
    wanted = set(la_codes)
    rows: list[InventoryRow] = []
    for line, raw in enumerate(reader, start=2):
        la = (raw.get(layout["la"]) or "").strip()
        if not la or (wanted and la not in wanted):
            continue
        try:
            year = int((raw.get(layout["year"]) or "").strip())
        except ValueError:
            raise InventoryFileError(f"line {line}: Calendar Year is not a year") from None
        if not 1990 <= year <= 2100:
            raise InventoryFileError(f"line {line}: Calendar Year {year} is out of range")

        def value(field: str, row: dict[str, Any] = raw, at: int = line) -> float | None:
            return _number(row.get(layout[field]) or "", field, at) if layout[field] else None

        rows.append(InventoryRow(
            la=la, la_name=(raw.get(layout["la_name"]) or "").strip(), year=year,
            sector=(raw.get(layout["sector"]) or "").strip(),
            subsector=(raw.get(layout["subsector"]) or "").strip(),
            # The CO2-only editions have no gas column: every row is CO2.
            gas=((raw.get(layout["gas"]) or "").strip() if layout["gas"] else "CO2") or "CO2",
            territorial_kt=value("territorial_kt"), within_scope_kt=value("within_scope_kt"),
            population_k=value("population_k"), area_km2=value("area_km2"),
        ))
    if not rows:
        raise InventoryFileError("no rows" + (f" for {', '.join(sorted(wanted))}" if wanted
                                              else ""))
    return Inventory(tuple(rows), {k: v for k, v in layout.items() if v},
                     hashlib.sha256(data).hexdigest())


def year_ms(year: int) -> int:
    """1 January of ``year``, 00:00 UTC, in epoch ms: the time of a year's points."""
    return int(datetime(year, 1, 1, tzinfo=UTC).timestamp()) * 1000


def inventory_lines(inventory: Inventory, edition: str, file_name: str,
                    imported_at_ms: int) -> list[str]:
    """Line protocol (precision ms) for the rows and the edition record."""
    lines = [point_line(INVENTORY, {"la": row.la, "edition": edition, "sector": row.sector,
                                    "subsector": row.subsector, "gas": row.gas},
                        {"la_name": row.la_name, "territorial_kt": row.territorial_kt,
                         "within_scope_kt": row.within_scope_kt,
                         "population_k": row.population_k, "area_km2": row.area_km2},
                        year_ms(row.year))
             for row in inventory.rows]
    first, last = inventory.years
    lines.append(point_line(EDITIONS, {"edition": edition}, {
        "file_name": file_name, "file_sha256": inventory.sha256, "rows": len(inventory.rows),
        "first_year": first, "last_year": last, "imported_at_ms": imported_at_ms,
        "layout": "; ".join(f"{k}={v}" for k, v in inventory.layout.items())},
        imported_at_ms))
    return [line for line in lines if line is not None]


async def store_inventory(store: InfluxStore, inventory: Inventory, edition: str,
                          file_name: str, imported_at_ms: int) -> int:
    """Write the rows and the edition record; the number of rows written.

    Raises:
        StoreError: InfluxDB refused or could not be reached.
    """
    await store.write(inventory_lines(inventory, edition, file_name, imported_at_ms))
    return len(inventory.rows)


_EDITIONS = (f"SELECT last(file_sha256) AS file_sha256, last(rows) AS rows, "  # noqa: S608
             f"last(first_year) AS first_year, last(last_year) AS last_year, "
             f"last(imported_at_ms) AS imported_at_ms, last(file_name) AS file_name "
             f"FROM {EDITIONS} WHERE time >= 0 AND time < now() + 1d GROUP BY edition")
_ROWS = (f"SELECT la_name, territorial_kt, within_scope_kt, population_k, "  # noqa: S608
         f"area_km2 FROM {INVENTORY} WHERE la = $la AND edition = $edition "
         "AND time >= $start AND time < $end GROUP BY sector, subsector, gas")


async def fetch_editions(store: InfluxStore) -> list[dict[str, Any]]:
    """Every imported edition with its record, newest import last.

    Raises:
        StoreError: InfluxDB could not answer.
    """
    (series,) = await store.query([_EDITIONS], own=True)
    out = [{"edition": one.tags.get("edition", ""), **{k: v for k, v in row.items()
                                                       if k != "time"}}
           for one in series for row in one.rows()]
    return sorted(out, key=lambda one: one.get("imported_at_ms") or 0)


async def fetch_rows(store: InfluxStore, la: str, edition: str,
                     years: Iterable[int]) -> list[InventoryRow]:
    """An authority's rows of an edition for some calendar years.

    Raises:
        StoreError: InfluxDB could not answer.
    """
    chosen = sorted(set(years))
    if not chosen:
        return []
    params: dict[str, QueryParam] = {"la": la, "edition": edition,
                                     "start": year_ms(chosen[0]) * 1_000_000,
                                     "end": year_ms(chosen[-1] + 1) * 1_000_000}
    (series,) = await store.query([_ROWS], params, own=True)
    rows = []
    for one in series:
        for raw in one.rows():
            year = datetime.fromtimestamp(int(raw["time"]) / 1000, UTC).year
            if year not in chosen:
                continue
            rows.append(InventoryRow(
                la=la, la_name=str(raw.get("la_name") or ""), year=year,
                sector=one.tags.get("sector", ""), subsector=one.tags.get("subsector", ""),
                gas=one.tags.get("gas", ""), territorial_kt=_opt(raw.get("territorial_kt")),
                within_scope_kt=_opt(raw.get("within_scope_kt")),
                population_k=_opt(raw.get("population_k")), area_km2=_opt(raw.get("area_km2"))))
    return rows


def _opt(value: Any) -> float | None:
    return None if value is None else float(value)
