"""MQTT topic filters (``+`` one level, ``#`` the rest): checking, matching, overlap.

Used to route a message to its format and to find the levels a filter's ``+`` matched
(Tasmota's device id is one of them).
"""

from __future__ import annotations

from dataclasses import dataclass


def check_filter(text: str) -> str:
    """``text`` if it is a valid MQTT topic filter (MQTT 5, 4.7.1).

    Raises:
        ValueError: empty, or a wildcard that is not a whole level (``#`` only last).
    """
    if not text:
        raise ValueError("a topic filter cannot be empty")
    levels = text.split("/")
    for index, level in enumerate(levels):
        if "#" in level and (level != "#" or index != len(levels) - 1):
            raise ValueError(f"'#' must be a whole last level in {text!r}")
        if "+" in level and level != "+":
            raise ValueError(f"'+' must be a whole level in {text!r}")
    return text


@dataclass(frozen=True, slots=True)
class TopicFilter:
    """A parsed topic filter."""

    text: str
    levels: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> TopicFilter:
        """Parse and check a filter (raises ValueError, see :func:`check_filter`)."""
        return cls(check_filter(text), tuple(text.split("/")))

    @property
    def exact(self) -> bool:
        """True when the filter has no wildcard (it names one topic)."""
        return "+" not in self.levels and "#" not in self.levels

    def match(self, topic: str) -> tuple[str, ...] | None:
        """The levels matched by each ``+`` (in order), or None when ``topic`` does not match.

        Topics starting with ``$`` (broker internals) never match a wildcard first level.
        """
        return self.match_levels(topic.split("/"))

    def match_levels(self, parts: list[str]) -> tuple[str, ...] | None:
        """:meth:`match` for a topic already split at ``/`` (once for every route)."""
        levels = self.levels
        if len(parts) != len(levels) and levels[-1] != "#":
            return None
        if parts[0].startswith("$") and levels[0] in ("+", "#"):
            return None
        wild: list[str] = []
        for index, level in enumerate(levels):
            if level == "#":
                return tuple(wild)
            if index >= len(parts):
                return None
            if level == "+":
                wild.append(parts[index])
            elif level != parts[index]:
                return None
        return tuple(wild) if len(parts) == len(levels) else None

    def overlaps(self, other: TopicFilter) -> bool:
        """True when some topic matches both filters."""
        for mine, theirs in zip(self.levels, other.levels, strict=False):
            if "#" in (mine, theirs):
                return True
            if mine != theirs and "+" not in (mine, theirs):
                return False
        longer = max(self.levels, other.levels, key=len)
        shorter = min(self.levels, other.levels, key=len)
        # Equal length, or the longer one continues with '#' (which also matches its parent).
        return len(longer) == len(shorter) or (
            len(longer) == len(shorter) + 1 and longer[-1] == "#")

    def covers(self, other: TopicFilter) -> bool:
        """True when every topic ``other`` matches, this filter matches too."""
        for index, mine in enumerate(self.levels):
            if mine == "#":
                return True
            if index >= len(other.levels):
                return False
            theirs = other.levels[index]
            if theirs == "#" or (mine != "+" and (theirs == "+" or theirs != mine)):
                return False
        return len(self.levels) == len(other.levels)
