"""The storage schema: every measurement, tag and field the project writes or reads.

Contract section 3 defines the readings and ``dead_letter``; the project adds its own
measurements (README, "The contract"). Writers serialise through
:mod:`sensors.lineprotocol`, which refuses a field this table does not list; readers
(the API's InfluxQL, the Grafana dashboard) name measurements and fields through these
constants, so a rename happens here or nowhere. Pure data, no I/O.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from sensors.readings import AIR_QUALITY_FIELDS, Carrier, VehicleClass
from sensors.reasons import DeadLetterReason
from sensors.topics import Domain

FieldType = Literal["float", "integer", "string"]

VEHICLE_CLASSES = tuple(VehicleClass)
CARRIERS = tuple(Carrier)


class Measurement(StrEnum):
    """Measurement names (a ``StrEnum``, so it formats as its name inside query text)."""

    ENERGY = "energy"
    TRANSPORT = "transport"
    AIR_QUALITY = "air_quality"
    DEAD_LETTER = "dead_letter"
    INGEST_STATS = "ingest_stats"
    GRID_INTENSITY = "grid_intensity"
    ACTIVITY_HOURLY = "activity_hourly"
    ACTIVITY_DAILY = "activity_daily"
    RECEIVED_HOURLY = "received_hourly"
    RECEIVED_DAILY = "received_daily"
    ROLLUP_STATE = "activity_rollup_state"
    # Air-quality rollups (docs/methodology.md, "Rollups"): count and sum of each DAQI
    # pollutant per sensor and DAQI unit (an hour; 15 minutes for SO2).
    AIR_HOURLY = "air_quality_hourly"
    AIR_QUARTER_HOURLY = "air_quality_quarter_hourly"
    SENSOR_FLAGS = "sensor_flags"
    ALERT_EVENTS = "alert_events"
    # The DESNZ local-authority greenhouse gas statistics, imported by `smartplace
    # reconcile import` (docs/methodology.md, "Reconciliation with the official inventory").
    LA_INVENTORY = "la_inventory"
    LA_INVENTORY_EDITION = "la_inventory_edition"


# Field names shared by several measurements (the readings use the payload's names).
ENERGY_KWH = "energy_kwh"
# A cumulative device's meter register (kWh) at the reading's time (contract 7.1): kept
# so that the register history can be rebuilt; a device's first reading has only this.
REGISTER_KWH = "register_kwh"
POWER_KW = "power_kw"
INTERVAL_S = "interval_s"
SEQ = "seq"
LINK_KM = "link_km"
AVG_SPEED_KPH = "avg_speed_kph"
READINGS = "readings"


def count_field(vehicle_class: VehicleClass | str) -> str:
    """``count_<class>``: a transport reading's count (and an hourly rollup's sum of them)."""
    return f"count_{VehicleClass(vehicle_class).value}"


def vkm_field(vehicle_class: VehicleClass | str) -> str:
    """``vkm_<class>``: rolled-up vehicle-km of a class (count x link km per reading)."""
    return f"vkm_{VehicleClass(vehicle_class).value}"


def unattributed_field(vehicle_class: VehicleClass | str) -> str:
    """``unattributed_<class>``: rolled-up counts on links of unknown length."""
    return f"unattributed_{VehicleClass(vehicle_class).value}"


def air_count_field(pollutant: str) -> str:
    """``n_<pollutant>``: readings of a DAQI pollutant in an air-quality rollup's unit."""
    return f"n_{pollutant}"


def air_sum_field(pollutant: str) -> str:
    """``s_<pollutant>``: their sum (µg/m³), so that means over any run of units add up."""
    return f"s_{pollutant}"


def air_gap_field(pollutant: str) -> str:
    """``g_<pollutant>``: the median gap (ms) between a monitor's readings of it, per hour."""
    return f"g_{pollutant}"


def air_gaps_field(pollutant: str) -> str:
    """``e_<pollutant>``: how many gaps that median is of (the weight of the hour)."""
    return f"e_{pollutant}"


def received_count_field(air_quality_field: str) -> str:
    """``n_<field>``: readings of an air-quality quantity counted into ``received_*``."""
    return f"n_{air_quality_field}"


COUNT_FIELDS = tuple(count_field(vc) for vc in VEHICLE_CLASSES)
DEAD_LETTER_PAYLOAD_BYTES = 4096
INGEST_STATS_FIELDS: dict[str, FieldType] = {
    "received": "integer", "stored": "integer", "dead_letters": "integer",
    "acked": "integer", "write_retries": "integer", "batches": "integer", "ignored": "integer",
    "queue_depth": "integer", "started_at_ms": "integer",
    "write_seconds_total": "float", "lag_seconds": "float",
    "dropped": "integer", "spool_bytes": "integer",
}
GRID_FORECAST = "forecast_gco2_kwh"
GRID_ACTUAL = "actual_gco2_kwh"
GRID_INDEX = "index"

AIR_HOURLY_POLLUTANTS = ("no2", "pm25", "pm10", "o3")
"""DAQI pollutants whose unit is an hour (SO2's is 15 minutes: ``air_quality_quarter_hourly``)."""
AIR_QUARTER_HOURLY_POLLUTANTS = ("so2",)
AIR_GAP_POLLUTANTS = (*AIR_HOURLY_POLLUTANTS, *AIR_QUARTER_HOURLY_POLLUTANTS)
"""Every DAQI pollutant's hourly median gap is in ``air_quality_hourly`` (the expected
interval of a monitor the registry does not know: api/air/intervals.py)."""
ROLLUP_STATE_FIELDS = ("since_ms", "until_ms", "run_at_ms", "air_since_ms")
"""``air_since_ms``: where the air-quality tiers' coverage starts (they end at ``until_ms``);
absent on points written before those tiers existed."""


def _air_fields(pollutants: tuple[str, ...], gaps: tuple[str, ...] = ()
                ) -> dict[str, FieldType]:
    fields: dict[str, FieldType] = {}
    for pollutant in pollutants:
        fields[air_count_field(pollutant)] = "integer"
        fields[air_sum_field(pollutant)] = "float"
    for pollutant in gaps:
        fields[air_gap_field(pollutant)] = "float"
        fields[air_gaps_field(pollutant)] = "integer"
    return fields


ACTIVITY_ENERGY_FIELDS = (ENERGY_KWH, READINGS)
ACTIVITY_TRANSPORT_FIELDS = (READINGS, *(name for vc in VEHICLE_CLASSES for name in (
    count_field(vc), vkm_field(vc), unattributed_field(vc))))
RECEIVED_SEQ_FIELDS = ("seq_min", "seq_max", "seq_count")
RECEIVED_FIELDS = ("received", INTERVAL_S, *RECEIVED_SEQ_FIELDS,
                   *(received_count_field(name) for name in AIR_QUALITY_FIELDS))


def _activity_fields() -> dict[str, FieldType]:
    fields: dict[str, FieldType] = {ENERGY_KWH: "float", READINGS: "integer"}
    for vc in VEHICLE_CLASSES:
        fields[count_field(vc)] = "integer"
        fields[vkm_field(vc)] = "float"
        fields[unattributed_field(vc)] = "integer"
    return fields


# Sensor flags (README, "Simulated and retired sensors"): one point per change, the latest
# per sensor and field wins. ``simulated`` (1) is written by `smartplace simulate --sensors`
# for the sensors it makes up; ``retired`` (1, or 0 when reinstated) by the API's operator
# action, with who did it and why.
SENSOR_FLAG_FIELDS: dict[str, FieldType] = {
    "simulated": "integer", "retired": "integer", "site": "string", "domain": "string",
    "by": "string", "reason": "string",
}
# Alert lifecycle (docs/live.md, "Alert lifecycle"): one point per event of an alert, tags
# ``alert_id`` and ``event`` (raised, cleared, acknowledged, silenced, unsilenced,
# notified, notify_failed), so that two events at the same millisecond never overwrite
# each other, and a raised event rewritten after a restart (same ``since``) overwrites
# itself.
ALERT_EVENT_FIELDS: dict[str, FieldType] = {
    "kind": "string", "severity": "string", "site": "string", "sensor": "string",
    "message": "string", "since_ms": "integer", "until_ms": "integer", "by": "string",
    "note": "string", "attempts": "integer",
}

_ACTIVITY_TAGS = ("site", "sensor", "domain", "carrier")
_RECEIVED_TAGS = ("site", "sensor", "domain")

TAGS: dict[Measurement, tuple[str, ...]] = {
    Measurement.ENERGY: ("site", "sensor", "carrier"),
    Measurement.TRANSPORT: ("site", "sensor"),
    Measurement.AIR_QUALITY: ("site", "sensor"),
    # ingestor: the client id of the ingestor that stored it, so dead letters of two
    # ingestors never share a series (and so never overwrite each other).
    Measurement.DEAD_LETTER: ("reason", "domain", "ingestor"),
    Measurement.INGEST_STATS: ("instance",),
    Measurement.GRID_INTENSITY: ("region", "regionid"),
    Measurement.ACTIVITY_HOURLY: _ACTIVITY_TAGS,
    Measurement.ACTIVITY_DAILY: _ACTIVITY_TAGS,
    Measurement.RECEIVED_HOURLY: _RECEIVED_TAGS,
    Measurement.RECEIVED_DAILY: _RECEIVED_TAGS,
    Measurement.ROLLUP_STATE: (),
    Measurement.AIR_HOURLY: ("site", "sensor"),
    Measurement.AIR_QUARTER_HOURLY: ("site", "sensor"),
    Measurement.SENSOR_FLAGS: ("sensor",),
    Measurement.ALERT_EVENTS: ("alert_id", "event"),
    Measurement.LA_INVENTORY: ("la", "edition", "sector", "subsector", "gas"),
    Measurement.LA_INVENTORY_EDITION: ("edition",),
}

FIELDS: dict[Measurement, dict[str, FieldType]] = {
    Measurement.ENERGY: {ENERGY_KWH: "float", INTERVAL_S: "integer", POWER_KW: "float",
                         SEQ: "integer", REGISTER_KWH: "float"},
    Measurement.TRANSPORT: {**dict.fromkeys(COUNT_FIELDS, "integer"), INTERVAL_S: "integer",
                            LINK_KM: "float", AVG_SPEED_KPH: "float", SEQ: "integer"},
    Measurement.AIR_QUALITY: {**dict.fromkeys(AIR_QUALITY_FIELDS, "float"), SEQ: "integer"},
    Measurement.DEAD_LETTER: {"topic": "string", "payload": "string", "detail": "string"},
    Measurement.INGEST_STATS: INGEST_STATS_FIELDS,
    Measurement.GRID_INTENSITY: {GRID_FORECAST: "float", GRID_ACTUAL: "float",
                                 GRID_INDEX: "string"},
    Measurement.ACTIVITY_HOURLY: _activity_fields(),
    Measurement.ACTIVITY_DAILY: _activity_fields(),
    Measurement.RECEIVED_HOURLY: dict.fromkeys(RECEIVED_FIELDS, "integer"),
    Measurement.RECEIVED_DAILY: dict.fromkeys(RECEIVED_FIELDS, "integer"),
    Measurement.ROLLUP_STATE: dict.fromkeys(ROLLUP_STATE_FIELDS, "integer"),
    Measurement.AIR_HOURLY: _air_fields(AIR_HOURLY_POLLUTANTS, AIR_GAP_POLLUTANTS),
    Measurement.AIR_QUARTER_HOURLY: _air_fields(AIR_QUARTER_HOURLY_POLLUTANTS),
    Measurement.SENSOR_FLAGS: SENSOR_FLAG_FIELDS,
    Measurement.ALERT_EVENTS: ALERT_EVENT_FIELDS,
    Measurement.LA_INVENTORY: {"la_name": "string", "territorial_kt": "float",
                               "within_scope_kt": "float", "population_k": "float",
                               "area_km2": "float"},
    Measurement.LA_INVENTORY_EDITION: {"file_name": "string", "file_sha256": "string",
                                       "rows": "integer", "first_year": "integer",
                                       "last_year": "integer", "imported_at_ms": "integer",
                                       "layout": "string"},
}

def quote_identifier(name: str) -> str:
    """An InfluxQL double-quoted identifier (database names come from configuration)."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


# Enumerated tag values: what a reader may filter on.
TAG_VALUES: dict[str, frozenset[str]] = {
    "carrier": frozenset(carrier.value for carrier in CARRIERS),
    "domain": frozenset(domain.value for domain in Domain),
    "reason": frozenset(reason.value for reason in DeadLetterReason),
}
