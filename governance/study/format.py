"""Numbers, amounts, sizes and dates written the French way, for the A15 opportunity study.

Pure functions, no IO. French typography as the CLDR ``fr`` locale writes it: a decimal comma, a
narrow no-break space (U+202F) between thousands and before ``%``, a no-break space (U+00A0)
before ``€`` and ``K€``. Rounding is half-up on the decimal text, so 0,25 shows as 0,3. Sizes use
the SI units (1 Mo = 10⁶ octets), the units the storage prices are quoted in.

Governance keeps its own copy of these few helpers rather than importing the quality package's
wording: the packages do not import each other (STYLE.md).
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

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

NNBSP = "\u202f"  # narrow no-break space: thousands separator, before "%"
NBSP = "\u00a0"  # no-break space: before "€"
MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip
_SIZE_UNITS = ("o", "ko", "Mo", "Go", "To", "Po")


def format_int_fr(value: int) -> str:
    """``1 234 567`` (narrow no-break spaces between thousands); negatives keep their sign."""
    return ("-" if value < 0 else "") + f"{abs(int(value)):,}".replace(",", NNBSP)


def _rounded(value: float | Decimal, decimals: int) -> Decimal:
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def format_count_fr(n: int, noun: str, plural: str | None = None) -> str:
    """A count and its noun, French agreement: ``0 table``, ``1 table``, ``2 tables``.

    Args:
        n: The count.
        noun: The singular (``"livraison retenue"``).
        plural: The plural when it is not ``noun + "s"``.
    """
    return f"{format_int_fr(n)} {noun if abs(n) < 2 else (plural or noun + 's')}"


def format_decimal_fr(value: float, decimals: int = 1, *, keep_zeros: bool = False) -> str:
    """``1 234,5``: half-up rounding, decimal comma, trailing zeros dropped unless kept.

    Args:
        value: The number.
        decimals: Digits after the comma.
        keep_zeros: Keep trailing zeros (``0,50`` rather than ``0,5``), for amounts.
    """
    rounded = _rounded(value, decimals)
    sign = "-" if rounded < 0 else ""
    whole, _, frac = f"{abs(rounded):f}".partition(".")
    if not keep_zeros:
        frac = frac.rstrip("0")
    return sign + format_int_fr(int(whole)) + ("," + frac if frac else "")


def format_percent_fr(value: float, decimals: int = 1) -> str:
    """A percentage (0 to 100): ``12,5 %``; a non-zero share never reads 0 % nor 100 %."""
    floor = Decimal(1).scaleb(-decimals)
    if value <= 0:
        return f"0{NNBSP}%"
    if value >= 100:
        return f"100{NNBSP}%"
    if Decimal(str(value)) < floor:
        return f"moins de {format_decimal_fr(float(floor), decimals)}{NNBSP}%"
    if _rounded(value, decimals) >= 100:
        return f"plus de {format_decimal_fr(float(100 - floor), decimals)}{NNBSP}%"
    return f"{format_decimal_fr(value, decimals)}{NNBSP}%"


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


def format_date_fr(value: dt.datetime, *, time: bool = False) -> str:
    """A UTC date in words: ``1er mars 2026``, or ``1er mars 2026 à 9 h 05 UTC``."""
    when = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    day = "1er" if when.day == 1 else str(when.day)
    text = f"{day} {MONTHS[when.month - 1]} {when.year}"
    return f"{text} à {when.hour} h {when.minute:02d} UTC" if time else text
