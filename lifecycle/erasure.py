"""Erasure of one person (RGPD art. 17), everywhere the lineage says their records went.

Plan (``--dry-run`` stops there): for each source whose contract holds the criteria, find the
person's business keys and bronze lines (:mod:`lifecycle.subjects`); ask the lineage which
datasets derive from ``bronze/<source>``; the lake knows how to erase from the source's bronze,
quarantine and silver tables, its landing files and the gold indicators built from it - any
other derived dataset the lineage names is reported as not handled.

Execution, in an order a rerun can finish after a crash at any point (matching starts again from
what is left; the silver keys are still found in bronze until bronze goes last):

1. silver rows with the keys, quarantine rows at the person's lines: ``MERGE ... DELETE``;
2. landing files: the person's lines blanked (line numbers of every other row unchanged, the
   readers skip blank lines; blanking twice is a no-op);
3. bronze rows at the person's lines;
4. gold indicators of the source recomputed (through the gold quality gate);
5. every table changed is purged: versions before the erasure are vacuumed and its log truncated
   at a fresh checkpoint (:func:`lifecycle.tables.purge_history` with a zero horizon);
6. the journal (``meta/lifecycle_log``) gets one row per table and batch, and a certificate is
   written - tables, versions, row counts, times, and a keyed reference of the request, never
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
from lake import delta_io
from lake.contracts import Contract, load_contracts
from lake.errors import LakeError
from lake.keys import pseudonymisation_key
from lake.layers import PIPELINE_LAYERS, SOURCE_LAYERS
from lake.leases import LeaseSet
from lake.objects import ObjectStore
from lake.settings import Settings
from lake.storage import table_uri
from lifecycle import journal
from lifecycle.errors import ErasureError
from lifecycle.landing_files import blank_lines
from lifecycle.subjects import SourceMatch, Subject, match_source, sources_for
from lifecycle.tables import (
    TableChange,
    commit_metadata,
    delete_matching,
    purge_history,
    recompute_gold,
    rows_per_batch,
)

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
            s_uri = table_uri(settings, "silver", contract.source)
            q_uri = table_uri(settings, "quarantine", contract.source)
            b_uri = table_uri(settings, "bronze", contract.source)
            touched = []
            for uri, frame, on in (
                (s_uri, keys, pk),
                (q_uri, locations, ["_file_uri", "_line"]),
            ):
                per_batch = rows_per_batch(spark, uri, frame, on)
                change = delete_matching(spark, uri, frame, on)
                log(source, change, per_batch)
                if change.rows:
                    touched.append(uri)
            for uri, lines in match.landing_lines().items():
                rewritten = blank_lines(store, contract, uri, lines)
                landing.append(rewritten.as_dict())
                outside += _inbox_copies(settings, contract, rewritten.delivery_sha256)
            per_batch = rows_per_batch(spark, b_uri, locations, ["_file_uri", "_line"])
            change = delete_matching(spark, b_uri, locations, ["_file_uri", "_line"])
            log(source, change, per_batch)
            if change.rows:
                touched.append(b_uri)
            keys.unpersist()
            locations.unpersist()
            touched += _recompute_gold(
                spark, settings, plan, source, log, progress, gates=gates, lineage=lineage
            )
            for uri in touched:
                result = purge_history(spark, settings, uri, retain_hours=0)
                purges.append(
                    {
                        "table": result.table,
                        "version": result.version,
                        "log_entries_removed": result.log_entries_removed,
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
    }
    if certificate_dir is not None:
        paths = journal.write_certificate(certificate_dir, certificate)
        certificate["files"] = [str(p) for p in paths]
    return certificate


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
