"""The lake's own bookkeeping tables under ``meta/``: appended with delta-rs, never rewritten.

The run log (``meta/runs``), the quality history (``meta/quality_results``) and the lifecycle
journal (``meta/lifecycle_log``) each declare their columns once as a :class:`MetaTable`;
:func:`append` writes their rows and :func:`read` reads them back, both without Spark: a few rows
cost milliseconds instead of a Spark job, and readers (``lake runs``, ``lake audit``) need no JVM.

Guarantees of :func:`append`:

- the table is created by the first append, with the declared schema;
- a table written before a column was declared gains it (schema merge) and its older rows read
  back with ``None`` there, so the schema can grow with the code;
- commits on the object store use conditional puts (``If-None-Match``, which MinIO and S3
  honour), so two jobs appending at once cannot overwrite each other's commit;
- a storage failure comes back as :class:`~lake.errors.StorageError`, any other refusal as
  :class:`~lake.errors.TableError` naming the table.

No lease is taken or checked: a meta table has many writers by design (every job appends to the
run log), and appends never conflict with each other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from lake.delta_append import append_arrow
from lake.delta_reader import open_table
from lake.errors import TableError
from lake.settings import Settings
from lake.storage import table_uri

if TYPE_CHECKING:
    import pyarrow as pa

ColumnKind = Literal["string", "int64", "float64", "bool", "timestamp", "list<string>"]
COLUMN_KINDS: tuple[ColumnKind, ...] = (
    "string",
    "int64",
    "float64",
    "bool",
    "timestamp",
    "list<string>",
)


@dataclass(frozen=True)
class MetaTable:
    """One append-only table under ``meta/``: its name and its columns, in order.

    Columns are ``(name, kind)`` pairs with a kind of :data:`COLUMN_KINDS` (timestamps are
    microseconds in UTC), so declaring a table imports no pyarrow.
    """

    name: str
    columns: tuple[tuple[str, ColumnKind], ...]

    def __post_init__(self) -> None:
        unknown = [f"{n} ({k!r})" for n, k in self.columns if k not in COLUMN_KINDS]
        if unknown:
            raise ValueError(
                f"meta/{self.name}: column kind(s) of {', '.join(unknown)} not one of "
                f"{', '.join(COLUMN_KINDS)}"
            )

    @property
    def column_names(self) -> list[str]:
        """The declared column names, in order."""
        return [name for name, _ in self.columns]

    def arrow_schema(self) -> pa.Schema:
        """The declared columns as a pyarrow schema."""
        import pyarrow as pa

        types: dict[str, pa.DataType] = {
            "string": pa.string(),
            "int64": pa.int64(),
            "float64": pa.float64(),
            "bool": pa.bool_(),
            "timestamp": pa.timestamp("us", tz="UTC"),
            "list<string>": pa.list_(pa.string()),
        }
        return pa.schema([(name, types[kind]) for name, kind in self.columns])

    def uri(self, settings: Settings) -> str:
        """Where the table lives (``<lake root>/meta/<name>``)."""
        return table_uri(settings, "meta", self.name)


def append(settings: Settings, table: MetaTable, rows: Sequence[Mapping[str, Any]]) -> None:
    """Append ``rows`` to ``table``, creating it on the first append.

    Args:
        settings: Where the lake is and how to reach it.
        table: The table and its columns.
        rows: One mapping per row; a declared column missing from a row is written as null,
            a key that is not a declared column is not written.

    Raises:
        StorageError: The object store is unreachable, full, or refused the credentials.
        TableError: delta-rs refused the rows (a column whose type changed, a failed commit).
    """
    if not rows:
        return
    import pyarrow as pa

    names = table.column_names
    data = pa.Table.from_pylist(
        [{name: row.get(name) for name in names} for row in rows], schema=table.arrow_schema()
    )
    append_arrow(
        settings,
        table.uri(settings),
        data.schema,
        data.to_batches(),
        what=f"{len(rows)} row(s) to meta/{table.name}",
        leased=False,  # every job appends to the run log: no lease (see above)
    )


def read(settings: Settings, table: MetaTable) -> list[dict[str, Any]]:
    """Every row of ``table`` as stored, in no particular order; ``[]`` before the first append.

    Columns added after a row was written read back as ``None`` in it; columns declared but not
    yet in the table (no append since they were declared) are absent from the rows.

    Raises:
        StorageError: The object store is unreachable or refused the credentials.
    """
    try:
        delta = open_table(settings, table.uri(settings))
    except TableError:
        return []
    return list(delta.to_pyarrow_table().to_pylist())


REVIEW_DECISIONS = MetaTable(
    "review_decisions",
    (
        ("decision_id", "string"),
        ("review_id", "string"),
        ("table", "string"),
        ("source", "string"),
        ("domain", "string"),
        ("direction", "string"),
        ("decision", "string"),
        ("comment", "string"),
        ("rules", "list<string>"),
        ("due_date", "timestamp"),
        ("decided_by", "string"),
        ("decided_at", "timestamp"),
    ),
)
"""The business units' decisions on their quality reviews (``meta/review_decisions``).

One row per decision: the review it answers (``review_id`` of ``meta/quality_results``), the
owning ``direction`` that took it, ``decision`` ``accepted`` or ``to_fix`` (at the source), the
rules concerned and a due date for a fix, who (``decided_by``, an account of ``lake serve``) and
when. Written by ``lake serve``; read by the quality reviews (was what was asked fixed?) and the
dashboard (A13: reviews held by their direction, requests past due), see
:mod:`lake.review_decisions`.
"""
