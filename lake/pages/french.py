"""Numbers, percentages and dates written the French way, for every page the lake produces.

Pure functions, no IO, one definition each. French typography as the CLDR ``fr`` locale writes
it: a decimal comma, a narrow no-break space (U+202F) between thousands and before ``%``, a
no-break space (U+00A0) before a unit such as ``€`` or ``Mo``. Rounding is half-up on the decimal
text, so 0,25 shows as 0,3 (binary floats and ``round()`` would say 0,2). Dates are in UTC and in
words: "1er décembre 2024 à 9 h 05 UTC".
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

__all__ = [
    "MONTHS",
    "NBSP",
    "NNBSP",
    "as_utc",
    "format_count_fr",
    "format_date_fr",
    "format_date_short_fr",
    "format_decimal_fr",
    "format_int_fr",
    "format_percent_fr",
]

NNBSP = "\u202f"  # narrow no-break space: thousands separator and before "%"
NBSP = "\u00a0"  # no-break space: before a unit ("€", "Mo", "h")
MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip


def format_int_fr(value: int) -> str:
    """A whole number: ``1 234 567`` (narrow no-break spaces); a negative keeps its sign."""
    return ("-" if value < 0 else "") + f"{abs(int(value)):,}".replace(",", NNBSP)


def format_count_fr(n: int, noun: str, plural: str | None = None) -> str:
    """A count and its noun, French agreement: ``0 ligne``, ``1 ligne``, ``1 234 lignes``.

    French puts 0 and 1 in the singular.

    Args:
        n: The count.
        noun: The singular (``"ligne"``, ``"contrôle réussi"``).
        plural: The plural when it is not ``noun + "s"`` (``"contrôles réussis"``).
    """
    return f"{format_int_fr(n)} {noun if abs(n) < 2 else (plural or noun + 's')}"


def _rounded(value: float | Decimal, decimals: int) -> Decimal:
    # Half-up on the decimal text of the value, not on its binary approximation.
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def format_decimal_fr(
    value: float | Decimal, decimals: int = 1, *, keep_zeros: bool = False
) -> str:
    """``1 234,5``: half-up rounding, decimal comma, trailing zeros dropped unless kept.

    Args:
        value: The number.
        decimals: Digits after the comma.
        keep_zeros: Keep trailing zeros (``0,50`` rather than ``0,5``), for amounts.
    """
    rounded = _rounded(value, decimals)
    whole, _, frac = f"{abs(rounded):f}".partition(".")
    if not keep_zeros:
        frac = frac.rstrip("0")
    sign = "-" if rounded < 0 else ""
    return sign + format_int_fr(int(whole)) + ("," + frac if frac else "")


def format_percent_fr(value: float, *, decimals: int | None = None) -> str:
    """A percentage (0 to 100), rounded for a reader rather than a machine.

    By default one decimal below 10 % and none above. A non-zero share never shows as 0 % and a
    share below 100 % never shows as 100 %: tiny ones read "moins de 0,1 %", near-total ones
    "plus de 99,9 %". Trailing zeros are dropped ("3 %", not "3,0 %"). A rate that may exceed
    100 % is not a share: write it with `format_decimal_fr`.

    Args:
        value: The percentage, e.g. ``0.4`` for 0,4 %.
        decimals: Fixed number of decimals instead of the default rounding.

    Returns:
        For example ``"0,4 %"``, ``"12 %"``, ``"moins de 0,1 %"``.
    """
    if value <= 0:
        return f"0{NNBSP}%"
    if value >= 100:
        return f"100{NNBSP}%"
    digits = decimals if decimals is not None else (1 if value < 10 else 0)
    floor = Decimal(1).scaleb(-digits)
    if Decimal(str(value)) < floor:
        return f"moins de {format_decimal_fr(floor, digits)}{NNBSP}%"
    if _rounded(value, digits) >= 100:
        digits = max(digits, 1)
        if _rounded(value, digits) >= 100:
            near = 100 - Decimal(1).scaleb(-digits)
            return f"plus de {format_decimal_fr(near, digits)}{NNBSP}%"
    return f"{format_decimal_fr(value, digits)}{NNBSP}%"


def as_utc(value: dt.datetime | str) -> dt.datetime:
    """``value`` as an aware UTC time; a naive time (or ISO text without offset) is UTC already."""
    when = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)


def format_date_fr(value: dt.datetime, *, time: bool = False) -> str:
    """A UTC date in words: ``1er mars 2026``, or ``1er mars 2026 à 9 h 05 UTC`` with the time."""
    when = as_utc(value)
    day = "1er" if when.day == 1 else str(when.day)
    text = f"{day} {MONTHS[when.month - 1]} {when.year}"
    return f"{text} à {when.hour} h {when.minute:02d} UTC" if time else text


def format_date_short_fr(value: dt.datetime) -> str:
    """A UTC date as ``jj/mm/aaaa``, short enough for the axis of a chart."""
    return as_utc(value).strftime("%d/%m/%Y")
