"""Review scores: the share of conforming lines, and how it moved over the last reviews.

Expectation results arrive one mapping per rule per review; :func:`group_reviews` gathers them
into :class:`Review` records. A domain's score is ``100 × (1 − Σ rows_rejected / Σ rows_reviewed)``
over the latest review of each table (``source``, ``table``): a source reviewed at silver and at
gold counts both tables, and an old review stops counting once its table is reviewed again. The
trend is that score recomputed just after each review, so two reviews give two points.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from quality.errors import QualityError
from quality.wording import TREND_WORDS, as_utc, format_percent_fr

DEFAULT_TREND_LENGTH = 10
NO_DOMAIN = "Domaine non renseigné"
_REQUIRED = ("review_id", "reviewed_at", "source", "table", "decision")
Direction = Literal["up", "down", "stable", "none"]


class TrendPoint(NamedTuple):
    """The domain's score just after one review."""

    at: dt.datetime
    score: float
    source: str = ""
    review_id: str = ""


@dataclass
class Review:
    """One review: one table of one source checked at one time, with its expectation results."""

    review_id: str
    reviewed_at: dt.datetime
    domain: str
    owner: str
    source: str
    table: str
    layer: str
    decision: str
    rows_reviewed: int
    rows_rejected: int
    data_docs: str | None
    results: list[Mapping[str, Any]] = field(default_factory=list)


def group_reviews(results: Sequence[Mapping[str, Any]]) -> list[Review]:
    """Expectation results grouped by ``review_id``, oldest review first.

    Raises:
        QualityError: A result lacks one of the keys every review needs.
    """
    by_id: dict[str, Review] = {}
    for row in results:
        missing = [key for key in _REQUIRED if row.get(key) is None]
        if missing:
            raise QualityError(
                f"Quality result {row.get('rule_id')!r} of review {row.get('review_id')!r} has "
                f"no {missing[0]!r}; every result needs {', '.join(_REQUIRED)}.",
                fix="Check the rows read from the quality-results table.",
            )
        review = by_id.get(str(row["review_id"]))
        if review is None:
            review = by_id[str(row["review_id"])] = Review(
                review_id=str(row["review_id"]),
                reviewed_at=as_utc(row["reviewed_at"]),
                domain=str(row.get("domain") or NO_DOMAIN),
                owner=str(row.get("owner") or ""),
                source=str(row["source"]),
                table=str(row["table"]),
                layer=str(row.get("layer") or ""),
                decision=str(row["decision"]),
                rows_reviewed=max(int(row.get("rows_reviewed") or 0), 0),
                rows_rejected=max(int(row.get("rows_rejected") or 0), 0),
                data_docs=row.get("data_docs"),
            )
        review.results.append(row)
    return sorted(by_id.values(), key=lambda r: (r.reviewed_at, r.review_id))


def latest_reviews(reviews: Sequence[Review]) -> list[Review]:
    """The latest review of each table (``source``, ``table``) among ``reviews``."""
    latest: dict[tuple[str, str], Review] = {}
    for review in sorted(reviews, key=lambda r: (r.reviewed_at, r.review_id)):
        latest[(review.source, review.table)] = review
    return list(latest.values())


def review_score(reviews: Sequence[Review]) -> float | None:
    """``100 × (1 − Σ rows_rejected / Σ rows_reviewed)`` over ``reviews``; None if no line."""
    reviewed = sum(r.rows_reviewed for r in reviews)
    if reviewed <= 0:
        return None
    rejected = sum(min(r.rows_rejected, r.rows_reviewed) for r in reviews)
    return 100.0 * (1 - rejected / reviewed)


def score(results: Sequence[Mapping[str, Any]]) -> float | None:
    """The share of conforming lines, in percent, over the latest reviews.

    ``100 × (1 − Σ rows_rejected / Σ rows_reviewed)``, summed over the latest review of each
    table (``source``, ``table``) found in ``results``.

    Returns:
        The score between 0 and 100, or None when no line was reviewed.
    """
    return review_score(latest_reviews(group_reviews(results)))


def history(reviews: Sequence[Review], last: int = DEFAULT_TREND_LENGTH) -> list[TrendPoint]:
    """The score just after each of the ``last`` latest reviews (``reviews`` oldest first)."""
    latest: dict[tuple[str, str], Review] = {}
    points: list[TrendPoint] = []
    for review in reviews:
        latest[(review.source, review.table)] = review
        value = review_score(list(latest.values()))
        if value is not None:
            points.append(TrendPoint(review.reviewed_at, value, review.source, review.review_id))
    return points[-last:] if last > 0 else []


def score_history(
    results: Sequence[Mapping[str, Any]], *, last: int = DEFAULT_TREND_LENGTH
) -> list[TrendPoint]:
    """The score as it stood just after each of the ``last`` most recent reviews, oldest first."""
    return history(group_reviews(results), last)


def trend_direction(points: Sequence[TrendPoint], *, tolerance: float = 0.05) -> Direction:
    """Whether the score rose, fell or held between the last two points (in score points)."""
    if len(points) < 2:
        return "none"
    delta = points[-1].score - points[-2].score
    return "stable" if abs(delta) <= tolerance else ("up" if delta > 0 else "down")


def trend_sentence(points: Sequence[TrendPoint]) -> str:
    """The trend in words: "en hausse par rapport à la revue précédente (97 % puis 98,5 %)"."""
    words = TREND_WORDS[trend_direction(points)][1]
    if len(points) < 2:
        return words
    before, after = (format_percent_fr(p.score, decimals=1) for p in points[-2:])
    return f"{words} par rapport à la revue précédente ({before} puis {after})"
