"""The set-up files (Makefile, CI script, compose, Dockerfile, broker config, .env.example)
and ``smartplace demo``, including a real demo run stopped with Ctrl-C."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from rich.console import Console

from sensors.settings import Settings
from smartplace import demo as demo_module
from smartplace import endpoints
from smartplace.backfill import backfill_args, has_recent_readings, read_summary
from smartplace.children import child_environment
from smartplace.servers import (
    InfluxServer,
    find_binary,
    free_port,
    mosquitto_config,
    port_open,
)
from tests.helpers import eventually

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = {"ingest": "ingest", "api": "api", "simulator": "simulate"}
SETTINGS_VARIABLES = {f"SMARTPLACE_{name.upper()}" for name in Settings.model_fields}


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def _directives(text: str) -> dict[str, list[str]]:
    """A mosquitto config as directive -> values (in order; repeated ones collect)."""
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition(" ")
            found.setdefault(key, []).append(value.strip())
    return found


def _require_binary(name: str) -> None:
    if find_binary(name) is None:
        message = f"{name} is not installed (run `make test`, which installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


# --- docker-compose.yml ------------------------------------------------------------------


def test_compose_pins_the_server_images() -> None:
    services = _compose()["services"]
    assert services["mosquitto"]["image"] == "eclipse-mosquitto:2"
    assert services["influxdb"]["image"] == "influxdb:2.7"
    assert (
        "./deploy/mosquitto/mosquitto.conf:/mosquitto/config/mosquitto.conf:ro"
        in services["mosquitto"]["volumes"]
    )
    assert any(v.endswith(":/mosquitto/data") for v in services["mosquitto"]["volumes"])
    assert any(p.endswith(":1883:1883") for p in services["mosquitto"]["ports"])
    assert any(p.endswith(":8086:8086") for p in services["influxdb"]["ports"])


def test_compose_sets_up_influxdb_with_the_bucket_the_apps_use() -> None:
    services = _compose()["services"]
    env = _environment(services["influxdb"])
    assert env["DOCKER_INFLUXDB_INIT_MODE"] == "setup"
    for name in ("USERNAME", "PASSWORD", "ORG", "ADMIN_TOKEN"):
        assert env[f"DOCKER_INFLUXDB_INIT_{name}"], name
    assert "DOCKER_INFLUXDB_INIT_RETENTION" in env
    assert env["DOCKER_INFLUXDB_INIT_BUCKET"] == "smartplace"
    assert services["influxdb"]["healthcheck"]["test"] == ["CMD", "influx", "ping"]
    for name in APP_SERVICES:
        app_env = _environment(services[name])
        # The bucket is the v1 database (virtual DBRP mapping, retention policy autogen).
        assert app_env["SMARTPLACE_INFLUX_DATABASE"] == env["DOCKER_INFLUXDB_INIT_BUCKET"]
        assert app_env["SMARTPLACE_INFLUX_TOKEN"] == env["DOCKER_INFLUXDB_INIT_ADMIN_TOKEN"]


def test_compose_runs_the_three_processes_from_one_dockerfile() -> None:
    services = _compose()["services"]
    for name, command in APP_SERVICES.items():
        service = services[name]
        build = service["build"]
        assert build in (".", {"context": ".", "dockerfile": "Dockerfile"}), name
        assert service["command"][0] == command, name
        env = _environment(service)
        assert env["SMARTPLACE_MQTT_URL"] == "mqtt://mosquitto:1883"
        assert env["SMARTPLACE_INFLUX_URL"] == "http://influxdb:8086"
        assert "mosquitto" in service["depends_on"]
    api = services["api"]
    assert _environment(api)["SMARTPLACE_API_HOST"] == "0.0.0.0"
    assert any(p.endswith(":8000:8000") for p in api["ports"])
    assert services["ingest"]["restart"] == "unless-stopped"
    assert api["restart"] == "unless-stopped"


def test_compose_waits_for_healthy_dependencies() -> None:
    services = _compose()["services"]
    for name in APP_SERVICES:
        for dependency, condition in services[name]["depends_on"].items():
            assert condition == {"condition": "service_healthy"}, (name, dependency)
            assert services[dependency]["healthcheck"]["test"], dependency
    assert set(services["ingest"]["depends_on"]) == {"mosquitto", "influxdb"}
    assert "influxdb" in services["api"]["depends_on"]


def test_compose_names_only_real_settings() -> None:
    named = set(re.findall(r"\bSMARTPLACE_[A-Z0-9_]+", (ROOT / "docker-compose.yml").read_text()))
    assert named, "compose passes no SMARTPLACE_ variables"
    assert named <= SETTINGS_VARIABLES, named - SETTINGS_VARIABLES


def test_dockerfile_builds_one_non_root_image() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim\s*$", text, re.MULTILINE)
    assert re.search(r"^RUN pip install ", text, re.MULTILINE)
    users = re.findall(r"^USER (\S+)", text, re.MULTILINE)
    assert users
    assert users[-1] not in ("root", "0")
    assert re.search(r'^ENTRYPOINT \["smartplace"\]\s*$', text, re.MULTILINE)
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".venv", ".git", ".smartplace", ".env", ".mypy_cache", "**/__pycache__"} <= ignored


# --- broker config ---------------------------------------------------------------------


def test_compose_broker_config_keeps_every_message() -> None:
    conf = _directives((ROOT / "deploy/mosquitto/mosquitto.conf").read_text())
    assert conf["listener"] == ["1883 0.0.0.0"]
    assert conf["persistence"] == ["true"]
    assert conf["persistence_location"] == ["/mosquitto/data/"]
    assert conf["max_queued_messages"] == ["0"]
    assert conf["max_queued_bytes"] == ["0"]
    assert conf["max_inflight_messages"] == ["1000"]
    assert conf["log_dest"] == ["stdout"]


def test_compose_broker_config_matches_the_local_one() -> None:
    deploy = _directives((ROOT / "deploy/mosquitto/mosquitto.conf").read_text())
    local = _directives(mosquitto_config(1883, Path("/data")))
    # "user": the container runs as mosquitto already; locally it must stay the caller.
    differ = {"listener", "persistence_location", "log_dest", "log_type", "log_timestamp_format",
              "user"}
    for key in set(local) - differ:
        assert deploy.get(key) == local[key], key


@pytest.mark.integration
def test_compose_broker_config_is_accepted_by_mosquitto(tmp_path: Path) -> None:
    _require_binary("mosquitto")
    binary = find_binary("mosquitto")
    assert binary is not None
    port = free_port()
    text = (ROOT / "deploy/mosquitto/mosquitto.conf").read_text()
    text = text.replace("listener 1883 0.0.0.0", f"listener {port} 127.0.0.1")
    text = text.replace("/mosquitto/data/", f"{tmp_path}/")
    config = tmp_path / "mosquitto.conf"
    config.write_text(text)
    with (tmp_path / "out.log").open("wb") as log:
        process = subprocess.Popen([binary, "-c", str(config)], stdout=log, stderr=log)
    try:
        eventually(lambda: port_open(port) or process.poll() is not None, timeout_s=10)
        assert process.poll() is None, (tmp_path / "out.log").read_text()
    finally:
        process.terminate()
        process.wait(10)


# --- .env.example ----------------------------------------------------------------------


def test_env_example_documents_every_setting() -> None:
    text = (ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^#? ?(SMARTPLACE_[A-Z0-9_]+)=", text, re.MULTILINE))
    assert documented == SETTINGS_VARIABLES, (
        f"missing: {SETTINGS_VARIABLES - documented}, unknown: {documented - SETTINGS_VARIABLES}"
    )
    lines = text.splitlines()
    for number, line in enumerate(lines):
        if re.match(r"^#? ?SMARTPLACE_", line):
            assert lines[number - 1].startswith("# "), f"no comment for {line}"


def test_env_example_shows_the_real_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("SMARTPLACE_"):
            monkeypatch.delenv(key)
    from_file = Settings(_env_file=ROOT / ".env.example")  # type: ignore[call-arg]
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    assert from_file.model_dump() == defaults.model_dump()


# --- Makefile and CI -------------------------------------------------------------------


def test_ci_script_runs_make_test() -> None:
    script = ROOT / ".ci/run"
    assert script.stat().st_mode & stat.S_IXUSR
    text = script.read_text()
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in text
    assert "export CI=true" in text
    assert re.search(r"^make test\s*$", text, re.MULTILINE)


def _make(*args: str, user: int | None = None, directory: Path = ROOT,
          ) -> subprocess.CompletedProcess[str]:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    command = ["make", "--no-print-directory", "-C", str(directory), *args]
    if user is not None:
        command = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *command]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def test_make_help_is_the_default_and_lists_the_targets() -> None:
    result = _make()
    assert result.returncode == 0, result.stderr
    for target in ("venv", "servers", "demo", "test", "lint", "bench", "clean", "help"):
        assert f"make {target}" in result.stdout


def test_make_test_runs_lint_types_and_pytest_with_its_args() -> None:
    result = _make("-n", "test", "PYTEST_ARGS=-k something")
    assert result.returncode == 0, result.stderr
    commands = result.stdout.splitlines()
    assert ".venv/bin/ruff check ." in commands
    assert ".venv/bin/mypy" in commands
    assert ".venv/bin/pytest -k something" in commands
    bench = _make("-n", "bench").stdout.splitlines()
    assert ".venv/bin/python -m bench" in [line.strip() for line in bench]
    assert ".venv/bin/smartplace demo" in _make("-n", "demo").stdout.splitlines()


def test_make_servers_tells_a_non_root_user_what_to_install() -> None:
    user: int | None = None
    if os.getuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("setpriv is not installed")
        user = 65534  # nobody
    # A folder the unprivileged user can read, whatever the checkout's permissions.
    folder = Path(tempfile.mkdtemp(prefix="smartplace-make-"))
    try:
        folder.chmod(0o755)
        shutil.copy(ROOT / "Makefile", folder / "Makefile")
        (folder / "Makefile").chmod(0o644)
        result = _make("servers", "SERVER_BINARIES=smartplace-no-such-server",
                       user=user, directory=folder)
    finally:
        shutil.rmtree(folder)
    if result.stderr.startswith("setpriv:"):
        pytest.skip(f"cannot switch user here: {result.stderr.strip()}")
    assert result.returncode != 0
    assert "missing server binaries: smartplace-no-such-server" in result.stdout
    assert "sudo apt-get install mosquitto influxdb" in result.stderr


# --- smartplace demo -------------------------------------------------------------------


def test_python_dash_m_smartplace_runs_the_cli() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "smartplace", "--help"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "demo" in result.stdout
    assert "smartplace" in result.stdout


def _settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


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
    parsed = Settings(_env_file=None, **{  # type: ignore[arg-type]
        key.removeprefix("SMARTPLACE_").lower(): value
        for key, value in env.items() if key.startswith("SMARTPLACE_")
    })
    assert parsed.api_key_list() == ["a", "b"]


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
def test_demo_runs_everything_and_ctrl_c_stops_it(tmp_path: Path) -> None:
    _require_binary("mosquitto")
    _require_binary("influxd")
    marker = secrets.token_hex(8)
    ports = {name: free_port() for name in ("mqtt", "influx", "api", "metrics")}
    env = {key: value for key, value in os.environ.items() if not key.startswith("SMARTPLACE_")}
    env.update(
        SMARTPLACE_MQTT_URL=f"mqtt://127.0.0.1:{ports['mqtt']}",
        SMARTPLACE_INFLUX_URL=f"http://127.0.0.1:{ports['influx']}",
        SMARTPLACE_API_HOST="127.0.0.1",
        SMARTPLACE_API_PORT=str(ports["api"]),
        SMARTPLACE_METRICS_PORT=str(ports["metrics"]),
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
            eventually(lambda port=port: not port_open(port), timeout_s=5, message=name)
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
            printed = output.read_text()
            assert f"{base}/docs" in printed
            assert f"{base}/api/v1/sensors" in printed
            assert f"http://127.0.0.1:{ports['metrics']}/metrics" in printed
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
