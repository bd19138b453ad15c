"""The drain benchmark: several consumers, one queue of messages each, timed in one run.

Method: every consumer registers a persistent session (or a shared-subscription group)
on one broker and goes offline; N QoS 1 messages are published once and the broker
queues them for every consumer. Each consumer is then started alone and timed while it
drains its queue, from its first message to its last (stored, for those that store),
and charged the CPU its processes used in that time. Ratios are taken against the
count-only paho subscriber of the same run, because these machines are shared and
noisy: only figures from one run compare.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

import httpx
import orjson

from bench.messages import PREFIX, Totals, payloads, publish, totals
from bench.mixed import FORMAT_TOPICS, devices, mixed_payloads, mixed_totals
from bench.procstat import cpu_seconds
from smartplace.broker_auth import BrokerAccount, publisher_account
from smartplace.servers import InfluxServer, MosquittoServer

RECEIVE_MAXIMUM = 20_000


@dataclass(frozen=True)
class Drained:
    """What one consumer did with its queue."""

    name: str
    messages: int
    seconds: float
    cpu_seconds: float
    stored: int | None = None  # None: the consumer stores nothing (the baselines)
    problems: tuple[str, ...] = ()  # content that did not arrive as published
    # The servers' CPU over the whole drain (start-up and shut-down of the consumer too).
    store_cpu_seconds: float = 0.0
    broker_cpu_seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.messages / self.seconds

    @property
    def cpu_ms_per_1k(self) -> float:
        return self.cpu_seconds * 1000 / (self.messages / 1000)

    def per_1k(self, seconds: float) -> float:
        return seconds * 1000 / (self.messages / 1000)

    @property
    def lost(self) -> int:
        return 0 if self.stored is None else self.messages - self.stored


@dataclass
class Bench:
    """The servers and the published messages every consumer drains."""

    workdir: Path
    broker: MosquittoServer
    store: InfluxServer
    messages: list[tuple[str, bytes]] = field(default_factory=list)
    expected: Totals = field(default_factory=Totals)
    prefix: str = PREFIX
    # What the consumers subscribe to, and the ingestor's devices file (the mixed drain).
    topics: tuple[str, ...] = (f"{PREFIX}/#",)
    devices_file: Path | None = None


class Consumer(Protocol):
    """One contender: its broker accounts, its session set-up, and its timed drain."""

    @property
    def name(self) -> str: ...

    def accounts(self) -> list[BrokerAccount]: ...

    def register(self, bench: Bench) -> None: ...

    def drain(self, bench: Bench) -> Drained: ...


def check_content(bench: Bench, database: str) -> tuple[int, tuple[str, ...]]:
    """How many readings ``database`` holds, and what differs from what was published."""
    answer = httpx.get(f"{bench.store.url}/query", timeout=60, params={
        "db": database, "q": "SELECT count(seq) AS n FROM energy, transport, air_quality; "
        "SELECT sum(energy_kwh) AS kwh FROM energy; "
        "SELECT sum(count_car) + sum(count_motorcycle) + sum(count_van) + sum(count_hgv) + "
        "sum(count_bus) + sum(count_bicycle) + sum(count_pedestrian) AS vehicles "
        "FROM transport; SELECT sum(no2_ugm3) AS no2 FROM air_quality; "
        "SELECT count(register_kwh) AS n FROM energy"}).json()
    results = answer["results"]
    counts = {series["name"]: int(series["values"][0][1])
              for series in results[0].get("series", [])}

    def one(index: int) -> float:
        series = results[index].get("series")
        return float(series[0]["values"][0][1] or 0) if series else 0.0

    expected = bench.expected
    problems = [f"{name}: {counts.get(name, 0)} of {count}"
                for name, count in sorted(expected.by_measurement.items())
                if counts.get(name, 0) != count]
    for label, got, want in (("energy_kwh sum", one(1), expected.energy_kwh),
                             ("vehicle counts sum", one(2), float(expected.vehicles)),
                             ("no2_ugm3 sum", one(3), expected.no2_ugm3)):
        if abs(got - want) > 1e-6 * max(1.0, abs(want)):
            problems.append(f"{label}: {got:,.1f}, published {want:,.1f}")
    registers = int(one(4))
    if registers != expected.registers:
        problems.append(f"meter registers: {registers} of {expected.registers}")
    return sum(counts.values()) + registers, tuple(problems)


def run(consumers: Sequence[Consumer], messages: int = 100_000, sensors: int = 300,
        workdir: Path | None = None, mixed: bool = False) -> list[Drained]:
    """Queue ``messages`` for every consumer on fresh servers, then drain each in turn;
    ``mixed``: half of the sensors in device formats (:mod:`bench.mixed`)."""
    workdir = workdir or Path(tempfile.mkdtemp(prefix="smartplace-bench-"))
    publisher = publisher_account("bench-publisher", PREFIX, FORMAT_TOPICS)
    accounts = [publisher] + [one for consumer in consumers for one in consumer.accounts()]
    broker = MosquittoServer(workdir, accounts=accounts, prefixes=[PREFIX])
    store = InfluxServer(workdir)
    broker.start()
    store.start()
    try:
        bench = Bench(workdir, broker, store)
        if mixed:
            bench.topics += FORMAT_TOPICS
            bench.devices_file = workdir / "devices.json"
            bench.devices_file.write_bytes(orjson.dumps(devices(sensors)))
        for consumer in consumers:
            consumer.register(bench)
        bench.messages = (mixed_payloads if mixed else payloads)(messages, sensors)
        bench.expected = (mixed_totals if mixed else totals)(bench.messages)
        seconds = publish(broker.port, publisher, bench.messages)
        print(f"published {messages:,} QoS 1 messages from {sensors:,} sensors in "
              f"{seconds:.1f}s ({messages / seconds:,.0f}/s), queued for "
              f"{len(consumers)} consumers", flush=True)
        return [_drain_one(bench, consumer) for consumer in consumers]
    finally:
        broker.stop()
        store.stop()


def _drain_one(bench: Bench, consumer: Consumer) -> Drained:
    servers = [bench.store.process, bench.broker.process]
    pids = [process.pid for process in servers if process is not None]
    before = [cpu_seconds(pid) for pid in pids]
    drained = consumer.drain(bench)
    if len(pids) != 2:
        return drained
    store, broker = (cpu_seconds(pid) - then for pid, then in zip(pids, before, strict=True))
    return replace(drained, store_cpu_seconds=store, broker_cpu_seconds=broker)


def table(results: Sequence[Drained], baseline: str) -> str:
    """The results as a Markdown table, ratios against ``baseline``'s rate."""
    base = next(one.rate for one in results if one.name == baseline)
    lines = ["| consumer | msg/s | vs count-only paho | CPU ms per 1k msgs | influxd / "
             "mosquitto CPU ms per 1k | lost | notes |", "|---|---|---|---|---|---|---|"]
    for one in results:
        lost = "-" if one.stored is None else f"{one.lost:,}"
        servers = (f"{one.per_1k(one.store_cpu_seconds):,.0f} / "
                   f"{one.per_1k(one.broker_cpu_seconds):,.0f}")
        lines.append(f"| {one.name} | {one.rate:,.0f} | {one.rate / base:.2f} | "
                     f"{one.cpu_ms_per_1k:,.0f} | {servers} | {lost} | "
                     f"{'; '.join(one.problems)} |")
    return "\n".join(lines)
