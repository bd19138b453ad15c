"""The demo's state file, ``.smartplace/demo.json``: the pids and URLs of a running demo.

It lets a second demo started from the same folder notice the first one, and tells a
person (or a test) what the demo started. It is removed when the demo exits.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from pathlib import Path

STATE_FILE = "demo.json"


def previous_demo(state_path: Path) -> int | None:
    """The pid of another demo still running from this folder, if any."""
    try:
        pid = int(json.loads(state_path.read_text())["pid"])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if pid != os.getpid() and b"smartplace" in cmdline and b"demo" in cmdline:
        return pid
    return None


def write_state(state_path: Path, children: Mapping[str, int | None],
                servers: Mapping[str, int], urls: Mapping[str, str]) -> None:
    """Replace the state file (by rename, so that a reader never sees half of it).

    Args:
        state_path: the file to write.
        children: pid of each running child, by name.
        servers: pid of each server the demo started, by name.
        urls: what the banner lists, by label.
    """
    state = {"pid": os.getpid(), "children": dict(children), "servers": dict(servers),
             "urls": dict(urls)}
    tmp = state_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2) + "\n")
    tmp.replace(state_path)


def remove_state(state_path: Path) -> None:
    """Delete the state file if it is there."""
    with contextlib.suppress(OSError):
        state_path.unlink()
