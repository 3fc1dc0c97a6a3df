"""Small SVG charts for the static pages: a line of a 0-100 score and horizontal bars.

Each chart is standalone SVG drawn from a shared template with autoescaping on, so a label is
always text. It carries a ``<title>`` (its accessible name, also its ``aria-label``) and a
``<desc>`` (its text alternative), no script and no external asset; a page shows the same
figures in a table next to it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

from markupsafe import Markup

from lake.pages.french import format_percent_fr
from lake.pages.templates import environment

__all__ = ["Bar", "LinePoint", "bar_chart", "line_chart"]

_WIDTH = 640
_LABEL_CHARS = 30
_DATED_POINTS = 6  # up to this many points, each has its date under it; beyond, first and last
_PALETTE = ("#000091", "#6a6af4", "#18753c", "#b34000", "#5e2a2b", "#3a3a3a")


class LinePoint(NamedTuple):
    """One point of a line chart.

    Attributes:
        date: Short date under the point (``02/12/2024``).
        value: The score, 0 to 100.
        text: The score as French text (``99,6 %``), printed above the last point.
        label: What the point is, for its tooltip (``2 décembre 2024..., registre : 99,6 %``).
    """

    date: str
    value: float
    text: str
    label: str


class Bar(NamedTuple):
    """One bar: its label, its value (the bar's length) and the value as French text."""

    label: str
    value: float
    text: str


def line_chart(
    points: Sequence[LinePoint],
    *,
    title: str,
    desc: str,
    chart_id: str,
    empty: str = "Aucune revue pour l'instant",
) -> Markup:
    """A line chart of a 0-100 score, oldest point first; the axis starts near the lowest value.

    Args:
        points: The points, oldest first.
        title: Accessible name of the chart.
        desc: Text alternative of the chart.
        chart_id: Prefix of the element ids, unique within the page.
        empty: What the chart says when there is no point.

    Returns:
        SVG markup, safe to embed in a page: every text given is escaped.
    """
    height, left, right, top, bottom = 220, 56, 40, 20, 44
    plot_w, plot_h = _WIDTH - left - right, height - top - bottom
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
            "dated": len(points) <= _DATED_POINTS or i in (0, len(points) - 1),
        }
        for i, p in enumerate(points)
    ]
    ticks = [
        {"y": round(y(v), 1), "label": format_percent_fr(v, decimals=1)}
        for v in (low, (low + 100) / 2, 100)
    ]
    return _render(
        "line_chart.svg",
        id=chart_id,
        title=title,
        desc=desc,
        empty=empty,
        width=_WIDTH,
        height=height,
        left=left,
        right=_WIDTH - right,
        bottom=height - bottom,
        dots=dots,
        ticks=ticks,
        line=" ".join(f"{d['x']},{d['y']}" for d in dots),
    )


def bar_chart(bars: Sequence[Bar], *, title: str, chart_id: str) -> Markup:
    """A horizontal bar chart; each bar's label and value are also in the ``<desc>``.

    Args:
        bars: The bars, drawn top to bottom; lengths are proportional to ``value``. A label
            longer than 30 characters is cut on the chart (its tooltip has it whole).
        title: Accessible name of the chart.
        chart_id: Prefix of the element ids, unique within the page.

    Returns:
        SVG markup, safe to embed in a page: every text given is escaped.
    """
    left, right, top, step, bar_height = 210, 150, 12, 30, 20
    plot = _WIDTH - left - right
    peak = max((b.value for b in bars), default=0) or 1
    rows = [
        {
            "label": _short(b.label),
            "full": b.label,
            "text": b.text,
            "y": top + i * step,
            # A non-zero value stays visible, however small next to the peak.
            "width": round(max(b.value / peak * plot, 1 if b.value > 0 else 0), 1),
            "color": _PALETTE[i % len(_PALETTE)],
        }
        for i, b in enumerate(bars)
    ]
    desc = " ; ".join(f"{b.label} : {b.text}" for b in bars) or "Aucune donnée"
    return _render(
        "bar_chart.svg",
        id=chart_id,
        title=title,
        desc=desc + ".",
        width=_WIDTH,
        height=top * 2 + max(len(rows), 1) * step,
        left=left,
        bar_height=bar_height,
        rows=rows,
    )


def _short(label: str) -> str:
    return label if len(label) <= _LABEL_CHARS else label[: _LABEL_CHARS - 1] + "…"


def _render(template: str, **values: object) -> Markup:
    return Markup(environment().get_template(template).render(**values).strip())
