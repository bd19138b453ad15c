"""``smartplace ingest --workers N``: N ingestor processes sharing one MQTT 5 subscription.

Why processes: one ingestor is bound by one interpreter's GIL (about 120 us of CPU per
message, half of it paho's own receive path), so a second core only helps in a second
process. Each worker is a whole ingestor with its own stable identity, derived from the
settings: client id ``<SMARTPLACE_INGEST_CLIENT_ID>-<i>`` and broker user ``<user>-<i>``
(the broker takes the user name as the client id, so each needs an account:
``smartplace broker accounts --ingest-workers N``), its own spool folder, and the shared
subscription ``$share/<group>/<prefix>/#``. The broker gives each message to one member;
what it queued for a member while that member was down waits in the member's persistent
session, so a worker that dies is started again with the same identity (docs/scaling.md).

The supervisor serves ``/metrics`` (the workers' series, summed) and ``/ready`` (ready
when every worker is) on ``SMARTPLACE_METRICS_PORT``; each worker serves its own on a
loopback port it reports at start.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from urllib.parse import quote, urlsplit, urlunsplit

from ingest.endpoints import WorkerEndpoints, serve_endpoints
from ingest.errors import WorkerError
from sensors.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_SHARE_GROUP = "smartplace"
# A worker that dies is started again after this, doubling while it keeps dying young.
RESTART_DELAY_S = 1.0
RESTART_DELAY_MAX_S = 30.0
HEALTHY_AFTER_S = 60.0
# SIGTERM lets a worker flush within the ingestor's own grace (ingest.retry); past this
# the supervisor kills it (what it did not acknowledge stays with the broker).
STOP_TIMEOUT_S = 40.0

# (settings of the worker, where it reports its endpoints' port): runs one ingestor.
WorkerMain = Callable[[Settings, "multiprocessing.connection.Connection"], None]


def worker_name(base: str, index: int) -> str:
    """The stable name of worker ``index`` (1-based): its client id and broker user."""
    return f"{base}-{index}"


def with_mqtt_user(settings: Settings, username: str) -> str:
    """``SMARTPLACE_MQTT_URL`` logging in as ``username`` (same password); unchanged when
    it has no user (a broker without accounts)."""
    parts = urlsplit(settings.mqtt_url)
    if not parts.username:
        return settings.mqtt_url
    password = f":{quote(settings.mqtt.password or '', safe='')}" if parts.password else ""
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{quote(username, safe='')}{password}@{host}"))


def worker_settings(settings: Settings, index: int) -> Settings:
    """The settings of worker ``index`` (1-based) of ``settings``' ingestor."""
    client_id = worker_name(settings.ingest_client_id, index)
    return settings.model_copy(update={
        "ingest_client_id": client_id,
        "mqtt_url": with_mqtt_user(settings, worker_name(settings.mqtt.username or "", index)),
        "ingest_share_group": settings.ingest_share_group or DEFAULT_SHARE_GROUP,
        "ingest_workers": 1,
        "spool_dir": settings.spool_dir / client_id,
        "metrics_host": "127.0.0.1",
        "metrics_port": 0,  # any free port, reported to the supervisor at start
        # One port, one listener: the first worker serves the Sensor.Community receiver.
        "ingest_http_port": settings.ingest_http_port if index == 1 else 0,
    })


@dataclass
class _Worker:
    index: int
    settings: Settings
    process: BaseProcess | None = None
    started_at: float = 0.0
    restarts: int = 0
    delay_s: float = RESTART_DELAY_S
    restart_at: float | None = None
    port: int | None = None
    reports: list[multiprocessing.connection.Connection] = field(default_factory=list)


class WorkerPool:
    """Starts the workers, starts again any that die, and stops them all on request."""

    def __init__(self, settings: Settings, main: WorkerMain) -> None:
        if settings.ingest_workers < 2:
            raise WorkerError("a worker pool needs SMARTPLACE_INGEST_WORKERS of 2 or more")
        self.settings = settings
        self._main = main
        self._context = multiprocessing.get_context("spawn")
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.workers = [_Worker(index, worker_settings(settings, index))
                        for index in range(1, settings.ingest_workers + 1)]

    def stop(self) -> None:
        """Ask :meth:`run` to stop every worker and return."""
        self._stop.set()

    def ports(self) -> dict[str, int | None]:
        """Each worker's endpoints port, by client id (None until it reported one)."""
        with self._lock:
            return {one.settings.ingest_client_id: one.port for one in self.workers}

    def run(self) -> int:
        """Run the workers until :meth:`stop` (or SIGTERM/SIGINT on the main thread).

        Returns:
            0 when every worker stopped cleanly, else 1.
        """
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, lambda *_: self.stop())
        endpoints = None
        if self.settings.metrics_port:
            aggregate = WorkerEndpoints(self.ports, self.restart_counts)
            endpoints = serve_endpoints(self.settings.metrics_host, self.settings.metrics_port,
                                        aggregate.registry, aggregate.readiness)
        log.info("ingest workers starting", extra={
            "workers": len(self.workers), "group": self.workers[0].settings.ingest_share_group})
        for worker in self.workers:
            self._start(worker)
        try:
            while not self._stop.wait(0.2):
                for worker in self.workers:
                    self._watch(worker)
        finally:
            code = self._stop_all()
            if endpoints is not None:
                endpoints.shutdown()
                endpoints.server_close()
        return code

    def restart_counts(self) -> dict[str, int]:
        """How often each worker was started again, by client id."""
        with self._lock:
            return {one.settings.ingest_client_id: one.restarts for one in self.workers}

    def _start(self, worker: _Worker) -> None:
        receive, send = self._context.Pipe(duplex=False)
        process = self._context.Process(
            target=self._main, args=(worker.settings, send),
            name=f"ingest-{worker.settings.ingest_client_id}", daemon=False)
        process.start()
        send.close()  # the child holds its own end
        with self._lock:
            worker.process = process
            worker.port = None
            worker.reports = [receive]
            worker.started_at = time.monotonic()
            worker.restart_at = None

    def _watch(self, worker: _Worker) -> None:
        process = worker.process
        for report in worker.reports:
            try:
                if report.poll():
                    with self._lock:
                        worker.port = int(report.recv())
            except (EOFError, OSError):
                worker.reports = []
        if process is None or process.is_alive():
            if process is not None and time.monotonic() - worker.started_at > HEALTHY_AFTER_S:
                worker.delay_s = RESTART_DELAY_S
            return
        now = time.monotonic()
        if worker.restart_at is None:
            log.error("ingest worker exited; starting it again with the same id (its "
                      "session keeps what the broker queued for it)",
                      extra={"client_id": worker.settings.ingest_client_id,
                             "exit_code": process.exitcode, "restart_in_s": worker.delay_s})
            worker.restart_at = now + worker.delay_s
            worker.delay_s = min(worker.delay_s * 2, RESTART_DELAY_MAX_S)
        elif now >= worker.restart_at:
            with self._lock:
                worker.restarts += 1
            self._start(worker)

    def _stop_all(self) -> int:
        alive = [one.process for one in self.workers
                 if one.process is not None and one.process.is_alive()]
        for process in alive:
            process.terminate()  # SIGTERM: flush, acknowledge, exit 0
        deadline = time.monotonic() + STOP_TIMEOUT_S
        codes: list[int | None] = []
        for process in alive:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                log.error("ingest worker did not stop in time; killed (what it did not "
                          "acknowledge stays with the broker)", extra={"worker": process.name})
                process.kill()
                process.join(5)
            codes.append(process.exitcode)
        log.info("ingest workers stopped", extra={"exit_codes": codes})
        # -SIGTERM: a worker still starting (before its handler was installed) died of our
        # SIGTERM; it had acknowledged nothing, so the broker keeps everything: a clean stop.
        return 0 if all(code in (0, -signal.SIGTERM) for code in codes) else 1

