"""SVG for the A15 study: checking an embedded drawing, and drawing bar and line charts.

The charts come from Jinja2 templates beside this module with autoescaping on, so a label is
always text; they carry a ``<title>`` and a ``<desc>`` (text alternative) and no script. A drawing
made elsewhere (the lineage SVG) is embedded only if it parses as XML, is an ``<svg>`` root, and
holds no script, event handler, foreign content or external reference.
"""

from __future__ import annotations

import functools
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import jinja2
from markupsafe import Markup

__all__ = ["TEMPLATES", "Bar", "LinePoint", "bars_svg", "checked_svg", "environment", "line_svg"]

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
_SVG_NS = "{http://www.w3.org/2000/svg}"
_FORBIDDEN = frozenset(
    {"script", "foreignobject", "iframe", "object", "embed", "image", "audio", "video",
     "animate", "animatemotion", "animatetransform", "set", "handler", "use"}
)  # fmt: skip
_EXTERNAL_URL = re.compile(r"url\(\s*['\"]?(?!#)", re.IGNORECASE)
_LABEL_CHARS = 30
_PALETTE = ("#000091", "#6a6af4", "#18753c", "#b34000", "#5e2a2b", "#3a3a3a")


class Bar(NamedTuple):
    """One bar: its label, its value (the bar's length) and the value as French text."""

    label: str
    value: float
    text: str


class LinePoint(NamedTuple):
    """One point of a 0-100 line chart: a short date, the value, and its description."""

    date: str
    value: float
    text: str
    label: str


@functools.lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The Jinja2 environment of the study's templates (autoescape on for every template).

    Markdown templates (``*.md.j2``) are not HTML-escaped; :mod:`governance.study.render` escapes
    their values for Markdown instead.
    """
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html", "svg"), disabled_extensions=("j2",), default=True
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def checked_svg(svg: str | None) -> tuple[str | None, str | None]:
    """The drawing if it is safe to embed in a page, else None and why (in French).

    Safe means: well-formed XML, no DOCTYPE (no entities), an ``<svg>`` root in the SVG
    namespace, no script, foreign content, media, ``<use>`` or animation element, no ``on*``
    attribute, no link or ``url(...)`` other than to an id of the drawing itself.
    """
    if not svg or not svg.strip():
        return None, None
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", svg).strip()
    if "<!DOCTYPE" in text.upper():
        return None, "le SVG contient une déclaration DOCTYPE."
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        return None, f"le SVG est mal formé ({exc})."
    if root.tag != f"{_SVG_NS}svg":
        return None, f"la racine est {root.tag!r}, un élément <svg> était attendu."
    for element in root.iter():
        name = str(element.tag).rsplit("}", 1)[-1].lower()
        if name in _FORBIDDEN:
            return None, f"élément <{name}> refusé."
        css = element.text or ""
        if name == "style" and (_EXTERNAL_URL.search(css) or "@import" in css.lower()):
            return None, "feuille de style avec une ressource externe refusée."
        for attribute, value in element.attrib.items():
            local = attribute.rsplit("}", 1)[-1].lower()
            if local.startswith("on"):
                return None, f"attribut d'événement {local!r} refusé."
            if local == "href" and not value.startswith("#"):
                return None, f"lien externe {value!r} refusé."
            if _EXTERNAL_URL.search(value) or "javascript:" in value.lower():
                return None, f"référence externe dans l'attribut {local!r} refusée."
    return text, None


def _short(label: str) -> str:
    return label if len(label) <= _LABEL_CHARS else label[: _LABEL_CHARS - 1] + "…"


def bars_svg(bars: Sequence[Bar], *, title: str, chart_id: str) -> Markup:
    """A horizontal bar chart; each bar's label and value are also in the ``<desc>``.

    Args:
        bars: The bars, drawn top to bottom; lengths are proportional to ``value``.
        title: Accessible name of the chart.
        chart_id: Prefix of the element ids, unique within the page.
    """
    width, left, right, top, step, height_bar = 640, 210, 150, 12, 30, 20
    plot = width - left - right
    peak = max((b.value for b in bars), default=0) or 1
    rows = [
        {
            "label": _short(b.label),
            "full": b.label,
            "text": b.text,
            "y": top + i * step,
            "width": round(max(b.value / peak * plot, 1 if b.value > 0 else 0), 1),
            "color": _PALETTE[i % len(_PALETTE)],
        }
        for i, b in enumerate(bars)
    ]
    desc = " ; ".join(f"{b.label} : {b.text}" for b in bars) or "Aucune donnée."
    return Markup(
        environment()
        .get_template("study_bars.svg")
        .render(
            id=chart_id,
            title=title,
            desc=desc + ".",
            width=width,
            height=top * 2 + max(len(rows), 1) * step,
            left=left,
            bar_height=height_bar,
            rows=rows,
        )
        .strip()
    )


def line_svg(points: Sequence[LinePoint], *, title: str, desc: str, chart_id: str) -> Markup:
    """A line chart of a 0-100 score, oldest point first (the quality trend).

    Args:
        points: The points, oldest first.
        title: Accessible name of the chart.
        desc: Text alternative of the chart.
        chart_id: Prefix of the element ids, unique within the page.
    """
    width, height, left, right, top, bottom = 640, 220, 56, 40, 20, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    low = max(0, math.floor((min((p.value for p in points), default=100) - 1) / 10) * 10)

    def x(i: int) -> float:
        return left + (plot_w / 2 if len(points) == 1 else i * plot_w / (len(points) - 1))

    def y(value: float) -> float:
        return top + (100 - value) / (100 - low) * plot_h

    dots = [
        {
            "x": round(x(i), 1),
            "y": round(y(p.value), 1),
            "text": p.text,
            "label": p.label,
            "date": p.date,
            "dated": len(points) <= 6 or i in (0, len(points) - 1),
        }
        for i, p in enumerate(points)
    ]
    ticks = [{"y": round(y(v), 1), "label": f"{v:g}\u202f%"} for v in (low, (low + 100) / 2, 100)]
    return Markup(
        environment()
        .get_template("study_line.svg")
        .render(
            id=chart_id,
            title=title,
            desc=desc,
            width=width,
            height=height,
            left=left,
            right=width - right,
            bottom=height - bottom,
            dots=dots,
            ticks=ticks,
            line=" ".join(f"{d['x']},{d['y']}" for d in dots),
        )
        .strip()
    )
