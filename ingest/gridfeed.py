"""The scheduled grid carbon-intensity fetch that runs inside the ingestor.

When ``SMARTPLACE_GRID_INTENSITY_URL`` is set, an APScheduler ``BackgroundScheduler`` GETs
it (``{from}`` and ``{regionid}`` filled in) at start and every
``SMARTPLACE_GRID_INTENSITY_INTERVAL_S`` and publishes the body unchanged to
``<prefix>/grid/carbon-intensity/<region>`` at QoS 1.

Why over MQTT rather than straight to InfluxDB: the answer then takes the one at-least-once
path every input takes (validated, dead-lettered with a reason when bad, absorbed by the
broker during a store outage), and the simulator's feed and the real one look the same
downstream. A failing run is logged; the next run tries again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
from apscheduler.schedulers.background import (  # type: ignore[import-untyped]
    BackgroundScheduler,
)

from sensors.grid import MAX_FEED_BYTES, SLOT_MS, format_slot_time, grid_topic
from sensors.settings import Settings

log = logging.getLogger(__name__)

# (topic, payload, timeout s) -> True once the broker acknowledged it
Publish = Callable[[str, bytes, float], bool]
FETCH_TIMEOUT_S = 20.0
PUBACK_TIMEOUT_S = 10.0


def feed_url(template: str, region_id: int, now_ms: int) -> str:
    """The URL to GET now: ``{from}`` and ``{regionid}`` filled in."""
    slot_start = now_ms - now_ms % SLOT_MS
    return template.replace("{from}", format_slot_time(slot_start)).replace(
        "{regionid}", str(region_id)
    )


class GridFeed:
    """Fetches the feed on a schedule and publishes each answer to the grid topic."""

    def __init__(self, settings: Settings, publish: Publish) -> None:
        if settings.grid_intensity_url is None:
            raise ValueError("grid_intensity_url is not set")
        self._template = settings.grid_intensity_url
        self._interval_s = settings.grid_intensity_interval_s
        self._region_id = settings.grid_region_id
        self.topic = grid_topic(settings.topic_prefix, settings.grid_region_id)
        # The ingestor's own connection publishes: a second connection with its account
        # would take over its session (the broker uses the user name as the client id).
        self._publish = publish
        self._scheduler = BackgroundScheduler(timezone=UTC)
        self.published = 0
        self.failures = 0

    def start(self) -> None:
        """Schedule the first fetch for now, then every interval."""
        self._scheduler.add_job(
            self.fetch_and_publish, "interval", seconds=self._interval_s,
            next_run_time=datetime.now(UTC), id="grid-intensity",
            max_instances=1, coalesce=True, misfire_grace_time=int(self._interval_s),
        )
        self._scheduler.start()
        log.info("grid intensity feed scheduled",
                 extra={"topic": self.topic, "interval_s": self._interval_s})

    def stop(self) -> None:
        """Stop the schedule (a fetch in progress finishes first)."""
        self._scheduler.shutdown(wait=True)
        self._scheduler.remove_all_jobs()  # the job refers back here: break the cycle

    def fetch_and_publish(self) -> bool:
        """One run: GET the feed, publish it. Returns True once the broker has it."""
        url = feed_url(self._template, self._region_id, time.time_ns() // 1_000_000)
        try:
            # A client per run: one fetch every half hour gains nothing from a pool.
            with httpx.Client(timeout=FETCH_TIMEOUT_S, follow_redirects=True) as http:
                response = http.get(url, headers={"Accept": "application/json"})
            response.raise_for_status()
            body = response.content
            if len(body) > MAX_FEED_BYTES:
                raise ValueError(f"answer is {len(body)} bytes, the limit is {MAX_FEED_BYTES}")
            if not self._publish(self.topic, body, PUBACK_TIMEOUT_S):
                raise TimeoutError("the broker did not acknowledge the feed message in time")
        except Exception as exc:  # any failure just waits for the next run
            self.failures += 1
            # The URL without its query string: a key could be in it.
            log.warning("grid intensity fetch failed; retrying next interval",
                        extra={"url": url.split("?", 1)[0], "error": f"{type(exc).__name__}: "
                               f"{exc}"})
            return False
        self.published += 1
        log.info("grid intensity published", extra={"topic": self.topic, "bytes": len(body)})
        return True


def start_grid_feed(settings: Settings, publish: Publish) -> GridFeed | None:
    """Start the feed when a URL is configured; None otherwise."""
    if settings.grid_intensity_url is None:
        return None
    feed = GridFeed(settings, publish)
    feed.start()
    return feed
