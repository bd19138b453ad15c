"""Reading server-sent events back, as a browser's EventSource does."""

from __future__ import annotations


def parse_frames(text: str) -> list[tuple[str, dict[str, str]]]:
    """Split a stream's text into ``(event, fields)`` pairs.

    Only complete frames (ending with a blank line) are returned; ``data`` lines of one
    frame are joined with newlines, as a browser does.
    """
    events: list[tuple[str, dict[str, str]]] = []
    for block in text.replace("\r\n", "\n").split("\n\n")[:-1]:
        fields: dict[str, str] = {}
        for line in block.split("\n"):
            if not line or line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            fields[name] = f"{fields[name]}\n{value}" if name in fields else value
        if fields:
            events.append((fields.get("event", "message"), fields))
    return events
