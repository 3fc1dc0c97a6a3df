"""The quality history: every review's results in ``meta/quality_results``, never rewritten.

One row per expectation per review (run id, table, table version, rule, severity, success,
unexpected count and percent, observed value, time, decision). Written and read with delta-rs like
the run log (:mod:`lake.meta_tables`): a few rows cost milliseconds, commits use conditional puts,
and readers need no Spark.
The A13 indicator "nombre de revues de qualité" is the number of distinct ``review_id``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from lake import meta_tables
from lake.meta_tables import ColumnKind, MetaTable
from lake.settings import Settings

QUALITY_TABLE = "quality_results"

FIELDS: tuple[tuple[str, ColumnKind], ...] = (
    ("review_id", "string"),
    ("run_id", "string"),
    ("reviewed_at", "timestamp"),
    ("source", "string"),
    ("domain", "string"),
    ("owner", "string"),
    ("table", "string"),
    ("layer", "string"),
    ("batch_id", "string"),
    ("table_version", "int64"),
    ("rule_id", "string"),
    ("expectation", "string"),
    ("column", "string"),
    ("severity", "string"),
    ("scope", "string"),
    ("success", "bool"),
    ("element_count", "int64"),
    ("unexpected_count", "int64"),
    ("unexpected_percent", "float64"),
    ("observed_value", "string"),
    ("message", "string"),
    ("fix", "string"),
    ("decision", "string"),
    ("rows_reviewed", "int64"),
    ("rows_rejected", "int64"),
    ("data_docs", "string"),
)


QUALITY_RESULTS = MetaTable(QUALITY_TABLE, FIELDS)


def append(settings: Settings, rows: Sequence[Mapping[str, Any]]) -> None:
    """Append review rows (each a mapping with the keys of :data:`FIELDS`)."""
    meta_tables.append(settings, QUALITY_RESULTS, rows)


def read(settings: Settings, *, domain: str | None = None) -> list[dict[str, Any]]:
    """Every stored review row (optionally one domain's), oldest first; [] when none yet."""
    rows = meta_tables.read(settings, QUALITY_RESULTS)
    if domain is not None:
        rows = [r for r in rows if r["domain"] == domain]
    return sorted(rows, key=lambda r: (r["reviewed_at"], r["review_id"], r["rule_id"]))


def review_count(rows: Iterable[Mapping[str, Any]]) -> int:
    """Number of reviews (A13 indicator): distinct review ids."""
    return len({r["review_id"] for r in rows})


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
