"""Factor years, the operator's override file and ``GET /api/v1/factors``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from api.main import create_app
from sensors.errors import FactorFileError
from sensors.factors import REQUIRED_IDS, load_factor_table, load_factors
from sensors.settings import Settings
from tests.api.helpers import api_client

pytestmark = pytest.mark.anyio

FACTORS = load_factors()

# The DESNZ 2024 rows as entered (each checked against a third-party copy of the 2024
# workbook; the van and HGV figures could not be, so those ids have no 2024 row).
DESNZ_2024 = {
    "electricity.generation": 0.20705, "electricity.td": 0.01830, "gas": 0.18290,
    "vehicle.car": 0.16691, "vehicle.motorcycle": 0.11367, "vehicle.bus": 0.12999 * 10.7,
}


def _row(**changes: Any) -> dict[str, Any]:
    row = {"id": "gas", "value": 0.2, "unit": "kgCO2e/kWh", "scope": "Scope 1",
           "source": "Supplier's published factor", "url": "https://example.org/gas",
           "year": 2025, "notes": "test"}
    row.update(changes)
    return row


def _file(tmp_path: Path, content: object) -> Path:
    path = tmp_path / "factors.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


# DESNZ 2026 rows found in a machine-readable copy; gas, van and HGV (and their WTT rows)
# were not, so 2026 activity uses the 2025 rows for those ids.
DESNZ_2026 = {
    "electricity.generation": 0.13096, "electricity.td": 0.01299, "vehicle.car": 0.16591,
    "vehicle.motorcycle": 0.11367, "vehicle.bus": 0.12552 * 10.7,
}
NOT_IN_2026 = ("gas", "vehicle.van", "vehicle.hgv", "wtt.vehicle.van", "wtt.vehicle.hgv")
NOT_IN_2024 = ("vehicle.van", "vehicle.hgv", "wtt.vehicle.van", "wtt.vehicle.hgv")


def test_packaged_table_has_2024_2025_and_2026_sets() -> None:
    for year, rows in ((2024, DESNZ_2024), (2026, DESNZ_2026)):
        for factor_id, value in rows.items():
            row = FACTORS.factor(factor_id, year)
            assert row.year == year
            assert row.value == pytest.approx(value, rel=1e-12)
            assert "compare with the spreadsheet before publishing" in row.notes
            assert f"conversion factors {year}" in row.source
            assert row.origin == "packaged"
    for factor_id in REQUIRED_IDS:
        assert FACTORS.factor(factor_id, 2025).year == 2025
    for factor_id in NOT_IN_2026:
        assert FACTORS.factor(factor_id, 2026).year == 2025  # not checked: 2025 applies
    for factor_id in NOT_IN_2024:
        assert FACTORS.factor(factor_id, 2024).year == 2025
    assert FACTORS.factor("electricity.generation").year == 2026  # no year: the latest row


def test_every_row_names_the_copy_it_was_checked_against() -> None:
    for row in FACTORS.factors:
        assert ("JulesProject" in row.notes or "themisiq" in row.notes
                or "third-party copies" in row.notes), (row.id, row.year)
        if row.co2_value is not None:
            assert "CO2 part" in row.notes, (row.id, row.year)
            assert row.co2_value <= row.value * 1.001, (row.id, row.year)


def test_co2_parts_and_wtt_rows_as_entered() -> None:
    assert FACTORS.factor("electricity.generation", 2025).co2_value == 0.17489
    assert FACTORS.factor("electricity.td", 2025).co2_value == 0.01834
    assert FACTORS.factor("vehicle.car", 2025).co2_value == 0.16608
    assert FACTORS.factor("gas", 2025).co2_value is None  # no copy gives it
    assert FACTORS.factor("vehicle.bus", 2025).co2_value == pytest.approx(0.12435 * 10.7)
    assert FACTORS.value("wtt.electricity.generation", 2025) == 0.0459
    assert FACTORS.value("wtt.electricity.td", 2025) == 0.00397
    assert FACTORS.value("wtt.gas", 2025) == 0.03021
    assert FACTORS.value("wtt.vehicle.car", 2025) == 0.04399
    assert FACTORS.value("wtt.electricity.generation", 2026) == 0.03682
    assert all(row.co2_value is None for row in FACTORS.factors if row.id.startswith("wtt."))
    fuels = {fuel: FACTORS.value(f"vehicle.car.{fuel}", 2025) for fuel in
             ("petrol", "diesel", "hybrid", "plugin_hybrid", "battery_electric")}
    assert fuels == {"petrol": 0.16272, "diesel": 0.17304, "hybrid": 0.12825,
                     "plugin_hybrid": 0.10461, "battery_electric": 0.04047}


@pytest.mark.parametrize(
    ("year", "gas", "van_year"),
    [(2019, 0.18290, 2025),  # older than every set: the earliest row of each id
     (2024, 0.18290, 2025),  # no 2024 van row: the van falls back to its only row
     (2025, 0.18296, 2025),
     (2026, 0.18296, 2025),  # no checked 2026 gas or van row: 2025's
     (2031, 0.18296, 2025)],  # newer than every set: the latest
)
def test_year_resolution(year: int, gas: float, van_year: int) -> None:
    assert FACTORS.value("gas", year) == gas
    assert FACTORS.factor("vehicle.van", year).year == van_year
    assert FACTORS.factor("vehicle.hgv", year).year == van_year


def test_in_force_lists_the_rows_of_the_years() -> None:
    ids = {f.id for f in FACTORS.factors}
    assert {(f.id, f.year) for f in FACTORS.in_force([2026])} == {
        (i, 2025 if i in NOT_IN_2026 else 2026) for i in ids}
    both = {(f.id, f.year) for f in FACTORS.in_force([2024, 2025])}
    assert both == {(i, 2025) for i in ids} | {(i, 2024) for i in ids - set(NOT_IN_2024)}


def test_no_override_file_is_the_packaged_table() -> None:
    assert load_factor_table(None) is FACTORS


def test_override_replaces_same_id_and_year_and_adds_new_rows(tmp_path: Path) -> None:
    table = load_factor_table(_file(tmp_path, {"factors": [
        _row(value=0.2, origin="packaged"),  # replaces gas 2025; a file cannot claim packaged
        _row(id="electricity.generation", unit="kgCO2e/kWh", value=0.15, year=2027),  # adds
        _row(id="heat.network", unit="kgCO2e/kWh", value=0.1, year=2025),  # a new id
    ]}))
    assert table.factor("gas", 2025).value == 0.2
    assert table.factor("gas", 2025).origin == "override"
    assert table.factor("gas", 2024).origin == "packaged"
    assert table.value("electricity.generation", 2027) == 0.15
    assert table.value("electricity.generation", 2028) == 0.15
    assert table.value("electricity.td", 2027) == FACTORS.value("electricity.td", 2026)
    assert table.factor("heat.network").origin == "override"
    assert len(table.factors) == len(FACTORS.factors) + 2
    assert "override" in table.note


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not a valid factor file"),
        ({"rows": []}, "not a valid factor file"),
        ({"factors": [_row(value=-1)]}, "greater than or equal to 0"),
        ({"factors": [_row(url="http://insecure.example")]}, "https"),
        ({"factors": [_row(), _row()]}, "more than once"),
    ],
)
def test_bad_override_file_is_a_clear_error(tmp_path: Path, content: object,
                                            message: str) -> None:
    with pytest.raises(FactorFileError, match="SMARTPLACE_FACTORS_FILE") as info:
        load_factor_table(_file(tmp_path, content))
    assert message in str(info.value)


def test_missing_override_file(tmp_path: Path) -> None:
    with pytest.raises(FactorFileError, match="cannot read"):
        load_factor_table(tmp_path / "absent.json")


def _settings(**values: Any) -> Settings:
    return Settings(_env_file=None, rollup_interval_s=0, **values)


def test_app_refuses_to_start_with_a_bad_file(tmp_path: Path) -> None:
    with pytest.raises(FactorFileError):
        create_app(_settings(factors_file=_file(tmp_path, {"factors": [_row(value="x")]})))


async def test_factors_route_shows_origin(tmp_path: Path) -> None:
    app = create_app(_settings(factors_file=_file(tmp_path, {"factors": [_row(value=0.2)]})))
    async with api_client(app) as client:
        body = (await client.get("/api/v1/factors")).json()
    rows = {(f["id"], f["year"]): f for f in body["factors"]}
    assert rows[("gas", 2025)]["origin"] == "override"
    assert rows[("gas", 2025)]["value"] == 0.2
    assert rows[("gas", 2024)]["origin"] == "packaged"
    assert len(rows) == len(body["factors"]) == len(FACTORS.factors)
