"""The ingestor's own HTTP endpoints: ``/metrics`` (Prometheus) and ``/ready`` (readiness).

``/ready`` answers 200 once the ingestor is subscribed to the broker and its latest
request to InfluxDB was accepted, else 503 with the reasons; compose's health check and
a load balancer use it. ``/metrics`` is the Prometheus exposition of :mod:`ingest.metrics`.
A small ``http.server`` of its own rather than prometheus_client's ``start_http_server``,
which serves metrics only.

With ``--workers N`` the supervisor serves both for the pool (:class:`WorkerEndpoints`):
``/metrics`` sums the workers' series (each sample over the workers, except
``mqtt_subscribed``, which is 1 only while every worker is subscribed) and adds the
workers' restarts; ``/ready`` is ready when every worker is, with each worker's details.
"""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

# () -> (ready, details)
Readiness = Callable[[], tuple[bool, dict[str, Any]]]


class _Handler(BaseHTTPRequestHandler):
    registry: CollectorRegistry
    readiness: Readiness

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            self._send(200, CONTENT_TYPE_LATEST, generate_latest(self.registry))
        elif path == "/ready":
            ready, details = self.readiness()
            self._send(200 if ready else 503, "application/json",
                       orjson.dumps({"ready": ready, **details}))
        else:
            self._send(404, "text/plain; charset=utf-8", b"not found: /metrics, /ready\n")

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes every few seconds: no access log."""


def serve_endpoints(host: str, port: int, registry: CollectorRegistry,
                    readiness: Readiness) -> ThreadingHTTPServer:
    """Serve ``/metrics`` and ``/ready`` on ``host:port`` from a daemon thread."""
    handler = type("Handler", (_Handler,), {"registry": registry,
                                            "readiness": staticmethod(readiness)})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="ingest-endpoints", daemon=True).start()
    return server


_SCRAPE_TIMEOUT_S = 2.0
_ALL_OF = {"smartplace_ingest_mqtt_subscribed"}  # 1 only when every worker's is


def _fetch(port: int, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(  # a loopback URL built here
                f"http://127.0.0.1:{port}{path}", timeout=_SCRAPE_TIMEOUT_S) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError as exc:
        return 0, str(exc).encode()


def sum_expositions(texts: list[str], members: int | None = None) -> list[Metric]:
    """The metric families of several Prometheus expositions, each sample summed over them
    (``_created`` samples: the earliest; families in ``_ALL_OF``: the smallest, and 0
    unless all ``members`` (default: one per text) answered)."""
    members = len(texts) if members is None else members
    families: dict[str, Metric] = {}
    values: dict[tuple[str, str, tuple[tuple[str, str], ...]], list[float]] = {}
    for text in texts:
        for family in text_string_to_metric_families(text):
            families.setdefault(family.name, family)
            for sample in family.samples:
                key = (family.name, sample.name, tuple(sorted(sample.labels.items())))
                values.setdefault(key, []).append(sample.value)
    out = {name: Metric(name, family.documentation, family.type)
           for name, family in families.items()}
    for (family_name, sample_name, labels), found in values.items():
        if sample_name.endswith("_created"):
            value = min(found)
        elif family_name in _ALL_OF:
            value = min(found) if len(found) == members else 0.0
        else:
            value = sum(found)
        out[family_name].add_sample(sample_name, dict(labels), value)
    return list(out.values())


class WorkerEndpoints(Collector):
    """``/metrics`` and ``/ready`` of a worker pool, from the workers' own endpoints."""

    def __init__(self, ports: Callable[[], dict[str, int | None]],
                 restarts: Callable[[], dict[str, int]]) -> None:
        self._ports = ports
        self._restarts = restarts
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self)

    def collect(self) -> Iterator[Metric]:
        texts = []
        ports = self._ports()
        for port in ports.values():
            if port is not None:
                status, body = _fetch(port, "/metrics")
                if status == 200:
                    texts.append(body.decode("utf-8"))
        # A worker still starting (no port yet) or not answering is not subscribed.
        yield from sum_expositions(texts, members=len(ports))
        up = CounterMetricFamily("smartplace_ingest_worker_restarts",
                                 "Times a worker process was started again", labels=["worker"])
        for name, count in sorted(self._restarts().items()):
            up.add_metric([name], count)
        yield up

    def readiness(self) -> tuple[bool, dict[str, Any]]:
        workers: dict[str, Any] = {}
        for name, port in self._ports().items():
            if port is None:
                workers[name] = {"ready": False, "state": "starting"}
                continue
            status, body = _fetch(port, "/ready")
            try:
                workers[name] = orjson.loads(body) if status in (200, 503) else None
            except orjson.JSONDecodeError:
                workers[name] = None
            if workers[name] is None:
                workers[name] = {"ready": False, "state": "not answering"}
        ready = all(one.get("ready") is True for one in workers.values())
        return ready, {"workers": workers}
