"""A real HTTP server on a free loopback port that takes webhook POSTs (a test's pager)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson


class Receiver:
    """What the server received, and how it answers: ``fail_first`` 500s, then 200s;
    while ``hold`` is set it keeps each request waiting until ``release`` is set."""

    def __init__(self, fail_first: int = 0, hold: bool = False) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.attempts = 0
        self.fail_first = fail_first
        self.hold = hold
        self.release = threading.Event()
        self.arrived = threading.Event()
        self.lock = threading.Lock()
        self.url = ""

    def events(self) -> list[str]:
        with self.lock:
            return [body["event"] for body in self.bodies]


@contextmanager
def webhook_receiver(receiver: Receiver) -> Iterator[Receiver]:
    """Serve ``receiver`` until the block ends."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = orjson.loads(self.rfile.read(length))
            with receiver.lock:
                receiver.attempts += 1
                failing = receiver.attempts <= receiver.fail_first
            receiver.arrived.set()
            if receiver.hold:
                receiver.release.wait(30)
            if failing:
                self.send_response(500)
                self.end_headers()
                return
            with receiver.lock:
                receiver.bodies.append(body)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"ok":true}')

        def log_message(self, *args: object) -> None:  # keep the test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/smartplace?token=s3cret"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)
