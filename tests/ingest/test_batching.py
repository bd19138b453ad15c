"""How the writer gathers a batch (``Batcher.collect``): only the pending queue and the
clock are involved, so the store, dead letters and acknowledgements are not needed."""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any, cast

from ingest.batching import Batcher, Item
from ingest.decode import Ignored

FLUSH_S = 0.5


def _batcher(pending: deque[Item]) -> Batcher:
    unused = cast(Any, None)  # collect() never touches the store or the acknowledgements
    return Batcher(pending, unused, unused, unused, unused, unused, unused, batch_size=100,
                   flush_interval_s=FLUSH_S, stop=threading.Event())


def _item(mid: int, received_at: float) -> Item:
    return Item(mid, 1, 0, Ignored("test"), "smartplace/test", b"{}", received_at)


def test_messages_that_waited_while_the_writer_was_busy_go_at_once() -> None:
    # Received a flush interval ago (while the last batch was being stored): the batch
    # leaves now, not a whole flush interval later.
    now = time.monotonic()
    pending = deque([_item(1, now - FLUSH_S), _item(2, now - FLUSH_S / 2)])
    started = time.monotonic()
    batch = _batcher(pending).collect()
    assert [item.mid for item in batch] == [1, 2]
    assert time.monotonic() - started < FLUSH_S / 2


def test_a_fresh_message_waits_for_others_until_the_flush_interval() -> None:
    pending = deque([_item(1, time.monotonic())])
    batcher = _batcher(pending)
    later = threading.Timer(FLUSH_S / 4, lambda: batcher.add(_item(2, time.monotonic())))
    later.start()
    started = time.monotonic()
    batch = batcher.collect()
    later.join()
    assert [item.mid for item in batch] == [1, 2]  # the second joined the same batch
    assert time.monotonic() - started >= FLUSH_S * 0.9
