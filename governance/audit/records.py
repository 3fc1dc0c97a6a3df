"""The three records ``lake audit`` reads, without Spark, and :func:`collect`, which joins them.

- the table's **Delta log** (delta-rs ``DeltaTable.history()``): every version with its time,
  operation, metrics, engine and the commit metadata the jobs store (``run_id``, ``batch_id``);
- the **run log** (``meta/runs``, plain Delta rows): run id, OS user, host, job, command line,
  batch, counts and status of every step, completed by the lifecycle journal
  (``meta/lifecycle_log``: erasures and retention);
- the **OpenLineage events** (``lineage.file`` and the Spark listener's file beside it): the
  runs that wrote or read the table.

The run log is read as a table (``ingestion`` is not imported) and the events as JSON
(``governance.lineage`` is not imported), as the package rules ask.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from governance.audit.model import Commit, LineageRun, Timeline
from governance.audit.render import scrub, secrets_of
from governance.audit.timeline import build_timeline
from governance.errors import GovernanceError
from lake.errors import TableError
from lake.settings import Settings

_S3_SCHEME = re.compile(r"^s3[an]?://")
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
        GovernanceError: Not a ``LAYER/NAME`` the lake knows.
    """
    from lake.storage import table_uri

    layer, _, name = table.strip("/").partition("/")
    try:
        return layer, name, table_uri(settings, layer, name)  # type: ignore[arg-type]
    except ValueError as exc:
        raise GovernanceError(
            f"Table {table!r}: {exc}.",
            fix="name a table as LAYER/NAME, e.g. silver/consular_register",
            table=table,
        ) from None


def collect(settings: Settings, table: str, *, limit: int | None = None) -> Timeline:
    """The audit timeline of ``table`` (``LAYER/NAME``) from the lake's three records.

    Raises:
        TableError: No Delta table there.
        StorageError: The store is down or refuses the credentials.
    """
    from lake.delta_reader import open_table
    from lake.lineage_journal import fetch
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
    events = read_events(fetch(settings))  # the lake's lineage journal (meta/lineage/)
    found = lineage_runs(events, openlineage_dataset(uri))
    timeline = build_timeline(f"{layer}/{name}", uri, commits, runs, found, limit=limit)
    timeline.warnings[:0] = warnings
    return scrub(timeline, secrets_of(settings))


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


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
