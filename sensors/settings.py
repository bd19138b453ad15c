"""The settings every smartplace process shares (contract section 4).

Built once by each entry point and passed down; never created at import time.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from sensors.apikeys import ApiKey, all_keys
from sensors.endpoints import MqttEndpoint, ssl_context
from sensors.factors import FleetMix
from sensors.topics import DEFAULT_PREFIX, SLUG, normalise_prefix

ENV_PREFIX = "SMARTPLACE_"


class Settings(BaseSettings):
    """Configuration from ``SMARTPLACE_*`` environment variables or a ``.env`` file."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", extra="ignore", frozen=True
    )

    mqtt_url: str = "mqtt://127.0.0.1:1883"
    topic_prefix: str = DEFAULT_PREFIX
    influx_url: str = "http://127.0.0.1:8086"
    influx_database: str = Field(default="smartplace", min_length=1, max_length=200)
    # The database the API writes (rollups, and its own records such as alert
    # acknowledgements) and reads them from: kept for good while raw readings may have a
    # retention period, and writable with credentials that cannot touch the readings.
    # None = SMARTPLACE_INFLUX_DATABASE (docs/storage.md, "Retention and least privilege").
    influx_api_database: str | None = Field(default=None, min_length=1, max_length=200)
    # How long raw readings are kept (InfluxDB 1.x: the ingestor sets the database's
    # autogen policy; 2.x/3.x: the bucket's own retention), e.g. 400d or 52w; None =
    # for ever. Rollups in the API's database are kept for good.
    influx_raw_retention: str | None = Field(default=None, pattern=r"^\d+[hdw]$")
    influx_token: SecretStr | None = None
    # A file holding the token (Docker secrets, or compose's per-service tokens made at
    # InfluxDB's first start); used when SMARTPLACE_INFLUX_TOKEN is unset.
    influx_token_file: Path | None = None
    influx_username: str | None = None
    influx_password: SecretStr | None = None
    spool_dir: Path = Path(".smartplace/spool")
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65535)
    api_keys: SecretStr | None = None
    # A JSON file of named keys with roles (sensors/apikeys.py), kept out of the environment.
    api_keys_file: Path | None = None

    # TLS with a private CA (mqtts:// and https://): the CA that signed the server's
    # certificate (None: the system's CAs), and a client certificate and key for mutual TLS.
    mqtt_ca_file: Path | None = None
    mqtt_client_cert: Path | None = None
    mqtt_client_key: Path | None = None
    influx_ca_file: Path | None = None
    influx_client_cert: Path | None = None
    influx_client_key: Path | None = None

    # Ingest tuning (extensions to the contract).
    ingest_client_id: str = Field(default="smartplace-ingest", min_length=1, max_length=64)
    # Ingestors sharing the load (docs/scaling.md): worker processes of one
    # `smartplace ingest`, and the MQTT 5 shared-subscription group every ingestor of the
    # deployment joins (None = a plain subscription; with workers, "smartplace").
    ingest_workers: int = Field(default=1, ge=1, le=32)
    ingest_share_group: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    ingest_batch_size: int = Field(default=5000, ge=1, le=50_000)
    ingest_flush_interval_s: float = Field(default=0.2, gt=0, le=60)
    # MQTT 5 Receive Maximum: how many unacknowledged messages the broker may send us.
    # It bounds ingest memory and must exceed a batch so writes overlap with receiving.
    ingest_receive_maximum: int = Field(default=20_000, ge=1, le=65_535)
    ingest_max_backoff_s: float = Field(default=10.0, gt=0, le=300)
    # QoS 0 (no Receive Maximum): messages waiting in memory before they spill to the
    # spool under spool_dir, and the spool's bound (0 = no spool: past memory, dropped).
    ingest_qos0_memory: int = Field(default=20_000, ge=1, le=1_000_000)
    ingest_spool_max_bytes: int = Field(default=512 * 1024 * 1024, ge=0)
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
    # The API's index of every sensor's latest reading (api/network/last_seen_index.py):
    # at most one query for new readings per refresh, a full re-read of the 30-day
    # look-back every reseed (it alone sees readings written with old timestamps).
    last_seen_refresh_s: float = Field(default=5.0, ge=0, le=300)
    last_seen_reseed_s: float = Field(default=600.0, ge=1, le=86_400)
    # The operations dashboard's folder (index.html, app.js, node_modules/uplot); None means
    # the repository's dashboard/ beside the api package. Docker sets it explicitly.
    dashboard_dir: Path | None = None

    # Emission factors: a JSON file of rows that replace packaged rows of the same id and
    # year or add new ones (docs/methodology.md); None = the packaged DESNZ table only.
    factors_file: Path | None = None
    # Cars priced at a fleet mix of DESNZ's per-fuel rows, e.g. "petrol=0.55,diesel=0.33,
    # hybrid=0.06,plugin_hybrid=0.02,battery_electric=0.04"; None = the unknown-fuel average.
    car_fleet_mix: str | None = None
    # A CO2 budget (e.g. the Tyndall Centre's for the borough) as a JSON file, shown at
    # /api/v1/budget (docs/methodology.md, "Carbon budget"); None = no budget.
    carbon_budget_file: Path | None = None
    # The headless Chromium that prints PDF reports; None = chromium (or chromium-browser,
    # google-chrome) on PATH. HTML and CSV reports need no browser.
    chromium_path: Path | None = None
    # Hourly activity rollups (docs/methodology.md, "Rollups"): how often the API's job
    # runs (0 = never) and how many complete hours each run recomputes for late readings.
    rollup_interval_s: float = Field(default=300, ge=0, le=86_400)
    rollup_lookback_h: int = Field(default=6, ge=1, le=168)
    # How long the API serves a computed /emissions or /indicators answer to identical
    # requests (docs/scaling.md, "The API under load"); 0 = compute every request.
    api_cache_s: float = Field(default=5, ge=0, le=300)

    # The grid carbon-intensity feed (docs/methodology.md): a NESO regional endpoint the
    # ingestor fetches on a schedule ({from} and {regionid} are filled in); None = off.
    grid_intensity_url: str | None = None
    grid_intensity_interval_s: float = Field(default=1800, ge=1, le=86_400)
    # NESO region id of the feed (3 = North West England, which includes Stockport).
    grid_region_id: int = Field(default=3, ge=1, le=999)

    # Alert notifications (docs/live.md, "Notifications"): a URL that takes a JSON POST per
    # alert raised, cleared or acknowledged (Teams, Slack or a pager gateway's incoming
    # webhook; such URLs hold a secret, so it is never logged). None = no notifications.
    alert_webhook_url: SecretStr | None = None
    # How often one notification is tried before it is given up (1 s, 2 s, 4 s ... apart).
    alert_webhook_attempts: int = Field(default=6, ge=1, le=20)

    # The public page /public (README, "The public page"): what the operator publishes.
    # Sites whose air quality and sensors are shown, comma-separated ids or "all" (every
    # registered site with an air-quality monitor); unset = none.
    public_sites: str | None = Field(default=None, max_length=2000)
    # Whether the town centre's carbon this month against last year is shown.
    public_carbon: bool = False

    @field_validator("public_sites")
    @classmethod
    def _public_sites(cls, value: str | None) -> str | None:
        if value is None:
            return None
        ids = [part.strip() for part in value.split(",") if part.strip()]
        bad = [one for one in ids if one != "all" and not SLUG.fullmatch(one)]
        if bad:
            raise ValueError(f"site ids are slugs (a-z, 0-9, - and _) or 'all'; got {bad}")
        return ",".join(ids) or None

    @field_validator("alert_webhook_url")
    @classmethod
    def _webhook_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parts = urlsplit(value.get_secret_value())
            if parts.scheme not in ("http", "https") or not parts.hostname:
                # The URL itself is a secret: say what is wrong without echoing it.
                raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("topic_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        return normalise_prefix(value)

    @field_validator("car_fleet_mix")
    @classmethod
    def _fleet_mix(cls, value: str | None) -> str | None:
        if value is not None and value.strip():
            FleetMix.parse(value)
            return value
        return None

    @property
    def fleet_mix(self) -> FleetMix | None:
        """The configured car fleet mix (None: the unknown-fuel average car row)."""
        return FleetMix.parse(self.car_fleet_mix) if self.car_fleet_mix else None

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

    @model_validator(mode="after")
    def _client_pairs(self) -> Settings:
        for name in ("mqtt", "influx"):
            cert, key = getattr(self, f"{name}_client_cert"), getattr(self, f"{name}_client_key")
            if (cert is None) != (key is None):
                raise ValueError(f"SMARTPLACE_{name.upper()}_CLIENT_CERT and "
                                 f"SMARTPLACE_{name.upper()}_CLIENT_KEY go together")
        return self

    def mqtt_ssl_context(self) -> ssl.SSLContext:
        """The TLS context for ``mqtts://``: verifies the broker (with the CA file when one
        is set) and presents the client certificate when one is set.

        Raises:
            OSError, ssl.SSLError: a file cannot be read or is not a certificate / key.
        """
        return ssl_context(self.mqtt_ca_file, self.mqtt_client_cert, self.mqtt_client_key)

    def influx_verify(self) -> ssl.SSLContext | bool:
        """What an HTTP client to InfluxDB verifies the server with: for ``https://``, a
        context with the CA file and client certificate when set (as
        :meth:`mqtt_ssl_context`); for ``http://``, nothing to verify (True)."""
        if not self.influx_url.startswith("https://"):
            return True
        return ssl_context(self.influx_ca_file, self.influx_client_cert, self.influx_client_key)

    @property
    def mqtt(self) -> MqttEndpoint:
        """The parsed broker URL."""
        return MqttEndpoint(self.mqtt_url)

    def api_database(self) -> str:
        """The database the API writes its rollups and records to (and reads them from)."""
        return self.influx_api_database or self.influx_database

    def influx_auth(self) -> tuple[dict[str, str], dict[str, str]]:
        """Headers and query parameters that authenticate to InfluxDB's v1 API.

        A token (2.x/3.x, ``Authorization: Token``; from SMARTPLACE_INFLUX_TOKEN, else the
        file SMARTPLACE_INFLUX_TOKEN_FILE) wins over a user and password (1.x, ``u``/``p``
        parameters); with neither, nothing is sent. The one place every process's InfluxDB
        client takes its credentials from.

        Raises:
            OSError: the token file cannot be read.
        """
        if self.influx_token is not None:
            return {"Authorization": f"Token {self.influx_token.get_secret_value()}"}, {}
        if self.influx_token_file is not None:
            token = self.influx_token_file.read_text(encoding="utf-8").strip()
            return {"Authorization": f"Token {token}"}, {}
        if self.influx_username and self.influx_password is not None:
            return {}, {"u": self.influx_username, "p": self.influx_password.get_secret_value()}
        return {}, {}

    def influx_credential_settings(self) -> str:
        """The settings an operator must check when InfluxDB refuses the credentials."""
        if self.influx_token is not None:
            return "SMARTPLACE_INFLUX_TOKEN"
        if self.influx_token_file is not None:
            return f"SMARTPLACE_INFLUX_TOKEN_FILE ({self.influx_token_file})"
        if self.influx_username:
            return "SMARTPLACE_INFLUX_USERNAME and SMARTPLACE_INFLUX_PASSWORD"
        return ("SMARTPLACE_INFLUX_TOKEN (or SMARTPLACE_INFLUX_USERNAME and _PASSWORD): "
                "none is set")

    def api_key_list(self) -> list[ApiKey]:
        """The configured API keys, named and with roles (empty: the API is open).

        Raises:
            ApiKeysError: the keys file is unusable, or two keys share a name.
        """
        return all_keys(self.api_keys, self.api_keys_file)

    def public_site_ids(self, known: list[str]) -> list[str]:
        """The sites ``public_sites`` publishes, in ``known``'s order (``all``: every one)."""
        if not self.public_sites:
            return []
        chosen = self.public_sites.split(",")
        return list(known) if "all" in chosen else [one for one in chosen if one in known]
