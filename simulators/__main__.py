"""``python -m simulators``: the same as ``smartplace simulate``."""

from __future__ import annotations

import typer

from simulators.command import simulate

if __name__ == "__main__":
    typer.run(simulate)
