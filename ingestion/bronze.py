"""Bronze: every delivered row, as delivered (strings), with its provenance.

A source's pending files are *one delivery*, committed together (decision 0015): each file is
landed and its header read, then every file is parsed in chunks (:mod:`ingestion.readers`, Arrow
tables straight from the native parser) and streamed with its provenance columns into **one**
delta-rs append to ``bronze/<source>`` (:mod:`lake.delta_append`), no Spark job and no staging
copy; the malformed lines of the delivery go to ``quarantine/<source>`` in one more append, with
their raw text and reason. Each commit carries one Delta transaction id per batch
(``bronze:<batch>``, ``quarantine-bronze:<batch>``: the ids the Spark writer used before), so a
rerun after a crash knows exactly which batches were committed and never writes one twice; a file
already in the run log is skipped before it is even parsed.

All or nothing: a file that cannot be landed, opened or read holds back the whole delivery
(nothing of it is committed, every file of it is logged as failed, naming the culprit), until the
file is delivered again or taken out of the inbox.

Reconciliation, per batch: lines read = bronze rows of the batch + malformed lines of the batch,
both counted back from the committed tables (delta-rs), not from what was meant to be written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ingestion.errors import in_batch
from ingestion.landing import LandedFile, land
from ingestion.readers import Layout, read_extract, read_layout
from ingestion.runlog import RunRecord, check, now
from lake.contracts import Contract
from lake.delta_append import append_arrow, committed_transactions, table_schema
from lake.delta_reader import open_if_exists, open_table
from lake.settings import Settings
from lake.storage import table_uri

if TYPE_CHECKING:
    import pyarrow as pa
    from deltalake import DeltaTable

Progress = Callable[[str], None]
PROVENANCE = (
    "_source",
    "_batch_id",
    "_file_uri",
    "_file_sha256",
    "_line",
    "_delivered_at",
    "_ingested_at",
)
QUARANTINE_SCHEMA = (
    "_source string, _batch_id string, stage string, _file_uri string, _line long, "
    "`column` string, value string, reason string, rule string, raw string, "
    "failures array<struct<`column`:string,value:string,reason:string,rule:string,"
    "severity:string>>, "
    "_delivered_at timestamp, _quarantined_at timestamp"
)


def batch_id_for(contract: Contract, sha256: str) -> str:
    """The batch id of a file: stable across reruns, unique per content."""
    return f"{contract.source}-{sha256[:16]}"


@dataclass
class Delivered:
    """One file of a delivery: where it landed, its batch, and what reading it found."""

    path: Path
    landed: LandedFile
    batch: str
    record: RunRecord
    layout: Layout | None = None
    lines_read: int = 0
    malformed: list[tuple[int, str, str]] = field(default_factory=list)
    # committed by a run that died before logging it: counted again, not written again
    rows_committed: bool = False
    malformed_committed: bool = False

    @property
    def pending(self) -> bool:
        """Whether the file still has to be read (not skipped as already ingested)."""
        return self.record.status != "skipped"


def land_file(
    settings: Settings,
    contract: Contract,
    path: Path,
    *,
    run_id: str,
    done: set[str],
    seen: set[str],
    progress: Progress = lambda _: None,
) -> Delivered:
    """Land one delivered file and read its header; skip it when its batch is done or seen.

    Args:
        settings: Lake settings.
        contract: The source's contract.
        path: The delivered file.
        run_id: The current run.
        done: Batch ids bronze already ingested successfully (from the run log).
        seen: Batch ids met earlier in this delivery (the same content delivered twice);
            the file's batch is added.
        progress: Receives one line per step.

    Raises:
        LandingError: The file cannot be landed (no batch yet).
        ExtractError: The file cannot be opened or has no readable header (naming its batch).
    """
    started = now()
    landed = land(settings, contract, path)
    batch = batch_id_for(contract, landed.sha256)
    record = RunRecord(
        run_id=run_id,
        batch_id=batch,
        source=contract.source,
        layer="bronze",
        status="skipped",
        started_at=started,
        file_uri=landed.uri,
        file_sha256=landed.sha256,
    )
    delivered = Delivered(path, landed, batch, record)
    if batch in done or batch in seen:
        record.finished_at = now()
        record.message = "fichier déjà ingéré (même empreinte SHA-256)"
        progress(f"  {path.name}: already ingested (batch {batch}), skipped")
        return delivered
    seen.add(batch)
    record.status = "failed"
    with in_batch(batch):  # an error from here on names the batch in the run log
        # the header, checked now; the records are read when the delivery is committed
        delivered.layout = read_layout(contract, path)
    return delivered


def commit_delivery(
    settings: Settings,
    contract: Contract,
    files: list[Delivered],
    *,
    run_id: str,
    progress: Progress = lambda _: None,
) -> None:
    """Parse the delivery's pending files into one bronze append and one quarantine append.

    Fills each file's run-log record (counts, version, status ``succeeded``) once both commits
    are done and every batch reconciles.

    Raises:
        LakeError: A file could not be read (the error names its batch) or a commit failed:
            nothing was committed. ReconciliationError: a batch does not reconcile (named).
    """
    pending = [f for f in files if f.pending]
    if not pending:
        return
    bronze = table_uri(settings, "bronze", contract.source)
    quarantine = table_uri(settings, "quarantine", contract.source)
    # each table is read once before the appends and once after them
    bronze_before = open_if_exists(settings, bronze)
    committed = committed_transactions(bronze_before, [_rows_txn(f) for f in pending])
    committed_malformed = committed_transactions(
        open_if_exists(settings, quarantine), [_malformed_txn(f) for f in pending]
    )
    for f in pending:
        f.rows_committed = _rows_txn(f) in committed
        f.malformed_committed = _malformed_txn(f) in committed_malformed
    schema = _bronze_schema(table_schema(bronze_before), pending)
    ingested_at = now()
    append_arrow(
        settings,
        bronze,
        schema,
        _batches(contract, pending, schema, ingested_at, progress),
        transactions=[_rows_txn(f) for f in pending if not f.rows_committed],
        commit_info={
            "run_id": run_id,
            "batch_ids": [f.batch for f in pending],
            "files": [f.landed.uri for f in pending],
        },
        what=f"{len(pending)} file(s) to bronze/{contract.source}",
    )
    malformed = [f for f in pending if f.malformed and not f.malformed_committed]
    if malformed:
        rows = _malformed_rows(contract, malformed)
        append_arrow(
            settings,
            quarantine,
            rows.schema,
            rows.to_batches(),
            transactions=[_malformed_txn(f) for f in malformed],
            commit_info={"run_id": run_id, "batch_ids": [f.batch for f in malformed]},
            what=f"{rows.num_rows} malformed line(s) to quarantine/{contract.source}",
        )
    bronze_after = open_table(settings, bronze)
    version = bronze_after.version()
    in_bronze = count_batches(bronze_after, [f.batch for f in pending])
    in_quarantine = count_batches(
        open_if_exists(settings, quarantine), [f.batch for f in pending], stage="bronze"
    )
    for f in pending:
        record = f.record
        record.lines_read = f.lines_read
        record.rows_out = in_bronze.get(f.batch, 0)
        record.quarantined = in_quarantine.get(f.batch, 0)
        record.table_version = int(version)
        record.extra_columns = f.layout.extra_columns if f.layout else []
        check(
            record.lines_read == record.rows_out + record.quarantined,
            record,
            f"lines read {record.lines_read} != bronze rows {record.rows_out} + malformed "
            f"{record.quarantined}",
        )
        record.status = "succeeded"
        record.finished_at = now()
        extra = (
            f"; extra columns: {', '.join(record.extra_columns)}" if record.extra_columns else ""
        )
        progress(
            f"  {f.path.name}: {record.lines_read} lines -> {record.rows_out} bronze rows, "
            f"{record.quarantined} malformed{extra}"
        )


def _rows_txn(f: Delivered) -> str:
    return f"bronze:{f.batch}"


def _malformed_txn(f: Delivered) -> str:
    return f"quarantine-bronze:{f.batch}"


def _bronze_schema(existing: pa.Schema | None, files: list[Delivered]) -> pa.Schema:
    """The table's columns (if it exists), then the delivery's new columns, then provenance."""
    import pyarrow as pa

    fields: dict[str, pa.Field] = {}
    if existing is not None:
        fields = {f.name: f for f in existing}
    data = [name for f in files for name in (f.layout.columns if f.layout else [])]
    for name in data:
        fields.setdefault(name, pa.field(name, pa.string()))
    provenance = {
        "_source": pa.string(),
        "_batch_id": pa.string(),
        "_file_uri": pa.string(),
        "_file_sha256": pa.string(),
        "_line": pa.int64(),
        "_delivered_at": pa.timestamp("us", tz="UTC"),
        "_ingested_at": pa.timestamp("us", tz="UTC"),
    }
    for name, kind in provenance.items():
        fields.setdefault(name, pa.field(name, kind))
    return pa.schema(list(fields.values()))


def _batches(
    contract: Contract,
    files: list[Delivered],
    schema: pa.Schema,
    ingested_at: dt.datetime,
    progress: Progress,
) -> Iterator[pa.RecordBatch]:
    """Every file's records with provenance, in the table's schema, chunk by chunk.

    Counts each file's lines and keeps its malformed lines as it goes; a file committed by an
    earlier, interrupted run is read for its counts only.
    """
    import pyarrow as pa

    for f in files:
        with in_batch(f.batch):
            layout, chunks = read_extract(contract, f.path)
            f.layout = layout
            f.lines_read, f.malformed = 0, []
            constants = {
                "_source": contract.source,
                "_batch_id": f.batch,
                "_file_uri": f.landed.uri,
                "_file_sha256": f.landed.sha256,
                "_delivered_at": f.landed.delivered_at,
                "_ingested_at": ingested_at,
            }
            for chunk in chunks:
                f.lines_read += chunk.row_count + len(chunk.malformed)
                if not f.malformed_committed:
                    f.malformed.extend((m.line, m.raw, m.reason) for m in chunk.malformed)
                if f.rows_committed or not chunk.row_count:
                    continue
                table = chunk.table(layout.columns)
                rows = table.num_rows
                columns = []
                for field_ in schema:
                    if field_.name in constants:
                        value = constants[field_.name]
                        columns.append(pa.array([value] * rows, type=field_.type))
                    elif field_.name in table.column_names:
                        columns.append(table.column(field_.name).cast(field_.type))
                    else:
                        columns.append(pa.nulls(rows, type=field_.type))
                yield from pa.Table.from_arrays(columns, schema=schema).to_batches()
        if f.rows_committed:
            progress(f"  {f.path.name}: committed by an interrupted run, counted again")


def _malformed_rows(contract: Contract, files: list[Delivered]) -> pa.Table:
    import pyarrow as pa

    stamp = now()
    rows: list[dict[str, object]] = [
        {
            "_source": contract.source,
            "_batch_id": f.batch,
            "stage": "bronze",
            "_file_uri": f.landed.uri,
            "_line": line,
            "column": None,
            "value": None,
            "reason": reason,
            "rule": f"{contract.source}.line.readable",
            "raw": raw,
            "failures": [],
            "_delivered_at": f.landed.delivered_at,
            "_quarantined_at": stamp,
        }
        for f in files
        for line, raw, reason in f.malformed
    ]
    return pa.Table.from_pylist(rows, schema=quarantine_arrow_schema())


def quarantine_arrow_schema() -> pa.Schema:
    """:data:`QUARANTINE_SCHEMA` in Arrow (what delta-rs writes; Spark reads the same types)."""
    import pyarrow as pa

    failure = pa.struct(
        [
            ("column", pa.string()),
            ("value", pa.string()),
            ("reason", pa.string()),
            ("rule", pa.string()),
            ("severity", pa.string()),
        ]
    )
    return pa.schema(
        [
            ("_source", pa.string()),
            ("_batch_id", pa.string()),
            ("stage", pa.string()),
            ("_file_uri", pa.string()),
            ("_line", pa.int64()),
            ("column", pa.string()),
            ("value", pa.string()),
            ("reason", pa.string()),
            ("rule", pa.string()),
            ("raw", pa.string()),
            ("failures", pa.list_(failure)),
            ("_delivered_at", pa.timestamp("us", tz="UTC")),
            ("_quarantined_at", pa.timestamp("us", tz="UTC")),
        ]
    )


def count_batches(
    table: DeltaTable | None, batches: list[str], *, stage: str | None = None
) -> dict[str, int]:
    """Rows per batch in a committed table opened with delta-rs (only ``_batch_id`` is read;
    ``stage`` keeps one stage of a quarantine table); ``{}`` when there is no table."""
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    if not batches or table is None:
        return {}
    dataset = table.to_pyarrow_dataset()
    condition = ds.field("_batch_id").isin(batches)
    if stage is not None:
        condition = condition & (ds.field("stage") == stage)
    column = dataset.to_table(columns=["_batch_id"], filter=condition).column("_batch_id")
    counts = pc.value_counts(column)
    return {str(item["values"]): int(item["counts"]) for item in counts.to_pylist()}
