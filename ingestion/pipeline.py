"""The ingestion chain: inbox -> landing -> bronze -> silver -> gold, with the run log.

``run`` is what ``lake run`` and the spark-submit jobs call. Each batch's run-log row is written as
soon as the batch is done, so a crash keeps the record of what finished; a failed batch is logged
as failed and the error is raised (one clear line in the CLI).

Before anything is read or written, the run takes the lease of every table it may write (one
writer per table, :mod:`lake.leases`, decision 0007), in sorted order and all or nothing, and
keeps them until it ends, failed or not. A second job on the same tables gets "table ... busy",
or waits (``wait_s``); it then reads the run log afresh and skips what the first one did.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from ingestion import runlog
from ingestion.bronze import Delivered, commit_delivery, land_file
from ingestion.catalog_entries import register_tables
from ingestion.errors import IngestionError, in_batch
from ingestion.gold import INDICATORS, build_gold
from ingestion.landing import delivery_time
from ingestion.lineage_plan import bronze_step, silver_step
from ingestion.runlog import RunRecord, new_run_id
from ingestion.silver import pending_batches, process_batch
from lake.contracts import Contract, get_contract, load_contracts
from lake.errors import LakeError
from lake.gates import Gates
from lake.layers import PIPELINE_LAYERS, StepLayer
from lake.leases import LeaseSet
from lake.lineage import DatasetIO, LineageSink, NoLineage
from lake.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

Layer = StepLayer
LAYERS = PIPELINE_LAYERS
_SUFFIXES = {"csv": (".csv", ".txt"), "xlsx": (".xlsx",), "json": (".jsonl", ".json")}
Progress = Callable[[str], None]


@dataclass
class RunSummary:
    """Everything one invocation did."""

    run_id: str
    records: list[RunRecord] = field(default_factory=list)


def inbox_files(settings: Settings, contract: Contract, inbox: Path | None = None) -> list[Path]:
    """Delivered files of a source in the inbox (``<inbox>/<source>/**``), oldest first.

    Symbolic links are not deliveries: a link (to a file, or a linked directory) could make the
    lake read and copy into landing a file the silo never delivered (``/etc/shadow``, another
    silo's extract). They are left out here and named by :func:`inbox_links`.
    """
    base = (inbox or settings.ingestion.inbox) / contract.source
    if not base.is_dir() or base.is_symlink():
        return []
    files = [
        p
        for p in _walk(base)
        if p.is_file() and not p.is_symlink() and p.suffix.lower() in _SUFFIXES[contract.format]
    ]
    return sorted(files, key=lambda p: (delivery_time(p), p.name))


def inbox_links(settings: Settings, contract: Contract, inbox: Path | None = None) -> list[Path]:
    """Symbolic links found in a source's inbox (refused, see :func:`inbox_files`)."""
    base = (inbox or settings.ingestion.inbox) / contract.source
    if base.is_symlink():
        return [base]
    return sorted(p for p in _walk(base) if p.is_symlink()) if base.is_dir() else []


def _walk(base: Path) -> list[Path]:
    """Every entry under ``base``, never descending into a linked directory."""
    found: list[Path] = []
    for root, dirs, names in os.walk(base, followlinks=False):
        found.extend(Path(root) / d for d in dirs if (Path(root) / d).is_symlink())
        found.extend(Path(root) / n for n in names)
    return found


def select_contracts(settings: Settings, sources: Sequence[str] | None) -> list[Contract]:
    """The contracts to run: the named ones (each checked), else all."""
    if sources:
        return [get_contract(settings.root, s) for s in sources]
    return list(load_contracts(settings.root).values())


def tables_written(contracts: Sequence[Contract], layers: Iterable[Layer]) -> list[str]:
    """Every table (``layer/name``) a run of these sources and layers may write, sorted."""
    wanted = set(layers)
    tables: set[str] = set()
    for contract in contracts:
        if "bronze" in wanted:
            tables |= {f"bronze/{contract.source}", f"quarantine/{contract.source}"}
        if "silver" in wanted:
            tables |= {f"silver/{contract.source}", f"quarantine/{contract.source}"}
    if "gold" in wanted:
        sources = {c.source for c in contracts}
        tables |= {f"gold/{i.name}" for i in INDICATORS if sources & set(i.sources)}
    return sorted(tables)


def run(
    spark: SparkSession,
    settings: Settings,
    *,
    sources: Sequence[str] | None = None,
    layers: Iterable[Layer] = LAYERS,
    gates: Gates,
    lineage: LineageSink | None = None,
    files: Sequence[Path] | None = None,
    progress: Progress = lambda _: None,
    job: str | None = None,
    wait_s: float | None = None,
) -> RunSummary:
    """Run the chain for some sources and layers.

    Args:
        spark: The session.
        settings: Lake settings.
        sources: Source ids (default: every contract).
        layers: Which layers to run, in chain order.
        gates: The quality gates before silver and gold (``app.compose.quality_gates``).
        lineage: Where each step's lineage goes (``app.compose.lineage_sink``); each
            step emits a START and a COMPLETE or FAIL, inside one event pair for the whole run.
        files: Deliver these files instead of the inbox (one source only).
        progress: Receives progress lines.
        job: The job's name in the table leases (default: the layers, e.g. ``bronze``).
        wait_s: How long to wait for a table another job holds (default ``locks.wait_s``).

    Raises:
        TableBusyError: Another job holds one of the tables (after ``wait_s``).
    """
    wanted = [layer for layer in LAYERS if layer in set(layers)]
    contracts = select_contracts(settings, sources)
    if files and len(contracts) != 1:
        raise IngestionError(
            "Explicit files need exactly one --source.",
            fix="pass --source with the files' source id",
        )
    summary = RunSummary(run_id=new_run_id())
    with LeaseSet(
        settings,
        tables_written(contracts, wanted),
        run_id=summary.run_id,
        job=job or "-".join(wanted),
        wait_s=wait_s,
        progress=progress,
    ):
        _run_leased(spark, settings, summary, contracts, wanted, files, gates, lineage, progress)
        # Tables by name (decision 0011): registered while the run still holds their leases.
        register_tables(
            spark,
            settings,
            contracts,
            tables=tables_written(contracts, wanted),
            run_id=summary.run_id,
            progress=progress,
        )
    return summary


def _run_leased(
    spark: SparkSession,
    settings: Settings,
    summary: RunSummary,
    contracts: list[Contract],
    wanted: list[Layer],
    files: Sequence[Path] | None,
    gates: Gates,
    lineage: LineageSink | None,
    progress: Progress,
) -> None:
    """The chain itself, once the run holds its tables' leases."""
    sink = lineage or NoLineage()
    whole = sink.start("run", run_id=summary.run_id, inputs=[])
    try:
        for contract in contracts:
            _run_source(spark, settings, summary, contract, wanted, files, gates, sink, progress)
        if "gold" in wanted:
            progress("gold: indicators")
            records = build_gold(
                spark,
                settings,
                run_id=summary.run_id,
                gate=gates.table,
                sources={c.source for c in contracts},
                lineage=sink,
                progress=progress,
            )
            runlog.append(settings, records)
            summary.records.extend(records)
    except BaseException as exc:
        sink.fail("run", whole, error=f"{type(exc).__name__}: {exc}", inputs=[])
        _finish_gates(gates, progress)
        raise
    _finish_gates(gates, progress)
    sink.complete("run", whole, inputs=[], outputs=[])


def _finish_gates(gates: Gates, progress: Progress) -> None:
    """Once per run, after every review (Data Docs); a failure here never hides the run's."""
    try:
        gates.finish()
    except Exception as exc:  # the reviews are stored; only the engineers' pages are late
        progress(f"warning: the quality reviews' Data Docs were not rebuilt: {exc}")


def _run_source(
    spark: SparkSession,
    settings: Settings,
    summary: RunSummary,
    contract: Contract,
    wanted: list[Layer],
    files: Sequence[Path] | None,
    gates: Gates,
    sink: LineageSink,
    progress: Progress,
) -> None:
    """Bronze then silver for one source."""
    if "bronze" in wanted:
        todo = list(files) if files else inbox_files(settings, contract)
        progress(f"bronze/{contract.source}: {len(todo)} file(s)")
        for link in [] if files else inbox_links(settings, contract):
            progress(
                f"  warning: {link} is a symbolic link, not a delivered file: refused "
                "(ask the silo to deliver the file itself)"
            )
        done = set(runlog.succeeded_batches(settings, contract.source, "bronze"))
        _bronze_delivery(settings, summary, contract, todo, done, sink, progress)
    if "silver" in wanted:
        bronze_done = set(runlog.succeeded_batches(settings, contract.source, "bronze"))
        silver_done = set(runlog.succeeded_batches(settings, contract.source, "silver"))
        batches = pending_batches(settings, contract, bronze_done, silver_done)
        progress(f"silver/{contract.source}: {len(batches)} batch(es) to type and merge")
        for batch in batches:
            _logged(
                settings,
                summary,
                contract,
                "silver",
                sink,
                lambda record, c=contract: silver_step(  # type: ignore[misc]
                    settings, c, record, record.assertions if record else ()
                ),
                partial(
                    process_batch,
                    spark,
                    settings,
                    contract,
                    batch,
                    run_id=summary.run_id,
                    gate=gates.batch,
                    progress=progress,
                ),
                batch_id=batch,
            )


def _bronze_delivery(
    settings: Settings,
    summary: RunSummary,
    contract: Contract,
    todo: Sequence[Path],
    done: set[str],
    sink: LineageSink,
    progress: Progress,
) -> None:
    """Land the source's files, commit them to bronze together, log and report each file.

    Each file keeps its own lineage run (START, then COMPLETE or FAIL) and run-log row. All or
    nothing (:mod:`ingestion.bronze`): when a file cannot be landed, opened or read, or a commit
    fails, no file of the delivery is committed; the culprit is logged with its error and the
    others as failed because of it, then the error is raised.
    """
    job = f"bronze.{contract.source}"
    delivery: list[Delivered] = []
    step_runs: list[str] = []  # the lineage run of each file of ``delivery``, in step
    seen: set[str] = set()
    before, _ = bronze_step(settings, contract)
    started = runlog.now()
    landing = True
    try:
        for path in todo:
            started = runlog.now()
            delivered = land_file(
                settings,
                contract,
                path,
                run_id=summary.run_id,
                done=done,
                seen=seen,
                progress=progress,
            )
            step_runs.append(sink.start(job, run_id=summary.run_id, inputs=before))
            delivery.append(delivered)
        landing = False
        commit_delivery(
            settings,
            contract,
            delivery,
            run_id=summary.run_id,
            progress=progress,
        )
    except BaseException as exc:
        if not isinstance(exc, LakeError):
            for step_run in step_runs:
                sink.fail(job, step_run, error=f"{type(exc).__name__}: {exc}", inputs=before)
            raise
        _bronze_failed(
            settings, summary, contract, delivery, step_runs, exc, started, sink, landing=landing
        )
        raise
    records = [d.record for d in delivery]
    for record, step_run in zip(records, step_runs, strict=True):
        inputs, outputs = bronze_step(settings, contract, record)
        if record.status == "skipped":  # nothing written: no output to report
            outputs = []
        sink.complete(job, step_run, inputs=inputs, outputs=outputs)
    runlog.append(settings, records)
    summary.records.extend(records)


def _bronze_failed(
    settings: Settings,
    summary: RunSummary,
    contract: Contract,
    delivery: list[Delivered],
    step_runs: list[str],
    exc: LakeError,
    started: dt.datetime,
    sink: LineageSink,
    *,
    landing: bool,
) -> None:
    """Log a delivery that failed: the culprit with its error, its companions because of it.

    ``landing``: the error came from a file that could not be landed or opened, which is not
    in ``delivery`` (logged with its batch, or ``(batch)`` when it was not even landed).
    Otherwise the culprit is the delivered file the error names; an error that names none (a
    commit the store refused) is every pending file's own.
    """
    job = f"bronze.{contract.source}"
    before, _ = bronze_step(settings, contract)
    error = f"{type(exc).__name__}: {exc}"
    named = {d.batch for d in delivery if d.pending and d.batch == exc.batch_id}
    failed: list[RunRecord] = []
    if landing:
        step_run = sink.start(job, run_id=summary.run_id, inputs=before)
        sink.fail(job, step_run, error=error, inputs=before)
        failed.append(failed_record(exc, summary.run_id, contract.source, "bronze", started))
    for delivered, step_run in zip(delivery, step_runs, strict=True):
        record = delivered.record
        if not delivered.pending:
            sink.complete(job, step_run, inputs=before, outputs=[])
            continue
        own = not landing and (delivered.batch in named or not named)
        message = (
            str(exc)
            if own
            else "non ingéré : une livraison est validée en bloc et une autre pièce a échoué "
            f"({exc.batch_id or 'fichier non déposé'}) : {exc}"
        )
        sink.fail(job, step_run, error=error if own else message, inputs=before)
        record.status = "failed"
        record.finished_at = runlog.now()
        record.message = message
        failed.append(record)
    summary.records.extend(failed)
    runlog.append(settings, failed)


def _logged(
    settings: Settings,
    summary: RunSummary,
    contract: Contract,
    layer: Layer,
    sink: LineageSink,
    describe: Callable[[RunRecord | None], tuple[list[DatasetIO], list[DatasetIO]]],
    step: Callable[[], RunRecord],
    *,
    batch_id: str | None = None,
) -> None:
    """Run one batch step, log it (failed or not) and report its lineage.

    A failed step is logged with the batch its error names (the step sets it once the batch
    is known, as bronze does after landing the file), else with ``batch_id`` when the caller
    knows the batch (silver), else as ``(batch)``: the file could not even be landed.
    """
    started = runlog.now()
    job = f"{layer}.{contract.source}"
    before, _ = describe(None)
    step_run = sink.start(job, run_id=summary.run_id, inputs=before)
    try:
        if batch_id is None:
            record = step()
        else:
            with in_batch(batch_id):
                record = step()
    except BaseException as exc:
        sink.fail(job, step_run, error=f"{type(exc).__name__}: {exc}", inputs=before)
        if not isinstance(exc, LakeError):
            raise
        failed = failed_record(exc, summary.run_id, contract.source, layer, started)
        summary.records.append(failed)
        runlog.append(settings, [failed])
        raise
    inputs, outputs = describe(record)
    if record.status == "skipped":  # nothing written: no output to report
        outputs = []
    sink.complete(job, step_run, inputs=inputs, outputs=outputs)
    runlog.append(settings, [record])
    summary.records.append(record)


def failed_record(
    exc: LakeError, run_id: str, source: str, layer: Layer, started: dt.datetime
) -> RunRecord:
    """The run-log row of a step that failed with ``exc``: the batch its error names."""
    return RunRecord(
        run_id=run_id,
        batch_id=exc.batch_id or "(batch)",
        source=source,
        layer=layer,
        status="failed",
        started_at=started,
        finished_at=runlog.now(),
        message=str(exc),
    )
