"""Bronze: every delivered row, as delivered (strings), with its provenance.

For one file: land it, parse it in chunks (:mod:`ingestion.readers`), stage the records as Parquet
in the lake, append them to ``bronze/<source>`` with the provenance columns, and append malformed
lines to ``quarantine/<source>`` with their raw text and reason. Both appends are Delta idempotent
writes (``txnAppId`` = the batch, derived from the file's checksum): a rerun after a crash never
writes a batch twice, and a file already ingested is skipped before it is even parsed.

Reconciliation: lines read = bronze rows of the batch + malformed lines of the batch, both counted
back from the tables.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ingestion.errors import in_batch
from ingestion.landing import LandedFile, land
from ingestion.readers import read_extract
from ingestion.runlog import RunRecord, check, now
from lake import delta_io
from lake.contracts import Contract
from lake.objects import ObjectStore
from lake.settings import Settings
from lake.storage import table_uri

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

Progress = Callable[[str], None]
PROVENANCE = (
    "_source",
    "_batch_id",
    "_file_uri",
    "_file_sha256",
    "_line",
    "_delivered_at",
    "_ingested_at",
)
QUARANTINE_SCHEMA = (
    "_source string, _batch_id string, stage string, _file_uri string, _line long, "
    "`column` string, value string, reason string, rule string, raw string, "
    "failures array<struct<`column`:string,value:string,reason:string,rule:string,"
    "severity:string>>, "
    "_delivered_at timestamp, _quarantined_at timestamp"
)


def batch_id_for(contract: Contract, sha256: str) -> str:
    """The batch id of a file: stable across reruns, unique per content."""
    return f"{contract.source}-{sha256[:16]}"


def ingest_file(
    spark: SparkSession,
    settings: Settings,
    contract: Contract,
    path: Path,
    *,
    run_id: str,
    done: set[str],
    progress: Progress = lambda _: None,
) -> RunRecord:
    """Land and ingest one delivered file into bronze (idempotent).

    Args:
        spark: The session.
        settings: Lake settings.
        contract: The source's contract.
        path: The delivered file.
        run_id: The current run.
        done: Batch ids bronze already ingested successfully (from the run log).
        progress: Receives one line per step.
    """
    started = now()
    landed = land(settings, contract, path)
    batch = batch_id_for(contract, landed.sha256)
    record = RunRecord(
        run_id=run_id,
        batch_id=batch,
        source=contract.source,
        layer="bronze",
        status="skipped",
        started_at=started,
        file_uri=landed.uri,
        file_sha256=landed.sha256,
    )
    if batch in done:
        record.finished_at = now()
        record.message = "fichier déjà ingéré (même empreinte SHA-256)"
        progress(f"  {path.name}: already ingested (batch {batch}), skipped")
        return record
    # an error from here on names the batch in the run log (ingestion.errors.in_batch)
    with in_batch(batch):
        store = ObjectStore(settings)
        staging = f"_staging/{batch}"
        store.remove_prefix(staging)  # leftovers of a crashed attempt
        try:
            lines_read, malformed_rows, layout_extra = _stage(contract, path, store, staging)
            records = spark.read.parquet(store.uri(staging + "/records"))
            bronze_rows = _with_provenance(records, contract, batch, landed)
            version = delta_io.write_table(
                bronze_rows,
                table_uri(settings, "bronze", contract.source),
                mode="append",
                merge_schema=True,
                idempotent=(f"bronze:{batch}", 0),
                commit_info={"run_id": run_id, "batch_id": batch, "file": landed.uri},
            )
            if malformed_rows:
                _quarantine_malformed(spark, settings, contract, batch, landed, malformed_rows)
        finally:
            store.remove_prefix(staging)
        in_bronze = (
            delta_io.read_table(spark, table_uri(settings, "bronze", contract.source))
            .filter(f"_batch_id = '{batch}'")
            .count()
        )
        quarantined = count_quarantined(spark, settings, contract, batch, "bronze")
        record.lines_read = lines_read
        record.rows_out = in_bronze
        record.quarantined = quarantined
        record.table_version = version
        record.extra_columns = layout_extra
        check(
            lines_read == in_bronze + quarantined,
            record,
            f"lines read {lines_read} != bronze rows {in_bronze} + malformed {quarantined}",
        )
    record.status = "succeeded"
    record.finished_at = now()
    extra = f"; extra columns: {', '.join(layout_extra)}" if layout_extra else ""
    progress(
        f"  {path.name}: {lines_read} lines -> {in_bronze} bronze rows, {quarantined} "
        f"malformed{extra}"
    )
    return record


def _stage(
    contract: Contract, path: Path, store: ObjectStore, staging: str
) -> tuple[int, list[tuple[int, str, str]], list[str]]:
    """Parse the file into Parquet parts under ``staging``; return counts and malformed lines."""
    import pyarrow.parquet as pq

    layout, chunks = read_extract(contract, path)
    malformed: list[tuple[int, str, str]] = []
    lines_read = 0
    with tempfile.TemporaryDirectory(prefix="lake-stage-") as tmp:
        for index, chunk in enumerate(chunks):
            lines_read += chunk.row_count + len(chunk.malformed)
            malformed.extend((m.line, m.raw, m.reason) for m in chunk.malformed)
            if not chunk.row_count and index > 0:
                continue
            part = Path(tmp) / f"part-{index:05d}.parquet"
            pq.write_table(chunk.table(layout.columns), part)
            store.put_file(f"{staging}/records/{part.name}", part)
            part.unlink()
    return lines_read, malformed, layout.extra_columns


def _with_provenance(
    records: DataFrame, contract: Contract, batch: str, landed: LandedFile
) -> DataFrame:
    from pyspark.sql import functions as F

    data_columns = [c for c in records.columns if c != "_line"]
    return records.select(
        *[F.col(f"`{c}`") for c in data_columns],
        F.lit(contract.source).alias("_source"),
        F.lit(batch).alias("_batch_id"),
        F.lit(landed.uri).alias("_file_uri"),
        F.lit(landed.sha256).alias("_file_sha256"),
        F.col("_line").cast("long").alias("_line"),
        F.lit(landed.delivered_at).cast("timestamp").alias("_delivered_at"),
        F.current_timestamp().alias("_ingested_at"),
    )


def _quarantine_malformed(
    spark: SparkSession,
    settings: Settings,
    contract: Contract,
    batch: str,
    landed: LandedFile,
    malformed: list[tuple[int, str, str]],
) -> None:
    stamp = now()
    rows: list[dict[str, object]] = [
        {
            "_source": contract.source,
            "_batch_id": batch,
            "stage": "bronze",
            "_file_uri": landed.uri,
            "_line": line,
            "column": None,
            "value": None,
            "reason": reason,
            "rule": f"{contract.source}.line.readable",
            "raw": raw,
            "failures": [],
            "_delivered_at": landed.delivered_at,
            "_quarantined_at": stamp,
        }
        for line, raw, reason in malformed
    ]
    df = spark.createDataFrame(rows, schema=QUARANTINE_SCHEMA)
    delta_io.write_table(
        df,
        table_uri(settings, "quarantine", contract.source),
        mode="append",
        merge_schema=True,  # quarantine tables written before rules were named gain the column
        idempotent=(f"quarantine-bronze:{batch}", 0),
    )


def count_quarantined(
    spark: SparkSession, settings: Settings, contract: Contract, batch: str, stage: str
) -> int:
    uri = table_uri(settings, "quarantine", contract.source)
    if not delta_io.table_exists(spark, uri):
        return 0
    return (
        delta_io.read_table(spark, uri)
        .filter(f"_batch_id = '{batch}' AND stage = '{stage}'")
        .count()
    )
