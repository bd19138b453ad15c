"""How a process reaches a server: the parts of a broker URL, and a TLS context.

The settings (:mod:`sensors.settings`) hold the URLs and certificate files; this reads
them into what a client connects with (README, "Configuration": TLS with a private CA).
"""

from __future__ import annotations

import ssl
from pathlib import Path
from urllib.parse import unquote, urlsplit


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

    @property
    def address(self) -> str:
        """``mqtt://host:port`` (or ``mqtts://``), without credentials: safe to log."""
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"

    def __repr__(self) -> str:
        return f"MqttEndpoint({self.address})"


def ssl_context(ca_file: Path | None, cert: Path | None, key: Path | None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    if cert is not None and key is not None:
        context.load_cert_chain(str(cert), str(key))
    return context
