"""CPU time and memory of a process and its descendants, read from ``/proc`` (Linux).

The drain benchmarks charge each consumer the CPU it used between its first message and
its last, so start-up (imports, connecting) is not counted against anyone.
"""

from __future__ import annotations

import os
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _descendants(pid: int) -> list[int]:
    found = [pid]
    for current in found:
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            found.extend(int(child) for child in children)
    return found


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces: split after its closing parenthesis.
    return text[text.rindex(")") + 2:].split()


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds of ``pid`` and every live descendant."""
    total = 0
    for one in _descendants(pid):
        fields = _stat_fields(one)
        if fields is not None:
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / _TICKS


def rss_bytes(pid: int) -> int:
    """Resident memory of ``pid`` and every live descendant."""
    total = 0
    for one in _descendants(pid):
        fields = _stat_fields(one)
        if fields is not None:
            total += int(fields[21]) * _PAGE  # rss in pages (field 24)
    return total


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of a process and of its waited-for children, from /proc."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    # Fields after the command name (which may hold spaces), numbered from 3.
    fields = stat[stat.rindex(")") + 2:].split()
    return sum(int(value) for value in fields[11:15]) / _TICKS
