"""Silver's schema against its contract: additive changes evolve the table, the rest wait for a
migration.

Before a batch is merged, the columns the batch would write (the contract's, typed by
:mod:`ingestion.conform`) are compared with ``silver/<source>``'s current schema
(:func:`lake.schema_plan.compare`):

- a new optional column or a widened type: the table's schema is changed explicitly
  (:func:`lake.delta_io.add_columns`: old rows read null) and a run-log row says so
  (``status = "evolved"``);
- a removed or renamed column, a changed or narrowed type, a new required column: the batch is
  refused with :class:`SchemaChangeError` (nothing written) until ``lake migrate SOURCE --apply``
  rewrites the table with the contract's schema (:func:`migrate`; older versions stay readable by
  time travel), logged ``status = "migrated"`` and reported to lineage with the new schema.

An alias added to a contract column changes how bronze reads the delivered header, not silver's
schema: nothing to do here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ingestion.errors import IngestionError, SchemaChangeError
from ingestion.runlog import RunRecord, now
from lake import delta_io
from lake.contracts import Contract
from lake.gates import FAILURE_COUNT, FAILURES, GATE_COLUMN_PREFIX
from lake.lineage import ColumnSource, DatasetIO, LineageSink, NoLineage
from lake.schema_plan import SchemaPlan, compare
from lake.settings import Settings
from lake.storage import table_uri

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


@dataclass(frozen=True)
class Migration:
    """What ``lake migrate`` found and, when applied, did."""

    source: str
    table: str
    plan: SchemaPlan
    columns: list[tuple[str, str]]
    version: int | None = None


def stored_columns(df: DataFrame) -> list[tuple[str, str]]:
    """The columns of a conformed batch that silver stores (no gate or delivered-text columns)."""
    return [
        (f.name, f.dataType.simpleString())
        for f in df.schema.fields
        if not f.name.startswith(GATE_COLUMN_PREFIX) and f.name not in (FAILURES, FAILURE_COUNT)
    ]


def contract_columns(
    spark: SparkSession, settings: Settings, contract: Contract
) -> list[tuple[str, str]]:
    """The columns silver holds for ``contract`` today: an empty bronze batch, conformed."""
    from ingestion.conform import conform

    bronze = delta_io.read_table(spark, table_uri(settings, "bronze", contract.source)).limit(0)
    lookup = spark.createDataFrame(
        [], "raw string, iso3 string, label_fr string, status string, reason_fr string"
    )
    return stored_columns(conform(bronze, contract, lookup, b"\0" * 32))


def plan_for(
    spark: SparkSession, settings: Settings, contract: Contract, wanted: Sequence[tuple[str, str]]
) -> SchemaPlan | None:
    """How silver's schema differs from ``wanted`` (None when silver has no table yet)."""
    uri = table_uri(settings, "silver", contract.source)
    if not delta_io.table_exists(spark, uri):
        return None
    required = frozenset(c.name for c in contract.columns if not c.nullable)
    return compare(delta_io.table_columns(spark, uri), wanted, required=required)


def refusal(
    contract: Contract, plan: SchemaPlan, *, batch_id: str | None = None
) -> SchemaChangeError:
    """The error naming the table, the refused columns, and the migration to run."""
    table = f"silver/{contract.source}"
    refused = plan.refused
    return SchemaChangeError(
        f"The contract of {contract.source} changes table {table} in a way the lake does not "
        f"apply by itself: {'; '.join(c.describe() for c in refused)}.",
        fix=f"run `lake migrate {contract.source}` to see the plan and `lake migrate "
        f"{contract.source} --apply` to rewrite the table (older versions stay readable), or "
        "restore the column in the contract",
        columns=[c.column for c in refused],
        source=contract.source,
        table=table,
        batch_id=batch_id,
    )


def govern(
    spark: SparkSession,
    settings: Settings,
    contract: Contract,
    wanted: Sequence[tuple[str, str]],
    *,
    run_id: str,
    batch: str,
) -> RunRecord | None:
    """Before a batch's MERGE: evolve silver for additive changes, refuse the others.

    Returns:
        The run-log row of the evolution (``status = "evolved"``), or None when nothing changed.

    Raises:
        SchemaChangeError: A change needs ``lake migrate``; nothing was written.
    """
    plan = plan_for(spark, settings, contract, wanted)
    if not plan:
        return None
    if plan.refused:
        raise refusal(contract, plan, batch_id=batch)
    started = now()
    version = delta_io.add_columns(
        spark,
        table_uri(settings, "silver", contract.source),
        [(c.column, str(c.new_type)) for c in plan.changes if c.kind == "added"],
        widen=[(c.column, str(c.new_type)) for c in plan.changes if c.kind == "widened"],
    )
    return RunRecord(
        run_id=run_id,
        batch_id=batch,
        source=contract.source,
        layer="silver",
        status="evolved",
        started_at=started,
        finished_at=now(),
        table_version=version,
        extra_columns=[c.column for c in plan.changes],
        message=f"schéma de silver/{contract.source} évolué avant le lot : {plan.summary()}",
    )


def migrate(
    spark: SparkSession,
    settings: Settings,
    contract: Contract,
    *,
    apply: bool = False,
    run_id: str,
    lineage: LineageSink | None = None,
) -> tuple[Migration, RunRecord | None]:
    """The plan that gives silver the contract's schema; with ``apply``, the table rewritten.

    Kept columns are cast to their new type (``try_cast``: a value that does not fit reads
    null), new ones are null, removed ones are dropped from the new version only: every older
    version stays readable by time travel until retention vacuums it.

    Returns:
        The migration, and its run-log row (``status = "migrated"``) when one was applied.

    Raises:
        IngestionError: No silver table for the source.
    """
    from pyspark.sql import functions as F

    uri = table_uri(settings, "silver", contract.source)
    table = f"silver/{contract.source}"
    wanted = contract_columns(spark, settings, contract)
    plan = plan_for(spark, settings, contract, wanted)
    if plan is None:
        raise IngestionError(
            f"No table {table} to migrate.",
            fix=f"run `lake run --source {contract.source}` first: a new table takes the "
            "contract's schema",
            source=contract.source,
            layer="silver",
            table=table,
        )
    migration = Migration(contract.source, table, plan, wanted)
    if not apply or not plan:
        return migration, None
    started = now()
    current = delta_io.read_table(spark, uri)
    have = dict(delta_io.table_columns(spark, uri))
    rewritten = current.select(
        *[
            (F.col(f"`{name}`") if have[name] == kind else F.col(f"`{name}`").try_cast(kind))
            if name in have
            else F.lit(None).cast(kind)
            for name, kind in wanted
        ]
    ).toDF(*[name for name, _ in wanted])
    sink = lineage or NoLineage()
    job = f"silver.{contract.source}.migrate"
    before = [DatasetIO(uri=uri, columns=list(have.items()), source=contract.source)]
    step = sink.start(job, run_id=run_id, inputs=before)
    try:
        version = delta_io.write_table(
            rewritten,
            uri,
            mode="overwrite",
            overwrite_schema=True,
            commit_info={"run_id": run_id, "operation": "lake migrate", "plan": plan.summary()},
        )
    except BaseException as exc:
        sink.fail(job, step, error=f"{type(exc).__name__}: {exc}", inputs=before)
        raise
    after = DatasetIO(
        uri=uri,
        columns=wanted,
        source=contract.source,
        lineage={
            name: [ColumnSource(uri, name, "DIRECT/IDENTITY")] for name, _ in wanted if name in have
        },
    )
    sink.complete(job, step, inputs=before, outputs=[after])
    record = RunRecord(
        run_id=run_id,
        batch_id="(migration)",
        source=contract.source,
        layer="silver",
        status="migrated",
        started_at=started,
        finished_at=now(),
        table_version=version,
        extra_columns=[c.column for c in plan.changes],
        message=f"silver/{contract.source} migré (lake migrate) : {plan.summary()}",
        job=job,
    )
    return Migration(contract.source, table, plan, wanted, version), record
