"""What the run log and the quality history say, for the A15 study.

- growth: each succeeded silver batch, oldest first, with the rows it added (``inserted``, else
  ``rows_out``) and the running total; the mean rows added per delivery, per source;
- measured compute: per run-log ``source`` (a gold job names its sources, comma-joined), the sum
  of ``duration_s`` / 3600 over every run (``finished_at − started_at`` when the duration is
  missing), the distinct batches, and where the jobs run (the most restrictive placement of the
  source's tables, on premises when none is known);
- quality: a review (distinct ``review_id``; its rule rows repeat its counts) scores
  ``100 × (1 − rows_rejected / rows_reviewed)``; the lake's score after a review is that ratio
  summed over the latest review of each table so far, as the quality reports compute it.

Rows arrive as plain mappings: governance imports neither the ingestion nor the quality package.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from governance.study.cost import HOSTINGS
from governance.study.model import (
    Activity,
    GrowthPoint,
    Quality,
    ReviewPoint,
    SourceUsage,
    TableQuality,
)

__all__ = ["as_utc", "review_quality", "run_activity", "table_key", "to_int"]

_TREND_TOLERANCE = 0.05  # score points: a smaller move reads "stable", as in the quality reports
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def table_key(table: Mapping[str, Any]) -> str:
    """``<layer>/<name>``, as the quality history and the placements name a table."""
    return f"{table['layer']}/{table['name']}"


def to_int(value: Any) -> int:
    """A count from a row: numbers as int, anything else (None, text, bool) as 0."""
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def run_activity(
    runs: Sequence[Mapping[str, Any]],
    tables: Sequence[Mapping[str, Any]],
    placed: Mapping[str, str],
) -> Activity:
    """Growth per silver delivery, measured compute per source, failed and blocked runs.

    Args:
        runs: Run-log rows, in any order.
        tables: The catalogue's tables (``Catalog.to_dict()["tables"]``).
        placed: Hosting option of each table, by ``<layer>/<name>``.
    """
    ordered = sorted(runs, key=lambda r: (as_utc(r.get("started_at")) or _EPOCH, _text(r)))
    growth: list[GrowthPoint] = []
    added: dict[str, list[int]] = defaultdict(list)
    total = 0
    for r in ordered:
        if r.get("layer") != "silver" or r.get("status") != "succeeded":
            continue
        rows_added = to_int(r["inserted"] if r.get("inserted") is not None else r.get("rows_out"))
        total += rows_added
        source = str(r.get("source") or "")
        added[source].append(rows_added)
        growth.append(
            GrowthPoint(
                at=as_utc(r.get("started_at")) or _EPOCH,
                source=source,
                batch_id=str(r.get("batch_id") or ""),
                rows_in=to_int(r.get("rows_in")),
                rows_added=rows_added,
                rows_updated=to_int(r.get("updated")),
                quarantined=to_int(r.get("quarantined")),
                cumulative_added=total,
                quality=str(r.get("quality") or ""),
            )
        )
    hours: dict[str, float] = defaultdict(float)
    batches: dict[str, set[str]] = defaultdict(set)
    count: dict[str, int] = defaultdict(int)
    for i, r in enumerate(ordered):
        source = str(r.get("source") or "")
        hours[source] += _duration_s(r) / 3600
        batches[source].add(str(r.get("batch_id") or r.get("run_id") or f"#{i}"))
        count[source] += 1
    where: dict[str, list[str]] = defaultdict(list)
    for t in tables:
        if t["layer"] != "gold":
            where[str(t["name"])].append(placed[table_key(t)])
    usage = tuple(
        SourceUsage(
            source=s,
            runs=count[s],
            deliveries=len(batches[s]),
            hours=hours[s],
            hosting=_most_restrictive(
                h for name in s.split(",") for h in where.get(name.strip(), [])
            ),
        )
        for s in sorted(hours)
    )
    return Activity(
        growth=tuple(growth),
        added_per_delivery={s: sum(v) / len(v) for s, v in sorted(added.items())},
        usage=usage,
        runs=len(ordered),
        failed=tuple(_text(r) for r in ordered if r.get("status") == "failed"),
        blocked=tuple(_text(r) for r in ordered if r.get("quality") == "blocked"),
    )


def _most_restrictive(hostings: Any) -> str:
    """The most restrictive of the given options; on premises when none is known."""
    found = [HOSTINGS.index(h) for h in hostings if h in HOSTINGS]
    return HOSTINGS[min(found)] if found else HOSTINGS[0]


def _text(run: Mapping[str, Any]) -> str:
    return f"{run.get('source') or '?'} ({run.get('layer') or '?'}, lot {run.get('batch_id')})"


def _duration_s(run: Mapping[str, Any]) -> float:
    """``duration_s``, else finished_at − started_at, else 0."""
    value = run.get("duration_s")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return max(float(value), 0.0)
    start, end = as_utc(run.get("started_at")), as_utc(run.get("finished_at"))
    return max((end - start).total_seconds(), 0.0) if start and end else 0.0


def review_quality(
    rows: Sequence[Mapping[str, Any]], tables: Sequence[Mapping[str, Any]]
) -> Quality:
    """Reviews, the lake's score after each, the latest score per table, tables never reviewed.

    Args:
        rows: Quality-result rows (one per rule per review is fine).
        tables: The catalogue's tables; their silver and gold ones should have a review.
    """
    reviews: dict[str, dict[str, Any]] = {}
    for row in rows:
        rid = str(row.get("review_id") or "")
        if not rid:
            continue
        seen = reviews.setdefault(
            rid,
            {
                "at": as_utc(row.get("reviewed_at")),
                "table": str(row.get("table") or ""),
                "reviewed": 0,
                "rejected": 0,
            },
        )
        # Every rule row of a review repeats the review's counts: the largest one is the count.
        seen["reviewed"] = max(seen["reviewed"], to_int(row.get("rows_reviewed")))
        seen["rejected"] = max(seen["rejected"], to_int(row.get("rows_rejected")))
    latest: dict[str, tuple[int, int]] = {}
    points: list[ReviewPoint] = []
    dated = [(r["at"], rid, r) for rid, r in reviews.items() if r["at"] and r["table"]]
    for at, rid, r in sorted(dated, key=lambda x: (x[0], x[1])):
        reviewed = r["reviewed"]
        rejected = min(r["rejected"], reviewed)
        latest[r["table"]] = (reviewed, rejected)
        points.append(
            ReviewPoint(
                rid,
                at,
                r["table"],
                reviewed,
                rejected,
                _score(reviewed, rejected),
                _score_of(latest.values()),
            )
        )
    per_table: dict[str, list[ReviewPoint]] = defaultdict(list)
    for p in points:
        per_table[p.table].append(p)
    table_quality = []
    for name in sorted(per_table):
        history = per_table[name]
        last = history[-1]
        previous = history[-2].score if len(history) > 1 else None
        table_quality.append(
            TableQuality(
                name, last.score, last.at, len(history), previous, _direction(previous, last.score)
            )
        )
    reviewable = [table_key(t) for t in tables if t["layer"] in ("silver", "gold")]
    return Quality(
        reviews=len(reviews),
        points=tuple(points),
        tables=tuple(table_quality),
        lake_score=_score_of(latest.values()),
        unreviewed=tuple(sorted(k for k in reviewable if k not in per_table)),
    )


def _score(reviewed: int, rejected: int) -> float | None:
    return 100.0 * (1 - rejected / reviewed) if reviewed else None


def _score_of(counts: Any) -> float | None:
    pairs = list(counts)
    return _score(sum(p[0] for p in pairs), sum(p[1] for p in pairs))


def _direction(previous: float | None, score: float | None) -> str:
    if previous is None or score is None:
        return "none"
    delta = score - previous
    return "stable" if abs(delta) <= _TREND_TOLERANCE else ("up" if delta > 0 else "down")


def as_utc(value: Any) -> dt.datetime | None:
    """A datetime (naive = UTC) or ISO-8601 text as an aware UTC datetime; None otherwise."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if not isinstance(value, dt.datetime):
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
