"""Fixtures that run the ingestor against the session's real servers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sensors.settings import Settings
from tests.ingest.helpers import IngestProcess


@pytest.fixture
def ingest_process(settings: Settings, tmp_path: Path) -> Iterator[Callable[..., IngestProcess]]:
    """Factory for ingestor child processes; any left running is killed at teardown."""
    made: list[IngestProcess] = []

    def make(*args: str, **overrides: object) -> IngestProcess:
        proc = IngestProcess(settings.model_copy(update=overrides), tmp_path / "ingest.log",
                             args)
        made.append(proc)
        return proc

    yield make
    for proc in made:
        proc.kill_all()
