"""What the governance's static French pages share: templates, safe links, dates in words.

The pages (the A03/A06 dashboard, the reports index) follow the house style of the quality
reviews: Jinja2 templates beside this module with autoescaping on for every template, so whatever
the data holds is shown as text; embedded CSS; no JavaScript; a Content-Security-Policy that
forbids scripts and any outside load, so a page can be mailed or opened offline.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from urllib.parse import urlsplit

import jinja2

__all__ = [
    "TEMPLATES",
    "as_utc",
    "environment",
    "format_count_fr",
    "format_datetime_fr",
    "safe_link",
]

TEMPLATES = Path(__file__).with_name("templates")
_LINK_SCHEMES = frozenset({"", "http", "https", "file"})
_MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip


@functools.lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The Jinja2 environment of the governance pages (autoescape everywhere, strict)."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,  # every template, SVG included: data never becomes markup
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def safe_link(target: object) -> str | None:
    """``target`` if it is a web, file or relative address; None otherwise (``javascript:``...)."""
    if not target:
        return None
    text = str(target).strip()
    try:
        scheme = urlsplit(text).scheme.lower()
    except ValueError:
        return None
    return text if text and scheme in _LINK_SCHEMES else None


def as_utc(value: dt.datetime) -> dt.datetime:
    """``value`` as an aware UTC time; a naive time is taken to be UTC already."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def format_datetime_fr(value: dt.datetime) -> str:
    """A date in words, in UTC: ``1er décembre 2024 à 9 h 05 UTC`` (naive means UTC)."""
    when = as_utc(value)
    day = "1er" if when.day == 1 else str(when.day)
    return f"{day} {_MONTHS[when.month - 1]} {when.year} à {when.hour} h {when.minute:02d} UTC"


def format_count_fr(count: int, singular: str, plural: str | None = None) -> str:
    """``0 revue``, ``1 revue``, ``12 345 revues``: French plural rule, spaced thousands."""
    word = singular if abs(count) < 2 else (plural or singular + "s")
    return f"{count:,}".replace(",", "\u202f") + f" {word}"
