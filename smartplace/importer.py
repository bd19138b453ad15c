"""``smartplace import FILE``: history (logger files, spreadsheets, captured messages) into
InfluxDB through the ingestor's own decode, validation and line protocol.

Why straight to InfluxDB and not through the broker: the rows are already on disk, so the
broker would add no safety, only a round trip per row and a second process to watch; the
import instead writes each batch through the ingestor's store client (with its
classification of InfluxDB's answers and its retries) and knows, row by row, what was
stored and what became a dead letter, which is the summary it prints. Nothing is lost:

- every row is decoded by :class:`ingest.decode.MessageDecoder` exactly as the ingestor
  decodes a message on that topic (device formats and cumulative registers included: the
  register history is the same file under ``SMARTPLACE_SPOOL_DIR``);
- a batch counts as done only once InfluxDB has its readings and its dead letters; then
  the row it reached is written to ``$SMARTPLACE_SPOOL_DIR/imports/<sha256 of the file>.json``
  and a new run of the same file resumes from there;
- readings keep their own timestamps, so importing a file again stores the same points
  (same series, same time: overwritten); each dead letter's timestamp is derived from the
  row's number and the first run's start (kept in the same state file), so a re-import
  overwrites the dead letters too rather than adding them again.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ingest.deadletters import DeadLetter, DeadLetterWriter
from ingest.decode import Decoded, Ignored, MessageDecoder, Rejection
from ingest.errors import ShutdownTimeoutError
from ingest.formats import load_formats
from ingest.metrics import IngestStats
from ingest.retry import Retrier
from ingest.store import InfluxStore
from sensors.errors import InvalidReadingError
from sensors.reasons import DeadLetterReason
from sensors.registry import Registry, load_registry
from sensors.settings import Settings
from smartplace.errors import ImportFileError
from smartplace.import_sources import Row

STATE_DIR = "imports"
SC_TOPIC = "/ingest/sensor-community"
# The dead letters' ``ingestor`` tag: the same in every run, so a re-import overwrites them.
IMPORT_INGESTOR = "smartplace-import"
# Room for the dead letters of one row (a SenML pack may hold several bad readings).
_PER_ROW = 64


@dataclass
class ImportState:
    """Where an import of one file stands (saved after every stored batch)."""

    path: Path
    file: str
    sha256: str
    base_ns: int
    rows_done: int = 0
    complete: bool = False
    rows: int = 0
    points: int = 0
    dead_letters: dict[str, int] = field(default_factory=dict)
    ignored: dict[str, int] = field(default_factory=dict)

    @classmethod
    def for_file(cls, spool_dir: Path, source: Path) -> ImportState:
        """The saved state of ``source`` (same content), or a fresh one."""
        digest = hashlib.sha256()
        with source.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        sha = digest.hexdigest()
        path = spool_dir / STATE_DIR / f"{sha}.json"
        try:
            saved: dict[str, Any] = orjson.loads(path.read_bytes())
            return cls(path=path, **{k: v for k, v in saved.items() if k != "path"})
        except (OSError, ValueError, TypeError):
            return cls(path=path, file=source.name, sha256=sha, base_ns=time.time_ns())

    def restart(self) -> None:
        """Import from the first row again (same dead-letter timestamps)."""
        self.rows_done, self.complete, self.rows, self.points = 0, False, 0, 0
        self.dead_letters, self.ignored = {}, {}

    def save(self) -> None:
        """Write the state atomically."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        data = {k: v for k, v in asdict(self).items() if k != "path"}
        temporary.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2))
        os.replace(temporary, self.path)


@dataclass
class _Batch:
    items: list[tuple[Row, Decoded]] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    stamps: list[int] = field(default_factory=list)
    last_row: int = 0


class Importer:
    """Decodes rows like the ingestor and stores them in batches."""

    def __init__(self, settings: Settings, registry: Registry | None = None,
                 batch_lines: int = 5000, retry_s: float = 60.0) -> None:
        registry = registry or load_registry()
        self.settings = settings
        self.formats = load_formats(settings, registry, always=True)
        self.decoder = MessageDecoder(settings.topic_prefix, registry, self.formats)
        self.stats = IngestStats()
        self.retrier = Retrier(threading.Event(), self.stats, settings.ingest_max_backoff_s)
        self.store = InfluxStore(settings, deadline=self.retrier.deadline)
        self.dead_letters = DeadLetterWriter(self.store, self.retrier, self.stats,
                                             settings.spool_dir, ingestor=IMPORT_INGESTOR)
        self._batch_lines = batch_lines
        self._retry_s = retry_s

    def close(self) -> None:
        """Close the InfluxDB client and the register history."""
        self.store.close()
        if self.formats is not None:
            self.formats.close()

    def decode(self, row: Row) -> Decoded | Rejection | Ignored:
        """What the ingestor would make of the row's message.

        Raises:
            StateStoreError: the register history cannot be written.
        """
        if row.topic is not None:
            return self.decoder.decode(row.topic, row.payload)
        assert self.formats is not None
        if row.received_ms is None:
            return Rejection(DeadLetterReason.TIMESTAMP_INVALID.value, None,
                             "a sensor-community line needs received_at (RFC 3339)")
        try:
            return self.formats.decode_sensor_community(row.payload, row.received_ms)
        except InvalidReadingError as exc:
            return Rejection(exc.reason.value, None, exc.detail)

    def run(self, rows: Iterable[Row], state: ImportState,
            progress: Callable[[int], None] | None = None) -> ImportState:
        """Import the rows after ``state.rows_done``; save the state after each batch.

        Raises:
            ImportFileError: InfluxDB stayed unreachable for the retry time (run again to
                resume), or the register history cannot be written.
        """
        self.store.create_database()
        batch = _Batch()
        for row in rows:
            if row.number <= state.rows_done:
                continue
            self._add(batch, row, self.decode(row), state)
            if len(batch.items) + len(batch.dead) >= self._batch_lines:
                self._flush(batch, state)
                batch = _Batch()
                if progress is not None:
                    progress(state.rows_done)
        self._flush(batch, state)
        state.complete = True
        state.save()
        if progress is not None:
            progress(state.rows_done)
        return state

    def _add(self, batch: _Batch, row: Row, result: Decoded | Rejection | Ignored,
             state: ImportState) -> None:
        batch.last_row = row.number
        state.rows += 1
        topic = row.topic or SC_TOPIC
        rejections: tuple[Rejection, ...] = ()
        if isinstance(result, Decoded):
            rejections = result.rejections
            if result.line:
                batch.items.append((row, result))
        elif isinstance(result, Rejection):
            rejections = (result,)
        else:
            state.ignored[result.kind] = state.ignored.get(result.kind, 0) + 1
        for index, one in enumerate(rejections):
            batch.dead.append(DeadLetter(topic, row.payload, one.reason, one.domain, one.detail))
            batch.stamps.append(state.base_ns + row.number * _PER_ROW + min(index, _PER_ROW - 1))

    def _flush(self, batch: _Batch, state: ImportState) -> None:
        if not batch.items and not batch.dead:
            if batch.last_row:
                state.rows_done = batch.last_row
                state.save()
            return
        self.retrier.give_up_after(self._retry_s)
        try:
            refused = self.retrier.run(lambda: self.store.write_keeping_good(
                [decoded.line for _, decoded in batch.items]))
            for index, message in sorted(refused.items()):
                row, decoded = batch.items[index]
                batch.dead.append(DeadLetter(row.topic or SC_TOPIC, row.payload,
                                             DeadLetterReason.STORE_REJECTED.value,
                                             decoded.measurement, message))
                batch.stamps.append(state.base_ns + row.number * _PER_ROW + _PER_ROW - 1)
            if batch.dead:
                self.dead_letters.store(batch.dead, batch.stamps)
        except ShutdownTimeoutError:
            raise ImportFileError(
                f"InfluxDB stayed unavailable for {self._retry_s:.0f} s; rows up to "
                f"{state.rows_done} are stored: run the same import again to resume") from None
        if self.formats is not None:
            self.formats.commit()  # the registers before the checkpoint that skips them
        state.points += sum(decoded.line.count("\n") + 1
                            for index, (_, decoded) in enumerate(batch.items)
                            if index not in refused)
        for one in batch.dead:
            state.dead_letters[one.reason] = state.dead_letters.get(one.reason, 0) + 1
        state.rows_done = batch.last_row
        state.save()


def summary_lines(state: ImportState) -> list[str]:
    """The summary of an import for the console."""
    lines = [f"imported {state.file}: {state.rows:,} rows",
             f"  stored       {state.points:>10,} points"]
    dead = sum(state.dead_letters.values())
    lines.append(f"  dead letters {dead:>10,}")
    lines += [f"    {reason:<24}{count:>8,}" for reason, count in
              sorted(state.dead_letters.items(), key=lambda item: -item[1])]
    if state.ignored:
        lines.append(f"  not readings {sum(state.ignored.values()):>10,}")
        lines += [f"    {kind:<24}{count:>8,}" for kind, count in sorted(state.ignored.items())]
    return lines


def count_rows(path: Path) -> int:
    """Lines in the file (the progress bar's total)."""
    with path.open("rb") as handle:
        return sum(1 for _ in handle)
