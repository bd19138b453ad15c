"""The on-disk spool for QoS 0 messages the ingestor cannot hold in memory.

MQTT 5's Receive Maximum bounds only QoS 1 and 2: QoS 0 messages (The Things Stack's
MQTT server sends nothing else) keep coming while InfluxDB is down. Past
``SMARTPLACE_INGEST_QOS0_MEMORY`` messages waiting in memory, the ingestor appends them
here instead, in arrival order, and replays them from here in the same order once the
store takes writes again; while the spool holds anything, every new QoS 0 message goes to
its end, so their order is kept. The spool is bounded (``SMARTPLACE_INGEST_SPOOL_MAX_BYTES``):
past that, a message is dropped, counted and reported, never silently.

Records are length-prefixed (topic, payload, arrival time) in segment files under
``$SMARTPLACE_SPOOL_DIR/qos0/``; the read position is committed to ``position`` only
after a replayed batch is stored, so a crash replays it again (readings overwrite
themselves; nothing is lost). A restarted ingestor resumes the replay.
"""

from __future__ import annotations

import os
import struct
import threading
from dataclasses import dataclass
from pathlib import Path

_HEADER = struct.Struct(">IId")  # topic length, payload length, arrival (epoch s)
SEGMENT_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Spooled:
    """One message read back from the spool."""

    topic: str
    payload: bytes
    arrived_at: float


class Qos0Spool:
    """Append from the MQTT thread, read and commit from the writer thread."""

    def __init__(self, folder: Path, max_bytes: int) -> None:
        self._folder = folder / "qos0"
        self._max_bytes = max_bytes
        self._lock = threading.Lock()
        self._folder.mkdir(parents=True, exist_ok=True)
        self._segments = sorted(int(p.stem) for p in self._folder.glob("*.seg"))
        position = self._folder / "position"
        segment, offset = (0, 0)
        if position.exists():
            segment, offset = (int(part) for part in position.read_text().split())
        # Drop segments already replayed before a restart.
        for old in [s for s in self._segments if s < segment]:
            self._path(old).unlink(missing_ok=True)
        self._segments = [s for s in self._segments if s >= segment] or [segment]
        self._read = (self._segments[0], offset if self._segments[0] == segment else 0)
        self._pending_read = self._read
        self._bytes = sum(self._path(s).stat().st_size for s in self._segments
                          if self._path(s).exists()) - self._read[1]
        self._writer = self._path(self._segments[-1]).open("ab")

    def _path(self, segment: int) -> Path:
        return self._folder / f"{segment:012d}.seg"

    @property
    def holds(self) -> int:
        """Bytes spooled and not yet committed (0: empty)."""
        return max(0, self._bytes)

    def append(self, topic: str, payload: bytes, arrived_at: float) -> bool:
        """Spool one message; False when the spool is full (the caller counts the drop)."""
        encoded = topic.encode("utf-8")
        record = _HEADER.pack(len(encoded), len(payload), arrived_at) + encoded + payload
        with self._lock:
            if self._bytes + len(record) > self._max_bytes:
                return False
            if self._writer.tell() >= SEGMENT_BYTES:
                self._writer.close()
                self._segments.append(self._segments[-1] + 1)
                self._writer = self._path(self._segments[-1]).open("ab")
            self._writer.write(record)
            self._writer.flush()
            self._bytes += len(record)
        return True

    def read(self, limit: int) -> list[Spooled]:
        """Up to ``limit`` messages after the committed position (not yet committed)."""
        found: list[Spooled] = []
        with self._lock:
            segment, offset = self._read
            while len(found) < limit:
                path = self._path(segment)
                size = path.stat().st_size if path.exists() else 0
                if offset >= size:
                    if segment == self._segments[-1]:
                        break
                    segment, offset = segment + 1, 0
                    continue
                with path.open("rb") as handle:
                    handle.seek(offset)
                    while len(found) < limit and offset < size:
                        topic_len, payload_len, arrived = _HEADER.unpack(
                            handle.read(_HEADER.size))
                        topic = handle.read(topic_len).decode("utf-8")
                        found.append(Spooled(topic, handle.read(payload_len), arrived))
                        offset += _HEADER.size + topic_len + payload_len
            self._pending_read = (segment, offset)
        return found

    def commit(self) -> None:
        """What the last :meth:`read` returned is stored: move past it for good."""
        with self._lock:
            before, self._read = self._read, self._pending_read
            consumed = self._distance(before, self._read)
            self._bytes -= consumed
            position = self._folder / "position"
            tmp = position.with_suffix(".tmp")
            tmp.write_text(f"{self._read[0]} {self._read[1]}")
            os.replace(tmp, position)
            for old in [s for s in self._segments if s < self._read[0]]:
                self._path(old).unlink(missing_ok=True)
                self._segments.remove(old)

    def _distance(self, start: tuple[int, int], end: tuple[int, int]) -> int:
        if start[0] == end[0]:
            return end[1] - start[1]
        total = self._path(start[0]).stat().st_size - start[1]
        for segment in range(start[0] + 1, end[0]):
            total += self._path(segment).stat().st_size
        return total + end[1]

    def close(self) -> None:
        """Close the segment being written."""
        with self._lock:
            self._writer.close()
