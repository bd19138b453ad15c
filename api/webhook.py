"""Alert notifications: a JSON POST per event to ``SMARTPLACE_ALERT_WEBHOOK_URL``.

The body (docs/live.md, "Notifications") is generic JSON that Slack and Microsoft Teams
incoming webhooks take as it is (they show its ``text``) and that a pager gateway can map
from its fields. Delivery never blocks the live stream or the poller: :meth:`Notifier.send`
only queues (bounded; when full, the oldest waiting notification is given up), and two
worker tasks post, retrying a failed post with exponential backoff (1 s, 2 s, 4 s ...)
up to ``alert_webhook_attempts`` times. A 2xx answer is a delivery; anything else, a
time-out or a network error is retried. The URL is a secret (it usually embeds a token):
it is never logged, not even by httpx's own request log (:class:`RedactUrl`).

Besides :mod:`api.influx`, the only module of the API that talks HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

logger = logging.getLogger(__name__)

TIMEOUT_S = 5.0
QUEUE_MAX = 200
WORKERS = 2
FIRST_BACKOFF_S = 1.0
MAX_BACKOFF_S = 60.0


class RedactUrl(logging.Filter):
    """Replaces the webhook URL in httpx's records (``HTTP Request: POST <url> ...``)."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self._url = url

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and any(self._url in str(arg) for arg in record.args):
            record.msg = record.getMessage().replace(self._url, "<alert webhook>")
            record.args = None
        return True


@dataclass(frozen=True, slots=True)
class Delivery:
    """How one notification ended: delivered or given up, after how many attempts."""

    body: Mapping[str, Any]
    delivered: bool
    attempts: int
    error: str | None


class Notifier:
    """Posts notifications in the background; :meth:`aclose` stops it."""

    def __init__(self, url: str, attempts: int,
                 on_done: Callable[[Delivery], Awaitable[None]] | None = None,
                 first_backoff_s: float = FIRST_BACKOFF_S) -> None:
        self._url = url
        self._attempts = attempts
        self._on_done = on_done
        self._first_backoff_s = first_backoff_s
        self._queue: asyncio.Queue[Mapping[str, Any]] = asyncio.Queue(QUEUE_MAX)
        self._client: httpx.AsyncClient | None = None
        self._workers: list[asyncio.Task[None]] = []
        self._redact = RedactUrl(url)
        self.given_up = 0

    def start(self) -> None:
        """Start the workers on the running loop."""
        if self._workers:
            return
        logging.getLogger("httpx").addFilter(self._redact)
        self._client = httpx.AsyncClient(timeout=TIMEOUT_S, headers={
            "Content-Type": "application/json", "User-Agent": "smartplace-alerts"})
        loop = asyncio.get_running_loop()
        self._workers = [loop.create_task(self._work(), name=f"webhook-{n}")
                         for n in range(WORKERS)]

    def send(self, body: Mapping[str, Any]) -> None:
        """Queue one notification without waiting (the oldest waiting one goes if full)."""
        while True:
            try:
                self._queue.put_nowait(body)
                return
            except asyncio.QueueFull:
                self._queue.get_nowait()
                self.given_up += 1
                logger.warning("alert webhook queue full: the oldest notification was dropped")

    async def aclose(self) -> None:
        """Stop the workers (notifications still waiting are dropped) and close the client."""
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers = []
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        logging.getLogger("httpx").removeFilter(self._redact)

    async def _work(self) -> None:
        while True:
            body = await self._queue.get()
            delivery = await self._deliver(body)
            if self._on_done is not None:
                with contextlib.suppress(Exception):  # recording must never stop delivery
                    await self._on_done(delivery)

    async def _deliver(self, body: Mapping[str, Any]) -> Delivery:
        assert self._client is not None
        content = orjson.dumps(body)
        delay = self._first_backoff_s
        error = None
        for attempt in range(1, self._attempts + 1):
            try:
                response = await self._client.post(self._url, content=content)
                if response.is_success:
                    return Delivery(body, True, attempt, None)
                error = f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                error = type(exc).__name__  # never the URL: it holds the webhook's secret
            if attempt < self._attempts:
                logger.info("alert webhook attempt %d failed (%s); retrying in %g s", attempt,
                            error, delay, extra={"alert_id": body.get("alert", {}).get("id")})
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF_S)
        self.given_up += 1
        logger.warning("alert webhook gave up after %d attempts (%s)", self._attempts, error,
                       extra={"alert_id": body.get("alert", {}).get("id")})
        return Delivery(body, False, self._attempts, error)
