"""The installed smartplace version, for ``--version``, ``/health`` and the build-info metrics."""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version


def smartplace_version() -> str:
    """The installed smartplace distribution's version (``unknown`` when not installed)."""
    try:
        return version("smartplace")
    except PackageNotFoundError:
        return "unknown"


def build_labels(component: str) -> dict[str, str]:
    """The labels of each process's ``smartplace_build_info`` metric."""
    return {"version": smartplace_version(), "component": component,
            "python_version": platform.python_version()}
