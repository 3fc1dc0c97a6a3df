"""The run log: one row per batch and layer, with the counts that must reconcile.

A Delta table (``meta/runs``) written by the jobs and read by ``lake runs`` (through delta-rs, so
it needs no Spark). Reconciliation is checked *before* a row is written: a batch whose counts do
not add up raises :class:`ReconciliationError` and is logged as failed.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from lake import delta_io
from lake.errors import LakeError
from lake.settings import Settings
from lake.storage import table_uri

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

Status = Literal["succeeded", "skipped", "failed"]
RUN_TABLE = "runs"


class IngestionError(LakeError):
    """An ingestion step failed for a reason the user can act on."""


class ReconciliationError(IngestionError):
    """Counts of a batch do not add up: rows would be lost or invented."""


@dataclass
class RunRecord:
    """What one layer did with one batch."""

    run_id: str
    batch_id: str
    source: str
    layer: str
    status: Status
    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    file_uri: str | None = None
    file_sha256: str | None = None
    lines_read: int = 0
    rows_in: int = 0
    rows_out: int = 0
    quarantined: int = 0
    duplicates_resolved: int = 0
    inserted: int = 0
    updated: int = 0
    table_version: int | None = None
    message: str = ""
    extra_columns: list[str] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        end = self.finished_at or dt.datetime.now(dt.UTC)
        return round((end - self.started_at).total_seconds(), 3)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["duration_s"] = self.duration_s
        return data


def new_run_id() -> str:
    """A fresh identifier for one invocation of a job."""
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def check(condition: bool, record: RunRecord, equation: str) -> None:
    """Fail loudly when a reconciliation equation does not hold."""
    if not condition:
        raise ReconciliationError(
            f"Batch {record.batch_id} ({record.source}, {record.layer}) does not reconcile: "
            f"{equation}.",
            fix="nothing was promoted past this step; report the batch to the data team",
        )


_SCHEMA = (
    "run_id string, batch_id string, source string, layer string, status string, "
    "started_at timestamp, finished_at timestamp, duration_s double, file_uri string, "
    "file_sha256 string, lines_read long, rows_in long, rows_out long, quarantined long, "
    "duplicates_resolved long, inserted long, updated long, table_version long, "
    "message string, extra_columns array<string>"
)


def append(spark: SparkSession, settings: Settings, records: list[RunRecord]) -> None:
    """Append records to the run log."""
    if not records:
        return
    rows = [r.as_dict() for r in records]
    df = spark.createDataFrame(rows, schema=_SCHEMA)
    delta_io.write_table(df, table_uri(settings, "meta", RUN_TABLE), mode="append")


def succeeded_batches(
    spark: SparkSession, settings: Settings, source: str, layer: str
) -> dict[str, dict[str, Any]]:
    """Batches of ``source`` that ``layer`` already processed successfully (latest record)."""
    uri = table_uri(settings, "meta", RUN_TABLE)
    if not delta_io.table_exists(spark, uri):
        return {}
    rows = (
        delta_io.read_table(spark, uri)
        .filter(f"source = '{source}' AND layer = '{layer}' AND status = 'succeeded'")
        .collect()
    )
    return {r["batch_id"]: r.asDict() for r in rows}


def read_runs(
    settings: Settings, *, source: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """The latest run-log rows, newest first, read with delta-rs (no Spark)."""
    from lake.delta_reader import open_table
    from lake.errors import TableError

    try:
        table = open_table(settings, table_uri(settings, "meta", RUN_TABLE))
    except TableError:
        return []
    rows = table.to_pyarrow_table().to_pylist()
    if source:
        rows = [r for r in rows if r["source"] == source]
    rows.sort(key=lambda r: (r["started_at"], r["layer"]), reverse=True)
    return rows[:limit]
