"""The bare Spark baseline: the chain's reads, casts, merge and aggregates, with no governance.

What it keeps from the lake, because a plain Spark script would have to do the same work:

- reading the extracts with the lake's parser (:func:`ingestion.readers.read_extract`: Spark has
  no reader for the silos' xlsx files and Latin-1 quirks) and staging them as Parquet on MinIO;
- appending each file to ``bronze/<source>`` with its provenance columns;
- typing with the same pure transform (:func:`ingestion.conform.conform`, country lookup and
  pseudonyms included), keeping the latest version of each key with the same windows, and a
  Delta MERGE into ``silver/<source>``;
- recomputing every gold indicator with the same functions and overwriting it.

What it leaves out, which is what the governance overhead measures: the landing copy and its
checksum, the run log and the skip of files already ingested, reconciliation counts, idempotent
(``txnAppId``) writes, the quality gates (Great Expectations, quarantine per rule, history, Data
Docs), statistical-secret and lineage checks on gold, and OpenLineage events (the worker running
it starts Spark without the OpenLineage listener).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingestion.conform import conform
from ingestion.gold import INDICATORS
from ingestion.landing import delivery_time
from ingestion.pipeline import inbox_files, select_contracts
from ingestion.readers import read_extract
from ingestion.silver import country_lookup
from lake.contracts import Contract
from lake.gates import GATE_COLUMN_PREFIX
from lake.keys import pseudonymisation_key
from lake.objects import ObjectStore
from lake.settings import Settings
from lake.storage import lake_root, table_uri

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


def run_baseline(
    spark: SparkSession, settings: Settings, *, sources: Sequence[str] | None = None
) -> dict[str, Any]:
    """Ingest the inbox of ``settings`` into its bucket the bare way; times per layer."""
    started = time.perf_counter()
    key = pseudonymisation_key(settings)
    contracts = select_contracts(settings, sources)
    files = 0
    for contract in contracts:
        for index, path in enumerate(inbox_files(settings, contract)):
            batch = f"{contract.source}-{index}"
            staged = _stage(settings, contract, path, batch)
            bronze = _bronze(spark, staged, contract, path, batch)
            bronze.write.format("delta").mode("append").option("mergeSchema", "true").save(
                table_uri(settings, "bronze", contract.source)
            )
            ObjectStore(settings).remove_prefix(f"_staging/{batch}")
            _silver(spark, settings, contract, batch, key)
            files += 1
    bronze_silver = time.perf_counter() - started
    selected = {c.source for c in contracts}
    for indicator in INDICATORS:
        if not set(indicator.sources) <= selected:
            continue
        silver = {
            s: spark.read.format("delta").load(table_uri(settings, "silver", s))
            for s in indicator.sources
        }
        indicator.build(silver, settings).write.format("delta").mode("overwrite").option(
            "overwriteSchema", "true"
        ).save(table_uri(settings, "gold", indicator.name))
    total = time.perf_counter() - started
    return {
        "seconds": total,
        "bronze_silver_s": bronze_silver,
        "gold_s": total - bronze_silver,
        "files": files,
    }


def _stage(settings: Settings, contract: Contract, path: Path, batch: str) -> str:
    """Parse the file into Parquet parts on the object store; returns their URI."""
    import pyarrow.parquet as pq

    layout, chunks = read_extract(contract, path)
    store = ObjectStore(settings)
    prefix = f"_staging/{batch}/records"
    with tempfile.TemporaryDirectory(prefix="bench-stage-") as tmp:
        for index, chunk in enumerate(chunks):
            if not chunk.row_count and index > 0:
                continue
            table = chunk.table(layout.columns)
            part = Path(tmp) / f"part-{index:05d}.parquet"
            pq.write_table(table, part)
            store.put_file(f"{prefix}/{part.name}", part)
    return f"{lake_root(settings)}/{prefix}"


def _bronze(
    spark: SparkSession, staged: str, contract: Contract, path: Path, batch: str
) -> DataFrame:
    from pyspark.sql import functions as F

    records = spark.read.parquet(staged)
    return records.select(
        *[F.col(f"`{c}`") for c in records.columns if c != "_line"],
        F.lit(contract.source).alias("_source"),
        F.lit(batch).alias("_batch_id"),
        F.lit(str(path)).alias("_file_uri"),
        F.col("_line").cast("long").alias("_line"),
        F.lit(delivery_time(path)).cast("timestamp").alias("_delivered_at"),
        F.current_timestamp().alias("_ingested_at"),
    )


def _silver(
    spark: SparkSession, settings: Settings, contract: Contract, batch: str, key: bytes
) -> None:
    """Type one bronze batch, keep the latest row per key, MERGE it into silver."""
    from delta.tables import DeltaTable
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    bronze = (
        spark.read.format("delta")
        .load(table_uri(settings, "bronze", contract.source))
        .filter(F.col("_batch_id") == batch)
    )
    typed = conform(bronze, contract, country_lookup(spark, bronze, contract), key)
    typed = typed.drop(*[c for c in typed.columns if c.startswith(GATE_COLUMN_PREFIX)])
    keys = list(contract.primary_key)
    first = Window.partitionBy(*keys, "_row_hash").orderBy("_delivered_at", "_line")
    latest = Window.partitionBy(*keys).orderBy(F.col("_delivered_at").desc(), F.col("_line").desc())
    deduped = (
        typed.withColumn("__copy", F.row_number().over(first))
        .filter("__copy = 1")
        .withColumn("__rank", F.row_number().over(latest))
        .filter("__rank = 1")
        .drop("__copy", "__rank")
    )
    uri = table_uri(settings, "silver", contract.source)
    if not DeltaTable.isDeltaTable(spark, uri):
        deduped.write.format("delta").save(uri)
    else:
        condition = " AND ".join(f"t.`{k}` <=> s.`{k}`" for k in keys)
        (
            DeltaTable.forPath(spark, uri)
            .alias("t")
            .merge(deduped.alias("s"), condition)
            .whenMatchedUpdateAll(
                condition="t._row_hash <> s._row_hash AND s._delivered_at >= t._delivered_at"
            )
            .whenNotMatchedInsertAll()
            .execute()
        )
