"""Gold: business indicators per domain, recomputed from silver at each run.

Each indicator is declared once (:data:`ingestion.indicators.INDICATORS`) as a pure function of
the silver DataFrames; this module builds each, has the gold gate review it, checks its declared
column lineage against the columns it really produces and against the lineage of its
analysed Spark plan (:func:`ingestion.lineage_plan.check_observed`), and writes it.

When only some silver rows changed since the build gold holds, only the groups they fall in are
recomputed (:mod:`ingestion.gold_incremental`, decision 0013): the gate still reviews the whole
new table, and the groups are replaced in one commit. Otherwise (first build, a silver table
overwritten or migrated, its change feed no longer readable, ``gold.incremental = false``...)
the indicator is rewritten whole (``overwrite``). Either way each commit records the silver
versions it was built from, a rerun gives the same rows, older versions stay readable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ingestion import gold_incremental
from ingestion.errors import IngestionError
from ingestion.indicators import INDICATORS, Indicator
from ingestion.runlog import RunRecord, now
from lake import delta_io
from lake.contracts import get_contract
from lake.gates import TableGate
from lake.lineage import LineageSink, NoLineage
from lake.settings import Settings
from lake.storage import table_uri

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

Progress = Callable[[str], None]


def build_gold(
    spark: SparkSession,
    settings: Settings,
    *,
    run_id: str,
    gate: TableGate,
    sources: set[str] | None = None,
    lineage: LineageSink | None = None,
    progress: Progress = lambda _: None,
) -> list[RunRecord]:
    """Recompute every indicator whose sources have a silver table (and, if given, one of
    ``sources`` among them).

    Each new content is reviewed by ``gate`` (``quality.gate.GoldGate``) before it replaces the
    old one; a blocked indicator keeps its previous version and is logged as blocked. Each
    indicator recomputed is reported to ``lineage`` with its declared column lineage.
    """
    sink = lineage or NoLineage()
    records = []
    for indicator in INDICATORS:
        if sources is not None and not sources & set(indicator.sources):
            continue
        uris = {s: table_uri(settings, "silver", s) for s in indicator.sources}
        if not all(delta_io.table_exists(spark, u) for u in uris.values()):
            continue
        records.append(_build_one(spark, settings, indicator, uris, run_id, gate, sink, progress))
    return records


def _build_one(
    spark: SparkSession,
    settings: Settings,
    indicator: Indicator,
    uris: dict[str, str],
    run_id: str,
    gate: TableGate,
    sink: LineageSink,
    progress: Progress,
) -> RunRecord:
    from ingestion.lineage_plan import check_observed, gold_step

    started = now()
    uri = table_uri(settings, "gold", indicator.name)
    first = get_contract(settings.root, indicator.sources[0])
    record = RunRecord(
        run_id=run_id,
        batch_id=f"gold-{indicator.name}-{run_id}",
        source=",".join(indicator.sources),
        layer="gold",
        status="failed",
        started_at=started,
        file_uri=uri,
    )
    inputs = {s: delta_io.table_version(spark, u) for s, u in uris.items()}
    built = gold_incremental.built_from(spark, uri)
    plan = None
    if built != inputs:
        plan = gold_incremental.plan(
            spark, indicator, uris, built, inputs, enabled=settings.gold.incremental
        )
    if plan is None or (plan.incremental and not plan.count):
        # silver unchanged, or only commits that changed no row (a compaction...): gold is
        # still right; its build keeps naming the older versions, whose range reads empty
        record.status = "skipped"
        record.finished_at = now()
        record.table_version = delta_io.table_version(spark, uri)
        record.message = (
            "silver inchangé depuis le dernier calcul"
            if plan is None
            else "aucune ligne de silver modifiée depuis le dernier calcul"
        )
        progress(
            f"  gold/{indicator.name}: "
            + ("silver unchanged" if plan is None else "no silver row changed")
            + ", skipped"
        )
        return record
    job = f"gold.{indicator.name}"
    read, _ = gold_step(settings, indicator, first.owner, min_cell_count=0)
    step_run = sink.start(job, run_id=run_id, inputs=read)
    try:
        silver = {s: delta_io.read_table(spark, u, version=inputs[s]) for s, u in uris.items()}
        record.rows_in = sum(df.count() for df in silver.values())
        # the whole indicator, lazily: its plan is what the lineage checks read (no Spark job),
        # and it is the new table when the indicator is recomputed whole
        whole = indicator.build(silver, settings)
        if set(whole.columns) != set(indicator.lineage):
            raise IngestionError(
                f"Gold indicator {indicator.name}: its declared lineage names "
                f"{sorted(indicator.lineage)} but it produces {sorted(whole.columns)}.",
                fix="update Indicator.lineage in ingestion/indicators.py with the transform",
                batch_id=record.batch_id,
                source=record.source,
                layer="gold",
                table=uri,
            )
        # the declaration feeds tag propagation and open-data eligibility: it must be
        # what the transform really reads (from the analysed plan, no Spark job)
        check_observed(
            indicator.lineage,
            whole,
            silver,
            dataset=first.source,
            key=first.primary_key,
            uri=uri,
            layer="gold",
            fix="update Indicator.lineage in ingestion/indicators.py, or the transform, "
            "so that both say which silver columns feed each gold column",
            batch_id=record.batch_id,
        )
        change = gold_incremental.changes(spark, settings, indicator, uri, silver, whole, plan)
        table = (change.table if change.table is not None else whole).persist()
        try:
            verdict = gate(
                table,
                name=indicator.name,
                # reviewed with the business domain (and owner) of its first source
                domain=first.domain,
                grain=indicator.grain,
                count_columns=indicator.measures,
                secret=indicator.personal,
                run_id=run_id,
            )
            columns = [(f.name, f.dataType.simpleString()) for f in table.schema.fields]
            version = None
            if not verdict.blocked:
                version = (
                    _write_groups(uri, indicator, change, table, run_id, inputs)
                    if change.incremental
                    else _write(spark, uri, indicator, table, run_id, inputs)
                )
        finally:
            table.unpersist()
            change.release()
    except BaseException as exc:
        sink.fail(job, step_run, error=f"{type(exc).__name__}: {exc}", inputs=read)
        raise
    verdict.record(version)
    record.quality = verdict.decision
    record.status = "succeeded"
    record.finished_at = now()
    if version is None:
        record.table_version = (
            delta_io.table_version(spark, uri) if delta_io.table_exists(spark, uri) else None
        )
        record.message = "indicateur retenu par la revue de qualité : " + " ; ".join(
            verdict.reasons
        )
        sink.complete(job, step_run, inputs=read, outputs=[])
        progress(f"  gold/{indicator.name}: BLOCKED by quality review")
        return record
    record.table_version = version
    record.rows_out = delta_io.read_table(spark, uri, version=version).count()
    record.message = f"{indicator.description} [{change.said_fr(record.rows_out)}]"
    read, written = gold_step(
        settings,
        indicator,
        first.owner,
        record,
        min_cell_count=settings.security.min_cell_count,
        columns=columns,
        assertions=verdict.assertions,
    )
    sink.complete(job, step_run, inputs=read, outputs=written)
    progress(
        f"  gold/{indicator.name}: {record.rows_out} rows from {record.rows_in} silver rows "
        f"(quality {verdict.decision}; {change.said(record.rows_out)})"
    )
    return record


def _write(
    spark: SparkSession,
    uri: str,
    indicator: Indicator,
    table: DataFrame,
    run_id: str,
    inputs: dict[str, int],
) -> int:
    _describe(spark, uri, indicator, table)
    return delta_io.write_table(
        table,
        uri,
        mode="overwrite",
        merge_schema=True,
        commit_info={
            "run_id": run_id,
            "silver_versions": inputs,
            "grain": list(indicator.grain),
            "sources": list(indicator.sources),
        },
    )


def _write_groups(
    uri: str,
    indicator: Indicator,
    change: gold_incremental.Change,
    table: DataFrame,
    run_id: str,
    inputs: dict[str, int],
) -> int:
    """Put the changed groups' new rows in place of their old ones, in one commit that records
    the silver versions (a MERGE commit cannot carry them: see ``delta_io.merge_table``)."""
    info = {
        "run_id": run_id,
        "silver_versions": inputs,
        "grain": list(indicator.grain),
        "sources": list(indicator.sources),
        "groups_recomputed": change.plan.count,
    }
    assert change.recomputed is not None
    predicate = gold_incremental.replace_predicate(indicator.grain, change.plan.values)
    if predicate is None:  # too many groups, or a grain value with no SQL literal here
        return delta_io.write_table(
            table, uri, mode="overwrite", merge_schema=True, commit_info=info
        )
    return delta_io.write_table(
        change.recomputed, uri, mode="overwrite", replace_where=predicate, commit_info=info
    )


def _describe(spark: SparkSession, uri: str, indicator: Indicator, table: DataFrame) -> None:
    """Create the table with its French description, grain and sources as table metadata."""
    if delta_io.table_exists(spark, uri):
        return
    delta_io.write_table(table.limit(0), uri, mode="error")
    delta_io.set_properties(
        spark,
        uri,
        {
            "comment": indicator.description,
            "lake.domain": indicator.domain,
            "lake.grain": ",".join(indicator.grain),
            "lake.sources": ",".join(indicator.sources),
        },
    )
