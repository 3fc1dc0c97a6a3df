"""Delta operations that remove data for good: keyed deletes, anonymisation, history purge.

Rows are always matched by a join against a small DataFrame (``MERGE ... WHEN MATCHED THEN
DELETE``, through :func:`lake.delta_io.merge_table`), never by a predicate with literal values:
Delta stores a DELETE's predicate text in its commit, so ``DELETE WHERE registration_id = '...'``
would write the very identifier being erased into the table's history. A MERGE stores only
``t.col <=> s.col``.

A deleted row stays in the older data files (and in deletion-vector files) until the table is
purged: :func:`purge_history` rewrites files that carry deletion vectors, vacuums the files no
version needs with the given horizon, and - for an erasure (horizon 0) - checkpoints the table
and removes the log entries before the checkpoint, whose ``add`` actions carry per-file column
statistics (minimum and maximum values) that could name the erased person. Time travel before
the purge is then impossible, which is the point.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lake import delta_io
from lake.objects import ObjectStore
from lake.settings import Settings

if TYPE_CHECKING:
    from collections.abc import Callable

    from pyspark.sql import DataFrame, SparkSession

    from ingestion.runlog import RunRecord
    from lake.gates import Gates
    from lake.lineage import LineageSink

    Progress = Callable[[str], None]

_LOG_ENTRY = re.compile(r"^(\d{20})\.")


@dataclass(frozen=True)
class TableChange:
    """What one action did to one table (never the values it touched)."""

    table: str
    action: str
    rows: int
    version_before: int | None
    version_after: int | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "action": self.action,
            "rows": self.rows,
            "version_before": self.version_before,
            "version_after": self.version_after,
        }


@dataclass(frozen=True)
class PurgeResult:
    """What :func:`purge_history` removed from one table."""

    table: str
    retain_hours: float
    version: int
    log_entries_removed: int
    oldest_version_left: int


def table_name(uri: str) -> str:
    """``layer/name`` of a table URI (its last two path parts)."""
    parts = uri.rstrip("/").split("/")
    return "/".join(parts[-2:])


@contextmanager
def commit_metadata(spark: SparkSession, metadata: dict[str, Any]) -> Iterator[None]:
    """Attach ``metadata`` (request id, action - never values) to the commits made inside."""
    key = "spark.databricks.delta.commitInfo.userMetadata"
    spark.conf.set(key, json.dumps(metadata, default=str))
    try:
        yield
    finally:
        spark.conf.unset(key)


def delete_matching(
    spark: SparkSession, uri: str, rows: DataFrame, on: Sequence[str], *, action: str = "delete"
) -> TableChange:
    """Delete the rows of ``uri`` whose ``on`` columns equal those of a row of ``rows``."""
    return _merge(spark, uri, rows, on, action=action, set_null=())


def null_columns(
    spark: SparkSession, uri: str, rows: DataFrame, on: Sequence[str], columns: Sequence[str]
) -> TableChange:
    """Set ``columns`` to null in the rows of ``uri`` matching ``rows`` on ``on`` (anonymise)."""
    return _merge(spark, uri, rows, on, action="anonymise", set_null=columns)


def _merge(
    spark: SparkSession,
    uri: str,
    rows: DataFrame,
    on: Sequence[str],
    *,
    action: str,
    set_null: Sequence[str],
) -> TableChange:
    from pyspark.sql import functions as F

    name = table_name(uri)
    if not delta_io.table_exists(spark, uri):
        return TableChange(name, action, 0, None, None)
    before = delta_io.table_version(spark, uri)
    # delta_io joins null-safe (<=>): a key with a null matches nothing here, as with `=`
    source = rows.select(*on).dropna(subset=list(on)).distinct()
    if source.limit(1).count() == 0:
        return TableChange(name, action, 0, before, before)
    blank = None
    if set_null:
        schema = {f.name: f.dataType for f in delta_io.read_table(spark, uri).schema.fields}
        blank = {c: F.lit(None).cast(schema[c]) for c in set_null if c in schema}
        if not blank:
            return TableChange(name, action, 0, before, before)
    result = delta_io.merge_table(
        source,
        uri,
        keys=on,
        when_matched="delete" if blank is None else "update",
        update_set=blank,  # every matched row is blanked, even one already blank
        when_not_matched="ignore",
        create_if_missing=False,
        check_duplicates=False,  # distinct above
    )
    count = result.deleted if blank is None else result.updated
    return TableChange(name, action, count, before, result.version)


def rows_per_batch(
    spark: SparkSession, uri: str, frame: DataFrame, on: Sequence[str]
) -> dict[str, int]:
    """How many rows of ``uri`` match ``frame`` on ``on``, per ``_batch_id`` (the journal's
    counts, which keep reconciliation true after rows leave on purpose)."""
    if not delta_io.table_exists(spark, uri):
        return {}
    table = delta_io.read_table(spark, uri)
    if "_batch_id" not in table.columns:
        return {}
    hits = table.join(frame.select(*on).distinct(), on=list(on), how="left_semi")
    return {r[0]: int(r[1]) for r in hits.groupBy("_batch_id").count().collect()}


def append_rows(spark: SparkSession, uri: str, rows: DataFrame) -> TableChange:
    """Append ``rows`` to ``uri`` (created if missing, new columns accepted): the cold archive."""
    name = "/".join(uri.rstrip("/").split("/")[-3:])  # <archive prefix>/<layer>/<source>
    before = delta_io.table_version(spark, uri) if delta_io.table_exists(spark, uri) else None
    count = rows.count()
    if count == 0:
        return TableChange(name, "archive", 0, before, before)
    # Written by Spark directly: an archive table is not one of the leased LAYER/NAME tables;
    # only `lake lifecycle apply` writes it, while it holds the leases of the source's tables.
    rows.write.format("delta").mode("append").option("mergeSchema", "true").save(uri)
    return TableChange(name, "archive", count, before, delta_io.table_version(spark, uri))


def purge_history(
    spark: SparkSession, settings: Settings, uri: str, *, retain_hours: float
) -> PurgeResult:
    """Remove what older versions of ``uri`` still hold, keeping ``retain_hours`` of history.

    With ``retain_hours == 0`` (an erasure) the log before a fresh checkpoint is removed too.
    """
    detail = spark.sql(f"DESCRIBE DETAIL delta.`{uri}`").first()
    properties = {str(k): str(v) for k, v in (detail["properties"] if detail else {}).items()}
    if properties.get("delta.enableDeletionVectors") == "true":
        spark.sql(f"REORG TABLE delta.`{uri}` APPLY (PURGE)")
    check = "spark.databricks.delta.retentionDurationCheck.enabled"
    previous = spark.conf.get(check, "true")
    spark.conf.set(check, "false")
    try:
        spark.sql(f"VACUUM delta.`{uri}` RETAIN {retain_hours:g} HOURS").collect()
    finally:
        spark.conf.set(check, previous or "true")
    version = delta_io.table_version(spark, uri)
    removed = 0
    oldest = 0
    if retain_hours == 0:
        checkpoint(spark, uri)
        removed, oldest = _truncate_log(settings, uri, version)
    return PurgeResult(table_name(uri), retain_hours, version, removed, oldest)


def checkpoint(spark: SparkSession, uri: str) -> None:
    """Write a Delta checkpoint of the latest version of ``uri``."""
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    delta_log = jvm.org.apache.spark.sql.delta.DeltaLog.forTable(spark._jsparkSession, uri)
    delta_log.update(False, jvm.scala.Option.empty(), jvm.scala.Option.empty())
    delta_log.checkpoint()


def _truncate_log(settings: Settings, uri: str, checkpoint_version: int) -> tuple[int, int]:
    """Remove the log entries (commits, checksums, older checkpoints) before the checkpoint."""
    store = ObjectStore(settings)
    prefix = store.key_of(uri).rstrip("/") + "/_delta_log/"
    keys = store.list_keys(prefix)
    checkpoints = [
        int(m.group(1))
        for k in keys
        if (m := _LOG_ENTRY.match(k[len(prefix) :])) and ".checkpoint." in k
    ]
    if checkpoint_version not in checkpoints:
        return 0, 0  # no checkpoint at that version: keep the log whole rather than break it
    old = [
        k
        for k in keys
        if (m := _LOG_ENTRY.match(k[len(prefix) :])) and int(m.group(1)) < checkpoint_version
    ]
    if old:
        store.remove(old)
    return len(old), checkpoint_version


def recompute_gold(
    spark: SparkSession,
    settings: Settings,
    run_id: str,
    source: str,
    progress: Progress,
    *,
    gates: Gates,
    lineage: LineageSink,
) -> list[RunRecord]:
    """Rebuild the gold indicators of ``source`` through the gold gate, as a pipeline run does
    (lineage, quality review, Data Docs once at the end); the run-log records of each.

    Args:
        gates: The quality gates (the caller composes them: ``app.compose.quality_gates``).
        lineage: Where each rebuild's lineage goes (``app.compose.lineage_sink``).
    """
    from ingestion.gold import build_gold

    try:
        return build_gold(
            spark,
            settings,
            run_id=run_id,
            gate=gates.table,
            sources={source},
            lineage=lineage,
            progress=progress,
        )
    finally:
        gates.finish()  # the Data Docs of the gold reviews
