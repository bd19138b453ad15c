"""The decode-only micro-benchmark at a tiny count: it times the three kinds of message
through the ingestor's decoder and prints one row each (figures:
``python -m bench.format_decode``)."""

from __future__ import annotations

import pytest

from bench import format_decode
from bench.__main__ import main as bench_main


def test_a_tiny_run_prints_the_three_rows(capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.argv", ["format_decode", "--count", "20", "--repeats", "2"])

    format_decode.main()

    out = capsys.readouterr().out.splitlines()
    rows = [line for line in out if line.startswith("| ") and not line.startswith("| message")]
    assert [row.split(" | ")[0].removeprefix("| ") for row in rows] == list(format_decode.KINDS)
    assert rows[0].endswith("| 1.00 |")  # native against itself
    for row in rows:
        cells = row.strip("| ").split(" | ")
        assert float(cells[2]) > 0
        assert float(cells[3]) > 0


def test_the_messages_are_split_by_kind_in_publishing_order() -> None:
    messages = [("v3/a@ttn/devices/d/up", b"1"), ("bench/town-centre/energy/s/x", b"2"),
                ("shellypro3em-1/events/rpc", b"3"), ("v3/a@ttn/devices/d/up", b"4")]

    chunks = format_decode.split(messages, 1, 2)

    assert chunks["ttn-v3"] == [[messages[0]], [messages[3]]]
    assert chunks["native"] == [[messages[1]], []]
    assert chunks["shelly-gen2"] == [[messages[2]], []]


def test_python_m_bench_only_formats_runs_it(capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.argv", ["bench", "--only", "formats", "--format-count", "10"])

    bench_main()

    out = capsys.readouterr().out
    assert "decode only, 10 messages per kind, best of 5" in out
    for kind in format_decode.KINDS:
        assert f"| {kind} | " in out
