"""Micro-benchmark of decoding alone: native vs TTN v3 vs Shelly messages, in one process.

``python -m bench.format_decode`` (or ``python -m bench --only formats``). No broker, no
InfluxDB: each message goes through :meth:`ingest.decode.MessageDecoder.decode`, the entry
point the ingestor calls per message, with the format decoder the ingestor builds from a
devices file (:func:`ingest.formats.load_formats`) and the mixed drain's messages
(:mod:`bench.mixed`: the TTN fixture with its full metadata, Shelly Pro 3EM
``NotifyStatus`` with a cumulative register). The register history is committed between
timed chunks (the ingestor commits once per batch), so the figures are decode only.

The machine is shared and noisy: each kind is timed in several repeats, interleaved, and
the best repeat is reported, with the format/native ratio of the same run.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import orjson

from bench.messages import PREFIX
from bench.mixed import devices, mixed_payloads
from ingest.decode import Decoded, MessageDecoder
from ingest.formats import FormatDecoder, load_formats
from sensors.registry import load_registry
from sensors.settings import Settings

KINDS = ("native", "ttn-v3", "shelly-gen2")


@dataclass(frozen=True)
class Row:
    """The best time of one kind of message."""

    kind: str
    messages: int
    us_per_message: float
    payload_bytes: float


def _kind(topic: str) -> str:
    if topic.startswith("v3/"):
        return "ttn-v3"
    if topic.endswith("/events/rpc"):
        return "shelly-gen2"
    return "native"


def split(messages: list[tuple[str, bytes]], count: int, repeats: int
          ) -> dict[str, list[list[tuple[str, bytes]]]]:
    """``repeats`` chunks of ``count`` messages per kind, in publishing order (so each
    Shelly reading is newer than its device's previous one, as live)."""
    by_kind: dict[str, list[tuple[str, bytes]]] = {kind: [] for kind in KINDS}
    for one in messages:
        by_kind[_kind(one[0])].append(one)
    return {kind: [found[r * count:(r + 1) * count] for r in range(repeats)]
            for kind, found in by_kind.items()}


def _timed(decode: Callable[[str, bytes], object], chunk: list[tuple[str, bytes]]) -> float:
    start = time.perf_counter()
    for topic, payload in chunk:
        decode(topic, payload)
    return time.perf_counter() - start


def decoder(spool_dir: Path) -> tuple[MessageDecoder, FormatDecoder]:
    """The ingestor's decoder for the mixed drain's devices file, history in ``spool_dir``."""
    path = spool_dir / "devices.json"
    path.write_bytes(orjson.dumps(devices()))
    settings = Settings(topic_prefix=PREFIX, devices_file=path, spool_dir=spool_dir)
    registry = load_registry()
    formats = load_formats(settings, registry)
    assert formats is not None
    return MessageDecoder(PREFIX, registry, formats), formats


def run(count: int = 5_000, repeats: int = 7) -> list[Row]:
    """Time ``count`` messages of each kind, ``repeats`` times; the best repeat per kind.

    Raises:
        AssertionError: a message did not decode to a reading (the benchmark would
            time the wrong path).
    """
    # Half of the mixed messages are native and a quarter each format: four times the
    # count of each format gives enough of every kind.
    chunks = split(mixed_payloads(4 * count * repeats + 300), count, repeats)
    # The bench devices file's sites are not in the registry: one warning per site, noise.
    logging.getLogger("ingest.formats").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="format-decode-") as tmp:
        messages, formats = decoder(Path(tmp))
        for kind in KINDS:  # a warm-up that also checks the path: every one is a reading
            for topic, payload in chunks[kind][0][:50]:
                result = messages.decode(topic, payload)
                assert isinstance(result, Decoded), (kind, result)
                assert result.line, (kind, result)
                assert not result.rejections, (kind, result)
        best = dict.fromkeys(KINDS, float("inf"))
        for repeat in range(repeats):
            for kind in KINDS:
                best[kind] = min(best[kind], _timed(messages.decode, chunks[kind][repeat]))
                formats.commit()  # per batch in the ingestor, outside the timing here
        formats.close()
    return [Row(kind, count, best[kind] / count * 1e6,
                sum(len(p) for _, p in chunks[kind][0]) / count) for kind in KINDS]


def table(rows: list[Row]) -> str:
    """The rows as a markdown table with the format/native ratio of the same run."""
    native = next(row.us_per_message for row in rows if row.kind == "native")
    lines = ["| message | bytes | µs per message (best) | ratio to native |",
             "|---|---|---|---|"]
    lines += [f"| {row.kind} | {row.payload_bytes:,.0f} | {row.us_per_message:.1f} | "
              f"{row.us_per_message / native:.2f} |" for row in rows]
    return "\n".join(lines)


def main() -> None:
    """Run it and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5_000, help="messages per kind and repeat")
    parser.add_argument("--repeats", type=int, default=7, help="best of this many")
    args = parser.parse_args()
    rows = run(args.count, args.repeats)
    print(f"decode only, {args.count:,} messages per kind, best of {args.repeats}:")
    print(table(rows))


if __name__ == "__main__":
    main()
