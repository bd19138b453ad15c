"""The Sensor.Community (airrohr) HTTP receiver: ``POST /ingest/sensor-community`` (contract 7.4).

The firmware's "custom API" posts one JSON body per measuring cycle (145 s by default).
The receiver runs in the ingestor (stdlib ``ThreadingHTTPServer``, one thread per request)
and puts each body on the same batch path as an MQTT message; the batch's writer then
"acknowledges" it by waking the request. So:

- 200 ``{"stored": n, "dead_letters": m}`` only once the body's readings are in InfluxDB
  (or its bad readings are dead letters: an unknown device, a value out of range);
- 400 ``{"reason", "detail"}`` for a body that is not the firmware's JSON (nothing kept:
  the sender is told), 404 another path, 411 no length, 413 too large;
- 503 (``Retry-After``) at once while the store is failing, without queueing the body;
  and 503 when the store fails while the request waits (:data:`WAIT_S`): the body then
  stays queued and is stored once the store is back.

Duplicates: time is receipt, so a re-sent body would be a second reading; the first
receipt time of each body is reused for a while (:mod:`ingest.receipts`), so a retry of
a body answered 503 (or timed out) stores the very same point again.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson

from ingest.batching import Batcher, Item
from ingest.decode import Decoded, Ignored, Rejection
from ingest.errors import ReceiverError, StateStoreError
from ingest.formats import FormatDecoder
from ingest.metrics import IngestStats
from ingest.receipts import ReceiptLog
from ingest.retry import Retrier
from sensors.errors import InvalidReadingError
from sensors.timestamps import now_ms

log = logging.getLogger(__name__)

PATH = "/ingest/sensor-community"
MAX_BODY_BYTES = 64 * 1024
#: How long a request waits for its body to be stored before answering 503.
WAIT_S = 10.0
#: The generation of HTTP items: the batch writer's acknowledgement wakes the request.
HTTP_GENERATION = -1


class SensorCommunityReceiver:
    """The HTTP server and the requests waiting for their bodies to be stored."""

    def __init__(self, host: str, port: int, decoder: FormatDecoder, batcher: Batcher,
                 retrier: Retrier, receipts: ReceiptLog, stats: IngestStats,
                 accepting: Callable[[], bool], wait_s: float = WAIT_S) -> None:
        self._decoder = decoder
        self._batcher = batcher
        self._retrier = retrier
        self._receipts = receipts
        self._stats = stats
        self._accepting = accepting
        self._wait_s = wait_s
        self._ids = itertools.count(1)
        self._waiting: dict[int, threading.Event] = {}
        self._lock = threading.Lock()
        try:
            self._server = ThreadingHTTPServer((host, port), self._handler_class())
        except OSError as exc:
            raise ReceiverError(f"the Sensor.Community receiver cannot listen on {host}:{port}: "
                                f"{exc.strerror or exc}") from exc
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="http-receiver",
                                        daemon=True)

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread.start()
        log.info("Sensor.Community receiver listening",
                 extra={"path": PATH, "port": self.port})

    def stop(self) -> None:
        """Stop serving (waiting requests answer 503 when their wait ends)."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(5)
        self._server.server_close()
        self._receipts.close()

    def stored(self, mid: int) -> None:
        """The batch writer stored the body of request ``mid``: wake it."""
        with self._lock:
            event = self._waiting.get(mid)
        if event is not None:
            event.set()

    # --- request threads ---------------------------------------------------------------

    def handle(self, path: str, length: str | None, read: Callable[[int], bytes]
               ) -> tuple[int, dict[str, Any]]:
        """The answer (status, JSON body) to one POST."""
        if path.split("?", 1)[0] != PATH:
            return HTTPStatus.NOT_FOUND, {"reason": "not_found", "detail": f"POST to {PATH}"}
        if length is None or not length.isdigit():
            return HTTPStatus.LENGTH_REQUIRED, {"reason": "length_required",
                                                "detail": "send Content-Length"}
        if int(length) > MAX_BODY_BYTES:
            return HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {
                "reason": "payload_too_large", "detail": f"at most {MAX_BODY_BYTES} bytes"}
        body = read(int(length))
        if not self._accepting() or self._retrier.failing:
            return HTTPStatus.SERVICE_UNAVAILABLE, {"reason": "store_unavailable",
                                                    "detail": "try again later"}
        try:
            received_ms = self._receipts.received_at(body, now_ms())
            result = self._decoder.decode_sensor_community(body, received_ms)
        except InvalidReadingError as exc:
            return HTTPStatus.BAD_REQUEST, {"reason": exc.reason.value, "detail": exc.detail}
        except StateStoreError as exc:
            log.error("cannot keep receipt or register state", extra={"error": str(exc)})
            return HTTPStatus.SERVICE_UNAVAILABLE, {"reason": "state_unavailable",
                                                    "detail": "try again later"}
        if isinstance(result, Rejection):
            stored, dead = 0, 1
        elif isinstance(result, Decoded):
            stored, dead = len(result.line.splitlines()), len(result.rejections)
        else:
            stored, dead = 0, 0
        if self._wait_for_store(result, body):
            return HTTPStatus.OK, {"stored": stored, "dead_letters": dead}
        return HTTPStatus.SERVICE_UNAVAILABLE, {
            "reason": "store_unavailable",
            "detail": "not stored yet; it will be, and a retry of this body stores the same point"}

    def _wait_for_store(self, result: Decoded | Rejection | Ignored, body: bytes) -> bool:
        mid = next(self._ids)
        event = threading.Event()
        with self._lock:
            self._waiting[mid] = event
        try:
            # QoS 1 in spirit (answered only once stored), so never spilled to the QoS 0
            # spool, which would lose the request waiting for it.
            self._batcher.add(Item(mid, 1, HTTP_GENERATION, result, PATH, body,
                                   time.monotonic()))
            return event.wait(self._wait_s)
        finally:
            with self._lock:
                del self._waiting[mid]

    def count(self, status: int) -> None:
        """Count an answer (metrics)."""
        with self._lock:
            self._stats.http_answers[str(status)] += 1

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "smartplace-ingest"

            def do_POST(self) -> None:
                status, answer = receiver.handle(self.path, self.headers.get("Content-Length"),
                                                 self.rfile.read)
                self._answer(status, answer)

            def do_GET(self) -> None:
                self._answer(HTTPStatus.METHOD_NOT_ALLOWED,
                             {"reason": "method_not_allowed", "detail": f"POST to {PATH}"})

            def _answer(self, status: int, answer: dict[str, Any]) -> None:
                receiver.count(status)
                body = orjson.dumps(answer)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                if status == HTTPStatus.SERVICE_UNAVAILABLE:
                    self.send_header("Retry-After", "30")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                log.debug("http %s", format % args)

        return Handler
