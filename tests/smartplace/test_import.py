"""``smartplace import`` against the real InfluxDB: same validation, original timestamps,
a summary by reason, resumable and idempotent."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from sensors.settings import Settings
from smartplace.cli import app
from smartplace.import_sources import read_csv
from smartplace.importer import Importer, ImportState
from tests.helpers import influx_rows, settings_env
from tests.ingest.formats_helpers import T0, shelly_status, ttn_uplink, write_devices

pytestmark = pytest.mark.integration

CSV = """ts,energy_kwh,interval_s,power_kw
2026-11-26T10:00:00Z,1.5,1800,
2026-11-26T10:30:00Z,1.75,1800,3.5
1795690800000,2.0,1800,4.0
2026-11-26T11:30:00Z,abc,1800,
2026-11-26T12:00:00Z,NaN,1800,
2026-11-26T12:30:00Z,-1,1800,
2026-11-26T13:00:00,1.0,1800,
2026-11-26T13:30:00Z,1.0,1800.0,
2026-11-26T14:00:00Z,1.0,,
"""
SHARED = ["--set", "domain=energy", "--set", "site=town-hall", "--set", "sensor=th-gas-logger",
          "--set", "carrier=gas"]


def invoke(settings: Settings, *args: str) -> Any:
    result = CliRunner().invoke(app, ["import", *args], env=settings_env(settings))
    return result


def query(settings: Settings, text: str) -> list[dict[str, Any]]:
    return influx_rows(settings.influx_url, settings.influx_database, text)


def test_a_logger_csv_twice_stores_the_same_points_and_dead_letters(
    settings: Settings, tmp_path: Path
) -> None:
    source = tmp_path / "gas-logger.csv"
    source.write_text(CSV)
    first = invoke(settings, str(source), *SHARED)
    assert first.exit_code == 0, first.output
    assert "imported gas-logger.csv: 9 rows" in first.output
    assert "stored                3 points" in first.output
    points = query(settings, "SELECT * FROM energy GROUP BY *")
    assert [(p["time"], p["energy_kwh"], p["interval_s"], p["power_kw"], p["carrier"],
             p["site"]) for p in points] == [
        (T0, 1.5, 1800, None, "gas", "town-hall"),
        (T0 + 1_800_000, 1.75, 1800, 3.5, "gas", "town-hall"),
        (T0 + 3_600_000, 2.0, 1800, 4.0, "gas", "town-hall")]
    letters = query(settings, "SELECT * FROM dead_letter")
    assert Counter(r["reason"] for r in letters) == Counter({
        "field_type": 2, "value_not_finite": 1, "value_out_of_range": 1,
        "timestamp_invalid": 1, "field_missing": 1})
    assert all(r["topic"] == "stockport/town-centre/energy/town-hall/th-gas-logger"
               .replace("stockport/town-centre", settings.topic_prefix) for r in letters)

    second = invoke(settings, str(source), *SHARED)
    assert second.exit_code == 0, second.output
    assert "already imported" in second.output
    again = invoke(settings, str(source), *SHARED, "--again")
    assert again.exit_code == 0, again.output
    assert query(settings, "SELECT * FROM energy GROUP BY *") == points
    assert len(query(settings, "SELECT * FROM dead_letter")) == len(letters)


def test_an_interrupted_import_resumes_where_it_stopped(
    settings: Settings, tmp_path: Path
) -> None:
    source = tmp_path / "long.csv"
    source.write_text("ts,energy_kwh,interval_s\n" + "".join(
        f"{T0 + 60_000 * i},{i / 100},60\n" for i in range(1000)))
    constants = {"domain": "energy", "site": "town-hall", "sensor": "th-meter", "carrier": "gas"}
    state = ImportState.for_file(settings.spool_dir, source)
    importer = Importer(settings, batch_lines=100)

    def interrupt(done: int) -> None:
        if done >= 300:
            raise KeyboardInterrupt

    try:
        with pytest.raises(KeyboardInterrupt):
            importer.run(read_csv(source, settings.topic_prefix, constants), state, interrupt)
    finally:
        importer.close()
    saved = ImportState.for_file(settings.spool_dir, source)
    assert (saved.rows_done, saved.complete) == (300, False)
    again = Importer(settings, batch_lines=100)
    try:
        again.run(read_csv(source, settings.topic_prefix, constants), saved)
    finally:
        again.close()
    counted = query(settings, "SELECT count(energy_kwh), sum(energy_kwh) FROM energy")
    assert counted[0]["count"] == 1000
    assert counted[0]["sum"] == pytest.approx(sum(i / 100 for i in range(1000)))
    assert ImportState.for_file(settings.spool_dir, source).complete


def test_jsonl_of_native_and_device_format_messages(settings: Settings, tmp_path: Path) -> None:
    devices = write_devices(tmp_path)
    native = {"ts": T0, "carrier": "electricity", "energy_kwh": 0.5, "interval_s": 60}
    # A meter's history in any order: the energies follow the register by time.
    shelly = [shelly_status(T0 + 60_000 * i, wh) for i, wh in ((2, 1600.0), (0, 1000.0),
                                                               (1, 1250.0))]
    lines = [{"topic": f"{settings.topic_prefix}/energy/town-hall/th-elec", "payload": native},
             *({"topic": t, "payload": orjson.loads(p)} for t, p in shelly),
             {"format": "sensor-community", "received_at": "2026-11-26T10:00:00Z",
              "payload": orjson.loads((Path(__file__).parents[1] / "sensors" / "fixtures"
                                       / "sensor-community.json").read_bytes())}]
    source = tmp_path / "history.jsonl"
    source.write_bytes(b"\n".join(orjson.dumps(line) for line in lines) + b"\nnot json\n")
    env_settings = settings.model_copy(update={"devices_file": devices})
    result = invoke(env_settings, str(source))
    assert result.exit_code == 0, result.output
    energy = query(settings, "SELECT energy_kwh, interval_s, register_kwh FROM energy "
                             "GROUP BY sensor")
    assert sorted((p["sensor"], p["time"], p["energy_kwh"], p["interval_s"]) for p in energy) == [
        ("lib-main-3em", T0, None, None), ("lib-main-3em", T0 + 60_000, 0.25, 60),
        ("lib-main-3em", T0 + 120_000, 0.35, 60), ("th-elec", T0, 0.5, 60)]
    (air,) = query(settings, "SELECT pm10_ugm3 FROM air_quality")
    assert (air["time"], air["pm10_ugm3"]) == (T0, 12.3)
    (letter,) = query(settings, "SELECT * FROM dead_letter")
    assert (letter["reason"], letter["topic"]) == ("topic_invalid", "import:history.jsonl:6")

    # --format: one TTN message per line, as The Things Stack's Storage Integration exports.
    export = tmp_path / "ttn-export.jsonl"
    export.write_bytes(b"\n".join(orjson.dumps({"result": orjson.loads(ttn_uplink(n, T0 + n)[1])})
                                  for n in range(3)))
    result = invoke(env_settings, str(export), "--format", "ttn-v3")
    assert result.exit_code == 0, result.output
    seqs = query(settings, "SELECT seq FROM air_quality WHERE sensor = 'aq-ms-lora-01'")
    assert [(p["time"], p["seq"]) for p in seqs] == [(T0, 0), (T0 + 1, 1), (T0 + 2, 2)]
