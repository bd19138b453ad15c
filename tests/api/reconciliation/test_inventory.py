"""Parsing DESNZ's local-authority greenhouse gas CSV, every edition's layout, by hand."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from api.errors import InventoryFileError
from api.reconciliation.inventory import inventory_lines, parse_inventory

SAMPLE = Path(__file__).with_name("desnz_la_ghg_sample.csv")


def test_the_sample_in_the_published_layout() -> None:
    inventory = parse_inventory(SAMPLE.read_bytes())
    assert inventory.years == (2020, 2023)
    assert inventory.default_edition() == "2020-2023"
    assert {row.la for row in inventory.rows} == {"E08000007", "E08000009"}
    stockport_2023 = [r for r in inventory.rows if r.la == "E08000007" and r.year == 2023]
    assert len(stockport_2023) == 28
    # The "[x]" cell (no estimate) is no value, never 0.
    grassland = next(r for r in stockport_2023 if r.subsector == "Grassland")
    assert grassland.territorial_kt is None
    total = math.fsum(r.territorial_kt or 0.0 for r in stockport_2023)
    assert total == pytest.approx(1068.4, abs=1e-9)
    assert inventory.layout["within_scope_kt"] == (
        "Emissions within the scope of influence of LAs (kt CO2)")
    assert len(inventory.sha256) == 64


def test_only_the_authorities_asked_for() -> None:
    only = parse_inventory(SAMPLE.read_bytes(), ["E08000009"])
    assert [(r.la_name, r.territorial_kt) for r in only.rows] == [("Trafford", 250.0)]
    with pytest.raises(InventoryFileError, match="no rows for E99999999"):
        parse_inventory(SAMPLE.read_bytes(), ["E99999999"])


def test_older_editions_column_names_and_a_bom() -> None:
    # The 2005 to 2021 edition named the scope column differently; the CO2-only series
    # had "LA CO2 Sector", "Territorial emissions (kt CO2)" and no gas column.
    co2_only = ("\ufeffCountry,Local Authority,Local Authority Code,Calendar Year,"
                "LA CO2 Sector,LA CO2 Sub-sector,Territorial emissions (kt CO2),"
                "CO2 emissions within the scope of influence of LAs (kt CO2e),"
                "Mid-year Population (thousands),Area (km2)\r\n"
                'England,Stockport,E08000007,2019,Domestic,Domestic Gas,"1,234.5",1234.5,'
                "293.4,126.1\r\n")
    inventory = parse_inventory(co2_only.encode("utf-8"))
    (row,) = inventory.rows
    assert (row.gas, row.territorial_kt, row.within_scope_kt, row.sector) == (
        "CO2", 1234.5, 1234.5, "Domestic")


HEADER = ("Local Authority,Local Authority Code,Calendar Year,LA GHG Sector,LA GHG Sub-sector,"
          "Territorial emissions (kt CO2e)\n")


@pytest.mark.parametrize(("content", "message"), [
    (b"a,b,c\n1,2,3\n", "not the DESNZ local-authority layout"),
    (b"\xff\xfe\x00x", "not UTF-8"),
    (f"{HEADER}Stockport,E08000007,20x3,Domestic,Domestic Gas,1\n".encode(),
     "line 2: Calendar Year is not a year"),
    (f"{HEADER}Stockport,E08000007,2023,Domestic,Domestic Gas,lots\n".encode(),
     "line 2: territorial_kt is not a number"),
])
def test_bad_files_are_clear_errors(content: bytes, message: str) -> None:
    with pytest.raises(InventoryFileError, match=message):
        parse_inventory(content)


def test_hostile_names_are_escaped_in_line_protocol() -> None:
    text = ("Local Authority,Local Authority Code,Calendar Year,LA GHG Sector,"
            "LA GHG Sub-sector,Territorial emissions (kt CO2e)\n"
            '"Evil ""town"", =x",E08000007,2023,"Dom estic,x=1","Sub\\sector",1.5\n')
    inventory = parse_inventory(text.encode())
    lines = inventory_lines(inventory, "ed 1", 'file "a".csv', 1_700_000_000_000)
    assert lines[0].startswith("la_inventory,edition=ed\\ 1,gas=CO2,la=E08000007,"
                               "sector=Dom\\ estic\\,x\\=1,subsector=Sub\\\\sector ")
    assert 'la_name="Evil \\"town\\", =x"' in lines[0]
    assert lines[0].endswith(" 1672531200000")  # 1 January 2023 UTC
    assert lines[1].startswith("la_inventory_edition,edition=ed\\ 1 ")
