"""``smartplace demo`` and its parts (servers, children, backfill), including a real demo
run stopped with Ctrl-C."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import secrets
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.console import Console

from sensors.settings import Settings
from smartplace import demo as demo_module
from smartplace import endpoints
from smartplace.backfill import backfill_args, has_recent_readings, read_summary
from smartplace.children import child_environment
from smartplace.servers import InfluxServer, find_binary, free_port, port_open
from tests.helpers import eventually


def _require_binary(name: str) -> None:
    if find_binary(name) is None:
        message = f"{name} is not installed (run `make test`, which installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def test_python_dash_m_smartplace_runs_the_cli() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "smartplace", "--help"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "demo" in result.stdout
    assert "smartplace" in result.stdout


def _port_closed(port: int) -> bool:
    return not port_open(port)


def _settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)


def test_demo_says_what_to_install_when_a_server_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(endpoints, "find_binary", lambda name: None)
    out = io.StringIO()
    settings = _settings(
        mqtt_url=f"mqtt://127.0.0.1:{free_port()}",
        influx_url=f"http://127.0.0.1:{free_port()}",
    )
    code = demo_module.run_demo(settings, Console(file=out, width=200))
    assert code == 1
    text = out.getvalue()
    assert "sudo apt-get install mosquitto influxdb" in text
    assert "make demo" in text
    assert "mosquitto and influxd not installed" in text
    assert not (tmp_path / ".smartplace" / "demo.json").exists()
    assert not (tmp_path / ".smartplace" / "logs").exists()


def test_demo_children_see_the_demo_settings() -> None:
    settings = _settings(api_port=8123, api_keys="a,b", influx_token="tok")
    env = child_environment(settings, "mqtt://127.0.0.1:1999", "http://h:1")
    assert env["SMARTPLACE_API_PORT"] == "8123"
    assert env["SMARTPLACE_API_KEYS"] == "a,b"
    assert env["SMARTPLACE_INFLUX_TOKEN"] == "tok"
    assert env["SMARTPLACE_MQTT_URL"] == "mqtt://127.0.0.1:1999"
    assert env["SMARTPLACE_INFLUX_URL"] == "http://h:1"
    assert env["SMARTPLACE_LOG_FORMAT"] == "text"
    assert "SMARTPLACE_INFLUX_USERNAME" not in env
    # Strings, as the environment gives them: Settings parses them.
    from_env: dict[str, Any] = {
        key.removeprefix("SMARTPLACE_").lower(): value
        for key, value in env.items() if key.startswith("SMARTPLACE_")
    }
    parsed = Settings(_env_file=None, **from_env)
    assert [key.secret.get_secret_value() for key in parsed.api_key_list()] == ["a", "b"]


def test_backfill_covers_all_of_yesterday_in_london() -> None:
    # 01:30 UTC on 29 March 2026 is 02:30 BST: yesterday began at midnight GMT.
    now = datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=UTC)
    args = backfill_args(now)
    assert args == ["simulate", "--start", "2026-03-28T00:00:00Z", "--seed", "1", "--grid",
                    "--json"]
    summer = backfill_args(datetime(2026, 7, 1, 12, 0, tzinfo=UTC))
    assert summer[2] == "2026-06-29T23:00:00Z"  # midnight BST on 30 June
    result = subprocess.run(
        [sys.executable, "-m", "smartplace", *args[:1], "--help"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert all(option in result.stdout for option in args if option.startswith("--"))


def test_backfill_summary_is_the_last_json_line_of_its_log(tmp_path: Path) -> None:
    log = tmp_path / "backfill.log"
    assert read_summary(log) is None  # no log at all
    log.write_text("WARNING something on stderr\n{not json\n")
    assert read_summary(log) is None
    report = {"total": 12, "by_domain": {"energy": 5, "transport": 4, "air_quality": 2},
              "bad": {}, "failed": 1, "elapsed_s": 2.5, "interrupted": True}
    log.write_text(f"{{\"older\": 1}}\n{json.dumps(report)}\nWARNING after the summary\n")
    summary = read_summary(log)
    assert summary is not None
    assert (summary.readings, summary.failed, summary.elapsed_s, summary.interrupted) == (
        11, 1, 2.5, True)


@pytest.mark.integration
def test_backfill_is_skipped_only_with_readings_from_the_last_day(influx: InfluxServer) -> None:
    database = f"test_recent_{secrets.token_hex(4)}"
    settings = _settings(influx_url=influx.url, influx_database=database)
    # Errors count as "no readings": no server, then no database yet.
    assert not has_recent_readings(settings, f"http://127.0.0.1:{free_port()}")
    assert not has_recent_readings(settings, influx.url)
    httpx.post(f"{influx.url}/query", data={"q": f'CREATE DATABASE "{database}"'},
               timeout=10).raise_for_status()
    now_ms = int(datetime.now(UTC).timestamp() * 1000)

    def write(line: str) -> None:
        httpx.post(f"{influx.url}/write", params={"db": database, "precision": "ms"},
                   content=line, timeout=10).raise_for_status()

    write(f"energy,sensor_id=old energy_kwh=1.5 {now_ms - 25 * 3_600_000}")
    write(f"transport,sensor_id=t interval_s=60i {now_ms - 60_000}")
    assert not has_recent_readings(settings, influx.url)
    write(f"energy,sensor_id=new energy_kwh=1.5 {now_ms - 60_000}")
    assert has_recent_readings(settings, influx.url)


def _marked_pids(marker: str) -> set[int]:
    """Processes whose environment carries ``marker``: everything a demo run started."""
    needle = f"SMARTPLACE_TEST_MARKER={marker}".encode()
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if needle in (entry / "environ").read_bytes().split(b"\0"):
                    found.add(int(entry.name))
            except OSError:
                continue
    return found


def _sensor_count(body: Any) -> int:
    if isinstance(body, list):
        return len(body)
    if isinstance(body, dict):
        for value in body.values():
            if isinstance(value, list):
                return len(value)
    return 0


def _registers(influx_port: int) -> int:
    """Points with a meter register (only a cumulative device format writes them)."""
    try:
        answer = httpx.get(f"http://127.0.0.1:{influx_port}/query", timeout=5, params={
            "db": "smartplace", "q": "SELECT count(register_kwh) FROM energy"}).json()
        return int(answer["results"][0]["series"][0]["values"][0][1])
    except (httpx.HTTPError, KeyError, IndexError, ValueError):
        return 0


def _rfc3339(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


@contextlib.contextmanager
def _demo_process(folder: Path, env: dict[str, str],
                  output: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``smartplace demo`` running in ``folder``; terminated (then killed) if still running."""
    with output.open("wb") as out:
        demo = subprocess.Popen(
            [sys.executable, "-m", "smartplace", "demo"],
            cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        yield demo
    finally:
        if demo.poll() is None:
            demo.terminate()
            try:
                demo.wait(40)
            except subprocess.TimeoutExpired:
                demo.kill()
                demo.wait()


@pytest.mark.integration
@pytest.mark.slow
def test_demo_runs_everything_and_ctrl_c_stops_it(tmp_path: Path) -> None:
    _require_binary("mosquitto")
    _require_binary("influxd")
    marker = secrets.token_hex(8)
    ports = {name: free_port() for name in ("mqtt", "influx", "api", "metrics", "http")}
    env = {key: value for key, value in os.environ.items() if not key.startswith("SMARTPLACE_")}
    env.update(
        SMARTPLACE_MQTT_URL=f"mqtt://127.0.0.1:{ports['mqtt']}",
        SMARTPLACE_INFLUX_URL=f"http://127.0.0.1:{ports['influx']}",
        SMARTPLACE_API_HOST="127.0.0.1",
        SMARTPLACE_API_PORT=str(ports["api"]),
        SMARTPLACE_METRICS_PORT=str(ports["metrics"]),
        SMARTPLACE_INGEST_HTTP_PORT=str(ports["http"]),
        SMARTPLACE_TEST_MARKER=marker,
    )
    output = tmp_path / "demo.out"
    base = f"http://127.0.0.1:{ports['api']}"
    state_file = tmp_path / ".smartplace" / "demo.json"

    def running(demo: subprocess.Popen[bytes]) -> None:
        if demo.poll() is not None:
            raise AssertionError(f"demo exited with {demo.returncode}:\n{output.read_text()}")

    def answers(demo: subprocess.Popen[bytes], path: str,
                params: dict[str, str] | None = None) -> httpx.Response | None:
        running(demo)
        try:
            response = httpx.get(base + path, params=params, timeout=5)
        except httpx.HTTPError:
            return None
        return response if response.status_code == 200 else None

    def banner(demo: subprocess.Popen[bytes]) -> bool:
        running(demo)
        return "Ctrl-C" in output.read_text()

    def emitted(demo: subprocess.Popen[bytes], params: dict[str, str] | None = None) -> float:
        response = answers(demo, "/api/v1/emissions", params)
        return float(response.json()["total_kgco2e"]) if response is not None else 0.0

    def stop_cleanly(demo: subprocess.Popen[bytes]) -> None:
        demo.send_signal(signal.SIGINT)
        assert demo.wait(timeout=40) == 0, output.read_text()
        assert _marked_pids(marker) == set()
        for name, port in ports.items():
            eventually(partial(_port_closed, port), timeout_s=5, message=name)
        assert not state_file.exists()
        assert "stopped." in output.read_text()

    try:
        with _demo_process(tmp_path, env, output) as demo:
            eventually(lambda: answers(demo, "/health"), timeout_s=90, message="/health")
            # The backfill runs between the API and the live simulator (at most 120 s).
            eventually(lambda: state_file.exists() and "simulate" in state_file.read_text(),
                       timeout_s=180, interval_s=0.5, message="simulator started")
            # End to end: simulator -> broker -> ingest -> InfluxDB -> API.
            eventually(
                lambda: (r := answers(demo, "/api/v1/sensors")) is not None
                and _sensor_count(r.json()) > 0,
                timeout_s=60, interval_s=1.0, message="sensors listed by the API",
            )
            eventually(lambda: banner(demo), timeout_s=10, message="banner")
            # A mixed network: native, LoRaWAN and smart-meter sensors side by side, and
            # the meters' registers arriving through their device format.
            listed = answers(demo, "/api/v1/sensors")
            assert listed is not None
            assert {one["source_format"] for one in listed.json()["sensors"]} == {
                "native", "ttn-v3", "chirpstack-v4", "shelly-gen2", "tasmota"}
            eventually(lambda: _registers(ports["influx"]) > 0, timeout_s=90, interval_s=1.0,
                       message="Shelly and Tasmota registers stored")
            printed = output.read_text()
            assert f"{base}/docs" in printed
            assert f"{base}/api/v1/sensors" in printed
            assert f"http://127.0.0.1:{ports['metrics']}/metrics" in printed
            assert "mixed network" in printed
            assert (tmp_path / ".smartplace" / "devices.json").exists()
            backfilled = re.search(r"^backfilled (\d+) readings", printed, re.MULTILINE)
            assert backfilled is not None, printed
            assert int(backfilled.group(1)) > 1000, printed
            assert (tmp_path / ".smartplace" / "logs" / "backfill.log").exists()

            # The last 24 hours (the API's default window) have emissions from the start,
            # and so does the window ending an hour ago, which only the backfill covers.
            now = datetime.now(UTC)
            history = {"start": _rfc3339(now - timedelta(hours=24)),
                       "end": _rfc3339(now - timedelta(hours=1))}
            eventually(lambda: emitted(demo) > 0, timeout_s=60, interval_s=1.0,
                       message="emissions over the last 24 h")
            eventually(lambda: emitted(demo, history) > 0, timeout_s=60, interval_s=1.0,
                       message="emissions until an hour ago")

            state = json.loads(state_file.read_text())
            started = set(state["children"].values()) | set(state["servers"].values())
            assert set(state["children"]) == {"ingest", "api", "simulate"}
            assert set(state["servers"]) == {"mosquitto", "influxd"}
            assert started <= _marked_pids(marker)
            assert all(port_open(port) for port in ports.values())
            stop_cleanly(demo)

        # A restart finds the history in InfluxDB and does not publish it again.
        with _demo_process(tmp_path, env, output) as demo:
            eventually(lambda: banner(demo), timeout_s=120, interval_s=0.5,
                       message="banner after a restart")
            printed = output.read_text()
            assert "skipping the backfill" in printed, printed
            assert "backfilled" not in printed, printed
            stop_cleanly(demo)
    finally:
        for pid in _marked_pids(marker):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
