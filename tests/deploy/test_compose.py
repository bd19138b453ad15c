"""The deployment files (compose, Dockerfile, broker config, Grafana provisioning,
.env.example) read against the code: one consistency check, plus a real mosquitto run.

Docker cannot run here, so the check compares what the files say with what the code
expects: settings that exist, commands the CLI has, the broker settings the local
servers use, the database the apps write, healthy dependencies, pinned images.
"""

from __future__ import annotations

import getpass
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.core import TyperGroup
from typer.main import get_command
from typer.testing import CliRunner

from sensors.settings import Settings
from smartplace.cli import app
from smartplace.server_config import mosquitto_config
from smartplace.servers import find_binary, free_port, port_open
from tests.helpers import eventually

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = {"ingest": "ingest", "api": "api", "simulator": "simulate"}
SETTINGS_VARIABLES = {f"SMARTPLACE_{name.upper()}" for name in Settings.model_fields}
BROKER_CONF = ROOT / "deploy" / "mosquitto" / "mosquitto.conf"
GRAFANA = ROOT / "deploy" / "grafana"
# Local-only broker directives: the container listens on all interfaces, keeps its data
# in its volume, logs to stdout and runs as its own user already.
LOCAL_ONLY = {"listener", "persistence_location", "log_dest", "log_type",
              "log_timestamp_format", "user", "password_file", "acl_file"}


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def directives(text: str) -> dict[str, list[str]]:
    """A mosquitto config as directive -> values (in order; repeated ones collect)."""
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition(" ")
            found.setdefault(key, []).append(value.strip())
    return found


def _mounts(service: dict[str, Any]) -> dict[str, str]:
    """Container path -> host path of the service's bind mounts."""
    mounts = {}
    for volume in service.get("volumes", []):
        source, target, *_mode = volume.split(":")
        if source.startswith("./"):
            mounts[target] = source
    return mounts


def _compose_problems(compose: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    services = compose["services"]
    cli = get_command(app)
    assert isinstance(cli, TyperGroup)  # an app of several commands
    commands = set(cli.commands)
    influx_env = _environment(services["influxdb"])
    for name, service in services.items():
        image = service.get("image")
        if image is not None and not re.fullmatch(r"[\w./-]+:\d+\.\d+\.\d+", image):
            problems.append(f"{name}: image {image!r} is not pinned to an exact version")
        for dependency, condition in service.get("depends_on", {}).items():
            if condition == {"condition": "service_completed_successfully"}:
                continue  # a one-shot set-up job
            if condition != {"condition": "service_healthy"}:
                problems.append(f"{name} starts before {dependency} is healthy")
            if not services[dependency].get("healthcheck", {}).get("test"):
                problems.append(f"{dependency} has no health check for {name} to wait on")
        for target, source in _mounts(service).items():
            if not (ROOT / source).exists():
                problems.append(f"{name} mounts {source}, which is not in the repository")
            if f"{source}:{target}:ro" not in service["volumes"]:
                problems.append(f"{name} mounts {source} writable")
    if not influx_env.get("DOCKER_INFLUXDB_INIT_BUCKET"):
        problems.append("influxdb: no DOCKER_INFLUXDB_INIT_BUCKET")
    for name, command in APP_SERVICES.items():
        service = services[name]
        env = _environment(service)
        if service.get("build") not in (".", {"context": ".", "dockerfile": "Dockerfile"}):
            problems.append(f"{name} is not built from the repository's Dockerfile")
        if service["command"][0] != command or command not in commands:
            problems.append(f"{name} runs {service['command']}, not `smartplace {command}`")
        if service.get("env_file") != [{"path": ".env", "required": False}]:
            problems.append(f"{name} does not get the settings of .env (env_file)")
        if env.get("SMARTPLACE_INFLUX_URL") != "http://influxdb:8086":
            problems.append(f"{name} does not reach the compose InfluxDB")
        # The bucket is the v1 database (virtual DBRP mapping, retention policy autogen).
        if env.get("SMARTPLACE_INFLUX_DATABASE") != influx_env["DOCKER_INFLUXDB_INIT_BUCKET"]:
            problems.append(f"{name} writes another database than the bucket")
        problems += _token_problems(name, service)
        if name != "api" and "mosquitto" not in service.get("depends_on", {}):
            problems.append(f"{name} does not wait for the broker")
    problems += _broker_account_problems(services)
    influx_volumes = services["influxdb"]["volumes"]
    if f"./{TOKENS_SCRIPT.relative_to(ROOT)}:/docker-entrypoint-initdb.d/smartplace-tokens.sh:ro" \
            not in influx_volumes:
        problems.append("InfluxDB does not run deploy/influxdb/tokens.sh at its first start")
    own = _environment(services["influxdb"]).get("API_BUCKET")
    if _environment(services["api"]).get("SMARTPLACE_INFLUX_API_DATABASE") != own:
        problems.append("the API's own database is not the bucket tokens.sh creates")
    if _environment(services["api"]).get("SMARTPLACE_API_HOST") != "0.0.0.0":
        problems.append("the API listens on loopback inside its container")
    text = (ROOT / "docker-compose.yml").read_text()
    named = set(re.findall(r"\bSMARTPLACE_[A-Z0-9_]+", text))
    problems += [f"compose sets {name}, which is no setting" for name in named - SETTINGS_VARIABLES]
    volumes = services["mosquitto"]["volumes"]
    if f"./{BROKER_CONF.relative_to(ROOT)}:/mosquitto/config/mosquitto.conf:ro" not in volumes:
        problems.append("the broker does not run the repository's mosquitto.conf")
    return problems


TOKENS_SCRIPT = ROOT / "deploy" / "influxdb" / "tokens.sh"
TOKENS_DIR = "/var/lib/smartplace-tokens"
# Which services talk to InfluxDB, and the token tokens.sh makes for each.
SERVICE_TOKENS = {"ingest": "ingest.token", "api": "api.token"}


def _token_problems(name: str, service: dict[str, Any]) -> list[str]:
    """A service that talks to InfluxDB uses its own token, made by tokens.sh."""
    env = _environment(service)
    if name not in SERVICE_TOKENS:
        return [f"{name} has InfluxDB credentials it does not need"] if any(
            key.startswith("SMARTPLACE_INFLUX_TOKEN") for key in env) else []
    problems = []
    token_file = f"{TOKENS_DIR}/{SERVICE_TOKENS[name]}"
    if env.get("SMARTPLACE_INFLUX_TOKEN_FILE") != token_file or "SMARTPLACE_INFLUX_TOKEN" in env:
        problems.append(f"{name} does not use its own token {token_file}")
    if f'"$out/{SERVICE_TOKENS[name]}"' not in TOKENS_SCRIPT.read_text():
        problems.append(f"tokens.sh does not make {SERVICE_TOKENS[name]}")
    if f"influxdb-tokens:{TOKENS_DIR}:ro" not in service.get("volumes", []):
        problems.append(f"{name} does not mount the tokens volume read-only")
    return problems


def _broker_account_problems(services: dict[str, Any]) -> list[str]:
    """The accounts the init job writes are the ones the apps log in with."""
    problems = []
    init = services["broker-accounts"]
    if init["command"][:2] != ["broker", "accounts"]:
        problems.append("broker-accounts does not run `smartplace broker accounts`")
    if services["mosquitto"]["depends_on"].get("broker-accounts") != {
            "condition": "service_completed_successfully"}:
        problems.append("the broker starts before its accounts are written")
    init_env = _environment(init)
    for name, user, variable in (("ingest", "smartplace-ingest", "MQTT_INGEST_PASSWORD"),
                                 ("simulator", "smartplace-simulator",
                                  "MQTT_SIMULATOR_PASSWORD")):
        url = _environment(services[name]).get("SMARTPLACE_MQTT_URL", "")
        password = init_env[variable]
        if url != f"mqtt://{user}:{password}@mosquitto:1883":
            problems.append(f"{name} does not log in as {user} with ${variable}")
    ingest_id = _environment(services["ingest"]).get("SMARTPLACE_INGEST_CLIENT_ID")
    if ingest_id != "smartplace-ingest":
        problems.append("the ingestor's client id is not its broker account's name")
    health = " ".join(services["mosquitto"]["healthcheck"]["test"])
    if f"-u smartplace-health -P {init_env['MQTT_HEALTH_PASSWORD']}" not in health:
        problems.append("the broker's health check does not log in as smartplace-health")
    return problems


def _broker_problems() -> list[str]:
    deploy = directives(BROKER_CONF.read_text())
    local = directives(mosquitto_config(1883, Path("/data"), Path("/accounts")))
    problems = [f"mosquitto.conf {key}: {deploy.get(key)} where the local broker has "
                f"{local[key]}" for key in set(local) - LOCAL_ONLY if deploy.get(key) != local[key]]
    if deploy.get("persistence_location") != ["/mosquitto/data/"]:
        problems.append("the broker does not persist to its data volume")
    for key in ("password_file", "acl_file"):
        if not deploy.get(key, [""])[0].startswith("/mosquitto/accounts/"):
            problems.append(f"mosquitto.conf: no {key} in /mosquitto/accounts/")
    return problems


def _dockerfile_problems() -> list[str]:
    text = (ROOT / "Dockerfile").read_text()
    problems = []
    users = re.findall(r"^USER (\S+)", text, re.MULTILINE)
    if not users or users[-1] in ("root", "0"):
        problems.append("the image runs as root")
    if not re.search(r'^ENTRYPOINT \["smartplace"\]\s*$', text, re.MULTILINE):
        problems.append("the image's entry point is not the smartplace command")
    if not re.search(r"^RUN pip install -c \S*requirements\.lock ", text, re.MULTILINE):
        problems.append("the image does not install with requirements.lock as constraints")
    ignored = set((ROOT / ".dockerignore").read_text().split())
    missing = {".venv", ".git", ".smartplace", ".env", ".mypy_cache", "**/__pycache__"} - ignored
    problems += [f".dockerignore lets {name} into the image" for name in sorted(missing)]
    return problems


def _grafana_problems(compose: dict[str, Any]) -> list[str]:
    problems = []
    services = compose["services"]
    influx_env = _environment(services["influxdb"])
    (datasource,) = _yaml(GRAFANA / "provisioning" / "datasources" / "influxdb.yml")[
        "datasources"]
    if (datasource["url"], datasource["jsonData"]["version"]) != (
            "http://influxdb:8086", "InfluxQL"):
        problems.append("Grafana does not speak InfluxQL to the compose InfluxDB")
    if datasource["jsonData"]["dbName"] != influx_env["DOCKER_INFLUXDB_INIT_BUCKET"]:
        problems.append("Grafana reads another database than the bucket")
    grafana = services["grafana"]
    if datasource["secureJsonData"]["httpHeaderValue1"] != (
            f"Token $__file{{{TOKENS_DIR}/grafana.token}}") \
            or '"$out/grafana.token"' not in TOKENS_SCRIPT.read_text() \
            or f"influxdb-tokens:{TOKENS_DIR}:ro" not in grafana["volumes"]:
        problems.append("Grafana does not read its own read-only token")
    mounts = _mounts(grafana)
    (provider,) = _yaml(GRAFANA / "provisioning" / "dashboards" / "smartplace.yml")["providers"]
    folder = mounts.get(provider["options"]["path"])
    if folder is None or not (ROOT / folder / "smartplace.json").is_file():
        problems.append("Grafana's dashboard provider does not see deploy/grafana/dashboards")
    return problems


def _env_example_problems(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    text = (ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^#? ?(SMARTPLACE_[A-Z0-9_]+)=", text, re.MULTILINE))
    problems = [f".env.example lacks {name}" for name in SETTINGS_VARIABLES - documented]
    problems += [f".env.example names {name}, which is no setting"
                 for name in documented - SETTINGS_VARIABLES]
    lines = text.splitlines()
    problems += [f".env.example: no comment above {line}" for number, line in enumerate(lines)
                 if re.match(r"^#? ?SMARTPLACE_", line) and not lines[number - 1].startswith("# ")]
    for key in list(os.environ):
        if key.startswith("SMARTPLACE_"):
            monkeypatch.delenv(key)
    from_file = Settings(_env_file=ROOT / ".env.example")
    defaults = Settings(_env_file=None)
    if from_file.model_dump() != defaults.model_dump():
        problems.append(".env.example shows values other than the defaults")
    return problems


def test_deployment_files_agree_with_the_code(monkeypatch: pytest.MonkeyPatch) -> None:
    compose = _yaml(ROOT / "docker-compose.yml")
    problems = (_compose_problems(compose) + _broker_problems() + _dockerfile_problems()
                + _grafana_problems(compose) + _env_example_problems(monkeypatch))
    assert problems == []


@pytest.mark.integration
def test_the_shipped_broker_config_is_accepted_by_mosquitto(tmp_path: Path) -> None:
    binary = find_binary("mosquitto")
    if binary is None:
        message = "mosquitto is not installed (run `make test`, which installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    port = free_port()
    text = BROKER_CONF.read_text()
    text = text.replace("listener 1883 0.0.0.0", f"listener {port} 127.0.0.1")
    text = text.replace("/mosquitto/data/", f"{tmp_path}/")
    text = text.replace("/mosquitto/accounts/", f"{tmp_path}/")
    result = CliRunner().invoke(app, ["broker", "accounts", "--out", str(tmp_path),
                                      "--ingest-password", "i", "--simulator-password", "s"])
    assert result.exit_code == 0, result.output
    config = tmp_path / "mosquitto.conf"
    # Started as root, mosquitto would switch to a user who cannot read pytest's folders.
    config.write_text(text + f"\nuser {getpass.getuser()}\n")
    with (tmp_path / "out.log").open("wb") as log:
        process = subprocess.Popen([binary, "-c", str(config)], stdout=log, stderr=log)
    try:
        eventually(lambda: port_open(port) or process.poll() is not None, timeout_s=10)
        assert process.poll() is None, (tmp_path / "out.log").read_text()
    finally:
        process.terminate()
        process.wait(10)
