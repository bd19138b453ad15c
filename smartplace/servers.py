"""Run local ``mosquitto`` and ``influxd`` processes from a config written to a folder.

Used by ``smartplace demo``, the test fixtures and the benchmarks, so that every one of
them runs the servers the same way: loopback only, persistence on, and a broker
configured never to drop queued QoS 1 messages.
"""

from __future__ import annotations

import shutil
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from sensors.topics import DEFAULT_PREFIX
from smartplace.broker_auth import BrokerAccount, acl_file, password_file
from smartplace.errors import ServerError
from smartplace.server_config import ServerTls, influxd_config, mosquitto_config

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


_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now, and not one this process handed out
    before: the kernel may offer a port again as soon as it is closed, so two ports asked
    for before either is bound could be the same one."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port: int = sock.getsockname()[1]
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """True when something accepts TCP connections on the port."""
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


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
        command = self.command()
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
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


def accepts(port: int, account: BrokerAccount) -> bool:
    """True when the broker on ``port`` accepts a login with ``account`` (MQTT 5 CONNECT,
    clean start, so no session is left behind: only for an account that has none yet)."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5,
                         client_id=account.username)
    client.username_pw_set(account.username, account.password)
    outcome: list[bool] = []
    client.on_connect = lambda _c, _u, _f, code, _p: outcome.append(not code.is_failure)
    try:
        client.connect("127.0.0.1", port, keepalive=5, clean_start=True)
        deadline = time.monotonic() + 2
        while not outcome and time.monotonic() < deadline:
            client.loop(0.05)
        client.disconnect()
    except OSError:
        return False
    finally:
        client._reset_sockets()  # no ResourceWarning from paho's socket pair
    return bool(outcome and outcome[0])


class MosquittoServer(LocalServer):
    """A local mosquitto broker that requires the accounts it is given (see
    :mod:`smartplace.broker_auth`); ``prefixes`` get the sensor ACL pattern."""

    name = "mosquitto"

    def __init__(self, workdir: Path, port: int | None = None,
                 accounts: Iterable[BrokerAccount] = (),
                 prefixes: Iterable[str] = (DEFAULT_PREFIX,),
                 tls: ServerTls | None = None) -> None:
        super().__init__(workdir, port)
        self.accounts = {account.username: account for account in accounts}
        self.prefixes = tuple(prefixes)
        self.tls = tls

    def command(self) -> list[str]:
        binary = find_binary("mosquitto")
        if binary is None:
            raise ServerError("mosquitto is not installed (Debian: apt-get install mosquitto)")
        data = self.workdir / "mosquitto-data"
        data.mkdir(parents=True, exist_ok=True)
        self._write_auth()
        config = self.workdir / "mosquitto.conf"
        config.write_text(mosquitto_config(self.port, data, self.workdir, self.tls))
        return [binary, "-c", str(config)]

    def add_account(self, account: BrokerAccount, timeout_s: float = 10.0) -> BrokerAccount:
        """Add (or replace) an account; a running broker reloads its files (SIGHUP), and
        for a new account this returns once the broker accepts it.

        Raises:
            ServerError: the broker did not accept the account in time.
        """
        new = account.username not in self.accounts
        self.accounts[account.username] = account
        self._write_auth()
        if self.process is None or self.process.poll() is not None:
            return account
        if not new:
            # A login would touch the account's session (its id is its name): just reload.
            self.process.send_signal(signal.SIGHUP)
            return account
        self.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + timeout_s
        while not accepts(self.port, account):
            if time.monotonic() > deadline:
                raise ServerError(f"mosquitto did not accept account {account.username!r}")
            time.sleep(0.02)
        return account

    def url_for(self, username: str, host: str = "127.0.0.1") -> str:
        """The URL of one of the broker's accounts (``mqtts://`` with TLS)."""
        url = self.accounts[username].url(host, self.port)
        return url.replace("mqtt://", "mqtts://", 1) if self.tls else url

    def _write_auth(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        for name, text in (("passwd", password_file(self.accounts.values())),
                           ("acl", acl_file(self.accounts.values(), self.prefixes))):
            path = self.workdir / name
            path.write_text(text)
            path.chmod(0o600)  # mosquitto 2 warns about world-readable secrets

    @property
    def url(self) -> str:
        """The broker's address, without credentials."""
        return f"mqtt://127.0.0.1:{self.port}"


class InfluxServer(LocalServer):
    """A local InfluxDB 1.x server (the Debian ``influxdb`` package)."""

    name = "influxd"

    def __init__(self, workdir: Path, port: int | None = None, *,
                 auth_enabled: bool = False, tls: ServerTls | None = None) -> None:
        super().__init__(workdir, port)
        self.rpc_port = free_port()
        self.auth_enabled = auth_enabled
        self.tls = tls

    def command(self) -> list[str]:
        binary = find_binary("influxd")
        if binary is None:
            raise ServerError("influxd is not installed (Debian: apt-get install influxdb)")
        config = self.workdir / "influxdb.conf"
        config.write_text(influxd_config(self.port, self.rpc_port, self.workdir / "influx-data",
                                         auth_enabled=self.auth_enabled, tls=self.tls))
        return [binary, "-config", str(config)]

    def ready(self) -> bool:
        verify: bool | ssl.SSLContext = (
            ssl.create_default_context(cafile=str(self.tls.ca_file)) if self.tls else True)
        try:
            return httpx.get(f"{self.url}/ping", timeout=0.5, verify=verify).status_code == 204
        except httpx.HTTPError:
            return False

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"
