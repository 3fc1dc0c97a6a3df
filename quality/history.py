"""The quality history: every review's results in ``meta/quality_results``, never rewritten.

One row per expectation per review (run id, table, table version, rule, severity, success,
unexpected count and percent, observed value, time, decision). Written and read with delta-rs like
the run log: a few rows cost milliseconds, commits use conditional puts, and readers need no Spark.
The A13 indicator "nombre de revues de qualité" is the number of distinct ``review_id``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from lake.settings import Settings
from lake.storage import table_uri

QUALITY_TABLE = "quality_results"

FIELDS: tuple[tuple[str, str], ...] = (
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


def _arrow_schema() -> Any:
    import pyarrow as pa

    types = {
        "string": pa.string(),
        "timestamp": pa.timestamp("us", tz="UTC"),
        "int64": pa.int64(),
        "bool": pa.bool_(),
        "float64": pa.float64(),
    }
    return pa.schema([(name, types[kind]) for name, kind in FIELDS])


def append(settings: Settings, rows: Sequence[Mapping[str, Any]]) -> None:
    """Append review rows (each a mapping with the keys of :data:`FIELDS`)."""
    if not rows:
        return
    import pyarrow as pa
    from deltalake import write_deltalake

    from lake.delta_reader import storage_options, to_delta_rs_uri

    names = [n for n, _ in FIELDS]
    data = pa.Table.from_pylist(
        [{n: row.get(n) for n in names} for row in rows], schema=_arrow_schema()
    )
    options = storage_options(settings)
    if options:
        options["aws_conditional_put"] = "etag"
    try:
        write_deltalake(
            to_delta_rs_uri(table_uri(settings, "meta", QUALITY_TABLE)),
            data,
            mode="append",
            storage_options=options or None,
        )
    except OSError as exc:
        from lake.storage import explain_storage_failure

        raise explain_storage_failure(exc, settings) from exc


def read(settings: Settings, *, domain: str | None = None) -> list[dict[str, Any]]:
    """Every stored review row (optionally one domain's), oldest first; [] when none yet."""
    from lake.delta_reader import open_table
    from lake.errors import TableError

    try:
        table = open_table(settings, table_uri(settings, "meta", QUALITY_TABLE))
    except TableError:
        return []
    rows = table.to_pyarrow_table().to_pylist()
    if domain is not None:
        rows = [r for r in rows if r["domain"] == domain]
    return sorted(rows, key=lambda r: (r["reviewed_at"], r["review_id"], r["rule_id"]))


def review_count(rows: Iterable[Mapping[str, Any]]) -> int:
    """Number of reviews (A13 indicator): distinct review ids."""
    return len({r["review_id"] for r in rows})


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
