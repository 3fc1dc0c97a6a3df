"""One measured task of a benchmark, run in a worker process or in the caller's process.

Each task returns plain data: ``seconds`` (the measured time, the session already up) and what
explains it (per-layer times, counts, Spark jobs). The kinds:

- ``pipeline``: ``lake run`` as shipped (quality gates, lineage, run log) on the inbox;
- ``bronze``: the same, bronze layer only (the I/O scenario);
- ``baseline``: the bare Spark chain of :mod:`app.bench.baseline`;
- ``review``: one plain scan of every silver table, then one quality review of each (the
  silver gate's rules, Great Expectations included) on the same tables;
- ``upload``: the inbox's files put to MinIO with the MinIO client (:mod:`lake.objects`);
- ``peer``: bronze -> silver with polars + delta-rs (:mod:`app.bench.peer`).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from lake.layers import PIPELINE_LAYERS, StepLayer
from lake.settings import Settings

if TYPE_CHECKING:
    from collections.abc import Iterator

    from pyspark.sql import DataFrame, SparkSession

    from lake.contracts import Contract

TaskKind = Literal["pipeline", "bronze", "baseline", "review", "upload", "peer"]
Layer = StepLayer
SPARK_TASKS: frozenset[str] = frozenset({"pipeline", "bronze", "baseline", "review"})
_GOLD_STARTS = "gold: indicators"  # the chain's progress line when gold begins


def execute(
    kind: TaskKind,
    settings: Settings,
    spark: SparkSession | None,
    *,
    sources: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Run one task against ``settings``' bucket and inbox; returns its measurements."""
    if kind in SPARK_TASKS and spark is None:
        raise ValueError(f"task {kind!r} needs a SparkSession")
    if kind == "pipeline":
        assert spark is not None
        layers: tuple[Layer, ...] = PIPELINE_LAYERS
        return _counted(spark, lambda: _pipeline(spark, settings, sources, layers))
    if kind == "bronze":
        assert spark is not None
        return _counted(spark, lambda: _pipeline(spark, settings, sources, ("bronze",)))
    if kind == "baseline":
        from app.bench.baseline import run_baseline

        assert spark is not None
        return _counted(spark, lambda: run_baseline(spark, settings, sources=sources))
    if kind == "review":
        assert spark is not None
        return _review(spark, settings, sources)
    if kind == "upload":
        return _upload(settings)
    if kind == "peer":
        from app.bench.peer import run_peer

        return run_peer(settings, sources=sources)
    raise ValueError(f"unknown task {kind!r}")


@contextmanager
def _job_group(spark: SparkSession, name: str) -> Iterator[Callable[[], int]]:
    """Tag the Spark jobs started in the block; yields a function counting them."""
    sc = spark.sparkContext
    sc.setJobGroup(name, name)
    try:
        yield lambda: len(sc.statusTracker().getJobIdsForGroup(name))
    finally:
        sc.setLocalProperty("spark.jobGroup.id", None)  # type: ignore[arg-type]


def _counted(spark: SparkSession, work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    group = f"bench-{time.monotonic_ns()}"
    with _job_group(spark, group) as jobs:
        result = work()
        result["spark_jobs"] = jobs()
    return result


def _pipeline(
    spark: SparkSession,
    settings: Settings,
    sources: Sequence[str] | None,
    layers: tuple[Layer, ...],
) -> dict[str, Any]:
    from app.compose import lineage_sink, quality_gates
    from ingestion.pipeline import run

    marks: dict[str, float] = {}

    def progress(line: str) -> None:
        print(f"{time.perf_counter() - started:8.1f}s {line}", file=sys.stderr, flush=True)
        if line == _GOLD_STARTS:
            marks["gold"] = time.perf_counter()

    started = time.perf_counter()
    summary = run(
        spark,
        settings,
        sources=sources,
        layers=layers,
        gates=quality_gates(settings),
        lineage=lineage_sink(settings),
        progress=progress,
    )
    ended = time.perf_counter()
    gold = marks.get("gold", ended)
    layer_stats: dict[str, dict[str, float]] = {}
    for r in summary.records:
        stats = layer_stats.setdefault(
            r.layer,
            {"batches": 0, "skipped": 0, "seconds": 0.0, "rows_out": 0, "inserted": 0},
        )
        stats["batches"] += 1
        stats["skipped"] += r.status == "skipped"
        stats["seconds"] += r.duration_s
        stats["rows_out"] += r.rows_out
        stats["inserted"] += r.inserted
    return {
        "seconds": ended - started,
        "bronze_silver_s": gold - started,
        "gold_s": ended - gold,
        "layers": layer_stats,
    }


def _silver_tables(
    spark: SparkSession, settings: Settings, sources: Sequence[str] | None
) -> list[tuple[Contract, str]]:
    from ingestion.pipeline import select_contracts
    from lake import delta_io
    from lake.storage import table_uri

    found = []
    for contract in select_contracts(settings, sources):
        uri = table_uri(settings, "silver", contract.source)
        if delta_io.table_exists(spark, uri):
            found.append((contract, uri))
    return found


def as_reviewed(df: DataFrame, contract: Contract) -> DataFrame:
    """A stored silver table in the shape the silver gate reviews: the delivered text of each
    column (``__raw_<col>``) is taken from the stored value."""
    from pyspark.sql import functions as F

    from lake.gates import RAW_PREFIX

    return df.select(
        "*",
        *[
            (F.col(f"`{c.name}`").cast("string") if c.name in df.columns else F.lit(None))
            .cast("string")
            .alias(f"{RAW_PREFIX}{c.name}")
            for c in contract.columns
        ],
    )


def _review(
    spark: SparkSession, settings: Settings, sources: Sequence[str] | None
) -> dict[str, Any]:
    from lake import delta_io
    from quality.gate import SilverGate
    from quality.validation import refresh_data_docs

    tables = _silver_tables(spark, settings, sources)

    def scan() -> None:
        for _, uri in tables:
            delta_io.read_table(spark, uri).write.format("noop").mode("overwrite").save()

    scan()  # warm-up: both measurements below find the Delta logs already loaded
    started = time.perf_counter()
    with _job_group(spark, "bench-scan") as scan_jobs:
        scan()
        jobs_scan = scan_jobs()
    scanned = time.perf_counter() - started
    gate = SilverGate(settings, data_docs=settings.reports.data_docs)
    decisions: dict[str, str] = {}
    started = time.perf_counter()
    with _job_group(spark, "bench-review") as review_jobs:
        for contract, uri in tables:
            reviewed = as_reviewed(delta_io.read_table(spark, uri), contract)
            verdict = gate(reviewed, contract, batch_id="bench-review", run_id="bench")
            assert verdict.marked is not None
            verdict.marked.unpersist()
            decisions[contract.source] = verdict.decision
        refresh_data_docs(settings.reports.dir)  # once per review, as a pipeline run does
        jobs_review = review_jobs()
    reviewed_s = time.perf_counter() - started
    return {
        "seconds": reviewed_s,
        "scan_s": scanned,
        "review_s": reviewed_s,
        "tables": len(tables),
        "decisions": decisions,
        "spark_jobs": jobs_review,
        "spark_jobs_scan": jobs_scan,
    }


def _upload(settings: Settings) -> dict[str, Any]:
    from lake.objects import ObjectStore

    store = ObjectStore(settings)
    inbox = settings.ingestion.inbox
    files = sorted(p for p in Path(inbox).rglob("*") if p.is_file() and not p.name.startswith("."))
    started = time.perf_counter()
    for path in files:
        store.put_file(f"upload/{path.relative_to(inbox).as_posix()}", path)
    return {
        "seconds": time.perf_counter() - started,
        "files": len(files),
        "bytes": sum(p.stat().st_size for p in files),
    }


def warm_up(spark: SparkSession, settings: Settings) -> None:
    """Load Delta, S3A and the JIT's first classes before anything is timed."""
    from delta.tables import DeltaTable
    from pyspark.sql import functions as F

    from lake.storage import lake_root

    uri = f"{lake_root(settings)}/_bench/warm_up"
    df = spark.range(2000).withColumn("v", (F.col("id") % 7).cast("string"))
    df.write.format("delta").mode("overwrite").save(uri)
    (
        DeltaTable.forPath(spark, uri)
        .alias("t")
        .merge(df.alias("s"), "t.id = s.id")
        .whenMatchedUpdateAll()
        .whenNotMatchedInsertAll()
        .execute()
    )
    spark.read.format("delta").load(uri).groupBy("v").count().collect()
