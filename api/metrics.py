"""Prometheus metrics of the API, on a registry of the app's own (``GET /metrics``).

Names follow the Prometheus conventions (https://prometheus.io/docs/practices/naming/):
base units with a unit suffix (``_seconds``), ``_total`` on counters, ``_info`` for the
build. Request latency is labelled by the route *template* (``/api/v1/sensors/{sensor_id}``,
never the path a client sent, which would make a series per sensor id or per probe), by
method and by status class. The live stream is not timed (a stream lasts as long as the
screen is open); the number of open streams is a gauge read from the hub at scrape time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, Info
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from sensors.version import build_labels

REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
ROLLUP_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
UNMATCHED_ROUTE = "unmatched"


class _LiveStreams(Collector):
    def __init__(self, count: Callable[[], int]) -> None:
        self._count = count

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily("smartplace_api_live_streams",
                                "Open GET /api/v1/live event streams", value=self._count())


class ApiMetrics:
    """The API's metrics; :mod:`api.observability` and the rollup job feed them."""

    def __init__(self, live_streams: Callable[[], int]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Histogram(
            "smartplace_api_request_duration_seconds",
            "Time from request to the last byte of the answer, by route template",
            ["method", "route", "status"], buckets=REQUEST_BUCKETS, registry=self.registry)
        self.rollup_runs = Counter(
            "smartplace_api_rollup_runs", "Runs of the activity rollup job, by outcome",
            ["outcome"], registry=self.registry)
        self.rollup_duration = Histogram(
            "smartplace_api_rollup_duration_seconds", "Time one rollup run took",
            buckets=ROLLUP_BUCKETS, registry=self.registry)
        self.notifications = Counter(
            "smartplace_api_alert_notifications",
            "Alert notifications to the webhook, by outcome (sent, failed: given up)",
            ["outcome"], registry=self.registry)
        Info("smartplace_build", "The running smartplace build", registry=self.registry).info(
            build_labels("api"))
        self.registry.register(_LiveStreams(live_streams))

    def observe_request(self, method: str, route: str | None, status: int,
                        seconds: float) -> None:
        """One answered request (``route``: the matched template, None when none matched)."""
        self.requests.labels(method, route or UNMATCHED_ROUTE, f"{status // 100}xx").observe(
            seconds)

    def observe_rollup(self, outcome: str, seconds: float) -> None:
        """One rollup run: ``ok`` or ``failed``, and how long it took."""
        self.rollup_runs.labels(outcome).inc()
        self.rollup_duration.observe(seconds)
