"""How a table's schema differs from the schema its writer now produces, and which changes are safe.

Pure: two lists of ``(column, Spark type)`` in, a :class:`SchemaPlan` out. The policy:

- **additive** (applied by the writer itself, old rows read null or widened): a new nullable
  column; a widened type (``tinyint`` -> ``smallint`` -> ``int`` -> ``bigint``, ``float`` ->
  ``double``, a decimal gaining digits on both sides of the point, ``date`` -> ``timestamp_ntz``);
- **refused** until a migration is run: a column the table has and the writer no longer
  produces (removed or renamed), a type changed otherwise (narrowed or different), a new column
  declared required (its old rows would be null).

Types are Spark's ``simpleString`` (``bigint``, ``decimal(18,2)``, ``string``...).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

ChangeKind = Literal["added", "widened", "removed", "changed", "required"]
ADDITIVE: tuple[ChangeKind, ...] = ("added", "widened")
_INTEGRAL = ("tinyint", "smallint", "int", "bigint")
_DECIMAL = re.compile(r"decimal\((\d+),(\d+)\)")


@dataclass(frozen=True)
class SchemaChange:
    """One column's change: what the table has (``old_type``) and what is wanted."""

    kind: ChangeKind
    column: str
    old_type: str | None = None
    new_type: str | None = None

    @property
    def additive(self) -> bool:
        return self.kind in ADDITIVE

    def describe(self) -> str:
        """One line, e.g. ``column x added (string)`` or ``column y removed (was bigint)``."""
        if self.kind == "added":
            return f"column {self.column} added ({self.new_type})"
        if self.kind == "widened":
            return f"column {self.column} widened ({self.old_type} -> {self.new_type})"
        if self.kind == "removed":
            return f"column {self.column} removed (was {self.old_type})"
        if self.kind == "required":
            return (
                f"column {self.column} added as required ({self.new_type}; old rows would be null)"
            )
        return f"column {self.column} changed type ({self.old_type} -> {self.new_type})"


@dataclass(frozen=True)
class SchemaPlan:
    """Every difference between a table's schema and the wanted one, in the wanted order."""

    changes: tuple[SchemaChange, ...] = ()

    @property
    def additive(self) -> list[SchemaChange]:
        return [c for c in self.changes if c.additive]

    @property
    def refused(self) -> list[SchemaChange]:
        return [c for c in self.changes if not c.additive]

    def __bool__(self) -> bool:
        return bool(self.changes)

    def summary(self) -> str:
        """The changes on one line, ``; ``-separated (``no change`` when there is none)."""
        return "; ".join(c.describe() for c in self.changes) or "no change"


def widens(old: str, new: str) -> bool:
    """True when every value of type ``old`` is exactly a value of type ``new`` (types differ)."""
    if old == new:
        return False
    if old in _INTEGRAL and new in _INTEGRAL:
        return _INTEGRAL.index(old) < _INTEGRAL.index(new)
    if (old, new) in (("float", "double"), ("date", "timestamp_ntz")):
        return True
    before, after = _DECIMAL.fullmatch(old), _DECIMAL.fullmatch(new)
    if before and after:
        p0, s0 = int(before[1]), int(before[2])
        p1, s1 = int(after[1]), int(after[2])
        return s1 >= s0 and p1 - s1 >= p0 - s0
    return False


def compare(
    table: Sequence[tuple[str, str]],
    wanted: Sequence[tuple[str, str]],
    *,
    required: frozenset[str] = frozenset(),
) -> SchemaPlan:
    """The plan that turns the ``table``'s schema into the ``wanted`` one.

    Args:
        table: The table's columns and types, as stored.
        wanted: The columns and types the writer now produces.
        required: Wanted columns that may not be null (a new one cannot be added by evolution).
    """
    have = dict(table)
    want = dict(wanted)
    changes: list[SchemaChange] = []
    for name, kind in wanted:
        if name not in have:
            changes.append(
                SchemaChange("required" if name in required else "added", name, None, kind)
            )
        elif have[name] != kind:
            changes.append(
                SchemaChange(
                    "widened" if widens(have[name], kind) else "changed", name, have[name], kind
                )
            )
    changes += [
        SchemaChange("removed", name, kind, None) for name, kind in table if name not in want
    ]
    return SchemaPlan(tuple(changes))
