"""Write ``requirements.lock``: every distribution ``smartplace[dev]`` needs, pinned to the
version installed in the running environment (``make lock``, after ``make venv``).

The closure is walked from the installed metadata, so tools installed by hand beside the
project (a profiler, say) stay out of the lock. ``make venv`` installs with the lock as
pip constraints; tests/deploy/test_lock.py checks it against pyproject.toml.
"""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
HEADER = ("# Pinned versions of smartplace[dev] and everything it needs (Python 3.11, Linux).\n"
          "# Made by `make lock` from a fresh `make venv`; installed as pip constraints.\n")


def canonical(name: str) -> str:
    """A distribution name as pip compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def closure(root: str, extras: set[str]) -> dict[str, str]:
    """Installed name -> version of ``root``'s requirements (with ``extras``), recursively."""
    found: dict[str, str] = {}
    pending: list[tuple[str, set[str]]] = [(root, extras)]
    while pending:
        name, wanted = pending.pop()
        dist = metadata.distribution(name)
        for text in dist.requires or []:
            requirement = Requirement(text)
            if requirement.marker is not None and not any(
                    requirement.marker.evaluate({"extra": extra})  # other markers: this Python
                    for extra in wanted or {""}):
                continue
            key = canonical(requirement.name)
            if key not in found:
                found[key] = metadata.version(requirement.name)
                pending.append((requirement.name, set(requirement.extras)))
    return found


def main() -> None:
    pins = closure("smartplace", {"dev"})
    pins.pop("smartplace", None)
    text = HEADER + "".join(f"{name}=={pins[name]}\n" for name in sorted(pins))
    (ROOT / "requirements.lock").write_text(text)
    sys.stdout.write(f"requirements.lock: {len(pins)} pins\n")


if __name__ == "__main__":
    main()
