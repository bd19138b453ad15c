"""``smartplace demo``: the whole system on one machine.

Under ``.smartplace/`` in the current folder it starts (or reuses) a local ``mosquitto``
and ``influxd``, then the ingestor and the API, backfills the last day of readings
(unless the database has recent ones, see :mod:`smartplace.backfill`), starts the live
simulator, prints where to look, and waits. On Ctrl-C (SIGINT) or SIGTERM it stops
everything it started, in reverse order: the simulators, the ingestor (SIGTERM, so it
flushes and acknowledges), the API, then the servers it started. Servers it found
already running are left alone.

The live simulator runs a mixed network (:mod:`simulators.devices`): some sensors native,
some LoRaWAN (The Things Stack, ChirpStack), the electricity meters Shelly Pro 3EMs and
the solar and EV meters Tasmota plugs, with the matching devices file written to
``.smartplace/devices.json`` and given to the ingestor and the API. (With your own
``SMARTPLACE_DEVICES_FILE`` the simulator stays native.) The backfill is native: a
simulated meter's register starts from zero in each run, so history in a register format
would begin every run with a reset.

Files:

- ``.smartplace/mosquitto/``, ``.smartplace/influxdb/``: server configs, data and logs;
- ``.smartplace/devices.json``: the devices file of the simulated mixed network;
- ``.smartplace/logs/<name>.log``: the output of each child (text log format);
- ``.smartplace/demo.json``: the pids and URLs of the running demo (removed at exit).
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.markup import escape

from sensors.registry import load_registry
from sensors.settings import Settings
from simulators.devices import MIXED, NATIVE, devices_file, plan
from smartplace.backfill import (
    backfill_args,
    backfill_start,
    describe,
    has_recent_readings,
    read_summary,
)
from smartplace.children import Child, StopFlag, child_environment, kill_group
from smartplace.endpoints import (
    SIMULATOR_ACCOUNT,
    api_healthy,
    demo_urls,
    ingest_subscribed,
    plan_servers,
    redact,
)
from smartplace.errors import DemoError, ServerError
from smartplace.servers import LocalServer, free_port, port_open
from smartplace.state import STATE_FILE, previous_demo, remove_state, write_state

STATE_DIR = Path(".smartplace")
READY_TIMEOUT_S = 60.0
SUBSCRIBED_TIMEOUT_S = 30.0
#: A day of the registry's readings takes well under this on a laptop; a slower backfill
#: is stopped (it flushes what it sent) so that the live demo is not held up.
BACKFILL_TIMEOUT_S = 120.0
#: How long each child gets to exit after SIGTERM before its process group is killed.
STOP_TIMEOUT_S = {"backfill": 10.0, "simulate": 10.0, "ingest": 20.0, "api": 10.0}
#: Stop the publishers first, then the ingestor (it flushes what it received), then the API.
STOP_ORDER = ("backfill", "simulate", "ingest", "api")
#: The simulator's options in the demo: real-time rate, and a few bad messages so that
#: the dead-letter path is visible.
# --grid: also a simulated regional carbon-intensity feed, for method=grid_intensity.
SIMULATE_ARGS = ("--bad-ratio", "0.01", "--grid")


class Demo:
    """The state of one demo run: what it started, so that it can stop exactly that."""

    def __init__(self, settings: Settings, console: Console, base: Path) -> None:
        self.settings = settings
        self.console = console
        self.base = base
        self.flag = StopFlag()
        self.servers: list[LocalServer] = []
        self.children: list[Child] = []
        self.mqtt_url = settings.mqtt_url
        # Which broker account each child logs in with (none: settings.mqtt_url as given).
        self.mqtt_urls: dict[str, str] = {}
        self.influx_url = settings.influx_url
        self.urls: dict[str, str] = {}
        self.device_format = NATIVE

    # --- starting ------------------------------------------------------------------------

    def start_servers(self) -> None:
        """Start the servers that do not answer yet; raise DemoError when one cannot."""
        broker, influx = plan_servers(self.settings, self.base)
        if broker is None:
            self.console.print(f"reusing the MQTT broker at {escape(redact(self.mqtt_url))}")
        else:
            self.console.print(f"starting mosquitto on port {broker.port} ...")
            self._start_server(broker)
            self.mqtt_url = broker.url
            ingest = broker.url_for(self.settings.ingest_client_id)
            simulator = broker.url_for(SIMULATOR_ACCOUNT)
            self.mqtt_urls = {"ingest": ingest, "api": broker.url, "simulate": simulator,
                              "backfill": simulator}
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

    def start_child(self, name: str, args: list[str]) -> Child:
        """Start ``smartplace <args>`` logging to ``logs/<name>.log``; it is stopped at exit."""
        env = child_environment(self.settings, self.mqtt_urls.get(name, self.mqtt_url),
                                self.influx_url)
        child = Child(name, args, self.base / "logs" / f"{name}.log", env)
        child.start()
        self.children.append(child)
        self.write_state()
        return child

    def check_children(self, ignore: Child | None = None) -> None:
        """Raise DemoError when a child (but ``ignore``) or a started server has exited."""
        for child in self.children:
            code = child.returncode()
            if code is not None and child is not ignore:
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

    def prepare_devices(self) -> None:
        """Write the mixed network's devices file (unless the user has one) and move the
        Sensor.Community receiver to a free port when its own is taken."""
        updates: dict[str, object] = {}
        if self.settings.devices_file is None:
            sensors = load_registry().sensors
            path = self.base / "devices.json"
            self.base.mkdir(parents=True, exist_ok=True)
            path.write_bytes(orjson.dumps(devices_file(sensors, plan(sensors, MIXED)),
                                          option=orjson.OPT_INDENT_2))
            updates["devices_file"] = path
            self.device_format = MIXED
            self.console.print(f"mixed network: native, LoRaWAN, Shelly and Tasmota sensors "
                               f"(devices file {escape(str(path))})")
        else:
            self.console.print(f"using your devices file {escape(str(self.settings.devices_file))}"
                               "; the simulator publishes native messages")
        port = self.settings.ingest_http_port
        if port and port_open(port, "127.0.0.1"):
            updates["ingest_http_port"] = free_port()
            self.console.print(f"port {port} is taken: the Sensor.Community receiver listens on "
                               f"{updates['ingest_http_port']}")
        if updates:
            self.settings = self.settings.model_copy(update=updates)

    def start_all(self) -> bool:
        """Start servers and children; False when a stop was requested meanwhile."""
        self.prepare_devices()  # first: the broker's ACL covers the formats' topics
        self.start_servers()
        if self.flag.requested:
            return False
        self.console.print("starting the ingestor ...")
        self.start_child("ingest", ["ingest"])
        try:
            if not self.wait_for("ingest", lambda: ingest_subscribed(self.settings),
                                 SUBSCRIBED_TIMEOUT_S):
                return False
        except DemoError:
            # A slow subscription is not fatal: report it and carry on; a death is fatal.
            self.check_children()
            self.console.print("[yellow]the ingestor has not reported its subscription yet[/]")
        self.console.print("starting the API ...")
        self.start_child("api", ["api"])
        if not self.wait_for("the API (/health)", lambda: api_healthy(self.settings),
                             READY_TIMEOUT_S):
            return False
        if not self.backfill():
            return False
        self.console.print("starting the simulator ...")
        self.start_child("simulate", ["simulate", *SIMULATE_ARGS, "--format",
                                      self.device_format])
        return True

    def backfill(self) -> bool:
        """Publish the last day of readings once, unless the database has recent ones.

        A backfill that fails or runs out of time is reported, and the demo carries on.

        Returns:
            False when a stop was requested meanwhile (the backfill is then still in
            ``children``, for ``stop_all`` to stop).
        """
        if has_recent_readings(self.settings, self.influx_url):
            self.console.print(
                "InfluxDB has readings from the last 24 hours: skipping the backfill"
            )
            return True
        since = backfill_start(datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
        self.console.print(f"backfilling readings since {since} (all of yesterday) ...")
        child = self.start_child("backfill", backfill_args(datetime.now(UTC)))
        deadline = time.monotonic() + BACKFILL_TIMEOUT_S
        while child.returncode() is None:
            if self.flag.requested:
                return False
            # The backfill exiting is expected; any other child exiting is fatal.
            self.check_children(ignore=child)
            if time.monotonic() > deadline:
                self.console.print(f"[yellow]the backfill did not finish within "
                                   f"{BACKFILL_TIMEOUT_S:.0f}s: stopping it[/]")
                break
            time.sleep(0.2)
        # SIGTERM makes a late backfill flush and print its summary; for one that has
        # exited, this only reaps whatever it left in its process group.
        child.stop(STOP_TIMEOUT_S["backfill"], self.flag)
        code = child.returncode()
        self.children.remove(child)
        self.write_state()
        summary = read_summary(child.log_path)
        if summary is not None:
            self.console.print(describe(summary))
        if code != 0 or summary is None:
            self.console.print(
                f"[yellow]the backfill failed (exit code {code}, log: {child.log_path}); "
                f"carrying on with live readings:[/]\n{escape(child.log_tail())}",
                soft_wrap=True,
            )
        return True

    # --- reporting -----------------------------------------------------------------------

    def report(self) -> None:
        """Print (and record in the state file) where to look."""
        self.urls = demo_urls(self.settings, self.mqtt_url, self.influx_url,
                              self.base / "logs", datetime.now(UTC))
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
        """Write the pids and URLs to the state file (atomically, by rename)."""
        write_state(
            self.base / STATE_FILE,
            children={c.name: c.pid for c in self.children},
            servers={s.name: s.process.pid for s in self.servers if s.process is not None},
            urls=self.urls,
        )

    # --- shutdown ------------------------------------------------------------------------

    def stop_all(self) -> None:
        """Stop the simulators, the ingestor, the API, then the servers the demo started."""
        for child in sorted(self.children, key=lambda c: STOP_ORDER.index(c.name)):
            if child.returncode() is None:
                self.console.print(f"stopping {child.name} ...")
            if not child.stop(STOP_TIMEOUT_S.get(child.name, 10.0), self.flag):
                self.console.print(f"[yellow]{child.name} did not exit in time: killed[/]")
        for server in reversed(self.servers):
            self.console.print(f"stopping {server.name} ...")
            server.stop()
            if server.process is not None:
                kill_group(server.process.pid)
        remove_state(self.base / STATE_FILE)


def run_demo(settings: Settings, console: Console | None = None) -> int:
    """Run the demo until Ctrl-C or SIGTERM.

    Returns:
        0 after a requested stop; 1 when something could not start or died.
    """
    console = console or Console(highlight=False)
    base = STATE_DIR.resolve()
    base.mkdir(parents=True, exist_ok=True)
    other = previous_demo(base / STATE_FILE)
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
