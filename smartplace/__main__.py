"""``python -m smartplace``: the same as the ``smartplace`` console script."""

from __future__ import annotations

from smartplace.cli import app


def main() -> None:
    """Run the command line with the console script's name in help and errors."""
    app(prog_name="smartplace")


if __name__ == "__main__":
    main()
