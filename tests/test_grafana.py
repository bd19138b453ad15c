"""The optional Grafana set-up (deploy/grafana and the compose ``grafana`` service).

No Grafana is needed: the provisioning YAML, the compose service and the dashboard JSON
are read as files, and every InfluxQL query of the dashboard goes through a small parser
that checks its measurements, fields, tags and tag values against the storage schema
(contract section 3), built from the code that writes the points. One integration test
runs every query against a real influxd.
"""

from __future__ import annotations

import json
import math
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from ingest.lineprotocol import dead_letter_line, ingest_stats_line, reading_line
from sensors.factors import load_factors
from sensors.readings import (
    AIR_QUALITY_FIELDS,
    AirQualityReading,
    Carrier,
    EnergyReading,
    TransportReading,
    VehicleClass,
)
from sensors.reasons import DeadLetterReason
from sensors.topics import Domain, Topic
from smartplace.servers import InfluxServer

ROOT = Path(__file__).resolve().parent.parent
GRAFANA = ROOT / "deploy" / "grafana"
DATASOURCES = GRAFANA / "provisioning" / "datasources" / "influxdb.yml"
PROVIDERS = GRAFANA / "provisioning" / "dashboards" / "smartplace.yml"
PROVISIONING_DIR = "deploy/grafana/provisioning"
DASHBOARD = GRAFANA / "dashboards" / "smartplace.json"

PANEL_TYPES = {"row", "stat", "timeseries", "table", "bargauge"}
# Grafana replaces these before the query reaches InfluxDB.
GRAFANA_VARIABLES = {"timeFilter", "__interval", "__interval_ms"}
# The ingestor's ingest_stats fields, as docs/live.md lists them ("Where pipeline figures
# come from"); test_ingest_stats_fields_are_the_documented_ones keeps the two in step.
INGEST_STATS_FIELDS = (
    "received", "stored", "dead_letters", "acked", "write_retries", "batches", "queue_depth",
    "started_at_ms", "write_seconds_total", "lag_seconds",
)
MOTOR_VEHICLES = ("car", "motorcycle", "van", "hgv", "bus")


# --- the storage schema, from the code that writes it -----------------------------------


@dataclass(frozen=True)
class Schema:
    """Measurement -> field and tag keys, and the allowed values of enumerated tags."""

    fields: dict[str, frozenset[str]]
    tags: dict[str, frozenset[str]]
    tag_values: dict[str, frozenset[str]]


def _line_keys(line: str) -> tuple[str, frozenset[str], frozenset[str]]:
    """Measurement, tag keys and field keys of one line (of values without spaces)."""
    series, fields, _timestamp = line.split(" ")
    measurement, *tags = series.split(",")
    tag_keys = frozenset(tag.split("=", 1)[0] for tag in tags)
    field_keys = frozenset(pair.split("=", 1)[0] for pair in fields.split(","))
    return measurement, tag_keys, field_keys


def _sample_lines(ts_ms: int) -> list[str]:
    """One line per measurement with every optional field present."""
    return [
        reading_line(
            Topic(Domain.ENERGY, "site-a", "meter-1"),
            EnergyReading(ts=ts_ms, seq=1, carrier=Carrier.ELECTRICITY, energy_kwh=1.5,
                          interval_s=60, power_kw=90.0),
        ),
        reading_line(
            Topic(Domain.TRANSPORT, "site-a", "counter-1"),
            TransportReading(ts=ts_ms, seq=1, interval_s=60, link_km=0.4, avg_speed_kph=21.0,
                             counts={vc: 3 for vc in VehicleClass}),
        ),
        reading_line(
            Topic(Domain.AIR_QUALITY, "site-a", "monitor-1"),
            AirQualityReading.model_validate(
                {"ts": ts_ms, "seq": 1, **dict.fromkeys(AIR_QUALITY_FIELDS, 10.0)}),
        ),
        dead_letter_line(reason=DeadLetterReason.PAYLOAD_NOT_JSON.value, domain="energy",
                         topic="x/energy/site-a/meter-1", payload=b"nope", detail="not-json",
                         ts_ns=ts_ms * 1_000_000),
        ingest_stats_line("ingest-1", dict.fromkeys(INGEST_STATS_FIELDS, 1), ts_ms * 1_000_000),
    ]


def storage_schema() -> Schema:
    fields: dict[str, frozenset[str]] = {}
    tags: dict[str, frozenset[str]] = {}
    for line in _sample_lines(1_767_225_600_000):
        measurement, tag_keys, field_keys = _line_keys(line)
        fields[measurement] = fields.get(measurement, frozenset()) | field_keys
        tags[measurement] = tags.get(measurement, frozenset()) | tag_keys
    return Schema(fields, tags, {
        "carrier": frozenset(c.value for c in Carrier),
        "reason": frozenset(r.value for r in DeadLetterReason),
        "domain": frozenset(d.value for d in Domain),
    })


SCHEMA = storage_schema()


def test_schema_is_the_contract_one() -> None:
    assert set(SCHEMA.fields) == {d.value for d in Domain} | {"dead_letter", "ingest_stats"}
    ignored = {"ts", "domain"}  # the timestamp, and the measurement itself
    energy = set(EnergyReading.model_fields) - ignored - {"carrier"}
    transport = set(TransportReading.model_fields) - ignored - {"counts"}
    assert SCHEMA.fields["energy"] == energy
    assert SCHEMA.fields["transport"] == transport | {f"count_{vc.value}" for vc in VehicleClass}
    assert SCHEMA.fields["air_quality"] == set(AirQualityReading.model_fields) - ignored
    assert {"seq", "link_km", "interval_s"} <= SCHEMA.fields["transport"]
    assert SCHEMA.fields["dead_letter"] == {"topic", "payload", "detail"}
    assert SCHEMA.fields["ingest_stats"] == set(INGEST_STATS_FIELDS)
    assert SCHEMA.tags == {
        "energy": {"site", "sensor", "carrier"}, "transport": {"site", "sensor"},
        "air_quality": {"site", "sensor"}, "dead_letter": {"reason", "domain"},
        "ingest_stats": {"instance"},
    }


def test_ingest_stats_fields_are_the_documented_ones() -> None:
    text = (ROOT / "docs" / "live.md").read_text()
    section = text[text.index("## Where pipeline figures come from"):]
    assert "`ingest_stats`" in section
    assert "tag `instance`" in section
    for name in INGEST_STATS_FIELDS:
        assert f"`{name}`" in section, name


# --- a small InfluxQL parser -------------------------------------------------------------


class QueryError(ValueError):
    """The text is not a SELECT statement this parser understands."""


_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<quoted>"(?:[^"\\]|\\.)*")
  | (?P<string>'(?:[^'\\]|\\.)*')
  | (?P<variable>\$\{?[A-Za-z_]\w*\}?)
  | (?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[a-zµ]*)
  | (?P<word>[A-Za-z_]\w*)
  | (?P<op>!=|=~|!~|<>|>=|<=|[-=<>+*/%(),.;])
""", re.VERBOSE)

_KEYWORDS = {"SELECT", "FROM", "WHERE", "GROUP", "BY", "ORDER", "ASC", "DESC", "LIMIT",
             "OFFSET", "SLIMIT", "SOFFSET", "AS", "AND", "OR", "NOT", "NULL", "TRUE", "FALSE",
             "INTO"}
_CLAUSES = {"FROM": "from", "WHERE": "where", "GROUP": "group", "ORDER": "order",
            "LIMIT": "limit", "OFFSET": "limit", "SLIMIT": "limit", "SOFFSET": "limit"}
# Function-like parts of the syntax whose arguments are not fields.
_SYNTAX_CALLS = {"time", "fill", "now", "tz"}
FUNCTIONS = {
    "count", "distinct", "integral", "mean", "median", "mode", "spread", "stddev", "sum",
    "bottom", "first", "last", "max", "min", "percentile", "sample", "top",
    "abs", "ceil", "floor", "round", "cumulative_sum", "derivative", "difference", "elapsed",
    "moving_average", "non_negative_derivative", "non_negative_difference",
}


@dataclass(frozen=True)
class Token:
    kind: str
    text: str

    @property
    def name(self) -> str:
        """The identifier or string without its quotes."""
        if self.kind in ("quoted", "string"):
            return re.sub(r"\\(.)", r"\1", self.text[1:-1])
        return self.text

    def is_keyword(self, *words: str) -> bool:
        upper = self.text.upper()
        return self.kind == "word" and (upper in words if words else upper in _KEYWORDS)


def tokenize(query: str) -> list[Token]:
    tokens = []
    position = 0
    while position < len(query):
        match = _TOKEN.match(query, position)
        if match is None:
            raise QueryError(f"cannot read {query[position:position + 20]!r}")
        position = match.end()
        kind = match.lastgroup
        assert kind is not None
        if kind != "space":
            tokens.append(Token(kind, match.group()))
    return tokens


@dataclass
class Statement:
    """What one SELECT (or subquery) refers to."""

    measurements: list[str] = field(default_factory=list)
    subqueries: list[Statement] = field(default_factory=list)
    selected: list[str] = field(default_factory=list)  # identifiers in the SELECT list
    aliases: list[str] = field(default_factory=list)
    functions: list[str] = field(default_factory=list)
    where_keys: list[str] = field(default_factory=list)  # identifiers compared in WHERE
    tag_values: list[tuple[str, str]] = field(default_factory=list)  # key = 'literal'
    group_by: list[str] = field(default_factory=list)
    group_by_time: str | None = None
    fill: str | None = None
    time_filter: bool = False

    def walk(self) -> list[Statement]:
        return [self, *(one for sub in self.subqueries for one in sub.walk())]


def _call_arguments(tokens: list[Token], start: int) -> tuple[str, int]:
    """The text between the parenthesis at ``start`` and its match, and the index after."""
    depth = 0
    for index in range(start, len(tokens)):
        if tokens[index].text == "(":
            depth += 1
        elif tokens[index].text == ")":
            depth -= 1
            if depth == 0:
                return " ".join(t.text for t in tokens[start + 1:index]), index + 1
    raise QueryError("unbalanced parentheses")


def _parse_select(tokens: list[Token], index: int) -> tuple[Statement, int]:
    """Parse from the SELECT at ``index`` to the end or to the ``)`` closing a subquery."""
    statement = Statement()
    clause = "select"
    depth = 0
    index += 1
    while index < len(tokens):
        token = tokens[index]
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        if token.text == "(":
            if following is not None and following.is_keyword("SELECT"):
                sub, index = _parse_select(tokens, index + 1)
                if index >= len(tokens) or tokens[index].text != ")":
                    raise QueryError("a subquery is not closed")
                statement.subqueries.append(sub)
                index += 1
                continue
            depth += 1
        elif token.text == ")":
            if depth == 0:
                return statement, index
            depth -= 1
        elif token.kind == "variable":
            if token.text == "$timeFilter" and clause == "where":
                statement.time_filter = True
        elif token.is_keyword("AS"):
            if following is None or following.kind not in ("word", "quoted"):
                raise QueryError("AS without a name")
            statement.aliases.append(following.name)
            index += 2
            continue
        elif token.kind == "word" and token.text.upper() in _CLAUSES:
            clause = _CLAUSES[token.text.upper()]
        elif token.is_keyword():
            pass
        elif token.kind == "word" and following is not None and following.text == "(":
            name = token.text.lower()
            if name in _SYNTAX_CALLS:
                arguments, index = _call_arguments(tokens, index + 1)
                if name == "time" and clause == "group":
                    statement.group_by_time = arguments
                elif name == "fill":
                    statement.fill = arguments
                continue
            statement.functions.append(name)
        elif token.kind in ("word", "quoted"):
            name = token.name
            if clause == "select":
                statement.selected.append(name)
            elif clause == "from":
                statement.measurements.append(name)
            elif clause == "where" and name.lower() == "time" and token.kind == "word":
                statement.time_filter = True  # an explicit bound such as time > now() - 1h
            elif clause == "where":
                statement.where_keys.append(name)
                after = tokens[index + 2] if index + 2 < len(tokens) else None
                if following is not None and following.text in ("=", "!=", "<>") and (
                        after is not None and after.kind == "string"):
                    statement.tag_values.append((name, after.name))
            elif clause == "group":
                statement.group_by.append(name)
        elif token.text == "." and clause == "from" and statement.measurements:
            statement.measurements.pop()  # "db"."rp"."measurement": keep the last part
        index += 1
    return statement, index


def parse(query: str) -> Statement:
    tokens = tokenize(query)
    if not tokens or not tokens[0].is_keyword("SELECT"):
        raise QueryError("not a SELECT statement")
    statement, index = _parse_select(tokens, 0)
    if index != len(tokens):
        raise QueryError(f"unexpected {tokens[index].text!r}")
    return statement


def _check(statement: Statement, schema: Schema, found: list[str]) -> tuple[set[str], set[str]]:
    """Report unknown names in ``statement``; return its output columns and tag keys."""
    fields: set[str] = set()
    tags: set[str] = set()
    for sub in statement.subqueries:
        sub_columns, sub_tags = _check(sub, schema, found)
        fields |= sub_columns
        tags |= sub_tags
    if not statement.measurements and not statement.subqueries:
        found.append("no FROM")
    for measurement in statement.measurements:
        if measurement not in schema.fields:
            found.append(f"unknown measurement {measurement!r}")
            continue
        fields |= schema.fields[measurement]
        tags |= schema.tags[measurement]
    where = f" (from {', '.join(statement.measurements) or 'a subquery'})"
    if not statement.time_filter:
        found.append("no $timeFilter in WHERE" + where)
    for name in statement.functions:
        if name not in FUNCTIONS:
            found.append(f"unknown function {name!r}")
    for name in statement.selected:
        if name not in fields:
            found.append(f"unknown field {name!r}{where}")
    for name in statement.where_keys:
        if name not in fields | tags:
            found.append(f"unknown field or tag {name!r} in WHERE{where}")
    for key, value in statement.tag_values:
        allowed = schema.tag_values.get(key)
        if key in tags and allowed is not None and value not in allowed:
            found.append(f"unknown {key} {value!r}")
    for name in statement.group_by:
        if name not in tags:
            found.append(f"unknown tag {name!r} in GROUP BY{where}")
    if statement.group_by_time is not None and statement.fill is None:
        found.append("GROUP BY time() without fill()")
    columns = set(statement.aliases) if statement.aliases else set(statement.selected) & fields
    return columns, tags


def query_problems(query: str, schema: Schema = SCHEMA) -> list[str]:
    """Everything in ``query`` that the storage schema does not have; [] when it is fine."""
    try:
        statement = parse(query)
        tokens = tokenize(query)
    except QueryError as exc:
        return [str(exc)]
    found: list[str] = []
    _check(statement, schema, found)
    for token in tokens:
        if token.kind == "variable" and token.text.strip("${}") not in GRAFANA_VARIABLES:
            found.append(f"unknown variable {token.text}")
    return found


GOOD = ('SELECT max("site_mean") FROM (SELECT mean("no2_ugm3") AS "site_mean" FROM '
        '"air_quality" WHERE $timeFilter GROUP BY "site") WHERE $timeFilter')


def test_the_parser_reads_subqueries_functions_and_tags() -> None:
    statement = parse(
        'SELECT sum("rate") AS "in" FROM (SELECT non_negative_derivative(max("received"), 1s) '
        'AS "rate" FROM "ingest_stats" WHERE $timeFilter AND "instance" = \'a\' '
        'GROUP BY time($__interval), "instance") WHERE $timeFilter '
        "GROUP BY time($__interval) fill(null)")
    assert statement.measurements == []
    assert statement.selected == ["rate"]
    assert statement.aliases == ["in"]
    assert statement.functions == ["sum"]
    assert statement.group_by_time == "$__interval"
    assert statement.fill == "null"
    (sub,) = statement.subqueries
    assert sub.measurements == ["ingest_stats"]
    assert sub.functions == ["non_negative_derivative", "max"]
    assert sub.selected == ["received"]
    assert sub.tag_values == [("instance", "a")]
    assert sub.group_by == ["instance"]
    assert sub.fill is None
    assert query_problems(GOOD) == []


@pytest.mark.parametrize(("query", "problem"), [
    # A misspelt field, in an aggregate, in a subquery, in plain arithmetic.
    ('SELECT mean("no2_ugm") FROM "air_quality" WHERE $timeFilter', "unknown field 'no2_ugm'"),
    (GOOD.replace('mean("no2_ugm3")', 'mean("pm2_5_ugm3")'), "unknown field 'pm2_5_ugm3'"),
    ('SELECT "count_cars" * 2 AS x FROM "transport" WHERE $timeFilter',
     "unknown field 'count_cars'"),
    ("SELECT non_negative_derivative(max(recieved), 1s) FROM ingest_stats WHERE $timeFilter "
     "GROUP BY time($__interval) fill(null)", "unknown field 'recieved'"),
    # A field of another measurement.
    ('SELECT sum("energy_kwh") FROM "transport" WHERE $timeFilter', "unknown field 'energy_kwh'"),
    # The outer query may only use what its subquery selects.
    (GOOD.replace('max("site_mean")', 'max("no2_ugm3")'), "unknown field 'no2_ugm3'"),
    ('SELECT sum("energy_kwh") FROM "enrgy" WHERE $timeFilter', "unknown measurement 'enrgy'"),
    ('SELECT count("topic") FROM "dead_letter" WHERE $timeFilter GROUP BY "reasons"',
     "unknown tag 'reasons'"),
    ('SELECT sum("energy_kwh") FROM "energy" WHERE $timeFilter GROUP BY "energy_kwh"',
     "unknown tag 'energy_kwh'"),
    ("SELECT sum(\"energy_kwh\") FROM \"energy\" WHERE $timeFilter AND \"carrier\" = 'solar'",
     "unknown carrier 'solar'"),
    ("SELECT count(\"topic\") FROM \"dead_letter\" WHERE $timeFilter AND \"reason\" = 'bad_json'",
     "unknown reason 'bad_json'"),
    ("SELECT sum(\"energy_kwh\") FROM \"energy\" WHERE $timeFilter AND \"carier\" = 'gas'",
     "unknown field or tag 'carier'"),
    ('SELECT mena("no2_ugm3") FROM "air_quality" WHERE $timeFilter', "unknown function 'mena'"),
    ('SELECT mean("no2_ugm3") FROM "air_quality"', "no $timeFilter"),
    ('SELECT mean("no2_ugm3") FROM "air_quality" WHERE $timefilter', "unknown variable"),
    ('SELECT mean("no2_ugm3") FROM "air_quality" WHERE $timeFilter GROUP BY time($__interval)',
     "without fill()"),
    ('SELECT mean("no2_ugm3") FROM (SELECT "no2_ugm3" FROM "air_quality" WHERE $timeFilter',
     "not closed"),
    ('DROP MEASUREMENT "energy"', "not a SELECT"),
])
def test_the_checker_catches_mistakes(query: str, problem: str) -> None:
    found = query_problems(query)
    assert any(problem in one for one in found), found


# --- provisioning and compose ------------------------------------------------------------


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = _yaml(ROOT / "docker-compose.yml")
    return data


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


def _mounts(service: dict[str, Any]) -> dict[str, str]:
    """Container path -> host path of the service's bind mounts."""
    mounts = {}
    for volume in service["volumes"]:
        source, target, *_mode = volume.split(":")
        if source.startswith("./"):
            mounts[target] = source
    return mounts


def test_datasource_is_influxql_over_the_v1_api_with_the_token() -> None:
    datasource = _datasource()
    services = _compose()["services"]
    influx_env = services["influxdb"]["environment"]
    assert datasource["type"] == "influxdb"
    assert datasource["uid"] == "smartplace-influxdb"
    assert datasource["access"] == "proxy"
    assert datasource["url"] == "http://influxdb:8086"
    json_data = datasource["jsonData"]
    assert json_data["version"] == "InfluxQL"
    # The bucket is the v1 database (virtual DBRP mapping), as for the ingestor and the API.
    assert json_data["dbName"] == influx_env["DOCKER_INFLUXDB_INIT_BUCKET"]
    assert json_data["dbName"] == services["api"]["environment"]["SMARTPLACE_INFLUX_DATABASE"]
    assert json_data["httpHeaderName1"] == "Authorization"
    value = datasource["secureJsonData"]["httpHeaderValue1"]
    variable = re.fullmatch(r"Token \$\{([A-Z_]+)\}", value)
    assert variable, value
    grafana_env = services["grafana"]["environment"]
    assert grafana_env[variable.group(1)] == influx_env["DOCKER_INFLUXDB_INIT_ADMIN_TOKEN"]
    assert "password" not in datasource
    assert "secureJsonData" not in json_data


def test_compose_grafana_service() -> None:
    compose = _compose()
    grafana = compose["services"]["grafana"]
    assert re.fullmatch(r"grafana/grafana(-oss)?:\d+\.\d+\.\d+", grafana["image"])
    assert grafana["ports"] == ["${PUBLISH_ADDRESS:-127.0.0.1}:3000:3000"]
    env = grafana["environment"]
    assert re.fullmatch(r"\$\{GRAFANA_ADMIN_PASSWORD:-[^}]+\}", env["GF_SECURITY_ADMIN_PASSWORD"])
    assert grafana["depends_on"] == {"influxdb": {"condition": "service_healthy"}}
    assert grafana["healthcheck"]["test"]
    assert "grafana-data" in compose["volumes"]
    assert any(v.startswith("grafana-data:") for v in grafana["volumes"])


def test_compose_mounts_the_provisioning_and_dashboard_folders_of_the_repo() -> None:
    grafana = _compose()["services"]["grafana"]
    mounts = _mounts(grafana)
    for source in mounts.values():
        assert (ROOT / source).is_dir(), source
    for kind in ("datasources", "dashboards"):
        assert mounts[f"/etc/grafana/provisioning/{kind}"] == f"./{PROVISIONING_DIR}/{kind}"
    assert all(volume.endswith(":ro") for volume in grafana["volumes"] if volume.startswith("./"))
    # The dashboard provider reads the folder that holds smartplace.json.
    (provider,) = _yaml(PROVIDERS)["providers"]
    assert provider["type"] == "file"
    path = provider["options"]["path"]
    assert (ROOT / mounts[path] / DASHBOARD.name).resolve() == DASHBOARD.resolve()
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home == f"{path}/{DASHBOARD.name}"


# --- the dashboard -----------------------------------------------------------------------


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
        problems = query_problems(target["query"])
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


def _used() -> tuple[set[tuple[str, str]], set[tuple[str, str]], set[tuple[str, str]]]:
    """(measurement, field) read, (measurement, tag) grouped by, and (tag, value) filtered."""
    fields: set[tuple[str, str]] = set()
    groups: set[tuple[str, str]] = set()
    values: set[tuple[str, str]] = set()
    for _panel, target in _queries():
        for statement in parse(target["query"]).walk():
            for measurement in statement.measurements:
                fields |= {(measurement, name) for name in statement.selected}
                groups |= {(measurement, name) for name in statement.group_by}
            values |= set(statement.tag_values)
    return fields, groups, values


def test_dashboard_covers_the_live_dashboard_panels() -> None:
    fields, groups, values = _used()
    # now and series: every carrier, every counted class, the DAQI proxies.
    assert ("energy", "energy_kwh") in fields
    assert {("carrier", c.value) for c in Carrier} <= values
    assert {("transport", f"count_{vc.value}") for vc in VehicleClass} <= fields
    assert {("air_quality", name) for name in ("no2_ugm3", "pm25_ugm3", "pm10_ugm3")} <= fields
    # sensors: the latest reading per site and sensor, in every measurement.
    for domain in Domain:
        assert (domain.value, "sensor") in groups
    assert {("air_quality", name) for name in AIR_QUALITY_FIELDS} <= fields
    # pipeline
    pipeline = {"received", "stored", "dead_letters", "write_seconds_total", "batches",
                "lag_seconds", "queue_depth"}
    assert {("ingest_stats", name) for name in pipeline} <= fields
    assert ("ingest_stats", "instance") in groups
    assert ("dead_letter", "reason") in groups
    panels = _panels()
    types = {panel["type"] for panel in panels}
    assert types == PANEL_TYPES
    # Each domain over the last hour and the last 24 hours.
    for window in ("1h", "24h"):
        timed = [parse(t["query"]) for p in panels if p.get("timeFrom") == window
                 and p["type"] == "timeseries" for t in p["targets"]]
        measured = {m for statement in timed for one in statement.walk() for m in one.measurements}
        assert measured == {d.value for d in Domain}, window


def test_rates_use_non_negative_derivative_of_the_counters() -> None:
    for _panel, target in _queries():
        for statement in parse(target["query"]).walk():
            if "ingest_stats" in statement.measurements:
                counters = {"received", "stored", "dead_letters", "write_seconds_total",
                            "batches"} & set(statement.selected)
                if counters:
                    assert "non_negative_derivative" in statement.functions, target["query"]


def test_now_figures_scale_five_minutes_to_an_hour() -> None:
    for panel, target in _queries():
        if re.search(r"\* 12\b", target["query"]):
            assert panel["timeFrom"] == "5m", panel["title"]


def _thresholds(panel: dict[str, Any]) -> list[float]:
    steps = panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
    return [step["value"] for step in steps if step["value"] is not None]


def test_air_quality_panels_are_coloured_by_the_daqi_bands() -> None:
    daqi = pytest.importorskip("api.daqi")
    worst = {p["title"]: p for p in _panels() if p["title"].startswith("Worst ")}
    assert len(worst) == 3
    windows = {"no2": "1h", "pm25": "24h", "pm10": "24h"}
    for pollutant, window in windows.items():
        (panel,) = [p for p in worst.values() if f'"{pollutant}_ugm3"' in p["targets"][0]["query"]]
        assert panel["timeFrom"] == window
        # Moderate, High and Very High start above the tops of indices 3, 6 and 9.
        tops = daqi.BREAKPOINTS[pollutant]
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
        lines.append(ingest_stats_line("ingest-1", {
            **dict.fromkeys(INGEST_STATS_FIELDS, count), "write_seconds_total": count / 100,
            "lag_seconds": 0.25}, (now_ms - step * 5000) * 1_000_000))
    for step in range(1, 10):
        lines.append(dead_letter_line(
            reason=DeadLetterReason.FIELD_MISSING.value, domain=None, topic="t", payload=b"{}",
            detail="d", ts_ns=(now_ms - step * 1000) * 1_000_000))
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
        values = [v for series in result.get("series", []) for row in series["values"]
                  for v in row[1:] if v is not None]
        assert values, where
        assert all(math.isfinite(v) for v in values), where
