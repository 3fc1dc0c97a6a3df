"""Who ran what, when, on which table version: ``lake audit TABLE``.

Three records meet here, each read without Spark:

- the table's **Delta log** (delta-rs ``DeltaTable.history()``): every version with its time,
  operation, metrics, engine and the commit metadata the jobs store (``run_id``, ``batch_id``);
- the **run log** (``meta/runs``, plain Delta rows): run id, OS user, host, job, command line,
  batch, counts and status of every step;
- the **OpenLineage events** (``lineage.file`` and the Spark listener's file beside it): the
  runs that wrote or read the table.

A version is attributed to a run-log row, in order of trust: the ``run_id`` in its commit
metadata; else the row of that table whose ``table_version`` is this version; else the row of
that table whose ``[started_at, finished_at]`` contains the commit time (a MERGE carries no
metadata, an ``ALTER TABLE`` no version in the run log). Lineage runs that wrote the table are
matched by time; a run that read it is listed under the version that was current when it
started. The join itself is pure (:func:`build_timeline`) so it is tested on small fixtures.

Credentials never leave: every string of the result is scrubbed of the configured keys.

This module reads the run log as a table (it does not import ``ingestion``) and the events as
JSON (it does not import ``governance``), as the package rules ask.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lake.errors import LakeError, TableError
from lake.settings import Settings

# Clocks: run-log times come from the driver's Python, commit times from the Delta writer on the
# same driver, lineage times from the emitter; a little slack absorbs rounding and ordering.
SLACK = dt.timedelta(seconds=2)
_S3_SCHEME = re.compile(r"^s3[an]?://")
_COUNTS = ("lines_read", "rows_in", "rows_out", "quarantined", "inserted", "updated")
_METRICS = (
    "numOutputRows",
    "numFiles",
    "numAddedFiles",
    "numRemovedFiles",
    "numSourceRows",
    "numTargetRowsInserted",
    "numTargetRowsUpdated",
    "numTargetRowsDeleted",
    "num_added_rows",
    "num_added_files",
)


@dataclass(frozen=True)
class Commit:
    """One version of the table, from its Delta log."""

    version: int
    timestamp: dt.datetime | None
    operation: str
    engine: str
    metrics: dict[str, Any]
    metadata: dict[str, Any]


@dataclass
class LineageRun:
    """One OpenLineage run that touched the table (events grouped by ``run.runId``)."""

    run_id: str
    job: str
    producer: str
    started: dt.datetime | None = None
    ended: dt.datetime | None = None
    state: str = ""
    reads: bool = False
    writes: bool = False
    parent_run_id: str | None = None

    @property
    def is_lake(self) -> bool:
        """Emitted by the lake's own steps (job ``layer.name``) rather than Spark's listener."""
        return "meae-datalake" in self.producer

    def as_dict(self) -> dict[str, Any]:
        return {
            "lineage_run_id": self.run_id,
            "job": self.job,
            "state": self.state,
            "started": _iso(self.started),
            "ended": _iso(self.ended),
            "emitter": "lake" if self.is_lake else "spark",
            "parent_lineage_run_id": self.parent_run_id,
        }


@dataclass
class Reader:
    """A run that read one version."""

    lineage: LineageRun
    run: dict[str, Any] | None

    def as_dict(self) -> dict[str, Any]:
        data = self.lineage.as_dict()
        data["run_id"] = self.run["run_id"] if self.run else None
        data["user"] = self.run.get("user") if self.run else None
        return data


@dataclass
class VersionEntry:
    """One version of the table: what produced it, who ran it, who read it."""

    commit: Commit
    run: dict[str, Any] | None = None
    attribution: str = ""
    run_id: str | None = None
    writers: list[LineageRun] = field(default_factory=list)
    readers: list[Reader] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        run = self.run or {}
        return {
            "version": self.commit.version,
            "timestamp": _iso(self.commit.timestamp),
            "operation": self.commit.operation,
            "engine": self.commit.engine,
            "metrics": self.commit.metrics,
            "commit_metadata": self.commit.metadata,
            "produced_by": {
                "run_id": self.run_id,
                "attribution": self.attribution or "unattributed",
                "user": run.get("user"),
                "host": run.get("host"),
                "job": run.get("job"),
                "command": run.get("command"),
                "batch_id": run.get("batch_id"),
                "status": run.get("status"),
                "counts": {k: run.get(k) for k in _COUNTS} if run else {},
                "lineage_runs": [w.as_dict() for w in self.writers],
            },
            "read_by": [r.as_dict() for r in self.readers],
        }


@dataclass
class Timeline:
    """The audit of one table, newest version first."""

    table: str
    uri: str
    versions: list[VersionEntry]
    total_versions: int
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "uri": self.uri,
            "total_versions": self.total_versions,
            "versions": [v.as_dict() for v in self.versions],
            "warnings": self.warnings,
        }


# --- the pure join -------------------------------------------------------------------------------


def parse_history(raw: Iterable[Mapping[str, Any]]) -> list[Commit]:
    """delta-rs ``history()`` entries (commitInfo dicts) as commits, oldest first."""
    commits = []
    for entry in raw:
        if entry.get("version") is None:
            continue
        metadata: Any = entry.get("userMetadata")
        if isinstance(metadata, str):
            try:
                metadata = json.loads(metadata)
            except ValueError:
                metadata = {"text": metadata}
        metrics = entry.get("operationMetrics") or {}
        commits.append(
            Commit(
                version=int(entry["version"]),
                timestamp=_from_millis(entry.get("timestamp")),
                operation=str(entry.get("operation") or ""),
                engine=str(entry.get("engineInfo") or entry.get("clientVersion") or ""),
                metrics={k: metrics[k] for k in _METRICS if k in metrics},
                metadata=metadata if isinstance(metadata, dict) else {},
            )
        )
    return sorted(commits, key=lambda c: c.version)


def lineage_runs(events: Iterable[Mapping[str, Any]], dataset: tuple[str, str]) -> list[LineageRun]:
    """The OpenLineage runs whose events read or write ``dataset`` (``(namespace, name)``).

    Events that are not run events, or lack a run id, are ignored (lineage is best-effort).
    """
    wanted = (_S3_SCHEME.sub("s3://", dataset[0]), dataset[1].strip("/"))
    runs: dict[str, LineageRun] = {}
    for event in events:
        run = event.get("run")
        run_id = run.get("runId") if isinstance(run, dict) else None
        if not isinstance(run_id, str) or not run_id:
            continue
        reads = _touches(event.get("inputs"), wanted)
        writes = _touches(event.get("outputs"), wanted)
        job = event.get("job")
        current = runs.get(run_id)
        if current is None:
            parent = _dict(_dict(_dict(run).get("facets")).get("parent")).get("run")
            current = LineageRun(
                run_id=run_id,
                job=str(_dict(job).get("name") or ""),
                producer=str(event.get("producer") or ""),
                parent_run_id=_dict(parent).get("runId"),
            )
            runs[run_id] = current
        current.reads = current.reads or reads
        current.writes = current.writes or writes
        when = _parse_time(event.get("eventTime"))
        state = str(event.get("eventType") or "").upper()
        if when is not None:
            if current.started is None or when < current.started:
                current.started = when
            if current.ended is None or when > current.ended:
                current.ended = when
        if state in ("COMPLETE", "FAIL", "ABORT") or not current.state:
            current.state = state
    return [r for r in runs.values() if r.reads or r.writes]


def build_timeline(
    table: str,
    uri: str,
    commits: Sequence[Commit],
    runs: Sequence[Mapping[str, Any]],
    lineage: Sequence[LineageRun],
    *,
    limit: int | None = None,
) -> Timeline:
    """Join the Delta log, the run log rows of this table and its lineage runs.

    Args:
        table: ``LAYER/NAME``.
        uri: The table's location.
        commits: Its versions (:func:`parse_history`).
        runs: Run-log rows (all of them; those of this table are picked here).
        lineage: Lineage runs that read or wrote it (:func:`lineage_runs`).
        limit: Keep the newest ``limit`` versions.
    """
    layer, _, name = table.partition("/")
    mine = [dict(r) for r in runs if _concerns(r, layer, name, uri)]
    entries = []
    for commit in commits:
        entry = VersionEntry(commit)
        _attribute(entry, layer, mine)
        entry.writers = [
            w for w in lineage if w.writes and _within(commit.timestamp, w.started, w.ended)
        ]
        entries.append(entry)
    for reader in lineage:
        if not reader.reads or reader.started is None:
            continue
        current = [
            e for e in entries if e.commit.timestamp and e.commit.timestamp <= reader.started
        ]
        if current:
            current[-1].readers.append(Reader(reader, _run_of(reader, runs)))
    warnings = []
    orphans = [e.commit.version for e in entries if not e.attribution]
    if orphans:
        warnings.append(
            f"{len(orphans)} version(s) attributed to no run: {_short_list(orphans)} (written "
            "outside the lake's jobs, or before the run log recorded them)"
        )
    newest = list(reversed(entries))
    return Timeline(
        table=table,
        uri=uri,
        versions=newest if limit is None else newest[:limit],
        total_versions=len(entries),
        warnings=warnings,
    )


def _attribute(entry: VersionEntry, layer: str, rows: list[dict[str, Any]]) -> None:
    commit = entry.commit
    meta_run = commit.metadata.get("run_id")
    if isinstance(meta_run, str) and meta_run:
        same = [r for r in rows if r.get("run_id") == meta_run]
        batch = commit.metadata.get("batch_id")
        best = (
            [r for r in same if batch and r.get("batch_id") == batch]
            or [r for r in same if r.get("table_version") == commit.version]
            or [
                r
                for r in same
                if _within(commit.timestamp, r.get("started_at"), r.get("finished_at"))
            ]
            or same
        )
        entry.run_id, entry.attribution = meta_run, "commit metadata"
        entry.run = best[0] if best else None
        return
    if layer in ("bronze", "silver", "gold"):  # the run log's table_version is of that table
        by_version = [
            r
            for r in rows
            if r.get("table_version") == commit.version and r.get("status") != "skipped"
        ]
        if by_version:
            entry.run = by_version[0]
            entry.run_id, entry.attribution = entry.run.get("run_id"), "run log table_version"
            return
    by_time = [
        r for r in rows if _within(commit.timestamp, r.get("started_at"), r.get("finished_at"))
    ]
    if by_time:
        # the innermost step: the latest to start
        entry.run = max(by_time, key=lambda r: r["started_at"])
        entry.run_id, entry.attribution = entry.run.get("run_id"), "run log time window"


def _run_of(reader: LineageRun, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The run-log row of a lake step's lineage run (same job, overlapping time)."""
    if not reader.is_lake:
        return None
    for row in rows:
        if row.get("job") == reader.job and _within(
            reader.started, row.get("started_at"), row.get("finished_at")
        ):
            return dict(row)
    return None


def lifecycle_steps(journal: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The lifecycle journal (``meta/lifecycle_log``: erasures, DUA) as steps of the timeline.

    Erasures and retention rewrite tables outside the ingestion runs; their commits carry the
    request id as ``run_id``, and each journal row names its table and the version it made.
    """
    steps = []
    for row in journal:
        steps.append(
            {
                "run_id": row.get("request_id"),
                "table": row.get("table"),
                "job": f"{row.get('kind')}:{row.get('action')}",
                "user": row.get("user"),
                "host": row.get("host"),
                "batch_id": row.get("batch_id") or None,
                "status": "succeeded",
                "table_version": row.get("version_after"),
                "rows_out": row.get("rows"),
                "started_at": row.get("at"),
                "finished_at": row.get("at"),
            }
        )
    return steps


def _concerns(row: Mapping[str, Any], layer: str, name: str, uri: str) -> bool:
    """Whether a run-log row is a step that writes ``layer/name``."""
    if row.get("table"):  # a lifecycle step names its table
        return row["table"] == f"{layer}/{name}"
    if layer == "gold":
        return row.get("layer") == "gold" and (
            row.get("job") == f"gold.{name}" or str(row.get("file_uri") or "") == uri
        )
    if layer == "quarantine":
        return row.get("source") == name and row.get("layer") in ("bronze", "silver")
    return row.get("layer") == layer and row.get("source") == name


def _within(when: Any, start: Any, end: Any) -> bool:
    if not isinstance(when, dt.datetime) or not isinstance(start, dt.datetime):
        return False
    if when < start - SLACK:
        return False
    return not isinstance(end, dt.datetime) or when <= end + SLACK


def _touches(datasets: object, wanted: tuple[str, str]) -> bool:
    if not isinstance(datasets, list):
        return False
    for item in datasets:
        if not isinstance(item, dict):
            continue
        namespace, name = item.get("namespace"), item.get("name")
        if (
            isinstance(namespace, str)
            and isinstance(name, str)
            and (_S3_SCHEME.sub("s3://", namespace), name.strip("/")) == wanted
        ):
            return True
    return False


# --- reading the three records -------------------------------------------------------------------


def read_events(paths: Iterable[Path]) -> Iterator[dict[str, Any]]:
    """Every JSON object of the events files that exist; unreadable lines are skipped."""
    for path in paths:
        if not path.is_file():
            continue
        with path.open(encoding="utf-8", errors="replace") as handle:
            for line in handle:
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if isinstance(event, dict):
                    yield event


def table_location(settings: Settings, table: str) -> tuple[str, str, str]:
    """``(layer, name, uri)`` of ``LAYER/NAME``.

    Raises:
        LakeError: Not a ``LAYER/NAME`` the lake knows.
    """
    from lake.storage import table_uri

    layer, _, name = table.strip("/").partition("/")
    try:
        return layer, name, table_uri(settings, layer, name)  # type: ignore[arg-type]
    except ValueError as exc:
        raise LakeError(
            f"Table {table!r}: {exc}.",
            fix="name a table as LAYER/NAME, e.g. silver/consular_register",
        ) from None


def collect(settings: Settings, table: str, *, limit: int | None = None) -> Timeline:
    """The audit timeline of ``table`` (``LAYER/NAME``) from the lake's three records.

    Raises:
        TableError: No Delta table there.
        StorageError: The store is down or refuses the credentials.
    """
    from lake.delta_reader import open_table
    from lake.spark import spark_events_file
    from lake.storage import openlineage_dataset, table_uri

    layer, name, uri = table_location(settings, table)
    delta = open_table(settings, uri)
    commits = parse_history(delta.history())
    try:
        log = open_table(settings, table_uri(settings, "meta", "runs"))
        runs = log.to_pyarrow_table().to_pylist()
        warnings = []
    except TableError:
        runs, warnings = [], ["no run log yet (meta/runs): versions are not attributed to runs"]
    try:
        journal = open_table(settings, table_uri(settings, "meta", "lifecycle_log"))
        runs += lifecycle_steps(journal.to_pyarrow_table().to_pylist())
    except TableError:
        pass  # no erasure or retention applied yet
    events = read_events([settings.lineage.file, spark_events_file(settings)])
    found = lineage_runs(events, openlineage_dataset(uri))
    timeline = build_timeline(f"{layer}/{name}", uri, commits, runs, found, limit=limit)
    timeline.warnings[:0] = warnings
    return scrub(timeline, secrets_of(settings))


# --- output --------------------------------------------------------------------------------------


def secrets_of(settings: Settings) -> list[str]:
    """Values that must never be printed: the storage keys and the pseudonymisation key."""
    values = [
        settings.storage.access_key,
        settings.storage.secret_key,
        settings.security.pseudonymisation_key,
    ]
    return [v for v in values if v and len(v) >= 4]


def scrub(timeline: Timeline, secrets: Sequence[str]) -> Timeline:
    """The timeline with every occurrence of a secret replaced by ``***`` (defence in depth:
    the run log already redacts command lines)."""
    if not secrets:
        return timeline

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            for secret in secrets:
                value = value.replace(secret, "***")
            return value
        if isinstance(value, dict):
            return {clean(k): clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    for entry in timeline.versions:
        commit = entry.commit
        entry.commit = Commit(
            commit.version,
            commit.timestamp,
            clean(commit.operation),
            clean(commit.engine),
            clean(commit.metrics),
            clean(commit.metadata),
        )
        entry.run = clean(entry.run)
        for reader in entry.readers:
            reader.run = clean(reader.run)
        for run in [*entry.writers, *(r.lineage for r in entry.readers)]:
            run.job = clean(run.job)
    timeline.warnings = clean(timeline.warnings)
    return timeline


def render_text(timeline: Timeline) -> str:
    """The timeline as lines for a terminal, newest version first."""
    lines = [
        f"{timeline.table} ({timeline.uri}): {timeline.total_versions} version(s), "
        f"showing {len(timeline.versions)}"
    ]
    for entry in timeline.versions:
        c, run = entry.commit, entry.run or {}
        when = _iso(c.timestamp) or "?"
        who = (
            f"run {entry.run_id} by {run.get('user') or '?'}@{run.get('host') or '?'}"
            f" ({run.get('job') or '?'}, batch {run.get('batch_id') or '?'}, "
            f"{run.get('status') or '?'}) [{entry.attribution}]"
            if entry.run_id
            else "no run found"
        )
        lines.append(f"v{c.version}  {when}  {c.operation:<12} {who}")
        if run.get("command"):
            lines.append(f"      command: {run['command']}")
        counts = ", ".join(f"{k} {run[k]}" for k in _COUNTS if run.get(k))
        if counts:
            lines.append(f"      counts: {counts}")
        if entry.writers:
            ids = ", ".join(f"{w.job} {w.run_id}" for w in entry.writers[:3])
            more = f" (+{len(entry.writers) - 3})" if len(entry.writers) > 3 else ""
            lines.append(f"      lineage (wrote): {ids}{more}")
        for reader in entry.readers[:5]:
            r = reader.run or {}
            by = f" = run {r.get('run_id')} by {r.get('user')}" if r else ""
            lines.append(
                f"      read by {reader.lineage.job} {reader.lineage.run_id} at "
                f"{_iso(reader.lineage.started)}{by}"
            )
        if len(entry.readers) > 5:
            lines.append(f"      read by {len(entry.readers) - 5} more run(s) (--json)")
    lines += [f"warning: {w}" for w in timeline.warnings]
    return "\n".join(lines)


def _from_millis(value: Any) -> dt.datetime | None:
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(value / 1000, tz=dt.UTC)
    return value if isinstance(value, dt.datetime) else None


def _parse_time(value: object) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat(timespec="milliseconds") if value else None


def _short_list(values: Sequence[int]) -> str:
    shown = ", ".join(str(v) for v in values[:10])
    return shown + (f" and {len(values) - 10} more" if len(values) > 10 else "")


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
