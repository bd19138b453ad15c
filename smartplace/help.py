"""Help output without a ``<bool>`` placeholder after flags.

Typer's rich help prints the type of every option, so a flag such as ``--json`` reads
``--json <bool>`` as though it took a value; it takes none. These command classes give
flags an empty placeholder before the help is drawn (values are parsed as before).
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperCommand, TyperGroup


def _plain_flags(params: list[Any]) -> list[Any]:
    # Typer carries its own copy of click, so its options are matched by what they do.
    for param in params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
    return params


class PlainFlagsCommand(TyperCommand):
    """A command whose help shows flags without a value placeholder."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _plain_flags(super().get_params(ctx))


class PlainFlagsGroup(TyperGroup):
    """A group whose help shows flags without a value placeholder."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _plain_flags(super().get_params(ctx))
