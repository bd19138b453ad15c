"""The settings every smartplace process shares (contract section 4).

Built once by each entry point and passed down; never created at import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from sensors.topics import DEFAULT_PREFIX, normalise_prefix


class MqttEndpoint:
    """The parts of ``SMARTPLACE_MQTT_URL``."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts"):
            raise ValueError(f"MQTT URL must start with mqtt:// or mqtts://, got {url!r}")
        if not parts.hostname:
            raise ValueError(f"MQTT URL has no host: {url!r}")
        self.tls = parts.scheme == "mqtts"
        self.host = parts.hostname
        self.port = parts.port or (8883 if self.tls else 1883)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None

    def __repr__(self) -> str:
        scheme = "mqtts" if self.tls else "mqtt"
        return f"MqttEndpoint({scheme}://{self.host}:{self.port})"


class Settings(BaseSettings):
    """Configuration from ``SMARTPLACE_*`` environment variables or a ``.env`` file."""

    model_config = SettingsConfigDict(
        env_prefix="SMARTPLACE_", env_file=".env", extra="ignore", frozen=True
    )

    mqtt_url: str = "mqtt://127.0.0.1:1883"
    topic_prefix: str = DEFAULT_PREFIX
    influx_url: str = "http://127.0.0.1:8086"
    influx_database: str = Field(default="smartplace", min_length=1, max_length=200)
    influx_token: SecretStr | None = None
    influx_username: str | None = None
    influx_password: SecretStr | None = None
    spool_dir: Path = Path(".smartplace/spool")
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65535)
    api_keys: SecretStr | None = None

    # Ingest tuning (extensions to the contract).
    ingest_client_id: str = Field(default="smartplace-ingest", min_length=1, max_length=64)
    ingest_batch_size: int = Field(default=5000, ge=1, le=50_000)
    ingest_flush_interval_s: float = Field(default=0.2, gt=0, le=60)
    # MQTT 5 Receive Maximum: how many unacknowledged messages the broker may send us.
    # It bounds ingest memory and must exceed a batch so writes overlap with receiving.
    ingest_receive_maximum: int = Field(default=20_000, ge=1, le=65_535)
    ingest_max_backoff_s: float = Field(default=10.0, gt=0, le=300)
    # How often the ingestor writes its own counters to InfluxDB (ingest_stats); 0 = never.
    ingest_stats_interval_s: float = Field(default=5.0, ge=0, le=3600)
    # Device formats (contract section 7): the devices file, and the Sensor.Community HTTP
    # receiver inside the ingestor (port 0 = off).
    devices_file: Path | None = None
    ingest_http_host: str = "127.0.0.1"
    ingest_http_port: int = Field(default=8090, ge=0, le=65535)
    # How long a POST waits for its readings to be stored before answering 503.
    ingest_http_wait_s: float = Field(default=10.0, gt=0, le=120)
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(default=9108, ge=0, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "text"] = "json"

    # The live dashboard stream (docs/live.md): how often the API's one poller reads
    # InfluxDB, and how often each open stream gets a heartbeat event.
    live_refresh_s: float = Field(default=1.0, ge=0.2, le=60)
    live_heartbeat_s: float = Field(default=15.0, ge=0.1, le=300)
    # The operations dashboard's folder (index.html, app.js, node_modules/uplot); None means
    # the repository's dashboard/ beside the api package. Docker sets it explicitly.
    dashboard_dir: Path | None = None

    # Emission factors: a JSON file of rows that replace packaged rows of the same id and
    # year or add new ones (docs/methodology.md); None = the packaged DESNZ table only.
    factors_file: Path | None = None
    # Hourly activity rollups (docs/methodology.md, "Rollups"): how often the API's job
    # runs (0 = never) and how many complete hours each run recomputes for late readings.
    rollup_interval_s: float = Field(default=300, ge=0, le=86_400)
    rollup_lookback_h: int = Field(default=6, ge=1, le=168)

    # The grid carbon-intensity feed (docs/methodology.md): a NESO regional endpoint the
    # ingestor fetches on a schedule ({from} and {regionid} are filled in); None = off.
    grid_intensity_url: str | None = None
    grid_intensity_interval_s: float = Field(default=1800, ge=1, le=86_400)
    # NESO region id of the feed (3 = North West England, which includes Stockport).
    grid_region_id: int = Field(default=3, ge=1, le=999)

    @field_validator("topic_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        return normalise_prefix(value)

    @field_validator("mqtt_url")
    @classmethod
    def _mqtt_url(cls, value: str) -> str:
        MqttEndpoint(value)
        return value

    @field_validator("influx_url")
    @classmethod
    def _influx_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"InfluxDB URL must be http(s)://host[:port], got {value!r}")
        return value.rstrip("/")

    @property
    def mqtt(self) -> MqttEndpoint:
        """The parsed broker URL."""
        return MqttEndpoint(self.mqtt_url)

    def influx_auth(self) -> tuple[dict[str, str], dict[str, str]]:
        """Headers and query parameters that authenticate to InfluxDB's v1 API.

        A token (2.x/3.x, ``Authorization: Token``) wins over a user and password (1.x,
        ``u``/``p`` parameters); with neither, nothing is sent. The one place every
        process's InfluxDB client takes its credentials from.
        """
        if self.influx_token is not None:
            return {"Authorization": f"Token {self.influx_token.get_secret_value()}"}, {}
        if self.influx_username and self.influx_password is not None:
            return {}, {"u": self.influx_username, "p": self.influx_password.get_secret_value()}
        return {}, {}

    def api_key_list(self) -> list[str]:
        """The configured API keys (empty: the API is open)."""
        if self.api_keys is None:
            return []
        return [key.strip() for key in self.api_keys.get_secret_value().split(",") if key.strip()]
