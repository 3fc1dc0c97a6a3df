"""The pure join of ``lake audit``: each version of a table attributed to the run that wrote it.

A version is attributed to a run-log row, in order of trust: the ``run_id`` in its commit
metadata; else the row of that table whose ``table_version`` is this version; else the row of
that table whose ``[started_at, finished_at]`` contains the commit time (a MERGE carries no
metadata, an ``ALTER TABLE`` no version in the run log). Lineage runs that wrote the table are
matched by time; a run that read it is listed under the version that was current when it
started. No IO here, so the join is tested on small fixtures.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from governance.audit.model import Commit, LineageRun, Reader, Timeline, VersionEntry

# Clocks: run-log times come from the driver's Python, commit times from the Delta writer on the
# same driver, lineage times from the emitter; a little slack absorbs rounding and ordering.
SLACK = dt.timedelta(seconds=2)


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
        # one batch (silver, gold), or the batches of a bronze delivery (decision 0015)
        batches = commit.metadata.get("batch_ids") or [commit.metadata.get("batch_id")]
        best = (
            [r for r in same if r.get("batch_id") and r.get("batch_id") in batches]
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


def _short_list(values: Sequence[int]) -> str:
    shown = ", ".join(str(v) for v in values[:10])
    return shown + (f" and {len(values) - 10} more" if len(values) > 10 else "")
