"""The page's text/event-stream parser (dashboard/sse.js), run by Node.js on tricky input."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest

from api.routes.dashboard import default_dashboard_dir
from tests.dashboard.helpers import unavailable

SSE_MODULE = (default_dashboard_dir() / "sse.js").as_uri()

# Feeds each chunk to one parser and prints what it dispatched.
SCRIPT = """
import { createParser } from %s;
const chunks = JSON.parse(process.argv[1]);
const messages = [];
const retries = [];
const parser = createParser({
  onMessage: (m) => messages.push(m), onRetry: (ms) => retries.push(ms),
});
for (const chunk of chunks) parser.feed(chunk);
console.log(JSON.stringify({ messages, retries, lastEventId: parser.lastEventId() }));
"""


def _parse(chunks: list[str]) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        unavailable("node is not installed (run `make test`, which installs it)")
    assert node is not None
    done = subprocess.run(
        [node, "--input-type=module", "-e", SCRIPT % json.dumps(SSE_MODULE), json.dumps(chunks)],
        capture_output=True, text=True, timeout=30, check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_frames_as_the_api_sends_them() -> None:
    got = _parse([
        'retry: 3000\nid: 1\nevent: hello\ndata: {"refresh_s":2}\n\n',
        'id: 2\nevent: now\ndata: {"electricity_kw":1.5}\n\n',
    ])
    assert got["retries"] == [3000]
    assert got["messages"] == [
        {"event": "hello", "data": '{"refresh_s":2}', "id": "1"},
        {"event": "now", "data": '{"electricity_kw":1.5}', "id": "2"},
    ]
    assert got["lastEventId"] == "2"


@pytest.mark.parametrize("size", [1, 2, 3, 7])
def test_any_chunking_gives_the_same_events(size: int) -> None:
    text = ('id: 7\r\nevent: alerts\r\ndata: {"a":1}\r\n\r\n'
            ": keep-alive comment\n\n"
            "id: 8\revent: heartbeat\rdata: {}\r\r")
    got = _parse([text[i:i + size] for i in range(0, len(text), size)])
    assert got["messages"] == [
        {"event": "alerts", "data": '{"a":1}', "id": "7"},
        {"event": "heartbeat", "data": "{}", "id": "8"},
    ]


def test_field_rules_of_the_standard() -> None:
    got = _parse([
        "data: line one\ndata:line two\n\n",  # one optional space after the colon
        "event: x\n\n",  # no data: nothing dispatched, and the type does not leak
        "data\n\n",  # a field without a colon has an empty value
        "id: bad\0id\ndata: y\n\n",  # an id with NUL is ignored
        "retry: soon\nunknown: z\ndata: w\n",  # no blank line yet: not dispatched
    ])
    assert got["messages"] == [
        {"event": "message", "data": "line one\nline two", "id": None},
        {"event": "message", "data": "", "id": None},
        {"event": "message", "data": "y", "id": None},
    ]
    assert got["retries"] == []
