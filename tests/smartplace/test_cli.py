"""The command line a developer meets: options that beat the environment, ``--version``,
help without value placeholders on flags, and bad settings named as they are set."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import pytest
from typer.testing import CliRunner

from sensors.settings import Settings
from sensors.version import smartplace_version
from smartplace.cli import app
from smartplace.servers import free_port
from tests.helpers import eventually, settings_env

SMARTPLACE = Path(sys.executable).parent / "smartplace"


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., Ran]:
    """Run the command in process (the real program is run by the slow tests below),
    with no SMARTPLACE_ variable of this environment and no .env file."""
    monkeypatch.chdir(tmp_path)

    def invoke(*args: str, env: dict[str, str] | None = None) -> Ran:
        cleared: dict[str, str | None] = {
            name: None for name in os.environ if name.startswith("SMARTPLACE_")}
        result = CliRunner().invoke(app, list(args), env={**cleared, **(env or {})})
        return Ran(result.exit_code, result.stdout, result.stderr)

    return invoke


def test_version(run: Callable[..., Ran]) -> None:
    done = run("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"smartplace {smartplace_version()}"
    assert re.fullmatch(r"smartplace \d+\.\d+\.\d+\S*", done.stdout.strip())


@pytest.mark.parametrize("command", [[], ["simulate"], ["api"], ["ingest"], ["ingest", "drain"],
                                     ["demo"], ["broker", "accounts"], ["devices", "check"],
                                     ["devices", "try"], ["import"], ["report"],
                                     ["reconcile", "import"]])
def test_help_shows_flags_without_a_value_placeholder(command: list[str],
                                                      run: Callable[..., Ran]) -> None:
    done = run(*command, "--help", env={"COLUMNS": "120"})
    assert done.returncode == 0, done.stderr
    assert "<bool>" not in done.stdout
    assert "--help" in done.stdout
    if command == ["simulate"]:
        assert re.search(r"--json\s+Print the summary", done.stdout)


@pytest.mark.parametrize("command", ["api", "ingest"])
def test_api_and_ingest_take_host_port_and_log_level(command: str,
                                                     run: Callable[..., Ran]) -> None:
    done = run(command, "--help", env={"COLUMNS": "120"})
    for option in ("--host", "--port", "--log-level"):
        assert option in done.stdout


def test_a_bad_setting_names_the_environment_variable(run: Callable[..., Ran]) -> None:
    done = run("api", env={"SMARTPLACE_API_PORT": "eighty"})
    assert done.returncode == 2
    assert "SMARTPLACE_API_PORT" in done.stderr
    assert "api_port" not in done.stderr
    assert "'eighty'" in done.stderr
    bad_level = run("ingest", env={"SMARTPLACE_LOG_LEVEL": "LOUD"})
    assert bad_level.returncode == 2
    assert "SMARTPLACE_LOG_LEVEL" in bad_level.stderr


def test_a_bad_option_is_named_as_the_option(run: Callable[..., Ran]) -> None:
    done = run("api", "--port", "99999", env={"SMARTPLACE_API_PORT": "8123"})
    assert done.returncode == 2
    assert "--port" in done.stderr
    assert "SMARTPLACE_API_PORT" not in done.stderr


def test_secret_values_are_not_repeated_in_the_message(run: Callable[..., Ran]) -> None:
    done = run("api", env={"SMARTPLACE_ALERT_WEBHOOK_URL": "ftp://hooks.example/t0ps3cret"})
    assert done.returncode == 2
    assert "SMARTPLACE_ALERT_WEBHOOK_URL" in done.stderr
    assert "t0ps3cret" not in done.stderr


@pytest.mark.integration
@pytest.mark.slow
def test_api_options_win_over_the_environment_and_logs_are_clean_json(
        settings: Settings) -> None:
    port, env_port = free_port(), free_port()
    env = {**settings_env(settings), "SMARTPLACE_API_PORT": str(env_port),
           "SMARTPLACE_API_HOST": "192.0.2.1", "SMARTPLACE_LOG_LEVEL": "WARNING",
           "SMARTPLACE_LOG_FORMAT": "json", "SMARTPLACE_ROLLUP_INTERVAL_S": "0"}
    process = subprocess.Popen([str(SMARTPLACE), "api", "--host", "127.0.0.1", "--port",
                                str(port), "--log-level", "info"], env=env,
                               stderr=subprocess.PIPE, text=True)
    try:
        eventually(lambda: _answers(f"http://127.0.0.1:{port}/health"), timeout_s=30,
                   message="the API on the --port")
        assert not _answers(f"http://127.0.0.1:{env_port}/health")
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/sensors/no-such-sensor",
                         timeout=10).status_code == 404
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    lines = [orjson.loads(line) for line in stderr.splitlines() if line.strip()]
    assert "\x1b" not in stderr  # no terminal colour codes, not even escaped ones
    assert "\\u001b" not in stderr
    assert not any("color_message" in line for line in lines)
    # --log-level info beat SMARTPLACE_LOG_LEVEL=WARNING: info lines are there.
    assert any(line["level"] == "info" for line in lines)
    access = [line for line in lines if line["logger"] == "smartplace.access"
              and line.get("path") == "/api/v1/sensors/no-such-sensor"]
    assert len(access) == 1, lines
    entry = access[0]
    assert entry["status"] == 404
    assert entry["route"] == "/api/v1/sensors/{sensor_id}"
    assert entry["method"] == "GET"
    assert isinstance(entry["duration_ms"], float)
    assert entry["client"] == "127.0.0.1"


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.integration
@pytest.mark.slow
def test_ingest_port_option_moves_the_metrics_endpoint(settings: Settings) -> None:
    port = free_port()
    env = {**settings_env(settings), "SMARTPLACE_LOG_FORMAT": "text"}
    process = subprocess.Popen([str(SMARTPLACE), "ingest", "--host", "127.0.0.1", "--port",
                                str(port), "--log-level", "warning"], env=env,
                               stderr=subprocess.PIPE, text=True)
    try:
        text = eventually(lambda: _metrics(f"http://127.0.0.1:{port}/metrics"), timeout_s=30,
                          message="metrics on the --port")
        assert "smartplace_build_info{" in text
        assert 'component="ingest"' in text
        assert "smartplace_ingest_queue_messages" in text
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    assert " INFO " not in stderr  # --log-level warning
    assert "\x1b" not in stderr


def _metrics(url: str) -> str:
    try:
        response = httpx.get(url, timeout=2)
    except httpx.HTTPError:
        return ""
    return response.text if response.status_code == 200 else ""
