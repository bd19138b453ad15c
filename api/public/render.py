"""The public page as HTML (Jinja2, autoescaped) and its style sheet; no script at all."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from importlib.resources import files

from jinja2 import Environment, PackageLoader, select_autoescape

from api.clock import LONDON
from api.live.sse import rfc3339_ms
from api.public.advice import DEFRA_DAQI_URL, UKHSA_ADVICE_URL
from api.public.page import PublicPage


def london_long(ms: int) -> str:
    """``14:05 on Thursday 26 November 2026``, on the London clock."""
    local = datetime.fromtimestamp(ms / 1000, LONDON)
    return f"{local:%H:%M} on {local:%A} {local.day} {local:%B %Y}"


def tonnes(value: float) -> str:
    """Tonnes for people: 1 decimal from 10 up, 2 below, thousands separated."""
    return f"{value:,.1f}" if abs(value) >= 10 else f"{value:,.2f}"


def percent(value: float) -> str:
    """``4.2%`` (one decimal)."""
    return f"{value:.1f}%"


def capitalize_first(text: str) -> str:
    """The text with its first letter capitalised (the rest left as it is)."""
    return text[:1].upper() + text[1:]


@cache
def _environment() -> Environment:
    env = Environment(loader=PackageLoader("api", "templates"),
                      autoescape=select_autoescape(["html"]), trim_blocks=True,
                      lstrip_blocks=True)
    env.filters.update(iso=rfc3339_ms, london_long=london_long, tonnes=tonnes,
                       percent=percent, capitalize_first=capitalize_first)
    return env


def render_page(page: PublicPage) -> str:
    """The page's HTML."""
    template = _environment().get_template("public.html")
    return template.render(page=page, defra_url=DEFRA_DAQI_URL, ukhsa_url=UKHSA_ADVICE_URL)


@cache
def style_sheet() -> str:
    """The page's CSS (``/public/style.css``)."""
    return files("api").joinpath("templates/public.css").read_text(encoding="utf-8")
