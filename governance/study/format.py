"""The A15 opportunity study's French figures: amounts, sizes, durations, and its percentages.

Counts, decimals and dates come from the lake's page toolkit (:mod:`lake.pages.french`), which
the quality reviews use too; this module adds the units only the study writes, with a no-break
space (U+00A0) before ``€``, ``K€``, ``h`` and the size units. Sizes use the SI units
(1 Mo = 10⁶ octets), the units the storage prices are quoted in. The study shows every share with
one decimal (``42,9 %``), so its tables and sentences compare at a glance.
"""

from __future__ import annotations

from lake.pages.french import (
    NBSP,
    NNBSP,
    format_count_fr,
    format_date_fr,
    format_decimal_fr,
    format_int_fr,
)
from lake.pages.french import format_percent_fr as _format_percent_fr

__all__ = [
    "NBSP",
    "NNBSP",
    "format_count_fr",
    "format_date_fr",
    "format_decimal_fr",
    "format_eur_fr",
    "format_hours_fr",
    "format_int_fr",
    "format_keur_fr",
    "format_percent_fr",
    "format_size_fr",
]

_SIZE_UNITS = ("o", "ko", "Mo", "Go", "To", "Po")


def format_percent_fr(value: float, decimals: int = 1) -> str:
    """A share (0 to 100) with one decimal by default: ``12,5 %``, ``moins de 0,1 %``."""
    return _format_percent_fr(value, decimals=decimals)


def format_eur_fr(value: float) -> str:
    """An amount in euros: ``12 345 €`` from 100 € up, ``12,34 €`` below, ``moins de 0,01 €``.

    Tiny amounts (a prototype stores a few megabytes) stay visible instead of reading 0 €.
    """
    if value == 0:
        return f"0{NBSP}€"
    if 0 < abs(value) < 0.01:
        return f"moins de 0,01{NBSP}€"
    if abs(value) < 100:
        return f"{format_decimal_fr(value, 2, keep_zeros=True)}{NBSP}€"
    return f"{format_decimal_fr(value, 0)}{NBSP}€"


def format_keur_fr(value: float) -> str:
    """Thousands of euros as the roadmap writes them: ``144 K€``, ``2,5 K€``."""
    return f"{format_decimal_fr(value, 1)}{NBSP}K€"


def format_size_fr(size: float) -> str:
    """``512 o``, ``1,2 ko``, ``3,4 Mo``... (SI units, one decimal)."""
    value, unit = float(size), 0
    while abs(value) >= 1000 and unit < len(_SIZE_UNITS) - 1:
        value, unit = value / 1000, unit + 1
    if unit == 0:
        return f"{format_int_fr(round(value))}{NBSP}o"
    return f"{format_decimal_fr(value, 1)}{NBSP}{_SIZE_UNITS[unit]}"


def format_hours_fr(hours: float) -> str:
    """``12,34 h``; ``moins de 0,01 h`` for a non-zero duration that would round to nothing."""
    if 0 < hours < 0.005:
        return f"moins de 0,01{NBSP}h"
    return f"{format_decimal_fr(hours, 2)}{NBSP}h"
