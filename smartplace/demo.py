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
from smartplace.children import Child, child_environment
from smartplace.demo_processes import STOP_TIMEOUT_S, DemoProcesses
from smartplace.endpoints import (
    SIMULATOR_ACCOUNT,
    api_healthy,
    demo_urls,
    ingest_subscribed,
    plan_servers,
    redact,
)
from smartplace.errors import DemoError
from smartplace.servers import free_port, port_open
from smartplace.state import STATE_FILE, previous_demo

STATE_DIR = Path(".smartplace")
READY_TIMEOUT_S = 60.0
SUBSCRIBED_TIMEOUT_S = 30.0
#: A day of the registry's readings takes well under this on a laptop; a slower backfill
#: is stopped (it flushes what it sent) so that the live demo is not held up.
BACKFILL_TIMEOUT_S = 120.0
#: The simulator's options in the demo: real-time rate, and a few bad messages so that
#: the dead-letter path is visible.
# --grid: also a simulated regional carbon-intensity feed, for method=grid_intensity.
SIMULATE_ARGS = ("--bad-ratio", "0.01", "--grid")


class Demo:
    """One demo run: what to start, in which order, and where to look (what it started,
    to stop exactly that, is :class:`~smartplace.demo_processes.DemoProcesses`)."""

    def __init__(self, settings: Settings, console: Console, base: Path) -> None:
        self.settings = settings
        self.console = console
        self.base = base
        self.processes = DemoProcesses(console, base)
        self.mqtt_url = settings.mqtt_url
        # Which broker account each child logs in with (none: settings.mqtt_url as given).
        self.mqtt_urls: dict[str, str] = {}
        self.influx_url = settings.influx_url
        self.device_format = NATIVE

    # --- starting ------------------------------------------------------------------------

    def start_servers(self) -> None:
        """Start the servers that do not answer yet; raise DemoError when one cannot."""
        broker, influx = plan_servers(self.settings, self.base)
        if broker is None:
            self.console.print(f"reusing the MQTT broker at {escape(redact(self.mqtt_url))}")
        else:
            self.console.print(f"starting mosquitto on port {broker.port} ...")
            self.processes.start_server(broker)
            self.mqtt_url = broker.url
            ingest = broker.url_for(self.settings.ingest_client_id)
            simulator = broker.url_for(SIMULATOR_ACCOUNT)
            self.mqtt_urls = {"ingest": ingest, "api": broker.url, "simulate": simulator,
                              "backfill": simulator}
        if influx is None:
            self.console.print(f"reusing InfluxDB at {escape(redact(self.influx_url))}")
        else:
            self.console.print(f"starting influxd on port {influx.port} ...")
            self.processes.start_server(influx)
            self.influx_url = influx.url

    def start_child(self, name: str, args: list[str]) -> Child:
        """Start ``smartplace <args>`` with this child's broker account and the servers'
        URLs; it is stopped at exit."""
        env = child_environment(self.settings, self.mqtt_urls.get(name, self.mqtt_url),
                                self.influx_url)
        return self.processes.start_child(name, args, env)

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
        if self.processes.flag.requested:
            return False
        self.console.print("starting the ingestor ...")
        self.start_child("ingest", ["ingest"])
        try:
            if not self.processes.wait_for("ingest", lambda: ingest_subscribed(self.settings),
                                           SUBSCRIBED_TIMEOUT_S):
                return False
        except DemoError:
            # A slow subscription is not fatal: report it and carry on; a death is fatal.
            self.processes.check_children()
            self.console.print("[yellow]the ingestor has not reported its subscription yet[/]")
        self.console.print("starting the API ...")
        self.start_child("api", ["api"])
        if not self.processes.wait_for("the API (/health)",
                                       lambda: api_healthy(self.settings), READY_TIMEOUT_S):
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
            the demo's processes, for ``stop_all`` to stop).
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
            if self.processes.flag.requested:
                return False
            # The backfill exiting is expected; any other child exiting is fatal.
            self.processes.check_children(ignore=child)
            if time.monotonic() > deadline:
                self.console.print(f"[yellow]the backfill did not finish within "
                                   f"{BACKFILL_TIMEOUT_S:.0f}s: stopping it[/]")
                break
            time.sleep(0.2)
        # SIGTERM makes a late backfill flush and print its summary; for one that has
        # exited, this only reaps whatever it left in its process group.
        child.stop(STOP_TIMEOUT_S["backfill"], self.processes.flag)
        code = child.returncode()
        self.processes.forget(child)
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
        urls = demo_urls(self.settings, self.mqtt_url, self.influx_url, self.base / "logs",
                         datetime.now(UTC))
        self.processes.urls = urls
        self.processes.write_state()

        console = self.console
        console.print()
        console.print("[bold green]smartplace demo is running[/]")
        width = max(len(name) for name in urls)
        for name, url in urls.items():
            console.print(f"  {name:<{width}}  {escape(url)}", soft_wrap=True)
        if self.settings.api_key_list():
            console.print(
                "  (API keys are set: send `Authorization: Bearer <key>` to /api/v1 routes)"
            )
        console.print("\nPress Ctrl-C to stop everything the demo started.")

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
    processes = demo.processes
    previous: dict[signal.Signals, Any] = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        previous[signum] = signal.signal(signum, processes.flag.handler)
    code = 0
    try:
        if demo.start_all():
            demo.report()
            while not processes.flag.requested:
                processes.check_children()
                time.sleep(0.2)
        console.print("\nstopping ...")
    except DemoError as exc:
        console.print(f"[red]error:[/] {escape(str(exc))}", soft_wrap=True)
        code = 1
    finally:
        processes.stop_all()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if code == 0:
        console.print("stopped.")
    return code
