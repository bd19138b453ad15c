"""The demo's child processes: ``python -m smartplace <command>``, each in its own session.

Each child writes its output to a log file and runs in a new session (so a new process
group): the terminal's Ctrl-C reaches only the demo, which stops the children in order,
and whatever a child leaves behind can be killed with its group as a last resort.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

from pydantic import SecretStr

from sensors.settings import Settings


class StopFlag:
    """Set from the signal handlers: a plain flag is safe to touch from a handler."""

    def __init__(self) -> None:
        self.requested = False
        self.forced = False

    def handler(self, signum: int, frame: FrameType | None) -> None:
        """Record a stop request; a second one asks to stop waiting for graceful exits."""
        if self.requested:
            self.forced = True
        self.requested = True


class Child:
    """One ``python -m smartplace <command>`` process with its output in a log file."""

    def __init__(self, name: str, args: list[str], log_path: Path, env: dict[str, str]) -> None:
        self.name = name
        self.args = args
        self.log_path = log_path
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the process in a new session, its output (both streams) in the log file."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "smartplace", *self.args],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env=self.env, start_new_session=True,
            )

    @property
    def pid(self) -> int | None:
        """The process id, or None before ``start``."""
        return self.process.pid if self.process else None

    def returncode(self) -> int | None:
        """None while running (or never started), else the exit code."""
        return None if self.process is None else self.process.poll()

    def stop(self, timeout_s: float, flag: StopFlag) -> bool:
        """SIGTERM, wait up to ``timeout_s`` (less if ``flag`` is forced), then kill the group.

        Returns:
            True when the process exited by itself within the time.
        """
        process = self.process
        if process is None:
            return True
        graceful = True
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + timeout_s
            while process.poll() is None and time.monotonic() < deadline and not flag.forced:
                time.sleep(0.05)
            graceful = process.poll() is not None
        kill_group(process.pid)
        process.wait()
        return graceful

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the child's log (empty if it cannot be read)."""
        return tail(self.log_path, lines)


def tail(path: Path, lines: int) -> str:
    """The last ``lines`` lines of a text file, or "" when it cannot be read."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def kill_group(pgid: int) -> None:
    """SIGKILL whatever is left in a process group the demo created."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def child_environment(settings: Settings, mqtt_url: str, influx_url: str) -> dict[str, str]:
    """The demo's environment plus every setting, so the children see what the demo sees.

    Args:
        settings: the demo's settings.
        mqtt_url: the broker the children use (the one the demo started, if it did).
        influx_url: the InfluxDB the children use (likewise).

    Returns:
        An environment for ``subprocess.Popen``, with text logs and unbuffered output.
    """
    env = dict(os.environ)
    for name in type(settings).model_fields:
        key = f"SMARTPLACE_{name.upper()}"
        value: Any = getattr(settings, name)
        if value is None:
            env.pop(key, None)
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if isinstance(value, list | tuple | dict):
            env[key] = json.dumps(value)
        else:
            env[key] = str(value)
    env.update(
        SMARTPLACE_MQTT_URL=mqtt_url,
        SMARTPLACE_INFLUX_URL=influx_url,
        SMARTPLACE_LOG_FORMAT="text",
        PYTHONUNBUFFERED="1",
    )
    return env
