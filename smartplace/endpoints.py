"""Where the demo's services live: which servers to start or reuse, their URLs and probes.

A server is started only when its URL points at this machine and nothing answers there;
anything already answering is reused and left alone.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import httpx

from sensors.errors import DevicesFileError
from sensors.settings import Settings
from smartplace.broker_auth import format_topics, ingest_account, publisher_account
from smartplace.errors import DemoError
from smartplace.servers import InfluxServer, MosquittoServer, find_binary, port_open

INSTALL_COMMAND = "sudo apt-get install mosquitto influxdb"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "0.0.0.0", "::"})


SIMULATOR_ACCOUNT = "smartplace-simulator"


def loopback(host: str) -> str:
    """The address to reach a local service on (a wildcard bind is reachable on loopback)."""
    return "127.0.0.1" if host in LOCAL_HOSTS else host


def url_host(host: str) -> str:
    """The host as a URL spells it (IPv6 addresses in brackets)."""
    return f"[{host}]" if ":" in host else host


def redact(url: str) -> str:
    """The URL with any password replaced by ``***``, for printing."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    return parts._replace(netloc=f"{parts.username}:***@{netloc}").geturl()


def influx_ping(url: str) -> bool:
    """True when an InfluxDB (1.x, 2.x or 3.x) answers ``/ping`` with 204."""
    try:
        return httpx.get(f"{url}/ping", timeout=1.0).status_code == 204
    except httpx.HTTPError:
        return False


def plan_servers(
    settings: Settings, base: Path,
) -> tuple[MosquittoServer | None, InfluxServer | None]:
    """Decide which servers the demo must start (None: reuse what answers at the URL).

    Args:
        settings: the broker and InfluxDB URLs.
        base: the demo's state folder; started servers keep their files under it.

    Raises:
        DemoError: a server must be started but cannot be (not installed, TLS, port taken).
    """
    broker: MosquittoServer | None = None
    influx: InfluxServer | None = None
    missing: list[str] = []

    mqtt = settings.mqtt
    if mqtt.host in LOCAL_HOSTS and not port_open(mqtt.port, loopback(mqtt.host)):
        if mqtt.tls:
            raise DemoError(
                f"nothing answers on {redact(settings.mqtt_url)} and the demo only "
                "starts a plain MQTT broker: use an mqtt:// URL or start your TLS broker first"
            )
        if find_binary("mosquitto") is None:
            missing.append("mosquitto")
        # Locked down as shipped: accounts and an ACL (smartplace.broker_auth), with
        # passwords made for this run; the ingestor's account name is its client id.
        # The devices file's formats publish outside the prefix (TTN's v3/..., tele/...).
        prefix = settings.topic_prefix
        try:
            formats = format_topics(settings.devices_file, prefix)
        except DevicesFileError as exc:
            raise DemoError(str(exc)) from None
        broker = MosquittoServer(
            base / "mosquitto", mqtt.port,
            accounts=[ingest_account(settings.ingest_client_id, prefix, formats),
                      publisher_account(SIMULATOR_ACCOUNT, prefix, formats)],
            prefixes=[prefix])

    parts = urlsplit(settings.influx_url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 8086)
    if host in LOCAL_HOSTS and not influx_ping(settings.influx_url):
        if port_open(port, loopback(host)):
            raise DemoError(
                f"port {port} is in use but does not answer as InfluxDB "
                f"({settings.influx_url}/ping): stop that program or set "
                "SMARTPLACE_INFLUX_URL to another port"
            )
        if parts.scheme == "https":
            raise DemoError(
                f"nothing answers on {settings.influx_url} and the demo only starts "
                "a plain-HTTP influxd: use an http:// URL or start your InfluxDB first"
            )
        if find_binary("influxd") is None:
            missing.append("influxd")
        influx = InfluxServer(base / "influxdb", port)

    if missing:
        raise DemoError(
            f"{' and '.join(missing)} not installed. Install the servers with:\n\n"
            f"    {INSTALL_COMMAND}\n\n"
            "or run `make demo`, which installs them (as root) and starts the demo."
        )
    return broker, influx


def api_base(settings: Settings) -> str:
    """The base URL the API answers on, reachable from this machine."""
    return f"http://{url_host(loopback(settings.api_host))}:{settings.api_port}"


def metrics_url(settings: Settings) -> str | None:
    """The ingestor's Prometheus endpoint, or None when metrics are off."""
    if not settings.metrics_port:
        return None
    return f"http://{url_host(loopback(settings.metrics_host))}:{settings.metrics_port}/metrics"


def api_healthy(settings: Settings) -> bool:
    """True when the API answers ``/health`` with 200."""
    try:
        return httpx.get(f"{api_base(settings)}/health", timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def ingest_subscribed(settings: Settings) -> bool:
    """True once the ingestor reports its MQTT subscription (or cannot tell us)."""
    url = metrics_url(settings)
    if url is None:
        return True
    try:
        text = httpx.get(url, timeout=2.0).text
    except httpx.HTTPError:
        return False
    for line in text.splitlines():
        if line.startswith("smartplace_ingest_mqtt_subscribed"):
            return line.rsplit(" ", 1)[-1] not in ("0", "0.0")
    return "smartplace_ingest" in text  # metrics up, subscription not reported


def demo_urls(settings: Settings, mqtt_url: str, influx_url: str, logs: Path,
              now: datetime) -> dict[str, str]:
    """What the demo's banner lists, by label: the API's pages, the servers and the logs.

    Args:
        settings: the API and metrics addresses.
        mqtt_url: the broker in use (passwords are redacted).
        influx_url: the InfluxDB in use (likewise).
        logs: the folder of the children's logs.
        now: an aware datetime; the emissions link covers the hour either side of it.
    """
    base = api_base(settings)
    now = now.replace(microsecond=0)
    query = urlencode(
        {
            "start": (now - timedelta(hours=1)).isoformat().replace("+00:00", "Z"),
            "end": (now + timedelta(hours=1)).isoformat().replace("+00:00", "Z"),
            "group_by": "domain",
            "interval": "15m",
        },
        safe=":",
    )
    urls = {
        "dashboard": f"{base}/",
        "api docs": f"{base}/docs",
        "emissions": f"{base}/api/v1/emissions?{query}",
        "sensors": f"{base}/api/v1/sensors",
        "health": f"{base}/health",
    }
    metrics = metrics_url(settings)
    if metrics:
        urls["ingest metrics"] = metrics
    if settings.ingest_http_port:
        host = url_host(loopback(settings.ingest_http_host))
        urls["sensor.community"] = (f"http://{host}:{settings.ingest_http_port}"
                                    "/ingest/sensor-community")
    urls["mqtt"] = redact(mqtt_url)
    urls["influxdb"] = redact(influx_url)
    urls["logs"] = str(logs)
    return urls
