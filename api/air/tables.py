"""The ``/air-quality/daqi`` answers as tables, for CSV: one line per site, time and
pollutant, with the site's overall index repeated on each of its lines."""

from __future__ import annotations

from typing import Any

HOUR_HEADER = ["site", "at", "overall_index", "overall_band", "pollutant", "index", "band",
               "mean_ugm3", "rounded_ugm3", "window", "window_start", "window_end",
               "readings", "needed_per_unit", "reason"]
_HOUR_FIELDS = HOUR_HEADER[5:]
DAY_HEADER = ["site", "date", "start", "end", "hours", "overall_index", "overall_band",
              "pollutant", "index", "band", "value_ugm3", "rounded_ugm3", "statistic",
              "units", "valid_units", "needed_units", "reason"]
_DAY_FIELDS = DAY_HEADER[8:]


def _hour_rows(hour: dict[str, Any]) -> list[list[Any]]:
    overall = hour["overall"]
    return [[hour["site"], hour["at"], overall["index"], overall["band"], pollutant,
             *(one[name] for name in _HOUR_FIELDS)]
            for pollutant, one in hour["pollutants"].items()]


def daqi_table(body: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """``/air-quality/daqi``: one line per pollutant."""
    return HOUR_HEADER, _hour_rows(body)


def history_table(body: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """``/air-quality/daqi/history``: one line per hour, site and pollutant."""
    return HOUR_HEADER, [row for hour in body["hours"] for row in _hour_rows(hour)]


def daily_table(body: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """``/air-quality/daqi/daily``: one line per site, London day and pollutant."""
    rows = [[day["site"], day["date"], day["start"], day["end"], day["hours"],
             day["overall"]["index"], day["overall"]["band"], pollutant,
             *(one[name] for name in _DAY_FIELDS)]
            for day in body["days"] for pollutant, one in day["pollutants"].items()]
    return DAY_HEADER, rows
