"""Erasure of one person (RGPD art. 17), everywhere the lineage says their records went.

Plan (``--dry-run`` stops there): for each source whose contract holds the criteria, find the
person's business keys and bronze lines in every table of the registry (:mod:`lake.copies`: hot
and archived), in every version time travel still loads (:mod:`lifecycle.subjects`), then scan
every object of the source's registered stores for them (:mod:`lifecycle.traces`); ask the
lineage which datasets derive from ``bronze/<source>``; the lake knows how to erase from the
source's bronze, quarantine and silver tables and their archives, its landing files (hot and
archived), its published views and the gold indicators built from it - any other derived dataset
the lineage names is reported as not handled. Nothing to erase means the scan found nothing.

Execution, in an order a rerun can finish after a crash at any point (matching starts again from
what is left; the silver keys are still found in bronze until bronze goes last):

1. silver rows with the keys, quarantine rows at the person's lines: ``MERGE ... DELETE``;
2. landing files: the person's lines blanked (line numbers of every other row unchanged, the
   readers skip blank lines; blanking twice is a no-op);
3. bronze rows at the person's lines;
4. gold indicators of the source recomputed (through the gold quality gate);
5. every table changed, or whose objects still held the person (older versions, log
   statistics), is purged: versions before the erasure are vacuumed and its log truncated at a
   fresh checkpoint (:func:`lifecycle.tables.purge_history` with a zero horizon); views holding
   the person are withdrawn;
6. every registered store is scanned again; the journal (``meta/lifecycle_log``) gets one row
   per table and batch, and a certificate is written - tables, versions, row counts, every store
   checked with its counts before and after, times, and a keyed reference of the request, never
   the erased values.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingestion.gold import INDICATORS
from ingestion.landing import sha256_of
from ingestion.pipeline import inbox_files, tables_written
from lake import copies, delta_io
from lake.contracts import Contract, load_contracts
from lake.errors import LakeError
from lake.keys import pseudonymisation_key
from lake.layers import PIPELINE_LAYERS, SOURCE_LAYERS
from lake.leases import LeaseSet
from lake.objects import ObjectStore
from lake.settings import Settings
from lake.storage import lake_root, table_uri
from lifecycle import journal
from lifecycle.errors import ErasureError
from lifecycle.landing_files import blank_lines
from lifecycle.subjects import SourceMatch, Subject, match_source, needles_of, sources_for
from lifecycle.tables import (
    TableChange,
    commit_metadata,
    delete_matching,
    purge_history,
    recompute_gold,
    rows_per_batch,
)
from lifecycle.traces import Needles, scan, total

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from lake.gates import Gates
    from lake.lineage import LineageSink

Progress = Callable[[str], None]


@dataclass
class ErasurePlan:
    """What an erasure will do (counts and names only)."""

    request_id: str
    subject_reference: str
    matches: list[SourceMatch]
    lineage: dict[str, list[str]] = field(default_factory=dict)
    lineage_available: bool = True
    unhandled: list[str] = field(default_factory=list)
    needles: dict[str, Needles] = field(default_factory=dict, repr=False)

    @property
    def found(self) -> list[SourceMatch]:
        return [m for m in self.matches if m.found]

    def gold_of(self, source: str) -> list[str]:
        return [f"gold/{i.name}" for i in INDICATORS if source in i.sources]

    def as_dict(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "subject_reference": self.subject_reference,
            "lineage_available": self.lineage_available,
            "sources": [
                {
                    "source": m.contract.source,
                    "keys": len(m.keys),
                    "bronze_rows": m.bronze_rows,
                    "silver_rows": m.silver_rows,
                    "quarantine_rows": m.quarantine_rows,
                    "rows_per_table": dict(sorted(m.rows.items())),
                    "stores_holding": {
                        t.store.prefix: len(t.holding) for t in m.traces if t.holding
                    },
                    "landing_files": len(m.landing_lines()),
                    "gold_recomputed": self.gold_of(m.contract.source),
                    "derived_by_lineage": self.lineage.get(m.contract.source, []),
                }
                for m in self.matches
            ],
            "not_handled": self.unhandled,
        }


def plan_erasure(
    spark: SparkSession,
    settings: Settings,
    subject: Subject,
    *,
    sources: Sequence[str] | None = None,
) -> ErasurePlan:
    """Find the subject in every source that can hold them, and what derives from it."""
    contracts = load_contracts(settings.root)
    if sources:
        unknown = sorted(set(sources) - set(contracts))
        if unknown:
            raise ErasureError(
                f"Unknown source(s): {', '.join(unknown)}.",
                fix=f"choose among {', '.join(sorted(contracts))}",
            )
        contracts = {s: contracts[s] for s in sources}
    key = pseudonymisation_key(settings)
    candidates = sources_for(subject, contracts)
    plan = ErasurePlan(
        request_id="rgpd-"
        + dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
        + "-"
        + secrets.token_hex(3),
        subject_reference=subject.reference(key),
        matches=[match_source(spark, settings, c, subject, key) for c in candidates],
    )
    store = ObjectStore(settings)
    for match in plan.matches:
        match.traces = scan(
            store, copies.source_stores(settings, match.contract.source), needles_of(match, subject)
        )
        plan.needles[match.contract.source] = needles_of(match, subject)
    _lineage(settings, plan)
    return plan


def _handled(settings: Settings, contract: Contract) -> set[str]:
    names = {f"{layer}/{contract.source}" for layer in SOURCE_LAYERS}
    return names | {f"gold/{i.name}" for i in INDICATORS if contract.source in i.sources}


def _lineage(settings: Settings, plan: ErasurePlan) -> None:
    """What the lineage events say derives from each matched source's bronze table."""
    from governance.lineage.graph import UnknownLineageName
    from governance.lineage.model import DatasetRef
    from governance.sensitivity.tags import load_graph
    from lake.storage import openlineage_dataset

    try:
        graph = load_graph(settings)
    except LakeError:
        plan.lineage_available = False
        return
    for match in plan.found:
        namespace, name = openlineage_dataset(table_uri(settings, "bronze", match.contract.source))
        try:
            down = graph.downstream(DatasetRef(namespace, name))
        except UnknownLineageName:
            plan.lineage_available = False
            continue
        derived = sorted(
            d.name for d in down.datasets if d.namespace == namespace and d.name != name
        )
        plan.lineage[match.contract.source] = derived
        handled = _handled(settings, match.contract)
        plan.unhandled += [d for d in derived if d not in handled and d not in plan.unhandled]


def execute(
    spark: SparkSession,
    settings: Settings,
    plan: ErasurePlan,
    *,
    gates: Gates,
    lineage: LineageSink,
    certificate_dir: Path | None = None,
    progress: Progress = lambda _: None,
) -> dict[str, Any]:
    """Carry out ``plan``; returns the certificate (also written under ``certificate_dir``).

    ``gates`` and ``lineage`` review and trace the gold indicators recomputed without the person
    (the caller composes them: ``app.compose.quality_gates`` / ``lineage_sink``).
    """
    started = journal.now()
    changes: list[TableChange] = []
    rows: list[dict[str, Any]] = []
    landing: list[dict[str, Any]] = []
    purges: list[dict[str, Any]] = []
    outside: list[str] = []
    checked: list[dict[str, Any]] = []
    withdrawn: list[str] = []
    residual = 0
    store = ObjectStore(settings)
    meta = {"run_id": plan.request_id, "request_id": plan.request_id, "action": "rgpd-erasure"}

    def log(source: str, change: TableChange, per_batch: dict[str, int]) -> None:
        changes.append(change)
        for batch, count in sorted(per_batch.items()) or [("", change.rows)]:
            rows.append(
                {
                    "request_id": plan.request_id,
                    "kind": "erasure",
                    "at": journal.now(),
                    "source": source,
                    "table": change.table,
                    "batch_id": batch,
                    "action": change.action,
                    "rows": count,
                    "version_before": change.version_before,
                    "version_after": change.version_after,
                    "detail": plan.subject_reference,
                }
            )

    for match in plan.found:
        contract = match.contract
        source = contract.source
        # one writer per table: the pipeline's jobs wait or fail while the erasure holds them
        leases = LeaseSet(
            settings,
            tables_written([contract], list(PIPELINE_LAYERS)),
            run_id=plan.request_id,
            job="rgpd-erase",
            progress=progress,
        )
        with leases, commit_metadata(spark, meta):
            progress(f"{source}: erasing {len(match.keys)} key(s), {len(match.locations)} line(s)")
            keys = match.keys_frame(spark).cache()
            locations = match.locations_frame(spark).cache()
            pk = list(contract.primary_key)
            location = ["_file_uri", "_line"]
            tables = copies.tables(settings, source)
            for archived in (t for t in tables if t.role == "archive"):
                # written only under the lease of the hot table it archives (as retention does)
                leases.cover(f"{lake_root(settings)}/{archived.key}", f"{archived.layer}/{source}")
            touched = []

            # silver and quarantine first, bronze (where the keys are found) last
            for layer in ("silver", "quarantine", "landing", "bronze"):
                if layer == "landing":
                    for uri, lines in match.landing_lines().items():
                        key = store.key_of(uri)
                        for copy in (key, copies.archived_landing_key(settings, key)):
                            if store.stat(copy) is None:
                                continue
                            rewritten = blank_lines(store, contract, store.uri(copy), lines)
                            landing.append(rewritten.as_dict())
                            outside += _inbox_copies(settings, contract, rewritten.delivery_sha256)
                    continue
                frame, on = (keys, pk) if layer == "silver" else (locations, location)
                for entry in (t for t in tables if t.layer == layer):
                    uri = f"{lake_root(settings)}/{entry.key}"
                    per_batch = rows_per_batch(spark, uri, frame, on)
                    change = delete_matching(spark, uri, frame, on)
                    if entry.role == "archive":
                        change = TableChange(entry.key, *_fields(change)[1:])
                    log(source, change, per_batch)
                    if change.rows:
                        touched.append(uri)
            keys.unpersist()
            locations.unpersist()
            for traces in match.traces:
                if traces.store.role in ("view", "staging") and traces.holding:
                    # a published view is a copy of a table at publication: withdrawn, to be
                    # published again from the erased table (`lake access publish`); staging
                    # objects are leftovers of a crashed bronze attempt (the source is leased)
                    store.remove(traces.holding)
                    withdrawn.extend(traces.holding)
            touched += _recompute_gold(
                spark, settings, plan, source, log, progress, gates=gates, lineage=lineage
            )
            # tables whose older versions or log still name the person, even with no current
            # row of theirs (time travel, statistics): purged the same way
            touched += [
                f"{lake_root(settings)}/{t.store.key}"
                for t in match.traces
                if t.store.kind == "table" and t.holding
            ]
            for uri in dict.fromkeys(touched):
                if not delta_io.table_exists(spark, uri):
                    continue
                result = purge_history(spark, settings, uri, retain_hours=0)
                purges.append(
                    {
                        "table": store.key_of(uri) if uri.startswith(store.root) else result.table,
                        "version": result.version,
                        "log_entries_removed": result.log_entries_removed,
                    }
                )
        after = scan(
            store, copies.source_stores(settings, source), plan.needles.get(source, Needles())
        )
        residual += total([t for t in after if t.store.kind != "local"])
        outside += [k for t in after if t.store.kind == "local" for k in t.holding]
        before = {t.store.prefix: t for t in match.traces}
        for traces in after:
            first = before.get(traces.store.prefix)
            removed = sum(
                c.rows
                for c in changes
                if f"{c.table}/" == traces.store.prefix and c.action == "delete"
            )
            checked.append(
                {
                    "source": source,
                    **traces.as_dict(),
                    "objects_holding_before": len(first.holding) if first else 0,
                    "rows_removed": removed,
                    "objects_holding_after": len(traces.holding),
                }
            )
    journal.append(settings, rows)
    certificate = {
        "request_id": plan.request_id,
        "subject_reference": plan.subject_reference,
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": journal.now().isoformat(timespec="seconds"),
        "sources": [m.contract.source for m in plan.found],
        "changes": [c.as_dict() for c in changes],
        "landing_files": landing,
        "purged": purges,
        "vacuum_retain_hours": 0,
        "lineage_available": plan.lineage_available,
        "lineage_derived": plan.lineage,
        "lineage_unhandled": plan.unhandled,
        "outside_lake": sorted(set(outside)),
        "stores_checked": checked,
        "views_withdrawn": sorted(withdrawn),
        "objects_still_holding": residual,
    }
    if certificate_dir is not None:
        paths = journal.write_certificate(certificate_dir, certificate)
        certificate["files"] = [str(p) for p in paths]
    if residual:
        raise ErasureError(
            f"{residual} object(s) of the lake still hold the person after the erasure "
            "(certificate: stores_checked).",
            fix="read the certificate's stores_checked, then run the erasure again (it resumes)",
        )
    return certificate


def _fields(change: TableChange) -> tuple[Any, ...]:
    return (
        change.table,
        change.action,
        change.rows,
        change.version_before,
        change.version_after,
    )


def _recompute_gold(
    spark: SparkSession,
    settings: Settings,
    plan: ErasurePlan,
    source: str,
    log: Callable[[str, TableChange, dict[str, int]], None],
    progress: Progress,
    *,
    gates: Gates,
    lineage: LineageSink,
) -> list[str]:
    """Recompute the source's gold indicators; refuse to certify if one stays blocked."""
    before = {}
    for name in plan.gold_of(source):
        uri = table_uri(settings, "gold", name.split("/", 1)[1])
        if delta_io.table_exists(spark, uri):
            before[name] = delta_io.table_version(spark, uri)
    records = recompute_gold(
        spark, settings, plan.request_id, source, progress, gates=gates, lineage=lineage
    )
    touched = []
    for record in records:
        name = "gold/" + (record.file_uri or "").rstrip("/").split("/")[-1]
        if record.quality == "blocked":
            raise ErasureError(
                f"{name}: the recomputed indicator was held by the quality review; it still "
                "counts the erased person.",
                fix="fix the review's finding and run the erasure again (it resumes)",
                source=source,
                table=name,
            )
        log(
            source,
            TableChange(name, "recompute", record.rows_out, before.get(name), record.table_version),
            {},
        )
        if record.file_uri and record.status == "succeeded":
            touched.append(record.file_uri)
    return touched


def _inbox_copies(settings: Settings, contract: Contract, sha256: str) -> list[str]:
    """Delivered files still in the inbox with the same content as a rewritten landing file:
    the silo's copy, outside the lake, which the certificate names for the silo to delete."""
    try:
        files = inbox_files(settings, contract)
    except LakeError:
        return []
    return [str(p) for p in files if p.stat().st_size and sha256_of(p) == sha256]
