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

from lake.errors import LakeError
from lake.settings import Settings
from lake.storage import table_uri

Status = Literal["succeeded", "skipped", "failed"]
RUN_TABLE = "runs"


class IngestionError(LakeError):
    """An ingestion step failed for a reason the user can act on."""


class ReconciliationError(IngestionError):
    """Counts of a batch do not add up: rows would be lost or invented."""


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
        )


def _arrow_schema() -> Any:
    import pyarrow as pa

    ts = pa.timestamp("us", tz="UTC")
    return pa.schema(
        [
            ("run_id", pa.string()),
            ("batch_id", pa.string()),
            ("source", pa.string()),
            ("layer", pa.string()),
            ("status", pa.string()),
            ("started_at", ts),
            ("finished_at", ts),
            ("duration_s", pa.float64()),
            ("file_uri", pa.string()),
            ("file_sha256", pa.string()),
            ("lines_read", pa.int64()),
            ("rows_in", pa.int64()),
            ("rows_out", pa.int64()),
            ("quarantined", pa.int64()),
            ("duplicates_resolved", pa.int64()),
            ("inserted", pa.int64()),
            ("updated", pa.int64()),
            ("table_version", pa.int64()),
            ("message", pa.string()),
            ("extra_columns", pa.list_(pa.string())),
            ("quality", pa.string()),
            ("user", pa.string()),
            ("host", pa.string()),
            ("job", pa.string()),
            ("command", pa.string()),
        ]
    )


def complete_row(row: dict[str, Any]) -> dict[str, Any]:
    """A run-log row with every current column: rows logged before a column existed get
    ``None`` (``[]`` for ``extra_columns``)."""
    for name in _arrow_schema().names:
        row.setdefault(name, [] if name == "extra_columns" else None)
    return row


def append(settings: Settings, records: list[RunRecord]) -> None:
    """Append records to the run log.

    Written with delta-rs, not Spark: a run-log row costs milliseconds instead of a Spark job,
    and delta-rs commits with conditional puts (``If-None-Match``, which MinIO and S3 honour),
    so two jobs appending at once cannot lose a commit.
    """
    if not records:
        return
    import pyarrow as pa
    from deltalake import write_deltalake

    from lake.delta_reader import storage_options, to_delta_rs_uri

    data = pa.Table.from_pylist([r.as_dict() for r in records], schema=_arrow_schema())
    uri = table_uri(settings, "meta", RUN_TABLE)
    options = storage_options(settings)
    if options:
        options["aws_conditional_put"] = "etag"
    try:
        write_deltalake(
            to_delta_rs_uri(uri),
            data,
            mode="append",
            schema_mode="merge",  # run logs written before a column existed gain it
            storage_options=options or None,
        )
    except OSError as exc:
        from lake.storage import explain_storage_failure

        raise explain_storage_failure(exc, settings) from exc


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
    from lake.delta_reader import open_table
    from lake.errors import TableError

    try:
        table = open_table(settings, table_uri(settings, "meta", RUN_TABLE))
    except TableError:
        return []
    rows = [complete_row(r) for r in table.to_pyarrow_table().to_pylist()]
    if source:
        rows = [r for r in rows if r["source"] == source]
    rows.sort(key=lambda r: (r["started_at"], r["layer"]), reverse=True)
    return rows if limit is None else rows[:limit]
