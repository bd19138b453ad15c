"""The simulation engine: pace simulated readings onto MQTT and report what was acknowledged.

Pacing: a heap holds every sensor keyed by its next reading's offset in simulated seconds
from the start. With speed factor ``f = rate / default_rate`` (``default_rate`` being each
sensor once per its ``interval_s``) an offset is due ``offset / f`` wall seconds after the
start, so ``--rate`` scales every sensor alike and the total rate is ``rate``.

Timestamps and ``seq``: in live mode ``ts`` is the wall clock, bumped by 1 ms when a sensor
would repeat a millisecond (InfluxDB keeps one point per series and timestamp). In
backfill mode (``--start``) sensor readings fall at ``start + k * interval_s``. ``seq``
starts at 0 for every sensor on each run and grows by 1 per valid reading: a malformed
message replaces a slot but is not one of the sensor's readings.
"""

from __future__ import annotations

import heapq
import random
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson

from sensors.readings import to_payload
from sensors.registry import Sensor, load_registry
from sensors.settings import Settings
from sensors.timestamps import now_ms
from sensors.topics import Domain, build_topic
from simulators.badinput import random_bad_message
from simulators.devices import CHOICES, NATIVE, plan
from simulators.encoders import Encoders
from simulators.errors import OptionError
from simulators.grid import GRID_TAG, GridFeedSimulator
from simulators.profiles import generate_reading
from simulators.publisher import MqttPublisher

_BAD = "bad:"


@dataclass(frozen=True, slots=True)
class SimulationOptions:
    """What to publish and how fast (see the module docstring for the pacing rules).

    Attributes:
        sensors: the sensors to simulate; empty means the shipped registry.
        rate: total messages per second; None means real time (live) or, with
            ``start_ms``, as fast as the broker acknowledges.
        duration_s: stop after this many wall seconds.
        count: stop after this many messages (valid and malformed).
        seed: the same seed gives the same series.
        bad_ratio: share of messages replaced by malformed ones, 0 to 1.
        start_ms: backfill from this epoch-ms time instead of publishing live.
        flush_timeout_s: how long to wait for outstanding PUBACKs at the end.
        grid: also publish the grid carbon-intensity feed, one message per simulated
            half-hour (``simulators/grid.py``); not counted in ``count`` or ``total``.
        device_format: ``native``, a device format (contract 7) or ``mixed``: which
            messages the sensors send (:mod:`simulators.devices`).
    """

    sensors: tuple[Sensor, ...] = ()
    rate: float | None = None
    duration_s: float | None = None
    count: int | None = None
    seed: int = 1
    bad_ratio: float = 0.0
    start_ms: int | None = None
    flush_timeout_s: float = 5.0
    grid: bool = False
    device_format: str = NATIVE

    def __post_init__(self) -> None:
        for failed, option, message in (
            (self.rate is not None and not self.rate > 0, "--rate", "must be > 0"),
            (self.duration_s is not None and not self.duration_s > 0, "--duration", "must be > 0"),
            (self.count is not None and self.count < 1, "--count", "must be >= 1"),
            (self.duration_s is not None and self.count is not None, "--duration / --count",
             "give one or the other, not both"),
            (not 0 <= self.bad_ratio <= 1, "--bad-ratio", "must be between 0 and 1"),
            (self.device_format not in CHOICES, "--format", f"one of {', '.join(CHOICES)}"),
        ):
            if failed:
                raise OptionError(option, message)


@dataclass(slots=True)
class SimulationReport:
    """What the broker acknowledged (the ``--json`` summary has the same keys).

    Attributes:
        total: acknowledged messages, valid and malformed (``sum(by_domain) + sum(bad)``).
        by_domain: acknowledged valid readings per domain (all three keys always present).
        bad: acknowledged malformed messages per expected dead-letter reason (non-zero only).
        failed: messages refused by paho or the broker, or unacknowledged at the end.
        first_ts_ms: earliest ``ts`` of the valid readings sent (None if none).
        last_ts_ms: latest ``ts`` of the valid readings sent.
        interrupted: stopped by ``stop`` (Ctrl-C / SIGTERM) rather than count or duration.
        grid_messages: acknowledged grid feed messages (``--grid``), outside ``total``.
        formats: how many sensors speak each format (``native`` included).
    """

    total: int
    by_domain: dict[str, int]
    bad: dict[str, int]
    failed: int
    elapsed_s: float
    sensors: int
    seed: int
    mode: str
    first_ts_ms: int | None = None
    last_ts_ms: int | None = None
    interrupted: bool = False
    grid_messages: int = 0
    formats: dict[str, int] = field(default_factory=dict)
    messages_per_s: float = field(init=False)

    def __post_init__(self) -> None:
        self.messages_per_s = round(self.total / self.elapsed_s, 1) if self.elapsed_s else 0.0

    def to_dict(self) -> dict[str, Any]:
        """The report as a JSON-ready dict (the ``--json`` output)."""
        return asdict(self)


class Schedule:
    """Which sensor reports next: sensors keyed by their next offset in simulated seconds.

    Sensors are ranked by a hash of their id, which breaks ties and (when staggered)
    spreads their first readings over their first interval: a short run then samples
    every domain instead of the first sensors of the registry.
    """

    def __init__(self, sensors: Sequence[Sensor], *, stagger: bool) -> None:
        n = len(sensors)
        order = sorted(range(n), key=lambda i: (zlib.crc32(sensors[i].id.encode()), i))
        self._intervals = [sensor.interval_s for sensor in sensors]
        self._phase = [0.0] * n
        self._heap: list[tuple[float, int, int, int]] = []
        for rank, i in enumerate(order):
            self._phase[i] = rank / n * self._intervals[i] if stagger else 0.0
            self._heap.append((self._phase[i], rank, i, 0))
        heapq.heapify(self._heap)

    def peek(self) -> tuple[float, int]:
        """The next ``(offset_s, sensor index)`` without consuming it."""
        offset, _, index, _ = self._heap[0]
        return offset, index

    def pop(self) -> tuple[float, int]:
        """Consume the next slot and schedule the sensor's following one."""
        offset, rank, index, slot = self._heap[0]
        following = self._phase[index] + (slot + 1) * self._intervals[index]
        heapq.heapreplace(self._heap, (following, rank, index, slot + 1))
        return offset, index


def run_simulation(settings: Settings, options: SimulationOptions, *,
                   stop: threading.Event | None = None,
                   progress: Callable[[int], None] | None = None) -> SimulationReport:
    """Publish simulated readings until ``count``, ``duration_s``, backfill catch-up or ``stop``.

    Args:
        settings: broker URL and topic prefix.
        options: what to publish and how fast.
        stop: set it (from a signal handler or another thread) to stop early.
        progress: called with the number of messages sent, a few times a second.

    Returns:
        What the broker acknowledged, after waiting (bounded) for outstanding PUBACKs.

    Raises:
        BrokerUnavailableError: the broker cannot be reached or refused the connection.
    """
    registry = load_registry()
    sensors = options.sensors or registry.sensors
    stop = stop or threading.Event()
    topics = [build_topic(settings.topic_prefix, s.domain, s.site, s.id) for s in sensors]
    formats = plan(sensors, options.device_format)
    encoding = Encoders(registry, options.seed, settings.topic_prefix)
    encoders = [None if fmt is None else encoding.for_sensor(sensor, fmt)
                for sensor, fmt in zip(sensors, formats, strict=True)]
    backfill = options.start_ms is not None
    schedule = Schedule(sensors, stagger=not backfill)
    default_rate = sum(1 / s.interval_s for s in sensors)
    speed = options.rate / default_rate if options.rate else (None if backfill else 1.0)
    readings = [0] * len(sensors)
    last_ts = [-1] * len(sensors)
    first_ts: int | None = None
    bad_rng = random.Random(zlib.crc32(f"{options.seed}:bad".encode()))
    grid = (GridFeedSimulator(settings.topic_prefix, options.seed, live=not backfill)
            if options.grid else None)
    publisher = MqttPublisher(settings)
    publisher.connect()
    started = time.monotonic()
    deadline = started + options.duration_s if options.duration_s else float("inf")
    sent, shown = 0, started
    try:
        while not stop.is_set() and (options.count is None or sent < options.count):
            offset, i = schedule.peek()
            if options.start_ms is not None:
                ts = options.start_ms + round(offset * 1000)
                if options.count is None and options.duration_s is None and ts > now_ms():
                    break  # backfill has caught up with the present
            if speed is not None:
                due = started + offset / speed
                if due >= deadline:
                    stop.wait(max(0.0, deadline - time.monotonic()))
                    break
                # Waits under half a millisecond cost more than they smooth.
                if due - time.monotonic() > 0.0005 and stop.wait(due - time.monotonic()):
                    break
            elif time.monotonic() >= deadline:
                break
            if not publisher.wait_for_room(stop):
                break
            schedule.pop()
            sensor = sensors[i]
            if options.start_ms is None:
                ts = max(now_ms(), last_ts[i] + 1)
            if grid is not None:
                grid.tick(ts, publisher)
            reading = generate_reading(options.seed, sensor, readings[i], ts)
            if options.bad_ratio and bad_rng.random() < options.bad_ratio:
                base = to_payload(reading)
                bad = random_bad_message(bad_rng, settings.topic_prefix, sensor, base)
                publisher.publish(bad.topic, bad.payload, _BAD + bad.reason.value)
            else:
                encode = encoders[i]
                if encode is None:
                    publisher.publish(topics[i], orjson.dumps(to_payload(reading)),
                                      sensor.domain.value)
                else:
                    publisher.publish(*encode(reading), sensor.domain.value)
                readings[i] += 1
                last_ts[i] = ts
                first_ts = ts if first_ts is None else min(first_ts, ts)
            sent += 1
            if progress is not None and time.monotonic() - shown > 0.2:
                shown = time.monotonic()
                progress(sent)
    finally:
        publisher.flush(options.flush_timeout_s)
        publisher.close()
    acked = publisher.acknowledged
    return SimulationReport(
        total=sum(n for tag, n in acked.items() if tag != GRID_TAG),
        by_domain={domain.value: acked[domain.value] for domain in Domain},
        bad={tag[len(_BAD):]: n for tag, n in sorted(acked.items()) if tag.startswith(_BAD)},
        failed=publisher.failed,
        elapsed_s=round(time.monotonic() - started, 3),
        sensors=len(sensors), seed=options.seed, mode="backfill" if backfill else "live",
        first_ts_ms=first_ts, last_ts_ms=max(last_ts) if first_ts is not None else None,
        interrupted=stop.is_set(), grid_messages=acked[GRID_TAG],
        formats=dict(Counter(fmt.value if fmt else NATIVE for fmt in formats)),
    )
