"""Table maintenance (issue 18): which tables the lake holds, and the file-count policy.

After many small deliveries a table is many small files, and every read lists and opens them
all. :func:`optimize_tables` rewrites them into few (Delta ``OPTIMIZE``; silver tables Z-ordered
on their contract's primary key) and writes a log checkpoint; rows, versions and time travel are
unchanged, old files stay until ``lake lifecycle apply`` vacuums them past the retention horizon.

Used by ``lake optimize`` (named tables, or the policy over every table) and, after each run, by
``lake run`` and the spark-submit jobs (:func:`maintain_after_run`: the policy over the tables the
run changed only, so a rerun that changed nothing costs nothing).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from lake.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from ingestion.runlog import RunRecord
    from lake.delta_io import OptimizeResult


def lake_tables(settings: Settings) -> dict[str, tuple[str, ...]]:
    """Every data table the lake may hold, ``LAYER/NAME`` -> its Z-order columns."""
    from ingestion.indicators import INDICATORS
    from lake.contracts import load_contracts

    tables: dict[str, tuple[str, ...]] = {}
    for source, contract in sorted(load_contracts(settings.root).items()):
        tables[f"bronze/{source}"] = ()
        tables[f"silver/{source}"] = tuple(contract.primary_key)
        tables[f"quarantine/{source}"] = ()
    for indicator in INDICATORS:
        tables[f"gold/{indicator.name}"] = ()
    return tables


def optimize_tables(
    spark: SparkSession,
    settings: Settings,
    tables: dict[str, tuple[str, ...]],
    *,
    max_files: int | None,
    checkpoint: bool = True,
) -> list[OptimizeResult]:
    """Optimize ``tables`` (``LAYER/NAME`` -> Z-order columns) that exist; with ``max_files``,
    only those with more data files than that (the policy), else every one of them."""
    from lake import delta_io
    from lake.storage import table_uri

    results = []
    for table, zorder in tables.items():
        layer, _, name = table.partition("/")
        uri = table_uri(settings, layer, name)  # type: ignore[arg-type]
        if not delta_io.table_exists(spark, uri):
            continue
        results.append(
            delta_io.optimize_table(
                spark,
                uri,
                zorder_by=zorder,
                checkpoint=checkpoint,
                min_files=2 if max_files is None else max_files + 1,
            )
        )
    return results


def tables_changed(records: Iterable[RunRecord]) -> list[str]:
    """The ``LAYER/NAME`` tables a run's successful steps wrote (bronze and silver steps may
    also have written their source's quarantine; gold steps name their indicator's table)."""
    changed: set[str] = set()
    for record in records:
        if record.status != "succeeded":
            continue
        if record.layer == "gold":
            if record.file_uri and record.rows_out:
                changed.add("gold/" + record.file_uri.rstrip("/").rsplit("/", 1)[-1])
            continue
        if record.rows_out or record.quarantined:
            changed.add(f"{record.layer}/{record.source}")
        if record.quarantined:
            changed.add(f"quarantine/{record.source}")
    return sorted(changed)


def past_the_count(
    settings: Settings, tables: dict[str, tuple[str, ...]], max_files: int
) -> dict[str, tuple[str, ...]]:
    """The ``tables`` that exist and hold more than ``max_files`` data files, read with delta-rs
    (no lease, no Spark job: :func:`optimize_tables` checks the count again under the lease)."""
    from lake.delta_reader import open_if_exists
    from lake.storage import table_uri

    past = {}
    for table, zorder in tables.items():
        layer, _, name = table.partition("/")
        found = open_if_exists(settings, table_uri(settings, layer, name))  # type: ignore[arg-type]
        if found is not None and len(found.file_uris()) > max_files:
            past[table] = zorder
    return past


def maintain_after_run(
    spark: SparkSession,
    settings: Settings,
    records: Iterable[RunRecord],
    *,
    run_id: str,
    progress: Callable[[str], None] = lambda _: None,
) -> list[OptimizeResult]:
    """The policy after a run (``[maintenance]``): the tables the run changed that passed
    ``max_files`` data files are compacted, under their leases. Nothing is done when
    ``optimize_after_run`` is off. The run has succeeded by then: a maintenance pass that cannot
    be done (a table busy, the store down) is a warning, and the next run or ``lake optimize``
    does it."""
    from lake.errors import LakeError
    from lake.leases import LeaseSet

    if not settings.maintenance.optimize_after_run:
        return []
    known = lake_tables(settings)
    changed = {t: known[t] for t in tables_changed(records) if t in known}
    # counted without lease nor Spark (delta-rs reads the log): most runs pass no table over
    # the count, and then hold no lease and start no Spark job for maintenance
    try:
        wanted = past_the_count(settings, changed, settings.maintenance.max_files)
    except LakeError as exc:
        progress(f"warning: maintenance after the run not done ({exc}); `lake optimize` does it")
        return []
    if not wanted:
        return []
    try:
        with LeaseSet(settings, list(wanted), run_id=run_id, job="optimize"):
            results = optimize_tables(
                spark, settings, wanted, max_files=settings.maintenance.max_files
            )
    except LakeError as exc:
        progress(f"warning: maintenance after the run not done ({exc}); `lake optimize` does it")
        return []
    for r in results:
        if r.version is not None:
            progress(
                f"maintenance: {r.uri} compacted, {r.files_before} -> {r.files_after} file(s) "
                f"(more than maintenance.max_files = {settings.maintenance.max_files})"
            )
    return results
