"""Which columns an audience may see: keep, mask or drop each column, then apply the plan.

For an audience level 1..4 (MISSION.md: 1 habilités internes, 2 tout interne, 3 externes
habilités, 4 tous), a column is

- **dropped** when it is a field of exclusion, whatever the audience (it never leaves the lake);
- **kept** when its level is at least the audience's (level 2 is visible to audiences 1 and 2);
- **masked** (HMAC-SHA256 pseudonym, as silver computes them) when it is a join key the caller
  names in ``keys`` and the pseudonymised tag (level ``max(level, 2)``) is visible to the
  audience: in practice a level-1 key shown to all staff (audience 2). Pseudonyms stay personal
  data, so a masked key is never enough for audiences 3 and 4;
- **dropped** otherwise.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from governance.errors import GovernanceError
from governance.lineage.model import Tag
from governance.sensitivity.propagation import PSEUDONYMISED_LEVEL, DerivedTag
from governance.sensitivity.safe_csv import is_missing

if TYPE_CHECKING:
    import pandas as pd

Action = Literal["keep", "mask", "drop"]
AUDIENCES_FR = {1: "habilités internes", 2: "tout interne", 3: "externes habilités", 4: "tous"}


@dataclass(frozen=True)
class ColumnDecision:
    """What happens to one column for one audience, and why (French)."""

    column: str
    action: Action
    tag: Tag
    reason_fr: str


@dataclass(frozen=True)
class ColumnPlan:
    """Per-column decisions for one audience, in column order."""

    audience: int
    decisions: tuple[ColumnDecision, ...]

    def columns(self, action: Action) -> tuple[str, ...]:
        """The columns with that action."""
        return tuple(d.column for d in self.decisions if d.action == action)

    def action(self, column: str) -> Action:
        """The action for ``column``; ``drop`` for a column the plan does not know."""
        return next((d.action for d in self.decisions if d.column == column), "drop")


def visible_columns(
    columns: Mapping[str, DerivedTag | Tag], audience: int, *, keys: Collection[str] = ()
) -> ColumnPlan:
    """Decide keep / mask / drop for each column for an audience.

    Args:
        columns: Tag of each column, by name, in table order.
        audience: Exposure level of the audience, 1 (habilités) .. 4 (tous).
        keys: Join keys: masked rather than dropped when a pseudonym is visible to the audience.

    Raises:
        GovernanceError: The audience or a column level is not 1..4.
    """
    _check_audience(audience)
    decisions = []
    for name, value in columns.items():
        tag = value.tag if isinstance(value, DerivedTag) else value
        if tag.level not in AUDIENCES_FR:
            raise GovernanceError(
                f"Column {name!r}: exposure level must be 1, 2, 3 or 4; found {tag.level!r}.",
                fix="correct the column's sensitivity level in its contract (1, 2, 3 or 4)",
                column=name,
            )
        who = f"l'audience {audience} ({AUDIENCES_FR[audience]})"
        if tag.exclusion:
            action: Action = "drop"
            reason = "champ d'exclusion : retiré de toute vue et de tout export"
        elif tag.level >= audience:
            action, reason = "keep", f"niveau {tag.level} visible par {who}"
        elif name in keys and max(tag.level, PSEUDONYMISED_LEVEL) >= audience:
            action = "mask"
            reason = (
                f"clé de jointure pseudonymisée : niveau {tag.level} réservé aux "
                f"{AUDIENCES_FR[tag.level]}, le pseudonyme est visible par {who}"
            )
        else:
            action = "drop"
            reason = f"retiré : niveau {tag.level} ({AUDIENCES_FR[tag.level]}) fermé à {who}"
        decisions.append(ColumnDecision(name, action, tag, reason))
    return ColumnPlan(audience, tuple(decisions))


def apply_plan(rows: pd.DataFrame, plan: ColumnPlan, *, key: bytes | None = None) -> pd.DataFrame:
    """The rows an audience may see: kept columns as they are, masked ones pseudonymised.

    A masked value is the HMAC-SHA256 (hex) of its upper-cased text, as silver pseudonymises, so
    masked keys join with silver's pseudonyms; nulls stay null.

    Args:
        rows: The table's rows.
        plan: From :func:`visible_columns`.
        key: The pseudonymisation key (``lake.keys.pseudonymisation_key``), needed to mask.

    Raises:
        GovernanceError: A column of ``rows`` is not in the plan, or a column must be masked and
            no key was given.
    """
    planned = {d.column for d in plan.decisions}
    unknown = [c for c in rows.columns if c not in planned]
    if unknown:
        raise GovernanceError(
            f"Columns {unknown} have no decision in the plan for audience {plan.audience}; "
            "expected every column of the rows to be planned.",
            fix="Tag these columns (declare them or complete their lineage); rebuild the plan.",
        )
    masked = [c for c in plan.columns("mask") if c in rows.columns]
    if masked and not key:
        raise GovernanceError(
            f"Columns {masked} must be pseudonymised for audience {plan.audience}; no key given.",
            fix="Pass key=lake.keys.pseudonymisation_key(settings).",
        )
    out = rows[[c for c in rows.columns if plan.action(c) != "drop"]].copy()
    for col in masked:
        assert key is not None
        out[col] = out[col].map(lambda v: None if is_missing(v) else _pseudonym(v, key))
    return out


def _check_audience(audience: int) -> None:
    if audience not in AUDIENCES_FR:
        raise GovernanceError(
            f"Audience must be an exposure level 1, 2, 3 or 4; found {audience!r}.",
            fix="pass an audience 1, 2, 3 or 4 (--audience)",
        )


def _pseudonym(value: object, key: bytes) -> str:
    return hmac.new(key, str(value).upper().encode("utf-8"), hashlib.sha256).hexdigest()
