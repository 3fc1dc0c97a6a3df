"""The run log: one row per batch and layer, with the counts that must reconcile.

A Delta table (``meta/runs``) written by the jobs and read by ``lake runs`` (through delta-rs, so
it needs no Spark). Reconciliation is checked *before* a row is written: a batch whose counts do
not add up raises :class:`ReconciliationError` and is logged as failed.

Each row also says who ran it (``user``, ``host``), which step (``job``: ``bronze.<source>``,
``silver.<source>``, ``gold.<indicator>``, the OpenLineage job name) and from which command line
(``command``, credentials redacted), for ``lake audit``. The table's schema grows with the code:
rows written before a column existed read back with ``None`` in it.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import re
import socket
import sys
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from ingestion.errors import IngestionError as IngestionError  # the old import path
from ingestion.errors import ReconciliationError
from lake import meta_tables
from lake.meta_tables import MetaTable
from lake.settings import Settings

# "evolved" / "migrated": silver's schema changed (ingestion.schema_change), not a batch's rows
Status = Literal["succeeded", "skipped", "failed", "evolved", "migrated"]
RUN_TABLE = "runs"


# An argument that may carry a credential: ``--secret-key X``, ``fs.s3a.secret.key=X``...
_SECRET_WORDS = re.compile(r"secret|passw|token|credential|access[._-]?key|api[._-]?key", re.I)


def current_user() -> str:
    """The OS user running the process (``uid:N`` when the user database has no name)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a container uid without a passwd entry
        return f"uid:{os.getuid()}" if hasattr(os, "getuid") else "unknown"


def current_host() -> str:
    """The host name of the machine running the process."""
    return socket.gethostname() or "unknown"


def current_command(argv: list[str] | None = None) -> str:
    """The command line of this process, program name first, credentials redacted.

    ``--secret-key VALUE`` and ``...secret.key=VALUE`` become ``***``; long lines are cut.
    """
    args = list(sys.argv if argv is None else argv)
    if not args:
        return ""
    shown = [Path(args[0]).name]
    hide_next = False
    for arg in args[1:]:
        if hide_next:
            shown.append("***")
            hide_next = False
        elif "=" in arg and _SECRET_WORDS.search(arg.split("=", 1)[0]):
            shown.append(arg.split("=", 1)[0] + "=***")
        else:
            shown.append(arg)
            hide_next = arg.startswith("-") and bool(_SECRET_WORDS.search(arg))
    text = " ".join(shown)
    return text if len(text) <= 500 else text[:497] + "..."


@dataclass
class RunRecord:
    """What one layer did with one batch."""

    run_id: str
    batch_id: str
    source: str
    layer: str
    status: Status
    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    file_uri: str | None = None
    file_sha256: str | None = None
    lines_read: int = 0
    rows_in: int = 0
    rows_out: int = 0
    quarantined: int = 0
    duplicates_resolved: int = 0
    inserted: int = 0
    updated: int = 0
    table_version: int | None = None
    message: str = ""
    extra_columns: list[str] = field(default_factory=list)
    # The quality gate's decision: promoted, promoted_with_warnings or blocked ("" if no review).
    quality: str = ""
    # Who and what (lake audit): OS user, host, the step's job name, the process command line.
    user: str = field(default_factory=current_user)
    host: str = field(default_factory=current_host)
    job: str = ""
    command: str = field(default_factory=current_command)
    # The review's results, for lineage only (not a run-log column).
    assertions: list[dict[str, Any]] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        if not self.job:  # the OpenLineage job name of the step
            name = self.source
            if self.layer == "gold" and self.file_uri:
                name = self.file_uri.rstrip("/").rsplit("/", 1)[-1]
            self.job = f"{self.layer}.{name}"

    @property
    def duration_s(self) -> float:
        end = self.finished_at or dt.datetime.now(dt.UTC)
        return round((end - self.started_at).total_seconds(), 3)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("assertions")
        data["duration_s"] = self.duration_s
        return data


def new_run_id() -> str:
    """A fresh identifier for one invocation of a job."""
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def check(condition: bool, record: RunRecord, equation: str) -> None:
    """Fail loudly when a reconciliation equation does not hold."""
    if not condition:
        raise ReconciliationError(
            f"Batch {record.batch_id} ({record.source}, {record.layer}) does not reconcile: "
            f"{equation}.",
            fix="nothing was promoted past this step; report the batch to the data team",
            batch_id=record.batch_id,
            source=record.source,
            layer=record.layer,
        )


RUN_LOG = MetaTable(
    RUN_TABLE,
    (
        ("run_id", "string"),
        ("batch_id", "string"),
        ("source", "string"),
        ("layer", "string"),
        ("status", "string"),
        ("started_at", "timestamp"),
        ("finished_at", "timestamp"),
        ("duration_s", "float64"),
        ("file_uri", "string"),
        ("file_sha256", "string"),
        ("lines_read", "int64"),
        ("rows_in", "int64"),
        ("rows_out", "int64"),
        ("quarantined", "int64"),
        ("duplicates_resolved", "int64"),
        ("inserted", "int64"),
        ("updated", "int64"),
        ("table_version", "int64"),
        ("message", "string"),
        ("extra_columns", "list<string>"),
        ("quality", "string"),
        ("user", "string"),
        ("host", "string"),
        ("job", "string"),
        ("command", "string"),
    ),
)


def complete_row(row: dict[str, Any]) -> dict[str, Any]:
    """A run-log row with every current column: rows logged before a column existed get
    ``None`` (``[]`` for ``extra_columns``)."""
    for name in RUN_LOG.column_names:
        row.setdefault(name, [] if name == "extra_columns" else None)
    return row


def append(settings: Settings, records: list[RunRecord]) -> None:
    """Append records to the run log (:func:`lake.meta_tables.append`: delta-rs, conditional
    commits, the table created by the first record and its schema grown with the code)."""
    meta_tables.append(settings, RUN_LOG, [r.as_dict() for r in records])


def succeeded_batches(settings: Settings, source: str, layer: str) -> dict[str, dict[str, Any]]:
    """Batches of ``source`` that ``layer`` already processed successfully (latest record)."""
    rows = [
        r
        for r in read_runs(settings, source=source, limit=None)
        if r["layer"] == layer and r["status"] == "succeeded"
    ]
    return {r["batch_id"]: r for r in reversed(rows)}


def read_runs(
    settings: Settings, *, source: str | None = None, limit: int | None = 50
) -> list[dict[str, Any]]:
    """The latest run-log rows, newest first, read with delta-rs (no Spark)."""
    rows = [complete_row(r) for r in meta_tables.read(settings, RUN_LOG)]
    if source:
        rows = [r for r in rows if r["source"] == source]
    rows.sort(key=lambda r: (r["started_at"], r["layer"]), reverse=True)
    return rows if limit is None else rows[:limit]
