"""Server-side SVG charts for reports: plain elements, no script, no fonts fetched.

Two charts are needed (stacked bars over time with the comparison period marked, and days
by DAQI band per site), so they are drawn here in a few lines each rather than with a
plotting library whose output would embed scripts or raster images. Colours are the
Okabe-Ito colour-blind-safe palette; every bar is also labelled in the tables beside it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from xml.sax.saxutils import escape

ENERGY, TRANSPORT, PREVIOUS = "#0072B2", "#E69F00", "#000000"
BAND_COLOURS = {"Low": "#009E73", "Moderate": "#F0E442", "High": "#D55E00",
                "Very High": "#CC79A7", "none": "#BBBBBB"}
FONT = "font-family:Helvetica,Arial,sans-serif"


def nice_max(value: float) -> float:
    """A round axis maximum at or above ``value`` (1, 2 or 5 times a power of ten)."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    return float(next(step * power for step in (1, 2, 5, 10) if step * power >= value))


def _text(x: float, y: float, text: str, size: int = 11, anchor: str = "middle",
          weight: str = "normal") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
            f'font-weight="{weight}" style="{FONT}">{escape(text)}</text>')


def _open(width: int, height: int, title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
            f'role="img" aria-label="{escape(title)}" class="chart">'
            f"<title>{escape(title)}</title>")


def stacked_bars(labels: Sequence[str], series: Sequence[tuple[str, str, Sequence[float]]],
                 reference: Sequence[float | None] | None, unit: str, title: str,
                 reference_label: str = "previous period") -> str:
    """Vertical stacked bars, one per label; ``reference`` marks each bar's comparison total.

    Args:
        labels: the x categories (months, days).
        series: (name, colour, values) stacked bottom to top.
        reference: the comparison period's total per label (None: no data), drawn as a tick.
        unit: the y axis unit.
        title: the chart's accessible title.
        reference_label: the legend text of the ticks.
    """
    width, height, left, right, top, bottom = 720, 260, 56, 12, 28, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [math.fsum(values[i] for _, _, values in series) for i in range(len(labels))]
    peak = max([*totals, *(r for r in reference or [] if r is not None), 0.0])
    top_value = nice_max(peak)
    step = plot_w / max(len(labels), 1)
    bar = step * 0.62
    out = [_open(width, height, title)]
    for tick in range(5):
        value = top_value * tick / 4
        y = top + plot_h - plot_h * tick / 4
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
                   f'stroke="#dddddd" stroke-width="1"/>')
        out.append(_text(left - 6, y + 4, f"{value:g}", 10, "end"))
    out.append(_text(14, top + plot_h / 2, unit, 10, "middle").replace(
        "<text ", f'<text transform="rotate(-90 14 {top + plot_h / 2:.1f})" '))
    every = max(1, math.ceil(len(labels) / 16))
    for i, label in enumerate(labels):
        x = left + i * step + (step - bar) / 2
        base = float(top + plot_h)
        for _name, colour, values in series:
            h = plot_h * values[i] / top_value
            base -= h
            out.append(f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                       f'fill="{colour}"/>')
        if reference is not None and reference[i] is not None:
            y = top + plot_h - plot_h * float(reference[i] or 0.0) / top_value
            out.append(f'<line x1="{x - 3:.1f}" x2="{x + bar + 3:.1f}" y1="{y:.1f}" '
                       f'y2="{y:.1f}" stroke="{PREVIOUS}" stroke-width="2" '
                       'stroke-dasharray="4 2"/>')
        if i % every == 0:
            out.append(_text(x + bar / 2, top + plot_h + 14, label, 10))
    legend = [(name, colour, "rect") for name, colour, _ in series]
    if reference is not None:
        legend.append((reference_label, PREVIOUS, "line"))
    x = float(left)
    for name, colour, shape in legend:
        y = height - 12
        if shape == "rect":
            out.append(f'<rect x="{x}" y="{y - 9}" width="12" height="10" fill="{colour}"/>')
        else:
            out.append(f'<line x1="{x}" x2="{x + 14}" y1="{y - 4}" y2="{y - 4}" '
                       f'stroke="{colour}" stroke-width="2" stroke-dasharray="4 2"/>')
        out.append(_text(x + 18, y, name, 10, "start"))
        x += 24 + 7 * len(name)
    out.append("</svg>")
    return "".join(out)


def band_days(sites: Sequence[str], counts: dict[str, dict[str, int]], title: str) -> str:
    """Horizontal stacked bars: days in each DAQI band (and without an index) per site."""
    width, row, left, right, top = 720, 22, 150, 16, 10
    height = top + row * len(sites) + 40
    plot_w = width - left - right
    totals = [sum(counts[site].values()) for site in sites]
    days = max([*totals, 1])
    out = [_open(width, height, title)]
    for i, site in enumerate(sites):
        y = top + i * row
        out.append(_text(left - 8, y + 14, site, 11, "end"))
        x = float(left)
        for band, colour in BAND_COLOURS.items():
            n = counts[site].get(band, 0)
            if not n:
                continue
            w = plot_w * n / days
            out.append(f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row - 6}" '
                       f'fill="{colour}"><title>{escape(site)}: {n} {escape(band)}</title></rect>')
            if w > 18:
                out.append(_text(x + w / 2, y + 15, str(n), 10))
            x += w
    x = left
    for band, colour in BAND_COLOURS.items():
        y = height - 12
        label = "no index" if band == "none" else band
        out.append(f'<rect x="{x}" y="{y - 9}" width="12" height="10" fill="{colour}"/>')
        out.append(_text(x + 18, y, label, 10, "start"))
        x += 30 + 7 * len(label)
    out.append("</svg>")
    return "".join(out)
