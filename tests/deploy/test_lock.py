"""requirements.lock (deploy/lock_python.py) against pyproject.toml and the environment:
every declared dependency pinned inside its range, and exactly what is installed."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement

from deploy.lock_python import canonical, closure

ROOT = Path(__file__).resolve().parents[2]


def _pins() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            assert canonical(name) not in pins, f"{name} pinned twice"
            pins[canonical(name)] = version
    return pins


def test_every_declared_dependency_is_pinned_inside_its_range() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    pins = _pins()
    problems = []
    for text in declared:
        requirement = Requirement(text)
        pinned = pins.get(canonical(requirement.name))
        if pinned is None:
            problems.append(f"{requirement.name} is not in requirements.lock")
        elif not requirement.specifier.contains(pinned, prereleases=True):
            problems.append(f"{requirement.name} {pinned} is outside {requirement.specifier}")
    assert problems == []


def test_the_lock_is_what_the_environment_has() -> None:
    # make venv installs with the lock as constraints: a difference means a stale lock
    # (run `make lock`) or an environment not made by make venv.
    installed = closure("smartplace", {"dev"})
    installed.pop("smartplace", None)
    assert _pins() == installed
