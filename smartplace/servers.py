"""Run local ``mosquitto`` and ``influxd`` processes from a config written to a folder.

Used by ``smartplace demo``, the test fixtures and the benchmarks, so that every one of
them runs the servers the same way: loopback only, persistence on, and a broker
configured never to drop queued QoS 1 messages.
"""

from __future__ import annotations

import getpass
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx

from smartplace.errors import ServerError

# Debian installs mosquitto in /usr/sbin, which is not on every user's PATH.
_EXTRA_BIN_DIRS = ("/usr/sbin", "/usr/local/sbin")


def find_binary(name: str) -> str | None:
    """The path of a server binary, looking in the sbin folders too."""
    found = shutil.which(name)
    if found:
        return found
    for folder in _EXTRA_BIN_DIRS:
        candidate = Path(folder) / name
        if candidate.is_file():
            return str(candidate)
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """True when something accepts TCP connections on the port."""
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def mosquitto_config(port: int, data_dir: Path) -> str:
    """A broker config for one loopback listener that keeps every queued QoS 1 message."""
    return "\n".join(
        [
            f"listener {port} 127.0.0.1",
            # Started as root, mosquitto switches to the "mosquitto" user, which cannot
            # write its persistence file in our folder: sessions and queued messages would
            # then be lost at a restart. Stay the user that started it.
            f"user {getpass.getuser()}",
            "allow_anonymous true",
            "persistence true",
            f"persistence_location {data_dir}/",
            "autosave_interval 30",
            # 0 = no limit: the default (1000) drops QoS 1 messages for a slow subscriber.
            "max_queued_messages 0",
            "max_queued_bytes 0",
            # Queue QoS 0 messages for an offline persistent session too: TTN's uplinks
            # arrive over a bridge at QoS 0 (README, "Connect your devices").
            "queue_qos0_messages true",
            # For MQTT 3.1.1 clients; MQTT 5 clients set their own Receive Maximum.
            "max_inflight_messages 1000",
            "set_tcp_nodelay true",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "",
        ]
    )


def influxd_config(http_port: int, rpc_port: int, data_dir: Path) -> str:
    """An InfluxDB 1.x config bound to loopback with its data under ``data_dir``."""
    return f"""reporting-disabled = true
bind-address = "127.0.0.1:{rpc_port}"

[meta]
  dir = "{data_dir}/meta"

[data]
  dir = "{data_dir}/data"
  wal-dir = "{data_dir}/wal"
  query-log-enabled = false
  trace-logging-enabled = false

[http]
  bind-address = "127.0.0.1:{http_port}"
  log-enabled = false
  max-body-size = 0

[monitor]
  store-enabled = false

[subscriber]
  enabled = false

[logging]
  level = "warn"
"""


class LocalServer:
    """A server process started from a config file in ``workdir``."""

    name = "server"
    binary = ""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / f"{self.name}.log"

    def command(self) -> list[str]:
        raise NotImplementedError

    def ready(self) -> bool:
        return port_open(self.port)

    def start(self, timeout_s: float = 15.0) -> None:
        """Start the process and wait until it serves.

        Raises:
            ServerError: binary missing, process exited, or not ready in time.
        """
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerError(f"{self.name} exited at start-up:\n{self.log_tail()}")
            if self.ready():
                return
            time.sleep(0.05)
        self.stop()
        raise ServerError(f"{self.name} was not ready after {timeout_s}s:\n{self.log_tail()}")

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop the process (SIGTERM, then SIGKILL) and wait for it."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log_tail(self, lines: int = 40) -> str:
        """The end of the server's log, for error messages."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class MosquittoServer(LocalServer):
    """A local mosquitto broker."""

    name = "mosquitto"

    def command(self) -> list[str]:
        binary = find_binary("mosquitto")
        if binary is None:
            raise ServerError("mosquitto is not installed (Debian: apt-get install mosquitto)")
        data = self.workdir / "mosquitto-data"
        data.mkdir(parents=True, exist_ok=True)
        config = self.workdir / "mosquitto.conf"
        config.write_text(mosquitto_config(self.port, data))
        return [binary, "-c", str(config)]

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"


class InfluxServer(LocalServer):
    """A local InfluxDB 1.x server (the Debian ``influxdb`` package)."""

    name = "influxd"

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        super().__init__(workdir, port)
        self.rpc_port = free_port()

    def command(self) -> list[str]:
        binary = find_binary("influxd")
        if binary is None:
            raise ServerError("influxd is not installed (Debian: apt-get install influxdb)")
        config = self.workdir / "influxdb.conf"
        config.write_text(influxd_config(self.port, self.rpc_port, self.workdir / "influx-data"))
        return [binary, "-config", str(config)]

    def ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/ping", timeout=0.5).status_code == 204
        except httpx.HTTPError:
            return False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"
