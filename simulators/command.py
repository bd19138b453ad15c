"""Placeholder replaced by the simulator work."""

from __future__ import annotations


def simulate() -> None:
    """Publish simulated readings (not built yet)."""
    raise SystemExit("simulate is not built yet")
