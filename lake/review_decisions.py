"""What a business unit decided about a quality review, and whether what it asked was fixed.

A direction that owns a domain answers a review (``meta/quality_results``) with a decision stored
in ``meta/review_decisions`` (:data:`lake.meta_tables.REVIEW_DECISIONS`): ``accepted``, or
``to_fix`` at the source with a comment, the rules concerned and a due date. This module is the
one reading of those rows that the stages share, pure and without IO:

- :func:`follow_up` says, rule by rule, what the next review of the same table found for a
  ``to_fix`` request: fixed (the rule passed), still failing, or not checked again;
- :func:`is_open` / :func:`overdue`: a request stays open until a later review of its table
  passes every rule it named; past its due date it is overdue.

The quality review pages print :func:`follow_up` under the review that answers a request; the
roadmap dashboard counts reviews held by their direction and overdue requests. Both read the
decisions through :func:`lake.meta_tables.read`; the web application (``lake serve``) writes them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "DECISIONS",
    "DECISION_WORDS",
    "FOLLOW_UP_WORDS",
    "Decision",
    "FollowUp",
    "RuleFollowUp",
    "follow_up",
    "is_open",
    "later_review",
    "overdue",
]

Decision = Literal["accepted", "to_fix"]
DECISIONS: tuple[Decision, ...] = ("accepted", "to_fix")
DECISION_WORDS: Mapping[str, str] = {
    "accepted": "revue validée par la direction",
    "to_fix": "à corriger à la source",
}
Status = Literal["fixed", "failing", "not_checked"]
FOLLOW_UP_WORDS: Mapping[str, str] = {
    "fixed": "corrigé : le contrôle est désormais réussi",
    "failing": "pas encore corrigé : le contrôle échoue toujours",
    "not_checked": "pas encore vérifié : aucune revue de la table depuis la demande",
}


@dataclass(frozen=True)
class RuleFollowUp:
    """What a later review found for one rule a direction asked to fix."""

    rule_id: str
    status: Status
    unexpected_count: int | None = None

    @property
    def words(self) -> str:
        """The status in plain French."""
        return FOLLOW_UP_WORDS[self.status]


@dataclass(frozen=True)
class FollowUp:
    """One ``to_fix`` request and what the first review of its table after it found."""

    decision: Mapping[str, Any]
    review_id: str | None
    rules: tuple[RuleFollowUp, ...]

    @property
    def fixed(self) -> bool:
        """Every rule asked passed in a later review (a request naming no rule: the whole
        later review passed)."""
        return bool(self.rules) and all(r.status == "fixed" for r in self.rules)


def _when(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, str) and value:
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    return None


def later_review(
    decision: Mapping[str, Any], results: Iterable[Mapping[str, Any]]
) -> list[Mapping[str, Any]]:
    """The results of the latest review of the decision's table made after the decision.

    The latest, not the first: a request is judged on the table as it is now (a later delivery
    may break a rule again).
    """
    decided = _when(decision.get("decided_at"))
    table = decision.get("table")
    by_review: dict[str, list[Mapping[str, Any]]] = {}
    times: dict[str, dt.datetime] = {}
    for row in results:
        when = _when(row.get("reviewed_at"))
        if row.get("table") != table or when is None or decided is None or when <= decided:
            continue
        review = str(row.get("review_id"))
        by_review.setdefault(review, []).append(row)
        times[review] = when
    if not by_review:
        return []
    latest = max(times, key=lambda r: (times[r], r))
    return by_review[latest]


def follow_up(decision: Mapping[str, Any], results: Iterable[Mapping[str, Any]]) -> FollowUp:
    """Rule by rule, what the latest review of the table since a ``to_fix`` request found.

    Args:
        decision: A row of ``meta/review_decisions``.
        results: Rows of ``meta/quality_results`` (any tables; the decision's is picked).

    Returns:
        One :class:`RuleFollowUp` per rule the request named (every rule that failed in the later
        review when it named none); ``review_id`` None when the table was not reviewed since.
    """
    later = later_review(decision, results)
    asked = [str(r) for r in decision.get("rules") or () if r]
    if not later:
        return FollowUp(decision, None, tuple(RuleFollowUp(r, "not_checked") for r in asked))
    by_rule = {str(r.get("rule_id")): r for r in later}
    if not asked:  # nothing named: the request is about every rule that still fails
        asked = [k for k, r in by_rule.items() if not r.get("success")] or list(by_rule)[:1]
    rules: list[RuleFollowUp] = []
    for rule in asked:
        row = by_rule.get(rule)
        if row is None:
            rules.append(RuleFollowUp(rule, "not_checked"))
        else:
            status: Status = "fixed" if row.get("success") else "failing"
            rules.append(RuleFollowUp(rule, status, row.get("unexpected_count")))
    return FollowUp(decision, str(later[0].get("review_id")), tuple(rules))


def is_open(decision: Mapping[str, Any], results: Iterable[Mapping[str, Any]]) -> bool:
    """A ``to_fix`` request not yet fixed by a later review of its table."""
    if decision.get("decision") != "to_fix":
        return False
    return not follow_up(decision, results).fixed


def overdue(
    decisions: Sequence[Mapping[str, Any]],
    results: Sequence[Mapping[str, Any]],
    now: dt.datetime,
) -> list[Mapping[str, Any]]:
    """The open ``to_fix`` requests whose due date is before ``now`` (oldest due first)."""
    late = []
    for decision in decisions:
        due = _when(decision.get("due_date"))
        if due is not None and due < now and is_open(decision, results):
            late.append(decision)
    return sorted(late, key=lambda d: _when(d.get("due_date")) or now)
