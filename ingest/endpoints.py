"""The ingestor's own HTTP endpoints: ``/metrics`` (Prometheus) and ``/ready`` (readiness).

``/ready`` answers 200 once the ingestor is subscribed to the broker and its latest
request to InfluxDB was accepted, else 503 with the reasons; compose's health check and
a load balancer use it. ``/metrics`` is the Prometheus exposition of :mod:`ingest.metrics`.
A small ``http.server`` of its own rather than prometheus_client's ``start_http_server``,
which serves metrics only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

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
