"""The optional Grafana set-up (deploy/grafana and the compose ``grafana`` service).

No Grafana is needed: the provisioning YAML, the compose service and the dashboard JSON
are read as files. Every InfluxQL query of the dashboard runs against a real influxd
holding points written by the project's own serialiser: each must answer without error,
fill every column it selects and every tag it groups by, and name only measurements and
fields of the storage schema (``sensors.storage``).
"""

from __future__ import annotations

import json
import math
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from api.air.daqi import BREAKPOINTS
from sensors.factors import load_factors
from sensors.lineprotocol import dead_letter_line, point_line, reading_line
from sensors.readings import (
    AIR_QUALITY_FIELDS,
    AirQualityReading,
    Carrier,
    EnergyReading,
    TransportReading,
    VehicleClass,
)
from sensors.reasons import DeadLetterReason
from sensors.storage import FIELDS, INGEST_STATS_FIELDS, TAGS, Measurement
from sensors.topics import Domain, Topic
from smartplace.servers import InfluxServer

ROOT = Path(__file__).resolve().parents[2]
GRAFANA = ROOT / "deploy" / "grafana"
DATASOURCES = GRAFANA / "provisioning" / "datasources" / "influxdb.yml"
DASHBOARD = GRAFANA / "dashboards" / "smartplace.json"

PANEL_TYPES = {"row", "stat", "timeseries", "table", "bargauge"}
# Grafana replaces these before the query reaches InfluxDB.
GRAFANA_VARIABLES = {"timeFilter", "__interval", "__interval_ms"}
MOTOR_VEHICLES = ("car", "motorcycle", "van", "hgv", "bus")
COUNTERS = {"received", "stored", "dead_letters", "write_seconds_total", "batches"}
_IDENTIFIER = re.compile(r'"([A-Za-z_][\w]*)"')
_FROM = re.compile(r'\bFROM\s+"([A-Za-z_]\w*)"', re.IGNORECASE)
_GROUP_TAGS = re.compile(r'GROUP BY ([^)]*?)(?:fill\(|\)|$)')


def test_ingest_stats_fields_are_the_documented_ones() -> None:
    text = (ROOT / "docs" / "live.md").read_text()
    section = text[text.index("## Where pipeline figures come from"):]
    assert "`ingest_stats`" in section
    assert "tag `instance`" in section
    for name in INGEST_STATS_FIELDS:
        assert f"`{name}`" in section, name


# --- the queries as text ------------------------------------------------------------------


def measurements_of(query: str) -> set[str]:
    """The measurements a query reads (its subqueries' too)."""
    return set(_FROM.findall(query))


def names_of(query: str) -> set[str]:
    """Every double-quoted identifier in the query (fields, tags, measurements, aliases)."""
    return set(_IDENTIFIER.findall(query))


def schema_problems(query: str) -> list[str]:
    """What the text names that the storage schema does not have; [] when it is fine.

    What the text cannot show (a field of the wrong measurement, an empty column) the run
    against influxd shows.
    """
    found = []
    measurements = measurements_of(query)
    if not measurements:
        found.append("no FROM \"<measurement>\"")
    for name in measurements - {m.value for m in Measurement}:
        found.append(f"unknown measurement {name!r}")
    known = {name for m in Measurement if m.value in measurements
             for name in (*FIELDS[m], *TAGS[m])}
    aliases = set(re.findall(r'\bAS\s+"(\w+)"', query))
    for name in names_of(query) - measurements - aliases:
        if name not in known:
            found.append(f"unknown field or tag {name!r}")
    for variable in re.findall(r"\$\{?(\w+)\}?", query):
        if variable not in GRAFANA_VARIABLES:
            found.append(f"unknown variable ${variable}")
    if query.count("$timeFilter") < len(re.findall(r"\bFROM\b", query)):
        found.append("a SELECT without $timeFilter")
    if "GROUP BY time(" in query and "fill(" not in query:
        found.append("GROUP BY time() without fill()")
    return found


@pytest.mark.parametrize(("query", "problem"), [
    ('SELECT mean("no2_ugm") FROM "air_quality" WHERE $timeFilter', "'no2_ugm'"),
    ('SELECT "count_cars" * 2 AS "x" FROM "transport" WHERE $timeFilter', "'count_cars'"),
    ('SELECT sum("energy_kwh") FROM "enrgy" WHERE $timeFilter', "unknown measurement 'enrgy'"),
    ('SELECT count("topic") FROM "dead_letter" WHERE $timeFilter GROUP BY "reasons"',
     "'reasons'"),
    ('SELECT mean("no2_ugm3") FROM "air_quality"', "without $timeFilter"),
    ('SELECT mean("no2_ugm3") FROM "air_quality" WHERE $timefilter', "unknown variable"),
    ('SELECT mean("no2_ugm3") FROM "air_quality" WHERE $timeFilter GROUP BY time($__interval)',
     "without fill()"),
])
def test_the_text_check_catches_mistakes(query: str, problem: str) -> None:
    found = schema_problems(query)
    assert any(problem in one for one in found), found


# --- provisioning and compose ------------------------------------------------------------


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def _datasource() -> dict[str, Any]:
    config = _yaml(DATASOURCES)
    assert config["apiVersion"] == 1
    (datasource,) = config["datasources"]
    assert isinstance(datasource, dict)
    return datasource


def _dashboard() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return data


def _panels() -> list[dict[str, Any]]:
    panels: list[dict[str, Any]] = []
    for panel in _dashboard()["panels"]:
        panels.append(panel)
        panels.extend(panel.get("panels", []))  # a collapsed row keeps its panels inside
    return panels


def _queries() -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [(panel, target) for panel in _panels() for target in panel.get("targets", [])]


def test_dashboard_is_readable_json() -> None:
    text = DASHBOARD.read_text()
    assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"
    dashboard = _dashboard()
    assert dashboard["uid"] == "smartplace"
    assert 39 <= dashboard["schemaVersion"] <= 42  # Grafana 11 and 12 read it as it is
    assert dashboard["timezone"] == "Europe/London"  # "today" is a London day
    panels = _panels()
    ids = [panel["id"] for panel in panels]
    assert len(ids) == len(set(ids))
    for panel in panels:
        assert panel["type"] in PANEL_TYPES, panel["title"]
        assert panel["title"]
        grid = panel["gridPos"]
        assert grid["x"] >= 0, panel["title"]
        assert 0 < grid["w"] <= 24 - grid["x"], panel["title"]
        if panel["type"] != "row":
            assert panel.get("description"), panel["title"]
            assert panel["targets"], panel["title"]
            ref_ids = [target["refId"] for target in panel["targets"]]
            assert len(ref_ids) == len(set(ref_ids)), panel["title"]


def test_every_panel_uses_the_provisioned_datasource() -> None:
    uid = _datasource()["uid"]
    expected = {"type": "influxdb", "uid": uid}
    for panel in _panels():
        if panel["type"] == "row":
            assert "targets" not in panel
            continue
        assert panel["datasource"] == expected, panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == expected, (panel["title"], target["refId"])


def test_every_query_is_raw_influxql_on_the_storage_schema() -> None:
    queries = _queries()
    assert len(queries) > 30
    for panel, target in queries:
        assert target["rawQuery"] is True
        assert target["resultFormat"] in ("time_series", "table")
        problems = schema_problems(target["query"])
        assert problems == [], (panel["title"], target["refId"], problems)


def test_time_series_are_bucketed_by_the_panel_interval() -> None:
    for panel, target in _queries():
        query = target["query"]
        if panel["type"] == "timeseries":
            assert "GROUP BY time($__interval)" in query, panel["title"]
        if "GROUP BY time(" in query:
            assert "fill(null)" in query, panel["title"]
        if "$__interval_ms" in query:  # a per-hour rate must divide by its own bucket
            assert "GROUP BY time($__interval)" in query, panel["title"]


def _read() -> tuple[set[tuple[str, str]], set[str]]:
    """(measurement, name) for every schema name a query of a measurement uses, and the
    tag values the queries filter on (``carrier`` and ``reason``)."""
    used: set[tuple[str, str]] = set()
    values: set[str] = set()
    for _panel, target in _queries():
        query = target["query"]
        for measurement in measurements_of(query):
            used |= {(measurement, name) for name in names_of(query)}
        values |= set(re.findall(r"= '([a-z_]+)'", query))
    return used, values


def test_dashboard_covers_the_live_dashboard_panels() -> None:
    used, values = _read()
    # now and series: every carrier, every counted class, the DAQI proxies.
    assert ("energy", "energy_kwh") in used
    assert {c.value for c in Carrier} <= values
    assert {("transport", f"count_{vc.value}") for vc in VehicleClass} <= used
    assert {("air_quality", name) for name in ("no2_ugm3", "pm25_ugm3", "pm10_ugm3")} <= used
    # sensors: the latest reading per site and sensor, in every measurement.
    for domain in Domain:
        assert (domain.value, "sensor") in used
    assert {("air_quality", name) for name in AIR_QUALITY_FIELDS} <= used
    # pipeline
    pipeline = COUNTERS | {"lag_seconds", "queue_depth", "instance"}
    assert {("ingest_stats", name) for name in pipeline} <= used
    assert ("dead_letter", "reason") in used
    panels = _panels()
    types = {panel["type"] for panel in panels}
    assert types == PANEL_TYPES
    # Each domain over the last hour and the last 24 hours.
    for window in ("1h", "24h"):
        measured = {m for p in panels if p.get("timeFrom") == window
                    and p["type"] == "timeseries" for t in p["targets"]
                    for m in measurements_of(t["query"])}
        assert measured == {d.value for d in Domain}, window


def test_rates_use_non_negative_derivative_of_the_counters() -> None:
    for _panel, target in _queries():
        query = target["query"]
        if "ingest_stats" in measurements_of(query) and COUNTERS & names_of(query):
            assert "non_negative_derivative" in query, query


def test_now_figures_scale_five_minutes_to_an_hour() -> None:
    for panel, target in _queries():
        if re.search(r"\* 12\b", target["query"]):
            assert panel["timeFrom"] == "5m", panel["title"]


def _thresholds(panel: dict[str, Any]) -> list[float]:
    steps = panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
    return [step["value"] for step in steps if step["value"] is not None]


def test_air_quality_panels_are_coloured_by_the_daqi_bands() -> None:
    worst = {p["title"]: p for p in _panels() if p["title"].startswith("Worst ")}
    assert len(worst) == 3
    windows = {"no2": "1h", "pm25": "24h", "pm10": "24h"}
    for pollutant, window in windows.items():
        (panel,) = [p for p in worst.values() if f'"{pollutant}_ugm3"' in p["targets"][0]["query"]]
        assert panel["timeFrom"] == window
        # Moderate, High and Very High start above the tops of indices 3, 6 and 9.
        tops = BREAKPOINTS[pollutant]
        assert _thresholds(panel) == [tops[2] + 1, tops[5] + 1, tops[8] + 1], pollutant


def test_carbon_panels_use_the_factor_table() -> None:
    # The latest set of the packaged table (year=None), which applies to activity now.
    factor = load_factors().value
    expected = {round(factor("electricity.generation") + factor("electricity.td"), 6),
                factor("gas"), *(factor(f"vehicle.{v}") for v in MOTOR_VEHICLES)}
    carbon = [p for p in _panels() if p["type"] == "stat" and p["title"].startswith("Carbon")]
    assert len(carbon) == 2
    assert {p.get("timeShift") for p in carbon} == {None, "1d"}
    for panel in carbon:
        assert panel["timeFrom"] == "now/d"
        assert "APPROXIMATION" in panel["description"]
        numbers = {float(n) for n in re.findall(r"\b\d+\.\d+\b", panel["targets"][0]["query"])}
        assert {round(n, 6) for n in numbers} == expected, panel["title"]


# --- every query against a real influxd --------------------------------------------------


def _grafana_expand(query: str) -> str:
    """What Grafana sends for a 1-minute bucket over the last hour."""
    return (query.replace("$timeFilter", "time >= now() - 1h and time <= now()")
            .replace("$__interval_ms", "60000").replace("$__interval", "1m"))


def _recent_lines(now_ms: int) -> list[str]:
    lines = []
    for minute in range(1, 30):
        ts = now_ms - minute * 60_000
        for carrier in Carrier:
            lines.append(reading_line(
                Topic(Domain.ENERGY, "site-a", f"meter-{carrier.value.replace('_', '-')}"),
                EnergyReading(ts=ts, seq=minute, carrier=carrier, energy_kwh=1.0, interval_s=60)))
        lines.append(reading_line(
            Topic(Domain.TRANSPORT, "site-a", "counter-1"),
            TransportReading(ts=ts, seq=minute, interval_s=60, link_km=0.5,
                             counts={vc: 2 for vc in VehicleClass})))
        lines.append(reading_line(
            Topic(Domain.AIR_QUALITY, "site-a", "monitor-1"),
            AirQualityReading.model_validate(
                {"ts": ts, "seq": minute, **dict.fromkeys(AIR_QUALITY_FIELDS, 20.0)})))
    for step in range(1, 120):
        count = 10_000 - step * 10
        line = point_line(Measurement.INGEST_STATS, {"instance": "ingest-1"}, {
            **dict.fromkeys(INGEST_STATS_FIELDS, count), "write_seconds_total": count / 100,
            "lag_seconds": 0.25}, (now_ms - step * 5000) * 1_000_000)
        assert line is not None
        lines.append(line)
    for step in range(1, 10):
        lines.append(dead_letter_line(
            reason=DeadLetterReason.FIELD_MISSING.value, domain=None, topic="t", payload=b"{}",
            detail="d", ts_ns=(now_ms - step * 1000) * 1_000_000, ingestor="ingest"))
    return lines


@pytest.mark.integration
def test_every_query_runs_on_influxdb_and_finds_the_data(influx: InfluxServer) -> None:
    database = f"grafana_{int(time.time() * 1000)}"
    httpx.post(f"{influx.url}/query", params={"q": f'CREATE DATABASE "{database}"'},
               timeout=30).raise_for_status()
    now_ms = int(time.time() * 1000)
    httpx.post(f"{influx.url}/write", params={"db": database, "precision": "ns"},
               content="\n".join(_recent_lines(now_ms)), timeout=30).raise_for_status()
    for panel, target in _queries():
        response = httpx.post(f"{influx.url}/query", timeout=30, data={
            "db": database, "q": _grafana_expand(target["query"]), "epoch": "ms"})
        response.raise_for_status()
        result = response.json()["results"][0]
        where = (panel["title"], target["refId"])
        assert "error" not in result, (*where, result.get("error"))
        series = result.get("series", [])
        assert series, where
        for one in series:
            # Every grouped tag names a real tag: an unknown one comes back empty.
            assert all(value for value in (one.get("tags") or {}).values()), (*where, one)
            # Every selected column holds data: a misspelt field, or a field of another
            # measurement, comes back as a column of nulls.
            for column, name in enumerate(one["columns"][1:], start=1):
                values = [row[column] for row in one["values"] if row[column] is not None]
                assert values, (*where, name)
                assert all(math.isfinite(v) for v in values), (*where, name)
