"""Node-RED as a peer of the ingest benchmark: the flow in ``bench/nodered/``, timed on the
same queued messages as smartplace (see ``bench/nodered/README.md``).

The harness makes one :class:`NodeRedPeer`, calls :meth:`~NodeRedPeer.register` before
publishing (so the broker queues the messages for Node-RED's persistent session) and
:meth:`~NodeRedPeer.drain` afterwards. ``python -m bench.nodered_peer`` is a self-check
that runs it on its own servers next to the count-only paho subscriber.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from bench.drain import Bench, Drained, check_content, run, table
from bench.influx_counts import points_written, stored_readings
from bench.messages import PREFIX
from bench.procstat import process_cpu_seconds
from smartplace.broker_auth import BrokerAccount, new_password
from smartplace.servers import free_port

NODERED_DIR = Path(__file__).resolve().parent / "nodered"
RED_JS = NODERED_DIR / "node_modules" / "node-red" / "red.js"
# Logged by Node-RED's broker node on CONNACK; it sends its SUBSCRIBE right after, on the
# same connection, and the broker starts sending the session's queue at once.
CONNECTED = "Connected to broker: "
FAILED = ("Connection failed to broker", "Error loading flows", "Error: ")
BROKER_NODE_ID = "c0a1f0e5d1b2a302"
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
# No write for this long, fewer points than expected: Node-RED has lost the rest.
# (Longer than the join node's timeout, after which it writes a part batch.)
STALL_S = 10.0


@dataclass
class PeerRun:
    """One drain: wall seconds, CPU seconds of the node process, readings stored."""

    seconds: float
    cpu_seconds: float
    stored: int

    @property
    def rate(self) -> float:
        return self.stored / self.seconds

    @property
    def cpu_ms_per_1k(self) -> float:
        return self.cpu_seconds * 1e6 / self.stored


def fill(template: Any, values: dict[str, str]) -> Any:
    """The flow template with every ``{{name}}`` in its strings replaced."""
    if isinstance(template, dict):
        return {key: fill(value, values) for key, value in template.items()}
    if isinstance(template, list):
        return [fill(value, values) for value in template]
    if isinstance(template, str):
        return _PLACEHOLDER.sub(lambda match: values[match.group(1)], template)
    return template


class NodeRedPeer:
    """Node-RED 4 + node-red-contrib-influxdb, installed by ``make bench-peers``.

    ``flatten_counts`` stores a transport reading's ``counts`` as ``count_<class>`` fields
    (as smartplace does); False reproduces the stock mapping, which drops them. Node-RED
    runs with ``workdir/nodered`` as its user folder and logs to ``workdir/nodered.log``;
    its broker password reaches it through its environment only.
    """

    def __init__(self, workdir: Path, broker_host: str, broker_port: int,
                 username: str, password: str, prefix: str,
                 influx_url: str, database: str, *, flatten_counts: bool = True,
                 batch_size: int = 1000, batch_timeout_s: float = 1.0) -> None:
        influx = urlsplit(influx_url)
        if influx.scheme != "http" or influx.hostname is None:
            raise ValueError(f"the Node-RED peer writes to an http:// InfluxDB, not {influx_url}")
        self.influx_url = influx_url.rstrip("/")
        self.database = database
        self.user_dir = workdir / "nodered"
        self.log_path = workdir / "nodered.log"
        self.port = free_port()
        self._username = username
        self._password = password
        self._process: subprocess.Popen[bytes] | None = None
        code = f"const FLATTEN_COUNTS = {'true' if flatten_counts else 'false'};\n"
        self._values = {
            "broker_host": broker_host, "broker_port": str(broker_port),
            # The broker holds a client to the id that is its user name.
            "client_id": username, "topic": f"{prefix.strip('/')}/#",
            "influx_host": influx.hostname, "influx_port": str(influx.port or 8086),
            "database": database, "batch_size": str(batch_size),
            "batch_timeout_s": str(batch_timeout_s),
            "to_point": code + (NODERED_DIR / "to_point.js").read_text(),
        }

    def register(self) -> None:
        """Create the database, start Node-RED so its persistent session subscribes to the
        prefix, and stop it again; messages published from now on wait for it."""
        response = httpx.post(f"{self.influx_url}/query", timeout=10,
                              params={"q": f'CREATE DATABASE "{self.database}"'})
        response.raise_for_status()
        self._write_user_dir()
        self._start()
        self._wait_connected(log_offset=0, timeout_s=60)
        # Its SUBSCRIBE went out right after CONNACK; a graceful stop sends DISCONNECT
        # behind it on the same connection (and no UNSUBSCRIBE: autoUnsubscribe is off).
        time.sleep(1.0)
        self._stop()

    def drain(self, expected: int, timeout_s: float = 600) -> PeerRun:
        """Start Node-RED on its queued session and time it from its connection (when the
        broker starts sending) until ``expected`` readings are in InfluxDB.

        When the writes stop short of ``expected`` for ``STALL_S`` (Node-RED lost some),
        it returns what was stored, timed to the last write.
        """
        if (already := stored_readings(self.influx_url, self.database)) > 0:
            raise SystemExit(f"benchmark: database {self.database!r} already holds {already} "
                             "readings; give each drain a new one")
        written_before = points_written(self.influx_url, self.database)
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        process = self._start()
        try:
            started = self._wait_connected(offset, timeout_s=60)
            cpu_before = process_cpu_seconds(process.pid)
            done, cpu = self._wait_written(process, written_before, expected,
                                           deadline=started + timeout_s)
            # The cheap counter said when; the count says what is there. Points accepted
            # twice (same series and time) are stored once: give the count time to catch up.
            stall = time.perf_counter() + STALL_S
            while (stored := stored_readings(self.influx_url, self.database)) < expected:
                if time.perf_counter() > stall:
                    break
                time.sleep(0.2)
                done, cpu = time.perf_counter(), process_cpu_seconds(process.pid)
        finally:
            self._stop()
        return PeerRun(done - started, cpu - cpu_before, stored)

    def _wait_written(self, process: subprocess.Popen[bytes], written_before: int,
                      expected: int, deadline: float) -> tuple[float, float]:
        """(perf_counter, process CPU seconds) when ``expected`` points were accepted, or at
        the last accepted write if they stopped coming for ``STALL_S``."""
        last_written, last_change = 0, time.perf_counter()
        last_cpu = process_cpu_seconds(process.pid)
        while last_written < expected:
            time.sleep(0.05)
            written = points_written(self.influx_url, self.database) - written_before
            now = time.perf_counter()
            if written != last_written:
                last_written, last_change = written, now
                last_cpu = process_cpu_seconds(process.pid)
            elif now - last_change > STALL_S:
                break
            if process.poll() is not None:
                raise SystemExit(f"benchmark: Node-RED exited:\n{self.log_tail()}")
            if now > deadline:
                raise SystemExit(f"benchmark: Node-RED wrote {written} of {expected} readings "
                                 f"in time:\n{self.log_tail()}")
        return last_change, last_cpu

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def _write_user_dir(self) -> None:
        self.user_dir.mkdir(parents=True, exist_ok=True)
        template = orjson.loads((NODERED_DIR / "flow.json").read_bytes())
        flows = fill(template, self._values)
        (self.user_dir / "flows.json").write_bytes(orjson.dumps(flows, option=orjson.OPT_INDENT_2))
        # Node-RED puts ${VAR} credentials through its environment: nothing secret on disk.
        credentials = {BROKER_NODE_ID: {"user": "${BENCH_MQTT_USER}",
                                        "password": "${BENCH_MQTT_PASSWORD}"}}
        (self.user_dir / "flows_cred.json").write_bytes(orjson.dumps(credentials))

    def _start(self) -> subprocess.Popen[bytes]:
        node = shutil.which("node")
        if node is None:
            raise SystemExit("benchmark: Node.js is not installed (Debian: apt-get install nodejs)")
        if not RED_JS.is_file():
            raise SystemExit("benchmark: Node-RED is not installed; run 'make bench-peers'")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.user_dir),
            "NODE_ENV": "production", "BENCH_NODERED_PORT": str(self.port),
            "BENCH_MQTT_USER": self._username, "BENCH_MQTT_PASSWORD": self._password,
        }
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [node, str(RED_JS), "--settings", str(NODERED_DIR / "settings.js"),
                 "--userDir", str(self.user_dir)],
                env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        return self._process

    def _wait_connected(self, log_offset: int, timeout_s: float) -> float:
        """perf_counter() when the log first shows the broker connection after the offset."""
        assert self._process is not None
        deadline = time.perf_counter() + timeout_s
        while time.perf_counter() < deadline:
            with self.log_path.open("rb") as log:
                log.seek(log_offset)
                text = log.read().decode(errors="replace")
            if CONNECTED in text:
                return time.perf_counter()
            if any(failure in text for failure in FAILED) or self._process.poll() is not None:
                self._stop()
                raise SystemExit(f"benchmark: Node-RED did not connect:\n{self.log_tail()}")
            time.sleep(0.01)
        self._stop()
        raise SystemExit(f"benchmark: Node-RED did not connect in {timeout_s}s:\n"
                         f"{self.log_tail()}")

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class NodeRed:
    """The Node-RED peer as a contender of :func:`bench.drain.run`."""

    flatten_counts: bool = True
    batch_size: int = 1000
    account: BrokerAccount = field(default_factory=lambda: BrokerAccount(
        "bench-nodered", new_password(), read=(f"{PREFIX}/#",)))
    database: str = "nodered"
    _peer: NodeRedPeer | None = None

    @property
    def name(self) -> str:
        counts = "counts flattened" if self.flatten_counts else "drops the nested counts"
        return (f"Node-RED 4.1.8 + node-red-contrib-influxdb batch (acks on receipt; "
                f"{counts})")

    def accounts(self) -> list[BrokerAccount]:
        return [self.account]

    def register(self, bench: Bench) -> None:
        self._peer = NodeRedPeer(bench.workdir, "127.0.0.1", bench.broker.port,
                                 self.account.username, self.account.password, bench.prefix,
                                 bench.store.url, self.database,
                                 flatten_counts=self.flatten_counts, batch_size=self.batch_size)
        self._peer.register()

    def drain(self, bench: Bench) -> Drained:
        assert self._peer is not None, "register() first"
        run = self._peer.drain(len(bench.messages))
        stored, problems = check_content(bench, self.database)
        return Drained(self.name, len(bench.messages), run.seconds, run.cpu_seconds,
                       stored, problems)


def main() -> None:
    """Self-check: the count-only baseline and Node-RED on their own servers."""
    import argparse

    from bench.consumers import CountOnly

    parser = argparse.ArgumentParser(description="Node-RED peer self-check")
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=1000, help="join node count")
    parser.add_argument("--drop-counts", action="store_true",
                        help="the stock mapping: transport counts are not stored")
    args = parser.parse_args()
    baseline = CountOnly()
    results = run([baseline, NodeRed(not args.drop_counts, args.batch_size)], args.messages)
    print(table(results, baseline.name))


if __name__ == "__main__":
    main()
