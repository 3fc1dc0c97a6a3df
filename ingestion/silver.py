"""Silver: bronze batches typed and conformed per contract, deduplicated, merged on the key.

For each bronze batch not yet in silver (oldest delivery first): type every column
(:mod:`ingestion.conform`), send rows with failures to ``quarantine/<source>`` (column, value,
reason), drop exact duplicates and keep the latest version of each key (latest delivery, then
last line), and MERGE into ``silver/<source>``: a key seen before is updated only when its values
changed and the delivery is not older; history stays in Delta versions.

Reconciliation: bronze rows of the batch = rows merged + rows quarantined at typing + duplicates
resolved, and every term is measured on its own, none derived from the others: the batch's rows
are counted by the quality review's single pass over the persisted batch; the quarantine count is
read back from its table (delta-rs, no Spark job); the duplicates are the rows the deduplication
step flags and drops, counted from the data; the merged rows are the MERGE's own
``numSourceRows``. The MERGE is then checked against the table itself: rows after - rows before
(counted at both versions, from the log's statistics) = rows inserted, and inserted + updated <=
merged. A row lost in deduplication, in the MERGE's source or in its commit shows up as a
:class:`ReconciliationError` naming the batch.

Before anything is written, the batch's columns are compared with silver's schema
(:mod:`ingestion.schema_change`): additive contract changes evolve the table, the others are
refused until ``lake migrate``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

from ingestion.bronze import QUARANTINE_SCHEMA, count_batches
from ingestion.conform import conform
from ingestion.runlog import RunRecord, append, check, now
from ingestion.schema_change import govern, stored_columns
from lake import delta_io
from lake.contracts import Contract
from lake.delta_reader import open_if_exists
from lake.gates import FAILURE_COUNT, FAILURES, GATE_COLUMN_PREFIX, BatchGate
from lake.keys import pseudonymisation_key
from lake.settings import Settings
from lake.storage import table_uri

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

Progress = Callable[[str], None]
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def pending_batches(
    settings: Settings,
    contract: Contract,
    bronze_done: set[str],
    silver_done: set[str],
) -> list[str]:
    """Bronze batches silver has not processed, oldest delivery first (then by batch id).

    Read with delta-rs: the two provenance columns of the pending batches' rows, no Spark job
    (a Spark aggregate cost about 0.7 s per source and run, whatever the delivery's size).
    """
    import pyarrow.dataset as ds

    todo = bronze_done - silver_done
    if not todo:
        return []
    table = open_if_exists(settings, table_uri(settings, "bronze", contract.source))
    found: list[str] = []
    if table is not None:
        rows = table.to_pyarrow_dataset().to_table(
            columns=["_batch_id", "_delivered_at"],
            filter=ds.field("_batch_id").isin(sorted(todo)),
        )
        first = rows.group_by("_batch_id").aggregate([("_delivered_at", "min")])
        delivered = first.column("_delivered_at_min").to_pylist()
        batches = first.column("_batch_id").to_pylist()
        # a batch without a delivery time sorts first, as Spark's ascending order put nulls
        ordered = sorted(
            zip(delivered, batches, strict=True),
            key=lambda pair: (pair[0] is not None, pair[0] or _EPOCH, pair[1]),
        )
        found = [str(batch) for _, batch in ordered]
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
    # a refused contract change stops here, before any write; an additive one evolves silver
    evolution = govern(spark, settings, contract, stored_columns(typed), run_id=run_id, batch=batch)
    if evolution is not None:
        append(settings, [evolution])
        progress(f"  batch {batch}: {evolution.message}")
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
    duplicates = 0
    try:
        if verdict.blocked:
            _quarantine(settings, contract, batch, _blocked(marked, contract, verdict.reasons))
        else:
            if rejected:
                _quarantine(settings, contract, batch, marked.filter(F.size(FAILURES) > 0))
            valid = marked.filter(F.size(FAILURES) == 0).drop(FAILURES)
            valid = valid.drop(
                FAILURE_COUNT, *[c for c in valid.columns if c.startswith(GATE_COLUMN_PREFIX)]
            )
            # the declared bronze -> silver lineage must be what the plan reads (no Spark job)
            from ingestion.lineage_plan import check_silver

            check_silver(settings, contract, record, bronze, valid)
            merged, duplicates = _dedupe_and_merge(valid, settings, contract, batch, run_id)
    finally:
        marked.unpersist()
    verdict.record(merged.version if merged else None)
    record.quality = verdict.decision
    record.assertions = verdict.assertions
    # read back from the quarantine table: what was committed, not what was meant to be
    quarantine = open_if_exists(settings, table_uri(settings, "quarantine", contract.source))
    quarantined = count_batches(quarantine, [batch], stage="silver").get(batch, 0)
    record.rows_out = merged.source_rows if merged else 0
    record.duplicates_resolved = duplicates
    record.quarantined = quarantined
    if merged:
        record.inserted, record.updated = merged.inserted, merged.updated
        record.table_version = merged.version
    for holds, equation in reconciliation(record, merged):
        check(holds, record, equation)
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


def reconciliation(
    record: RunRecord, merged: delta_io.MergeResult | None
) -> list[tuple[bool, str]]:
    """The silver equations of a batch, each term measured on its own: ``(holds, equation)``."""
    quarantined, duplicates = record.quarantined, record.duplicates_resolved
    equations = [
        (
            record.rows_in == record.rows_out + quarantined + duplicates,
            f"bronze rows {record.rows_in} != rows merged {record.rows_out} (MERGE source) + "
            f"quarantined {quarantined} + duplicates {duplicates} (dropped by deduplication)",
        )
    ]
    if merged is not None and merged.rows_before is not None and merged.rows_after is not None:
        equations.append(
            (
                merged.rows_after - merged.rows_before == merged.inserted - merged.deleted,
                f"silver rows after {merged.rows_after} - before {merged.rows_before} != "
                f"inserted {merged.inserted} - deleted {merged.deleted} (MERGE metrics)",
            )
        )
    if merged is not None:
        equations.append(
            (
                merged.unchanged >= 0,
                f"inserted {merged.inserted} + updated {merged.updated} > rows merged "
                f"{merged.source_rows}",
            )
        )
    return equations


def _dedupe_and_merge(
    valid: DataFrame, settings: Settings, contract: Contract, batch: str, run_id: str
) -> tuple[delta_io.MergeResult, int]:
    """Drop exact copies, keep the latest version of each key, MERGE into silver.

    Returns:
        The MERGE's result and the duplicates dropped, counted from the rows the step flags
        (one aggregate over the batch), not inferred from the other counts.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    key = list(contract.primary_key)
    # An exact duplicate is the later copy of a row: keep the first occurrence...
    first = Window.partitionBy(*key, "_row_hash").orderBy("_delivered_at", "_line")
    copies = valid.withColumn("__copy", F.row_number().over(first))
    # ...then, for a key delivered with different values, the latest version wins (ranked among
    # first occurrences only: the copies' partition is apart).
    latest = Window.partitionBy(*key, F.col("__copy") == 1).orderBy(
        F.col("_delivered_at").desc(), F.col("_line").desc()
    )
    flagged = copies.withColumn(
        "__dropped", (F.col("__copy") > 1) | (F.row_number().over(latest) > 1)
    )
    duplicates = int(flagged.filter("__dropped").count())
    deduped = flagged.filter("NOT __dropped").drop("__copy", "__dropped")
    merged = delta_io.merge_table(
        deduped,
        table_uri(settings, "silver", contract.source),
        keys=key,
        update_condition="t._row_hash <> s._row_hash AND s._delivered_at >= t._delivered_at",
        commit_info={"run_id": run_id, "batch_id": batch},
        check_duplicates=False,  # one row per key: the window above guarantees it
        count_rows=True,
        # gold recomputes only the groups whose rows changed (decision 0013)
        table_properties=delta_io.CHANGE_DATA_FEED,
    )
    return merged, duplicates


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
