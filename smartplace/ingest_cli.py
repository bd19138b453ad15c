"""``smartplace ingest`` (one ingestor, or ``--workers N`` processes on a shared
subscription) and ``smartplace ingest drain --client-id X`` (empty the session of an
ingestor retired for good). See docs/scaling.md.
"""

from __future__ import annotations

import logging
import multiprocessing.connection
import os
import sys
import threading
import time
from typing import TYPE_CHECKING, Annotated

import typer

from sensors.errors import DevicesFileError
from sensors.settings import Settings
from smartplace.help import PlainFlagsCommand, PlainFlagsGroup
from smartplace.logs import configure_logging
from smartplace.options import LogLevelOption, listen_settings, load_settings

if TYPE_CHECKING:
    from ingest.service import IngestService

ingest_app = typer.Typer(cls=PlainFlagsGroup, help="Run the ingestor (MQTT -> InfluxDB).",
                         invoke_without_command=True)


def _settings(**overrides: object) -> Settings:
    settings = load_settings()
    return settings.model_copy(update=overrides) if overrides else settings


class _WorkerTag(logging.Filter):
    """Adds the worker's client id to every record, so the pool's log says who spoke."""

    def __init__(self, worker: str) -> None:
        super().__init__()
        self.worker = worker

    def filter(self, record: logging.LogRecord) -> bool:
        record.worker = self.worker
        return True


def run_worker(settings: Settings, report: multiprocessing.connection.Connection) -> None:
    """One worker of ``--workers N`` (a spawned process): an ingestor that reports the port
    of its endpoints to the pool."""
    configure_logging(settings.log_level, settings.log_format)
    for handler in logging.getLogger().handlers:
        handler.addFilter(_WorkerTag(settings.ingest_client_id))
    from ingest.service import IngestService

    service = IngestService(settings)
    parent = os.getppid()

    def stop_when_orphaned() -> None:
        # A pool killed with SIGKILL cannot stop its workers: each stops itself (flushing
        # and acknowledging as on SIGTERM) rather than run on unsupervised.
        while os.getppid() == parent:
            time.sleep(1.0)
        logging.getLogger(__name__).error("the worker pool is gone; stopping")
        service.stop()

    threading.Thread(target=stop_when_orphaned, name="orphan-watch", daemon=True).start()
    sys.exit(service.run(report_port=report.send))


@ingest_app.callback()
def ingest(
    context: typer.Context,
    workers: Annotated[int | None, typer.Option(
        metavar="N", min=1, max=32, help="worker processes on one shared subscription "
        "(default SMARTPLACE_INGEST_WORKERS, 1)")] = None,
    host: Annotated[str | None, typer.Option(
        "--host", metavar="ADDRESS", show_default=False,
        help="Address of the metrics and readiness endpoint (overrides "
             "SMARTPLACE_METRICS_HOST).")] = None,
    port: Annotated[int | None, typer.Option(
        "--port", metavar="PORT", show_default=False,
        help="Port of the metrics and readiness endpoint, 0 = off (overrides "
             "SMARTPLACE_METRICS_PORT).")] = None,
    log_level: LogLevelOption = None,
) -> None:
    """Run the ingestor until SIGINT/SIGTERM, then flush, acknowledge and exit 0."""
    if context.invoked_subcommand is not None:
        return
    settings = listen_settings(host, port, log_level, "metrics_host", "metrics_port")
    if workers:
        settings = settings.model_copy(update={"ingest_workers": workers})
    configure_logging(settings.log_level, settings.log_format)
    if settings.ingest_workers == 1:
        sys.exit(_service(settings).run())
    from ingest.workers import WorkerPool

    _check_devices(settings)  # before the workers, which would only die and restart
    sys.exit(WorkerPool(settings, run_worker).run())


def _service(settings: Settings, *, drain: bool = False) -> IngestService:
    """The ingestor; a bad devices file or unusable state stops here, named (exit 2)."""
    from ingest.errors import IngestError
    from ingest.service import IngestService

    try:
        return IngestService(settings, drain=drain)
    except (DevicesFileError, IngestError) as exc:
        typer.echo(f"cannot start the ingestor: {exc}", err=True)
        raise typer.Exit(2) from None


def _check_devices(settings: Settings) -> None:
    from ingest.formats import check_single_ingestor
    from sensors.formats.devices_loader import load_devices

    if settings.devices_file is None:
        return
    try:
        check_single_ingestor(load_devices(settings.devices_file), settings)
    except DevicesFileError as exc:
        typer.echo(f"cannot start the ingestor: {exc}", err=True)
        raise typer.Exit(2) from None


@ingest_app.command("drain", cls=PlainFlagsCommand)
def drain(
    client_id: Annotated[str, typer.Option(
        "--client-id", help="the client id of the retired ingestor or worker")],
) -> None:
    """Store what the broker still holds for a retired ingestor, then end its session.

    Logs in as CLIENT_ID (the broker takes the user name as the client id): the user name
    of SMARTPLACE_MQTT_URL is replaced by it, the password kept. Uses the retired worker's
    spool folder (SMARTPLACE_SPOOL_DIR/CLIENT_ID) when there is one.
    """
    base = _settings()
    from ingest.workers import with_mqtt_user

    spool = base.spool_dir / client_id
    settings = base.model_copy(update={
        "ingest_client_id": client_id, "mqtt_url": with_mqtt_user(base, client_id),
        "spool_dir": spool if spool.is_dir() else base.spool_dir,
        "metrics_port": 0, "grid_intensity_url": None,
    })
    configure_logging(settings.log_level, settings.log_format)
    from ingest.errors import DrainError

    service = _service(settings, drain=True)
    try:
        code = service.run()
    except DrainError as exc:
        typer.echo(f"drain failed: {exc}", err=True)
        raise typer.Exit(1) from None
    stats = service.stats
    if code == 0:
        typer.echo(f"drained the session of {client_id}: {stats.received} messages, "
                   f"{stats.stored} readings stored, {sum(stats.dead_letters.values())} dead "
                   "letters; the session is ended")
    else:
        typer.echo(f"drain of {client_id} interrupted after {stats.received} messages; "
                   "the session and what it still holds are kept", err=True)
    sys.exit(code)
