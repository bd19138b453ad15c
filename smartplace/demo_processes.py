"""What the demo started, servers and children, so that it stops exactly that, in order.

:mod:`smartplace.demo` decides what to start; this keeps the list, notices when one of
them dies, records their pids in ``.smartplace/demo.json`` and stops them: the
publishers first, then the ingestor (it flushes what it received), then the API, then
the servers the demo started (in reverse). Servers it found running are not in the list.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console

from smartplace.children import Child, StopFlag, kill_group
from smartplace.errors import DemoError, ServerError
from smartplace.servers import LocalServer
from smartplace.state import STATE_FILE, remove_state, write_state

#: How long each child gets to exit after SIGTERM before its process group is killed.
STOP_TIMEOUT_S = {"backfill": 10.0, "simulate": 10.0, "ingest": 20.0, "api": 10.0}
#: Stop the publishers first, then the ingestor (it flushes what it received), then the API.
STOP_ORDER = ("backfill", "simulate", "ingest", "api")


class DemoProcesses:
    """The servers and children of one demo run, and its state file."""

    def __init__(self, console: Console, base: Path) -> None:
        self.console = console
        self.base = base
        self.flag = StopFlag()
        self.servers: list[LocalServer] = []
        self.children: list[Child] = []
        self.urls: dict[str, str] = {}

    def start_server(self, server: LocalServer) -> None:
        """Start ``server`` and keep it, to stop at exit.

        Raises:
            DemoError: it did not start (the message names its log).
        """
        try:
            server.start()
        except ServerError as exc:
            raise DemoError(
                f"{server.name} did not start (log: {server.log_path}):\n{exc}"
            ) from None
        self.servers.append(server)
        self.write_state()

    def start_child(self, name: str, args: list[str], env: dict[str, str]) -> Child:
        """Start ``smartplace <args>`` logging to ``logs/<name>.log``; it is stopped at exit."""
        child = Child(name, args, self.base / "logs" / f"{name}.log", env)
        child.start()
        self.children.append(child)
        self.write_state()
        return child

    def forget(self, child: Child) -> None:
        """Drop a child that has been stopped (it is no longer the demo's to stop)."""
        self.children.remove(child)
        self.write_state()

    def check_children(self, ignore: Child | None = None) -> None:
        """Raise DemoError when a child (but ``ignore``) or a started server has exited."""
        for child in self.children:
            code = child.returncode()
            if code is not None and child is not ignore:
                raise DemoError(
                    f"`smartplace {child.name}` exited unexpectedly with code {code} "
                    f"(log: {child.log_path}):\n{child.log_tail()}"
                )
        for server in self.servers:
            if server.process is not None and server.process.poll() is not None:
                raise DemoError(
                    f"{server.name} exited unexpectedly (log: {server.log_path}):\n"
                    f"{server.log_tail()}"
                )

    def wait_for(self, what: str, check: Callable[[], bool], timeout_s: float) -> bool:
        """Poll ``check`` until true; False when a stop was requested.

        Raises:
            DemoError: a child died, or ``check`` stayed false for ``timeout_s``.
        """
        deadline = time.monotonic() + timeout_s
        while not self.flag.requested:
            self.check_children()
            if check():
                return True
            if time.monotonic() > deadline:
                logs = "\n".join(f"--- {c.log_path} ---\n{c.log_tail()}" for c in self.children)
                raise DemoError(f"{what} not ready after {timeout_s:.0f}s\n{logs}")
            time.sleep(0.2)
        return False

    def write_state(self) -> None:
        """Write the pids and URLs to the state file (atomically, by rename)."""
        write_state(
            self.base / STATE_FILE,
            children={c.name: c.pid for c in self.children},
            servers={s.name: s.process.pid for s in self.servers if s.process is not None},
            urls=self.urls,
        )

    def stop_all(self) -> None:
        """Stop the simulators, the ingestor, the API, then the servers the demo started."""
        for child in sorted(self.children, key=lambda c: STOP_ORDER.index(c.name)):
            if child.returncode() is None:
                self.console.print(f"stopping {child.name} ...")
            if not child.stop(STOP_TIMEOUT_S.get(child.name, 10.0), self.flag):
                self.console.print(f"[yellow]{child.name} did not exit in time: killed[/]")
        for server in reversed(self.servers):
            self.console.print(f"stopping {server.name} ...")
            server.stop()
            if server.process is not None:
                kill_group(server.process.pid)
        remove_state(self.base / STATE_FILE)
