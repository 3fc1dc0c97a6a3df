"""Silver: bronze batches typed and conformed per contract, deduplicated, merged on the key.

For each bronze batch not yet in silver (oldest delivery first): type every column
(:mod:`ingestion.conform`), send rows with failures to ``quarantine/<source>`` (column, value,
reason), drop exact duplicates and keep the latest version of each key (latest delivery, then
last line), and MERGE into ``silver/<source>``: a key seen before is updated only when its values
changed and the delivery is not older; history stays in Delta versions.

Reconciliation: bronze rows of the batch = rows merged + rows quarantined at typing + duplicates
resolved. The batch's rows are counted by the quality review's single pass over the persisted
batch; the quarantine count is read back from its table and the merged rows come from the
MERGE's own metrics, so a write that lost rows shows up as a mismatch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ingestion.bronze import QUARANTINE_SCHEMA, count_quarantined
from ingestion.conform import conform
from ingestion.runlog import RunRecord, check, now
from lake import delta_io
from lake.contracts import Contract
from lake.gates import FAILURE_COUNT, FAILURES, GATE_COLUMN_PREFIX, BatchGate
from lake.keys import pseudonymisation_key
from lake.settings import Settings
from lake.storage import table_uri

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

Progress = Callable[[str], None]


def pending_batches(
    spark: SparkSession,
    settings: Settings,
    contract: Contract,
    bronze_done: set[str],
    silver_done: set[str],
) -> list[str]:
    """Bronze batches silver has not processed, oldest delivery first."""
    from pyspark.sql import functions as F

    todo = bronze_done - silver_done
    if not todo:
        return []
    rows = (
        delta_io.read_table(spark, table_uri(settings, "bronze", contract.source))
        .filter(F.col("_batch_id").isin(sorted(todo)))
        .groupBy("_batch_id")
        .agg(F.min("_delivered_at").alias("d"))
        .orderBy("d", "_batch_id")
        .collect()
    )
    found = [r["_batch_id"] for r in rows]
    # a batch with no bronze row (a header-only file) still needs its silver record
    return found + sorted(todo - set(found))


def country_lookup(spark: SparkSession, bronze: DataFrame, contract: Contract) -> DataFrame | None:
    """Match the distinct country values of the batch against the referential."""
    from ingestion.conform import cleaned
    from ingestion.countries import CountryReferential

    columns = [c.name for c in contract.columns if c.type == "country" and c.name in bronze.columns]
    if not [c for c in contract.columns if c.type == "country"]:
        return None
    values: set[str] = set()
    for name in columns:
        values |= {
            r[0]
            for r in bronze.select(cleaned(name, contract)).distinct().collect()
            if r[0] is not None
        }
    referential = CountryReferential.load()
    rows = [
        (raw, m.iso3, m.label_fr, m.status, m.reason_fr)
        for raw, m in sorted(referential.match_many(values).items())
    ]
    return spark.createDataFrame(
        rows, "raw string, iso3 string, label_fr string, status string, reason_fr string"
    )


def process_batch(
    spark: SparkSession,
    settings: Settings,
    contract: Contract,
    batch: str,
    *,
    run_id: str,
    gate: BatchGate,
    progress: Progress = lambda _: None,
) -> RunRecord:
    """Type, review, quarantine, deduplicate and merge one bronze batch into silver.

    The ``gate`` (the quality review, ``quality.gate.SilverGate``) marks the rows failing a
    blocking rule; they go to quarantine with every rule they failed. A blocked batch (a blocking
    table-level rule failed) goes to quarantine whole, with the reason, and silver is untouched.
    """
    from pyspark.sql import functions as F

    record = RunRecord(
        run_id=run_id,
        batch_id=batch,
        source=contract.source,
        layer="silver",
        status="failed",
        started_at=now(),
    )
    bronze = delta_io.read_table(spark, table_uri(settings, "bronze", contract.source)).filter(
        F.col("_batch_id") == batch
    )
    typed = conform(
        bronze, contract, country_lookup(spark, bronze, contract), pseudonymisation_key(settings)
    )
    verdict = gate(typed, contract, batch_id=batch, run_id=run_id)
    marked = verdict.marked
    assert marked is not None, "a batch gate returns the marked batch"
    # The review counted the batch's rows and its rejected rows in its own pass over the
    # persisted batch (typing keeps one row per bronze row); only a gate that did not count
    # costs extra passes here.
    record.rows_in = verdict.rows if verdict.rows is not None else marked.count()
    rejected = (
        verdict.rejected
        if verdict.rejected is not None
        else marked.filter(F.size(FAILURES) > 0).count()
    )
    merged = None
    try:
        if verdict.blocked:
            _quarantine(settings, contract, batch, _blocked(marked, contract, verdict.reasons))
            valid_rows = 0
        else:
            if rejected:
                _quarantine(settings, contract, batch, marked.filter(F.size(FAILURES) > 0))
            valid = marked.filter(F.size(FAILURES) == 0).drop(FAILURES)
            valid = valid.drop(
                FAILURE_COUNT, *[c for c in valid.columns if c.startswith(GATE_COLUMN_PREFIX)]
            )
            valid_rows = record.rows_in - rejected
            merged = _dedupe_and_merge(valid, settings, contract, batch, run_id)
    finally:
        marked.unpersist()
    verdict.record(merged.version if merged else None)
    record.quality = verdict.decision
    record.assertions = verdict.assertions
    # read back from the quarantine table: what was committed, not what was meant to be
    quarantined = count_quarantined(spark, settings, contract, batch, "silver")
    record.rows_out = merged.source_rows if merged else 0
    record.duplicates_resolved = valid_rows - record.rows_out
    record.quarantined = quarantined
    if merged:
        record.inserted, record.updated = merged.inserted, merged.updated
        record.table_version = merged.version
    check(
        record.rows_in == record.rows_out + quarantined + record.duplicates_resolved,
        record,
        f"bronze rows {record.rows_in} != silver rows {record.rows_out} + quarantined "
        f"{quarantined} + duplicates {record.duplicates_resolved}",
    )
    record.message = (
        "lot retenu par la revue de qualité : " + " ; ".join(verdict.reasons)
        if verdict.blocked
        else f"{record.duplicates_resolved} doublon(s) résolu(s)"
    )
    record.status = "succeeded"
    record.finished_at = now()
    progress(
        f"  batch {batch}: {record.rows_in} bronze rows -> {record.rows_out} silver "
        f"(+{record.inserted} new, {record.updated} updated), {quarantined} quarantined, "
        f"{record.duplicates_resolved} duplicates; quality {verdict.summary}"
    )
    return record


def _dedupe_and_merge(
    valid: DataFrame, settings: Settings, contract: Contract, batch: str, run_id: str
) -> delta_io.MergeResult:
    """Drop exact copies, keep the latest version of each key, MERGE into silver."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    key = list(contract.primary_key)
    # An exact duplicate is the later copy of a row: keep the first occurrence...
    first = Window.partitionBy(*key, "_row_hash").orderBy("_delivered_at", "_line")
    distinct = (
        valid.withColumn("__copy", F.row_number().over(first)).filter("__copy = 1").drop("__copy")
    )
    # ...then, for a key delivered with different values, the latest version wins.
    latest = Window.partitionBy(*key).orderBy(F.col("_delivered_at").desc(), F.col("_line").desc())
    deduped = (
        distinct.withColumn("__rank", F.row_number().over(latest))
        .filter("__rank = 1")
        .drop("__rank")
    )
    return delta_io.merge_table(
        deduped,
        table_uri(settings, "silver", contract.source),
        keys=key,
        update_condition="t._row_hash <> s._row_hash AND s._delivered_at >= t._delivered_at",
        commit_info={"run_id": run_id, "batch_id": batch},
        check_duplicates=False,  # one row per key: the window above guarantees it
    )


def _blocked(marked: DataFrame, contract: Contract, reasons: list[str]) -> DataFrame:
    """Every row of a blocked batch, the batch-level reason first, its own failures after."""
    from pyspark.sql import functions as F

    held = F.struct(
        F.lit(None).cast("string").alias("column"),
        F.lit(None).cast("string").alias("value"),
        F.lit("lot retenu : " + " ; ".join(reasons)).alias("reason"),
        F.lit(f"{contract.source}.batch.rejected_share").alias("rule"),
        F.lit("blocking").alias("severity"),
    )
    return marked.withColumn(FAILURES, F.concat(F.array(held), F.col(FAILURES)))


def _quarantine(settings: Settings, contract: Contract, batch: str, bad: DataFrame) -> None:
    from pyspark.sql import functions as F

    first = F.col(FAILURES)[0]
    rows = bad.select(
        F.col("_source"),
        F.col("_batch_id"),
        F.lit("silver").alias("stage"),
        F.col("_file_uri"),
        F.col("_line"),
        first["column"].alias("column"),
        first["value"].alias("value"),
        first["reason"].alias("reason"),
        first["rule"].alias("rule"),
        F.lit(None).cast("string").alias("raw"),
        F.col(FAILURES).alias("failures"),
        F.col("_delivered_at"),
        F.current_timestamp().alias("_quarantined_at"),
    )
    rows = rows.select(
        [
            F.col(f.name).cast(f.dataType)
            for f in bad.sparkSession.createDataFrame([], QUARANTINE_SCHEMA).schema.fields
        ]
    )
    delta_io.write_table(
        rows,
        table_uri(settings, "quarantine", contract.source),
        mode="append",
        merge_schema=True,
        idempotent=(f"quarantine-silver:{batch}", 0),
    )
