"""``smartplace demo``: the whole system on one machine.

Under ``.smartplace/`` in the current folder it starts (or reuses) a local ``mosquitto``
and ``influxd``, then the ingestor, the API and the simulator as child processes, prints
where to look, and waits. On Ctrl-C (SIGINT) or SIGTERM it stops everything it started,
in reverse order: the simulator, the ingestor (SIGTERM, so it flushes and acknowledges),
the API, then the servers it started. Servers it found already running are left alone.

Files:

- ``.smartplace/mosquitto/``, ``.smartplace/influxdb/``: server configs, data and logs;
- ``.smartplace/logs/<name>.log``: the output of each child (text log format);
- ``.smartplace/demo.json``: the pids and URLs of the running demo (removed at exit).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
from pydantic import SecretStr
from rich.console import Console
from rich.markup import escape

from sensors.settings import Settings
from smartplace.servers import (
    InfluxServer,
    LocalServer,
    MosquittoServer,
    ServerError,
    find_binary,
    port_open,
)

STATE_DIR = Path(".smartplace")
STATE_FILE = "demo.json"
INSTALL_COMMAND = "sudo apt-get install mosquitto influxdb"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "0.0.0.0", "::"})
READY_TIMEOUT_S = 60.0
SUBSCRIBED_TIMEOUT_S = 30.0
#: How long each child gets to exit after SIGTERM before its process group is killed.
STOP_TIMEOUT_S = {"simulate": 10.0, "ingest": 20.0, "api": 10.0}
#: Stop the publisher first, then the ingestor (it flushes what it received), then the API.
STOP_ORDER = ("simulate", "ingest", "api")
#: The simulator's options in the demo: real-time rate, and a few bad messages so that
#: the dead-letter path is visible.
SIMULATE_ARGS = ("--bad-ratio", "0.01")


class DemoError(RuntimeError):
    """The demo cannot start; the message says why and what to do."""


class _StopFlag:
    """Set from the signal handlers: a plain flag is safe to touch from a handler."""

    def __init__(self) -> None:
        self.requested = False
        self.forced = False

    def handler(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            self.forced = True  # a second Ctrl-C: stop waiting for graceful exits
        self.requested = True


class Child:
    """One ``python -m smartplace <command>`` process with its output in a log file."""

    def __init__(self, name: str, args: list[str], log_path: Path, env: dict[str, str]) -> None:
        self.name = name
        self.args = args
        self.log_path = log_path
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            # A new session: the terminal's Ctrl-C reaches only the demo, which then stops
            # the children in order; and the group can be killed as a last resort.
            self.process = subprocess.Popen(
                [sys.executable, "-m", "smartplace", *self.args],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env=self.env, start_new_session=True,
            )

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def returncode(self) -> int | None:
        """None while running (or never started), else the exit code."""
        return None if self.process is None else self.process.poll()

    def stop(self, timeout_s: float, flag: _StopFlag) -> bool:
        """SIGTERM, wait up to ``timeout_s``, then kill the whole group.

        Returns:
            True when the process exited by itself within the time.
        """
        process = self.process
        if process is None:
            return True
        graceful = True
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + timeout_s
            while process.poll() is None and time.monotonic() < deadline and not flag.forced:
                time.sleep(0.05)
            graceful = process.poll() is not None
        _kill_group(process.pid)
        process.wait()
        return graceful

    def log_tail(self, lines: int = 30) -> str:
        return _tail(self.log_path, lines)


def _tail(path: Path, lines: int) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _kill_group(pgid: int) -> None:
    """SIGKILL whatever is left in a process group the demo created."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _loopback(host: str) -> str:
    """The address to reach a local service on (a wildcard bind is reachable on loopback)."""
    return "127.0.0.1" if host in LOCAL_HOSTS else host


def _url_host(host: str) -> str:
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


def child_environment(settings: Settings, mqtt_url: str, influx_url: str) -> dict[str, str]:
    """The demo's environment plus every setting, so the children see what the demo sees."""
    env = dict(os.environ)
    for name in type(settings).model_fields:
        key = f"SMARTPLACE_{name.upper()}"
        value: Any = getattr(settings, name)
        if value is None:
            env.pop(key, None)
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if isinstance(value, list | tuple | dict):
            env[key] = json.dumps(value)
        else:
            env[key] = str(value)
    env.update(
        SMARTPLACE_MQTT_URL=mqtt_url,
        SMARTPLACE_INFLUX_URL=influx_url,
        SMARTPLACE_LOG_FORMAT="text",
        PYTHONUNBUFFERED="1",
    )
    return env


def _previous_demo(state_path: Path) -> int | None:
    """The pid of another demo still running from this folder, if any."""
    try:
        pid = int(json.loads(state_path.read_text())["pid"])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if pid != os.getpid() and b"smartplace" in cmdline and b"demo" in cmdline:
        return pid
    return None


class Demo:
    """The state of one demo run: what it started, so that it can stop exactly that."""

    def __init__(self, settings: Settings, console: Console, base: Path) -> None:
        self.settings = settings
        self.console = console
        self.base = base
        self.flag = _StopFlag()
        self.servers: list[LocalServer] = []
        self.children: list[Child] = []
        self.mqtt_url = settings.mqtt_url
        self.influx_url = settings.influx_url
        self.urls: dict[str, str] = {}

    # --- servers -------------------------------------------------------------------------

    def plan_servers(self) -> tuple[MosquittoServer | None, InfluxServer | None]:
        """Decide which servers to start; raise DemoError when that is impossible."""
        broker: MosquittoServer | None = None
        influx: InfluxServer | None = None
        missing: list[str] = []

        mqtt = self.settings.mqtt
        if mqtt.host in LOCAL_HOSTS and not port_open(mqtt.port, _loopback(mqtt.host)):
            if mqtt.tls:
                raise DemoError(
                    f"nothing answers on {redact(self.settings.mqtt_url)} and the demo only "
                    "starts a plain MQTT broker: use an mqtt:// URL or start your TLS broker first"
                )
            if find_binary("mosquitto") is None:
                missing.append("mosquitto")
            broker = MosquittoServer(self.base / "mosquitto", mqtt.port)

        parts = urlsplit(self.settings.influx_url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 8086)
        if host in LOCAL_HOSTS and not influx_ping(self.settings.influx_url):
            if port_open(port, _loopback(host)):
                raise DemoError(
                    f"port {port} is in use but does not answer as InfluxDB "
                    f"({self.settings.influx_url}/ping): stop that program or set "
                    "SMARTPLACE_INFLUX_URL to another port"
                )
            if parts.scheme == "https":
                raise DemoError(
                    f"nothing answers on {self.settings.influx_url} and the demo only starts "
                    "a plain-HTTP influxd: use an http:// URL or start your InfluxDB first"
                )
            if find_binary("influxd") is None:
                missing.append("influxd")
            influx = InfluxServer(self.base / "influxdb", port)

        if missing:
            raise DemoError(
                f"{' and '.join(missing)} not installed. Install the servers with:\n\n"
                f"    {INSTALL_COMMAND}\n\n"
                "or run `make demo`, which installs them (as root) and starts the demo."
            )
        return broker, influx

    def start_servers(self) -> None:
        broker, influx = self.plan_servers()
        if broker is None:
            self.console.print(f"reusing the MQTT broker at {escape(redact(self.mqtt_url))}")
        else:
            self.console.print(f"starting mosquitto on port {broker.port} ...")
            self._start_server(broker)
            self.mqtt_url = broker.url
        if influx is None:
            self.console.print(f"reusing InfluxDB at {escape(redact(self.influx_url))}")
        else:
            self.console.print(f"starting influxd on port {influx.port} ...")
            self._start_server(influx)
            self.influx_url = influx.url

    def _start_server(self, server: LocalServer) -> None:
        try:
            server.start()
        except ServerError as exc:
            raise DemoError(
                f"{server.name} did not start (log: {server.log_path}):\n{exc}"
            ) from None
        self.servers.append(server)
        self.write_state()

    # --- children ------------------------------------------------------------------------

    def start_child(self, name: str, args: list[str]) -> Child:
        env = child_environment(self.settings, self.mqtt_url, self.influx_url)
        child = Child(name, args, self.base / "logs" / f"{name}.log", env)
        child.start()
        self.children.append(child)
        self.write_state()
        return child

    def check_children(self) -> None:
        """Raise DemoError when a child or a started server has exited."""
        for child in self.children:
            code = child.returncode()
            if code is not None:
                raise DemoError(
                    f"`smartplace {child.name}` exited unexpectedly with code {code} "
                    f"(log: {child.log_path}):\n{child.log_tail()}"
                )
        for server in self.servers:
            if server.process is not None and server.process.poll() is not None:
                raise DemoError(
                    f"{server.name} exited unexpectedly (log: {server.log_path}):\n"
                    f"{server.log_tail()}"
                )

    def wait_for(self, what: str, check: Callable[[], bool], timeout_s: float) -> bool:
        """Poll ``check`` until true; False when a stop was requested.

        Raises:
            DemoError: a child died, or ``check`` stayed false for ``timeout_s``.
        """
        deadline = time.monotonic() + timeout_s
        while not self.flag.requested:
            self.check_children()
            if check():
                return True
            if time.monotonic() > deadline:
                logs = "\n".join(f"--- {c.log_path} ---\n{c.log_tail()}" for c in self.children)
                raise DemoError(f"{what} not ready after {timeout_s:.0f}s\n{logs}")
            time.sleep(0.2)
        return False

    def api_base(self) -> str:
        return f"http://{_url_host(_loopback(self.settings.api_host))}:{self.settings.api_port}"

    def metrics_url(self) -> str | None:
        if not self.settings.metrics_port:
            return None
        host = _url_host(_loopback(self.settings.metrics_host))
        return f"http://{host}:{self.settings.metrics_port}/metrics"

    def api_healthy(self) -> bool:
        try:
            return httpx.get(f"{self.api_base()}/health", timeout=2.0).status_code == 200
        except httpx.HTTPError:
            return False

    def ingest_subscribed(self) -> bool:
        """True once the ingestor reports its MQTT subscription (or cannot tell us)."""
        url = self.metrics_url()
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

    def start_all(self) -> bool:
        """Start servers and children; False when a stop was requested meanwhile."""
        self.start_servers()
        if self.flag.requested:
            return False
        self.console.print("starting the ingestor ...")
        self.start_child("ingest", ["ingest"])
        try:
            if not self.wait_for("ingest", self.ingest_subscribed, SUBSCRIBED_TIMEOUT_S):
                return False
        except DemoError:
            # A slow subscription is not fatal: report it and carry on; a death is fatal.
            self.check_children()
            self.console.print("[yellow]the ingestor has not reported its subscription yet[/]")
        self.console.print("starting the API ...")
        self.start_child("api", ["api"])
        if not self.wait_for("the API (/health)", self.api_healthy, READY_TIMEOUT_S):
            return False
        self.console.print("starting the simulator ...")
        self.start_child("simulate", ["simulate", *SIMULATE_ARGS])
        return True

    # --- reporting -----------------------------------------------------------------------

    def report(self) -> None:
        base = self.api_base()
        now = datetime.now(UTC).replace(microsecond=0)
        query = urlencode(
            {
                "start": (now - timedelta(hours=1)).isoformat().replace("+00:00", "Z"),
                "end": (now + timedelta(hours=1)).isoformat().replace("+00:00", "Z"),
                "group_by": "domain",
                "interval": "15m",
            },
            safe=":",
        )
        self.urls = {
            "api docs": f"{base}/docs",
            "emissions": f"{base}/api/v1/emissions?{query}",
            "sensors": f"{base}/api/v1/sensors",
            "health": f"{base}/health",
        }
        metrics = self.metrics_url()
        if metrics:
            self.urls["ingest metrics"] = metrics
        self.urls["mqtt"] = redact(self.mqtt_url)
        self.urls["influxdb"] = redact(self.influx_url)
        self.urls["logs"] = str(self.base / "logs")
        self.write_state()

        console = self.console
        console.print()
        console.print("[bold green]smartplace demo is running[/]")
        width = max(len(name) for name in self.urls)
        for name, url in self.urls.items():
            console.print(f"  {name:<{width}}  {escape(url)}", soft_wrap=True)
        if self.settings.api_key_list():
            console.print(
                "  (API keys are set: send `Authorization: Bearer <key>` to /api/v1 routes)"
            )
        console.print("\nPress Ctrl-C to stop everything the demo started.")

    def write_state(self) -> None:
        state = {
            "pid": os.getpid(),
            "children": {c.name: c.pid for c in self.children},
            "servers": {
                s.name: s.process.pid for s in self.servers if s.process is not None
            },
            "urls": self.urls,
        }
        path = self.base / STATE_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2) + "\n")
        tmp.replace(path)

    # --- shutdown ------------------------------------------------------------------------

    def stop_all(self) -> None:
        """Stop the simulator, the ingestor, the API, then the servers the demo started."""
        for child in sorted(self.children, key=lambda c: STOP_ORDER.index(c.name)):
            if child.returncode() is None:
                self.console.print(f"stopping {child.name} ...")
            if not child.stop(STOP_TIMEOUT_S.get(child.name, 10.0), self.flag):
                self.console.print(f"[yellow]{child.name} did not exit in time: killed[/]")
        for server in reversed(self.servers):
            self.console.print(f"stopping {server.name} ...")
            server.stop()
            if server.process is not None:
                _kill_group(server.process.pid)
        with contextlib.suppress(OSError):
            (self.base / STATE_FILE).unlink()


def run_demo(settings: Settings, console: Console | None = None) -> int:
    """Run the demo until Ctrl-C or SIGTERM.

    Returns:
        0 after a requested stop; 1 when something could not start or died.
    """
    console = console or Console(highlight=False)
    base = STATE_DIR.resolve()
    base.mkdir(parents=True, exist_ok=True)
    other = _previous_demo(base / STATE_FILE)
    if other is not None:
        console.print(
            f"[red]another demo (pid {other}) is running from this folder:[/] stop it first"
        )
        return 1

    demo = Demo(settings, console, base)
    previous: dict[signal.Signals, Any] = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        previous[signum] = signal.signal(signum, demo.flag.handler)
    code = 0
    try:
        if demo.start_all():
            demo.report()
            while not demo.flag.requested:
                demo.check_children()
                time.sleep(0.2)
        console.print("\nstopping ...")
    except DemoError as exc:
        console.print(f"[red]error:[/] {escape(str(exc))}", soft_wrap=True)
        code = 1
    finally:
        demo.stop_all()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if code == 0:
        console.print("stopped.")
    return code
