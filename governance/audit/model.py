"""What ``lake audit`` reports about a table: its versions, the run behind each, who read it.

Plain records, filled by :mod:`governance.audit.records` and :mod:`governance.audit.timeline`,
serialised by ``as_dict`` for ``--json``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

# The counts of a run-log row shown for the run that produced a version.
RUN_COUNTS = ("lines_read", "rows_in", "rows_out", "quarantined", "inserted", "updated")


def iso_millis(value: dt.datetime | None) -> str | None:
    """``value`` in ISO 8601 to the millisecond; None for None."""
    return value.isoformat(timespec="milliseconds") if value else None


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
            "started": iso_millis(self.started),
            "ended": iso_millis(self.ended),
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
            "timestamp": iso_millis(self.commit.timestamp),
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
                "counts": {k: run.get(k) for k in RUN_COUNTS} if run else {},
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
