"""Appends without Spark: Arrow data committed to a Delta table by delta-rs.

Used where the data already is Arrow in the driver and a Spark job would only add fixed cost: the
meta tables (:mod:`lake.meta_tables`) and bronze (a delivery's parsed files, decision 0015).
The tables stay standard Delta tables that Spark reads, merges, deletes from and compacts.

Guarantees of :func:`append_arrow`:

- one commit for the whole stream, however many files it writes: all the rows or none;
- idempotent per application id: the commit carries one Delta ``txn`` action per id given
  (``(app_id, version)``, the protocol's ``SetTransaction``, the same record Spark's
  ``txnAppId``/``txnVersion`` write), so :func:`committed_transactions` tells a rerun which parts
  a crashed run already committed, and the run skips exactly those;
- a table is created by the first append; a column the table does not have is added (schema
  merge), a table column the data lacks is written as null;
- a table with leases (bronze) is written only by the job run holding its lease, as with Spark
  (:func:`lake.leases.check_write`);
- commits on the object store use conditional puts (``If-None-Match``, honoured by MinIO and S3),
  never a blind overwrite of another writer's commit;
- a storage failure comes back as :class:`~lake.errors.StorageError`, any other refusal as
  :class:`~lake.errors.TableError` naming the table.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from lake.delta_reader import storage_options, to_delta_rs_uri
from lake.errors import StorageError, TableError
from lake.leases import check_write
from lake.settings import Settings
from lake.storage import explain_storage_failure

if TYPE_CHECKING:
    import pyarrow as pa
    from deltalake import DeltaTable


def write_options(settings: Settings) -> dict[str, str] | None:
    """delta-rs storage options for a writer: a conditional put on an object store."""
    options = storage_options(settings)
    if options:
        options["aws_conditional_put"] = "etag"
    return options or None


def table_schema(table: DeltaTable | None) -> pa.Schema | None:
    """The Arrow schema of a table opened with delta-rs (None: no table yet)."""
    import pyarrow as pa

    return None if table is None else pa.schema(table.schema().to_arrow())


def committed_transactions(table: DeltaTable | None, app_ids: Iterable[str]) -> set[str]:
    """The application ids among ``app_ids`` that have a committed transaction on the table."""
    if table is None:
        return set()
    return {app_id for app_id in app_ids if table.transaction_version(app_id) is not None}


def append_arrow(
    settings: Settings,
    uri: str,
    schema: pa.Schema,
    batches: Iterable[pa.RecordBatch],
    *,
    transactions: Sequence[str] = (),
    commit_info: Mapping[str, Any] | None = None,
    what: str = "rows to a table",
    file_mib: int | None = None,
    leased: bool = True,
) -> None:
    """Append ``batches`` to the table at ``uri`` in one commit.

    Args:
        settings: Where the lake is and how to reach it.
        uri: The table (``s3a://`` or a local path).
        schema: The rows' schema (every batch has it).
        batches: The rows, streamed to delta-rs (memory bounded by one batch and the
            Parquet file being written); an error raised while producing them (a delivered
            file's unreadable line) is raised unchanged, and nothing is committed.
        transactions: Application ids committed with the rows (version 0 each); check them
            with :func:`committed_transactions` before appending again.
        commit_info: JSON-serialisable metadata kept as the commit's ``userMetadata`` (what
            Spark's ``DESCRIBE HISTORY`` and ``lake audit`` show).
        what: What is appended where, for the error message ("3 row(s) to meta/runs").
        file_mib: Size of the data files written (delta-rs's default when None).
        leased: The table has one writer at a time (decision 0007): refuse the append when a
            job run is active and does not hold its lease, as every Spark write does. False
            for the meta tables, appended by every job.

    Raises:
        StorageError: The object store is unreachable, full, or refused the credentials.
        TableError: delta-rs refused the rows (a column whose type changed, a failed commit).
        LeaseError: ``leased`` and a job run is active without the table's lease.
    """
    from deltalake import CommitProperties, Transaction, write_deltalake
    from deltalake.exceptions import SchemaMismatchError

    properties = CommitProperties(
        custom_metadata=(
            {"userMetadata": json.dumps(dict(commit_info), default=str)} if commit_info else None
        ),
        app_transactions=[Transaction(app_id, 0) for app_id in transactions] or None,
    )
    import pyarrow as pa

    producer_error: list[BaseException] = []

    def produced() -> Iterator[pa.RecordBatch]:
        try:
            yield from batches
        except BaseException as exc:  # kept: through Arrow's C stream only its text survives
            producer_error.append(exc)
            raise

    if leased:
        check_write(uri)
    rs_uri = to_delta_rs_uri(uri)
    options = write_options(settings)
    try:
        write_deltalake(
            rs_uri,
            pa.RecordBatchReader.from_batches(schema, produced()),
            mode="append",
            schema_mode="merge",
            storage_options=options,
            commit_properties=properties,
            target_file_size=file_mib * 1024 * 1024 if file_mib else None,
        )
    except BaseException as exc:
        if producer_error:
            raise producer_error[0] from None
        if isinstance(exc, StorageError | TableError) or not isinstance(exc, Exception):
            raise
        if isinstance(exc, OSError) or _from_the_store(exc):
            raise explain_storage_failure(exc, settings) from exc
        # delta-rs raises DeltaError, or a bare Exception for a cast
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        type_changed = isinstance(exc, SchemaMismatchError) or "cast" in first.lower()
        raise TableError(
            f"Could not append {what} ({uri}): {first}",
            table=uri,
            fix="declare a new column instead of changing the type of an existing one"
            if type_changed
            else "rerun the command; `lake doctor` checks the object store",
        ) from exc


# delta-rs reports object store failures as DeltaError texts (object_store's messages)
_STORE_MARKERS = (
    "XMinioStorageFull",
    "Connection refused",
    "error sending request",
    "tcp connect error",
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "timed out",
    "Generic S3 error",
)


def _from_the_store(exc: BaseException) -> bool:
    """Whether a delta-rs error is the object store's (unreachable, full, refusing)."""
    text = str(exc)
    return any(marker in text for marker in _STORE_MARKERS)
