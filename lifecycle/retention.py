"""Retention (A12): each contract's DUA enforced in every layer, by ``lake lifecycle apply``.

A row's age is its ``retention.from_column`` (typed as ingestion types it) or, without one, the
date its delivery arrived. With ``cutoff = as_of - years``:

- silver: rows older than the cutoff are past their DUA; so are their keys;
- bronze: rows older than the cutoff, and every row of a key past its DUA in silver;
- quarantine: rows at those bronze lines, and rows delivered before the cutoff;
- landing: a file whose every line is past its DUA is handled whole; otherwise its expired lines
  are blanked (as for an erasure, other line numbers unchanged).

What happens then is the contract's ``retention.end``:

- ``purge``: rows deleted, landing files removed;
- ``anonymise``: personal and pseudonymised columns set to null in silver and bronze (the rows
  stay for statistics), quarantine ``value``/``raw`` cleared, landing files removed (the raw
  delivery cannot be anonymised);
- ``archive``: rows appended to ``<archive_prefix>/<layer>/<source>`` (Delta, cold prefix) then
  deleted from the hot layers, landing files moved under ``<archive_prefix>/landing/``.

Gold indicators of a changed source are recomputed. Every table of the sources handled is then
vacuumed with ``lifecycle.vacuum_retain_hours`` (the stated time-travel horizon). Each action is
journaled (``meta/lifecycle_log``): what, how many rows, which table versions.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ingestion.conform import conform
from ingestion.pipeline import tables_written
from ingestion.silver import country_lookup
from lake import copies, delta_io
from lake.contracts import Contract, load_contracts
from lake.keys import pseudonymisation_key
from lake.layers import PIPELINE_LAYERS
from lake.leases import LeaseSet
from lake.objects import ObjectStore
from lake.settings import Settings
from lake.storage import lake_root, table_uri
from lifecycle import journal
from lifecycle.errors import LifecycleError
from lifecycle.landing_files import blank_lines
from lifecycle.tables import (
    TableChange,
    append_rows,
    commit_metadata,
    delete_matching,
    null_columns,
    purge_history,
    recompute_gold,
    rows_per_batch,
)

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

    from lake.gates import Gates
    from lake.lineage import LineageSink

Progress = Callable[[str], None]
LOCATION = ["_file_uri", "_line"]


def cutoff_for(as_of: dt.date, years: int) -> dt.date:
    """``as_of`` minus ``years`` (29 February gives 28 February)."""
    try:
        return as_of.replace(year=as_of.year - years)
    except ValueError:
        return as_of.replace(year=as_of.year - years, day=28)


@dataclass
class SourceRetention:
    """What the DUA means for one source today (counts only)."""

    source: str
    years: int
    end: str
    age_from: str
    cutoff: dt.date
    silver_rows: int = 0
    bronze_rows: int = 0
    quarantine_rows: int = 0
    landing_files_whole: list[str] = field(default_factory=list)
    landing_files_partial: dict[str, int] = field(default_factory=dict)

    @property
    def due(self) -> bool:
        return bool(
            self.silver_rows
            or self.bronze_rows
            or self.quarantine_rows
            or self.landing_files_whole
            or self.landing_files_partial
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "dua_years": self.years,
            "end": self.end,
            "age_from": self.age_from,
            "cutoff": self.cutoff.isoformat(),
            "silver_rows": self.silver_rows,
            "bronze_rows": self.bronze_rows,
            "quarantine_rows": self.quarantine_rows,
            "landing_files_whole": len(self.landing_files_whole),
            "landing_files_partial": len(self.landing_files_partial),
        }


@dataclass
class _Expired:
    """The expired rows of one source, materialised before anything changes."""

    plan: SourceRetention
    keys: DataFrame
    bronze_locations: DataFrame
    quarantine_locations: DataFrame


def _age(contract: Contract) -> Column:
    from pyspark.sql import functions as F

    column = contract.retention.from_column
    return F.to_date(F.col(column) if column else F.col("_delivered_at"))


def _expired(
    spark: SparkSession, settings: Settings, contract: Contract, as_of: dt.date
) -> _Expired:
    from pyspark.sql import functions as F

    cutoff = cutoff_for(as_of, contract.retention.years)
    plan = SourceRetention(
        source=contract.source,
        years=contract.retention.years,
        end=contract.retention.end,
        age_from=contract.retention.from_column or "date de dépôt",
        cutoff=cutoff,
    )
    pk = list(contract.primary_key)
    before_cutoff = _age(contract) < F.lit(cutoff)
    s_uri, b_uri, q_uri = (
        table_uri(settings, "silver", contract.source),
        table_uri(settings, "bronze", contract.source),
        table_uri(settings, "quarantine", contract.source),
    )
    locations = spark.createDataFrame([], "_file_uri string, _line long")
    silver = delta_io.read_table(spark, s_uri) if delta_io.table_exists(spark, s_uri) else None
    typed = None
    if delta_io.table_exists(spark, b_uri):
        raw = delta_io.read_table(spark, b_uri)
        typed = conform(
            raw, contract, country_lookup(spark, raw, contract), pseudonymisation_key(settings)
        )
    # A record's age: its from_column in silver, or the last delivery that carried its key
    # (an unchanged row delivered again is not rewritten in silver, so silver's own
    # _delivered_at can be older than the record's last delivery).
    if silver is not None and contract.retention.from_column:
        expired_keys = silver.filter(before_cutoff).select(*pk)
    elif silver is not None and typed is not None:
        last = typed.groupBy(*pk).agg(F.max(F.to_date("_delivered_at")).alias("__last"))
        expired_keys = (
            silver.select(*pk)
            .join(last, on=pk, how="left")
            .filter(F.col("__last") < F.lit(cutoff))
            .select(*pk)
        )
    else:
        expired_keys = None
    if expired_keys is not None:
        keys = spark.createDataFrame(expired_keys.distinct().collect(), expired_keys.schema)
        plan.silver_rows = keys.count()
    else:
        keys = spark.createDataFrame([], "k string").select([F.lit(None).alias(c) for c in pk])
    if typed is not None:
        # rows of an expired record, and rows that never became a record (rejected, or no key)
        # once they are themselves older than the cutoff
        hits = typed.join(keys, on=pk, how="left_semi").select(*LOCATION)
        orphans = (
            typed if silver is None else typed.join(silver.select(*pk), on=pk, how="left_anti")
        )
        hits = hits.union(orphans.filter(before_cutoff).select(*LOCATION))
        locations = spark.createDataFrame(hits.distinct().collect(), locations.schema)
        plan.bronze_rows = locations.count()
        lines = raw.groupBy("_file_uri").count().collect()
        expired = {r[0]: r[1] for r in locations.groupBy("_file_uri").count().collect()}
        for uri, total in sorted((r[0], r[1]) for r in lines):
            if uri in expired and expired[uri] >= total:
                plan.landing_files_whole.append(uri)
            elif uri in expired:
                plan.landing_files_partial[uri] = expired[uri]
    q_locations = locations
    if delta_io.table_exists(spark, q_uri):
        quarantine = delta_io.read_table(spark, q_uri)
        q_hits = quarantine.filter(F.to_date("_delivered_at") < F.lit(cutoff)).select(*LOCATION)
        q_hits = q_hits.union(
            quarantine.join(locations, on=LOCATION, how="left_semi").select(*LOCATION)
        )
        q_locations = spark.createDataFrame(q_hits.distinct().collect(), locations.schema)
        plan.quarantine_rows = quarantine.join(q_locations, on=LOCATION, how="left_semi").count()
    return _Expired(plan, keys, locations, q_locations)


def plan_retention(
    spark: SparkSession,
    settings: Settings,
    *,
    as_of: dt.date | None = None,
    sources: Sequence[str] | None = None,
) -> list[SourceRetention]:
    """What ``apply`` would do today (or ``as_of``), per source."""
    return [e.plan for e in _all_expired(spark, settings, as_of, sources)]


def _all_expired(
    spark: SparkSession,
    settings: Settings,
    as_of: dt.date | None,
    sources: Sequence[str] | None,
) -> list[_Expired]:
    contracts = load_contracts(settings.root)
    chosen = sorted(sources or contracts)
    unknown = [s for s in chosen if s not in contracts]
    if unknown:
        raise LifecycleError(
            f"Unknown source(s): {', '.join(unknown)}.",
            fix=f"choose among {', '.join(sorted(contracts))}",
            source=unknown[0],
        )
    day = as_of or dt.datetime.now(dt.UTC).date()
    return [_expired(spark, settings, contracts[s], day) for s in chosen]


def archive_uri(settings: Settings, layer: str, source: str) -> str:
    """The cold copy of ``layer/source`` (the registry's archive store, :mod:`lake.copies`)."""
    return f"{lake_root(settings)}/{copies.archive_key(settings, layer, source)}"


def apply(
    spark: SparkSession,
    settings: Settings,
    *,
    as_of: dt.date | None = None,
    sources: Sequence[str] | None = None,
    gates: Gates,
    lineage: LineageSink,
    progress: Progress = lambda _: None,
) -> dict[str, Any]:
    """Enforce the DUA of every (or the given) source; returns the report, journaled.

    ``gates`` and ``lineage`` review and trace the gold indicators recomputed after a purge
    (the caller composes them: ``app.compose.quality_gates`` / ``lineage_sink``).
    """
    request_id = (
        "dua-" + dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S") + "-" + (secrets.token_hex(3))
    )
    contracts = load_contracts(settings.root)
    rows: list[dict[str, Any]] = []
    report: dict[str, Any] = {"request_id": request_id, "sources": [], "vacuumed": []}
    store = ObjectStore(settings)
    meta = {"run_id": request_id, "request_id": request_id, "action": "dua"}
    for expired in _all_expired(spark, settings, as_of, sources):
        plan = expired.plan
        contract = contracts[plan.source]
        # one writer per table: pipeline jobs wait or fail while the DUA is applied
        tables = tables_written([contract], list(PIPELINE_LAYERS))
        leases = LeaseSet(settings, tables, run_id=request_id, job="lifecycle", progress=progress)
        with leases, commit_metadata(spark, meta):
            changes: list[tuple[TableChange, dict[str, int]]] = []
            if plan.due:
                progress(
                    f"{plan.source}: DUA {plan.years} ans ({plan.end}), cutoff {plan.cutoff}: "
                    f"{plan.silver_rows} silver, {plan.bronze_rows} bronze, "
                    f"{plan.quarantine_rows} quarantine rows"
                )
                changes = _end_of_dua(spark, settings, contract, expired, store)
                if any(c.rows for c, _ in changes if c.table.startswith("silver/")):
                    changes += _recompute_gold(
                        spark, settings, request_id, plan.source, progress, gates, lineage
                    )
            # every table the registry knows for the source (hot and archived) and its gold
            uris = [table_uri(settings, t.split("/")[0], t.split("/")[1]) for t in tables]  # type: ignore[arg-type]
            uris += [
                f"{lake_root(settings)}/{t.key}"
                for t in copies.tables(settings, plan.source, roles=("archive",))
            ]
            for uri in uris:
                if not delta_io.table_exists(spark, uri):
                    continue
                result = purge_history(
                    spark, settings, uri, retain_hours=settings.lifecycle.vacuum_retain_hours
                )
                name = uri.removeprefix(lake_root(settings) + "/")  # layer/name, archive/layer/name
                report["vacuumed"].append(name)
                vacuum = TableChange(name, "vacuum", 0, result.version, result.version)
                changes.append((vacuum, {}))
        for change, per_batch in changes:
            detail = f"DUA {plan.years} ans, {plan.end}, avant {plan.cutoff}"
            if change.action == "vacuum":
                detail = f"versions de plus de {settings.lifecycle.vacuum_retain_hours:g} h purgées"
            for batch, count in sorted(per_batch.items()) or [("", change.rows)]:
                rows.append(
                    {
                        "request_id": request_id,
                        "kind": "retention",
                        "at": journal.now(),
                        "source": plan.source,
                        "table": change.table,
                        "batch_id": batch,
                        "action": change.action,
                        "rows": count,
                        "version_before": change.version_before,
                        "version_after": change.version_after,
                        "detail": detail,
                    }
                )
        entry = plan.as_dict()
        entry["changes"] = [c.as_dict() for c, _ in changes if c.action != "vacuum"]
        report["sources"].append(entry)
    journal.append(settings, rows)
    return report


def _end_of_dua(
    spark: SparkSession,
    settings: Settings,
    contract: Contract,
    expired: _Expired,
    store: ObjectStore,
) -> list[tuple[TableChange, dict[str, int]]]:
    pk = list(contract.primary_key)
    end = contract.retention.end
    plan = expired.plan
    s_uri, b_uri, q_uri = (
        table_uri(settings, "silver", contract.source),
        table_uri(settings, "bronze", contract.source),
        table_uri(settings, "quarantine", contract.source),
    )
    targets = (
        (s_uri, expired.keys, pk, "silver"),
        (q_uri, expired.quarantine_locations, LOCATION, "quarantine"),
        (b_uri, expired.bronze_locations, LOCATION, "bronze"),
    )
    changes: list[tuple[TableChange, dict[str, int]]] = []
    personal = [c.name for c in contract.columns if c.sensitivity.personal or c.pseudonymise]
    for uri, frame, on, layer in targets:
        if not delta_io.table_exists(spark, uri):
            continue
        per_batch = rows_per_batch(spark, uri, frame, on)
        if end == "archive":
            table = delta_io.read_table(spark, uri)
            rows = table.join(frame, on=on, how="left_semi").select(*table.columns)
            changes.append(
                (append_rows(spark, archive_uri(settings, layer, contract.source), rows), {})
            )
        if end == "anonymise" and layer != "quarantine":
            changes.append((null_columns(spark, uri, frame, on, personal), {}))
        elif end == "anonymise":
            changes.append((null_columns(spark, uri, frame, on, ["value", "raw"]), {}))
        else:
            changes.append((delete_matching(spark, uri, frame, on), per_batch))
    for uri in plan.landing_files_whole:
        key = store.key_of(uri)
        if end == "archive":
            store.put_bytes(
                copies.archived_landing_key(settings, key),
                store.get_bytes(key),
                (store.stat(key).metadata if store.stat(key) else {}),  # type: ignore[union-attr]
            )
        store.remove([key])
        changes.append((TableChange(key, f"landing-{end}", 1, None, None), {}))
    if plan.landing_files_partial:
        lines: dict[str, list[int]] = {}
        for row in expired.bronze_locations.collect():
            if row[0] in plan.landing_files_partial:
                lines.setdefault(row[0], []).append(int(row[1]))
        for uri, found in sorted(lines.items()):
            done = blank_lines(store, contract, uri, found)
            change = TableChange(store.key_of(uri), "landing-blank", done.lines_blanked, None, None)
            changes.append((change, {}))
    return changes


def _recompute_gold(
    spark: SparkSession,
    settings: Settings,
    request_id: str,
    source: str,
    progress: Progress,
    gates: Gates,
    lineage: LineageSink,
) -> list[tuple[TableChange, dict[str, int]]]:
    records = recompute_gold(
        spark, settings, request_id, source, progress, gates=gates, lineage=lineage
    )
    return [
        (
            TableChange(
                "gold/" + (r.file_uri or "").rstrip("/").split("/")[-1],
                "recompute" if r.quality != "blocked" else "recompute-blocked",
                r.rows_out,
                None,
                r.table_version,
            ),
            {},
        )
        for r in records
    ]
