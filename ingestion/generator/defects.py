"""Planted defects: what a plant is, the rule that must catch it, and where it sits in a file.

Each source has an ordered list of plants (in :mod:`ingestion.generator.specs`); with ``n``
plants, plant ``j`` replaces data line ``(j + 1) * rows // (n + 1)``, and a duplicate copies the
nearest earlier data line left clean. Delivery 2 repeats a third of the clean rows of delivery 1,
three of them changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

NO_VALUE: Any = object()  # a manifest entry without ``expected_value``

# The quality rule that catches each kind of quarantined defect (quality.rules ids, without the
# source prefix); business-rule plants name theirs.
RULE_OF_KIND: dict[str, str] = {
    "bad_date": "{column}.type",
    "bad_number": "{column}.type",
    "null_in_required": "{column}.required",
    "not_allowed": "{column}.allowed",
    "unknown_country": "{column}.reference",
    "malformed_field_count": "line.readable",
    "unterminated_quote": "line.readable",
    "invalid_json": "line.readable",
}


@dataclass(frozen=True)
class Plant:
    """One planted defect. ``shape`` says how the line is built:

    ``row`` (overwrite values), ``split`` / ``open_quote`` (write the value of ``set`` raw, with an
    unquoted delimiter or an opening quote that never closes), ``cut_json`` (drop the closing
    brace), ``copy`` (repeat an earlier line), ``rekey`` (an earlier key with a changed value).
    """

    kind: str
    column: str | None
    expected: str
    set: dict[str, str] = field(default_factory=dict)
    expected_value: Any = NO_VALUE
    shape: str = "row"
    # The quality rule (``<source>.<rule>`` in results) that must catch a business-rule defect.
    rule: str | None = None


def plant(
    kind: str, column: str | None, expected: str, value: str | None = None, **kw: Any
) -> Plant:
    """A plant writing ``value`` in ``column`` (plus any ``also`` columns).

    Args:
        kind: Defect kind, as in the manifest.
        column: Contract column planted (None for a whole-line defect).
        expected: Outcome the ingestion must reach (``quarantine``, ``typed``...).
        value: Raw text written in ``column``.
        **kw: ``also`` (other columns to overwrite, column -> raw text) and any other
            :class:`Plant` field.

    Returns:
        The plant.
    """
    values = dict(kw.pop("also", {}))
    if value is not None and column is not None:
        values[column] = value
    return Plant(kind, column, expected, values, **kw)


def copy_line() -> Plant:
    """An exact copy of an earlier line (dropped as a duplicate)."""
    return Plant("exact_duplicate", None, "dropped_duplicate", shape="copy")


def rekey(column: str) -> Plant:
    """An earlier key again with another value in ``column`` (the later line wins)."""
    return Plant("duplicate_key", column, "typed", shape="rekey")


@dataclass(frozen=True)
class Layout:
    """Where the plants of delivery 1 sit, and what delivery 2 repeats and changes."""

    plants: dict[int, tuple[Plant, int | None]]  # data index -> (plant, index it copies)
    refs: frozenset[int]
    repeats: tuple[int, ...]  # delivery-1 indices repeated at the top of delivery 2
    updates: frozenset[int]  # positions in ``repeats`` that are changed


def layout(plants: tuple[Plant, ...], rows: int) -> Layout:
    """Place ``plants`` among ``rows`` data lines and choose what delivery 2 repeats.

    Args:
        plants: The plants of a source, in order.
        rows: Data lines per file.

    Returns:
        The data index of each plant (and of the line it copies), and the repeats and updates
        of delivery 2.
    """
    n = len(plants)
    positions = [(j + 1) * rows // (n + 1) for j in range(n)]
    taken = set(positions)
    placed: dict[int, tuple[Plant, int | None]] = {}
    refs: set[int] = set()
    for position, planted in zip(positions, plants, strict=True):
        ref = None
        if planted.shape in ("copy", "rekey"):
            ref = next(i for i in range(position - 1, -1, -1) if i not in taken | refs)
            refs.add(ref)
        placed[position] = (planted, ref)
    blocked = taken | refs
    free = (i for i in range(rows) if i not in blocked)
    repeats = tuple(next(free) for _ in range(min(rows // 3, rows - len(blocked))))
    h = len(repeats)
    return Layout(placed, frozenset(refs), repeats, frozenset({h // 4, h // 2, 3 * h // 4}))
