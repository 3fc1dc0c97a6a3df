"""Delta Lake reads, writes and merges: the only module that touches Delta tables.

Every option is keyword-only with a safe default: ``write_table`` refuses to replace an existing
table unless told ``mode="overwrite"``, never changes a schema unless ``merge_schema=True``, and
``merge_table`` refuses a source with duplicate keys (Delta would fail half-way with a Java trace).
Failures come back as :class:`TableError` or :class:`StorageError` naming the table and the fix.

Every write and merge first asks :func:`lake.leases.check_write` whether this job run still holds
the table's lease (one writer per table, decision 0007); outside a job run nothing is checked.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from lake.errors import LakeError, StorageError, TableError
from lake.leases import check_write

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

WriteMode = Literal["error", "append", "overwrite"]
WRITE_MODES: tuple[WriteMode, ...] = ("error", "append", "overwrite")
MatchedAction = Literal["update", "delete", "ignore"]
MATCHED_ACTIONS: tuple[MatchedAction, ...] = ("update", "delete", "ignore")
NotMatchedAction = Literal["insert", "ignore"]
# The table property that makes Delta record each commit's changed rows (its Change Data Feed),
# read back by :func:`read_changes`.
CHANGE_DATA_FEED: Mapping[str, str] = {"delta.enableChangeDataFeed": "true"}


@dataclass(frozen=True)
class MergeResult:
    """What a MERGE changed, from the commit's own metrics.

    ``rows_before`` and ``rows_after`` are the table's row counts at the versions before and
    after the MERGE, counted from the table itself (Delta answers a plain count from the log's
    file statistics), when the merge was asked to count them (``count_rows=True``); else None.
    """

    version: int
    inserted: int
    updated: int
    source_rows: int
    deleted: int = 0
    rows_before: int | None = None
    rows_after: int | None = None

    @property
    def unchanged(self) -> int:
        """Source rows neither inserted nor updated: matched rows whose values did not change
        (the MERGE's metrics have no counter of their own for them)."""
        return self.source_rows - self.inserted - self.updated


def table_exists(spark: SparkSession, uri: str) -> bool:
    """True when ``uri`` holds a Delta table."""
    from delta.tables import DeltaTable

    with _translated(spark, uri, "check"):
        return bool(DeltaTable.isDeltaTable(spark, uri))


def table_version(spark: SparkSession, uri: str) -> int:
    """The latest committed version of the table at ``uri``."""
    rows = history(spark, uri, limit=1)
    return int(rows[0]["version"])


def history(spark: SparkSession, uri: str, *, limit: int = 20) -> list[dict[str, Any]]:
    """The latest commits of the table, newest first (version, timestamp, operation, its
    parameters, metrics, user metadata)."""
    from delta.tables import DeltaTable

    _require_table(spark, uri)
    with _translated(spark, uri, "read the history of"):
        return _commits(DeltaTable.forPath(spark, uri), limit)


def _commits(table: Any, limit: int) -> list[dict[str, Any]]:
    """The latest commits of an opened ``delta.tables.DeltaTable``, newest first."""
    return [
        {
            "version": r["version"],
            "timestamp": r["timestamp"],
            "operation": r["operation"],
            "operationParameters": dict(r["operationParameters"] or {}),
            "operationMetrics": dict(r["operationMetrics"] or {}),
            "userMetadata": r["userMetadata"],
        }
        for r in table.history(limit).collect()
    ]


def read_table(
    spark: SparkSession,
    uri: str,
    *,
    version: int | None = None,
    timestamp: str | None = None,
) -> DataFrame:
    """Read a Delta table, optionally as of a version or a timestamp (time travel).

    Raises:
        TableError: No table at ``uri``, or both ``version`` and ``timestamp`` were given.
    """
    if version is not None and timestamp is not None:
        raise TableError(
            "Give a version or a timestamp to read, not both.",
            table=uri,
            fix="pass only the version, or only the timestamp",
        )
    _require_table(spark, uri)
    reader = spark.read.format("delta")
    if version is not None:
        reader = reader.option("versionAsOf", version)
    if timestamp is not None:
        reader = reader.option("timestampAsOf", timestamp)
    with _translated(spark, uri, "read"):
        return reader.load(uri)


def write_table(
    df: DataFrame,
    uri: str,
    *,
    mode: WriteMode = "error",
    partition_by: Sequence[str] = (),
    merge_schema: bool = False,
    overwrite_schema: bool = False,
    commit_info: Mapping[str, Any] | None = None,
    idempotent: tuple[str, int] | None = None,
    replace_where: str | None = None,
    table_properties: Mapping[str, str] | None = None,
) -> int:
    """Write ``df`` as a Delta table and return the version committed.

    Args:
        df: The rows to write.
        uri: The table location (see :func:`lake.storage.table_uri`).
        mode: ``"error"`` (default) refuses an existing table; ``"append"`` adds rows;
            ``"overwrite"`` replaces the rows (older versions stay readable by time travel).
        partition_by: Partition columns for a new table.
        merge_schema: Allow new columns (append/overwrite); otherwise a schema change is refused.
        overwrite_schema: With ``mode="overwrite"``: the table takes ``df``'s schema (columns
            removed or retyped: a migration); older versions keep the old schema.
        commit_info: JSON-serialisable metadata stored with the commit (run id, source file...).
        idempotent: ``(app_id, version)``: Delta skips the write if a commit with this app id
            and a version >= this one already exists (``txnAppId``/``txnVersion``), so a job
            rerun after a crash never writes the same batch twice.
        replace_where: With ``mode="overwrite"``: replace only the rows matching this SQL
            predicate, in one commit (Delta refuses rows of ``df`` that do not match it).
        table_properties: Delta table properties (``delta.enableChangeDataFeed``...) given to a
            table this write creates; an existing table keeps its own (:func:`set_properties`).

    Raises:
        TableError: Invalid mode, existing table with ``mode="error"``, or a refused schema.
        StorageError: The object store failed.
        LeaseError: A job run is active and does not (or no longer) hold the table's lease.
    """
    _refuse_unknown("Write mode", "mode", mode, WRITE_MODES, uri)
    spark = df.sparkSession
    if mode == "error" and table_exists(spark, uri):
        raise TableError(
            f"Table {uri} already exists and mode='error' refuses to touch it.",
            table=uri,
            fix="pass mode='append' to add rows or mode='overwrite' to replace them",
        )
    writer = df.write.format("delta").mode("errorifexists" if mode == "error" else mode)
    if partition_by:
        writer = writer.partitionBy(*partition_by)
    if merge_schema:
        writer = writer.option("mergeSchema", "true")
    if overwrite_schema:
        if mode != "overwrite":
            raise TableError(
                "overwrite_schema=True replaces the table's schema and needs mode='overwrite'.",
                table=uri,
                fix="pass mode='overwrite', or merge_schema=True to only add columns",
            )
        writer = writer.option("overwriteSchema", "true")
    if commit_info:
        writer = writer.option("userMetadata", json.dumps(dict(commit_info), default=str))
    if replace_where is not None:
        if mode != "overwrite":
            raise TableError(
                "replace_where replaces the rows matching a predicate and needs mode='overwrite'.",
                table=uri,
                fix="pass mode='overwrite' with replace_where, or no replace_where",
            )
        writer = writer.option("replaceWhere", replace_where)
    if table_properties and (mode == "error" or not table_exists(spark, uri)):
        for name, value in table_properties.items():
            writer = writer.option(name, value)  # Delta takes `delta.*` options at creation
    if idempotent is not None:
        writer = writer.option("txnAppId", idempotent[0]).option("txnVersion", idempotent[1])
    check_write(uri)
    with _translated(spark, uri, "write"):
        writer.save(uri)
    return table_version(spark, uri)


def merge_table(
    source: DataFrame,
    uri: str,
    *,
    keys: Sequence[str],
    when_matched: MatchedAction = "update",
    when_not_matched: NotMatchedAction = "insert",
    create_if_missing: bool = True,
    commit_info: Mapping[str, Any] | None = None,
    update_condition: str | None = None,
    update_set: Mapping[str, str | Column] | None = None,
    check_duplicates: bool = True,
    count_rows: bool = False,
    table_properties: Mapping[str, str] | None = None,
) -> MergeResult:
    """Upsert ``source`` into the table on ``keys`` (idempotent: rerunning changes nothing new).

    Rows are matched by a join on ``keys`` (``t.k <=> s.k``), never by literal values: the
    commit stores only that condition, so a merge can remove or blank rows without writing the
    values it matched into the table's history (what ``lifecycle.tables`` relies on).

    Args:
        source: Rows to merge; keys must be unique in it.
        uri: The target table.
        keys: Business-key columns, present in both source and target.
        when_matched: ``"update"`` the target row with the source's values, ``"delete"`` it
            (``WHEN MATCHED THEN DELETE``), or ``"ignore"``.
        when_not_matched: ``"insert"`` the source row, or ``"ignore"``.
        create_if_missing: Create the table from ``source`` when it does not exist yet (only
            with ``when_not_matched="insert"``).
        commit_info: Metadata stored with the commit that creates the table. A MERGE commit
            carries none: Delta only takes it from a session-wide setting, which jobs running
            in parallel threads would mix up; the run log links batches to table versions.
        update_condition: SQL condition (aliases ``t`` target, ``s`` source) for updating a
            matched row; default: any non-key column differs (every matched row when
            ``update_set`` is given).
        update_set: With ``when_matched="update"``: the target columns to set and their values
            (SQL over ``t``/``s`` or a Column), instead of every source column.
        check_duplicates: Look for duplicate keys in the source first (one Spark job); pass
            False only when the source is unique by construction.
        count_rows: Count the table's rows before and after the MERGE (``rows_before``,
            ``rows_after``), for a reconciliation that does not trust the metrics alone.
        table_properties: Delta table properties the table must have: given to a table the
            merge creates, set first on an existing table that lacks one (its own commit).

    Raises:
        TableError: Empty or unknown keys, an unknown action, duplicate keys in the source, or
            a missing table.
        LeaseError: A job run is active and does not (or no longer) hold the table's lease.
    """
    from delta.tables import DeltaTable
    from pyspark.sql import functions as F

    _refuse_unknown("Matched action", "when_matched", when_matched, MATCHED_ACTIONS, uri)
    spark = source.sparkSession
    if not keys:
        raise TableError(
            "A merge needs at least one key column.",
            table=uri,
            fix="pass keys= with the table's business key (the contract's primary_key)",
        )
    missing = [k for k in keys if k not in source.columns]
    if missing:
        raise TableError(
            f"Merge key(s) {', '.join(missing)} not in the source; it has "
            f"{', '.join(source.columns)}.",
            table=uri,
            fix="add the key columns to the source, or pass the keys it has",
        )
    if check_duplicates:
        duplicates = source.groupBy(*keys).count().filter(F.col("count") > 1)
        first_dup = duplicates.limit(1).collect()
        if first_dup:
            shown = ", ".join(f"{k}={first_dup[0][k]!r}" for k in keys)
            raise TableError(
                f"The merge source has duplicate keys ({shown} appears "
                f"{first_dup[0]['count']} times).",
                table=uri,
                fix="deduplicate the source on its business key before merging",
            )
    if not table_exists(spark, uri):
        # creating the table from the source is the insert of every row: not for a merge that
        # only updates or deletes what it matches
        if not create_if_missing or when_not_matched != "insert":
            raise TableError(
                f"No Delta table at {uri} to merge into.",
                table=uri,
                fix="check the layer and name, or pass create_if_missing=True"
                if when_not_matched == "insert"
                else "check the layer and name (a merge that inserts nothing creates no table)",
            )
        source_rows = source.count()
        version = write_table(
            source,
            uri,
            mode="error",
            commit_info=commit_info,
            table_properties=table_properties,
        )
        return MergeResult(
            version=version,
            inserted=source_rows,
            updated=0,
            source_rows=source_rows,
            rows_before=0 if count_rows else None,
            rows_after=_count_at(spark, uri, version) if count_rows else None,
        )
    condition = " AND ".join(f"t.`{k}` <=> s.`{k}`" for k in keys)
    # Only rows whose values changed are rewritten, so a rerun of the same delivery commits
    # an empty change (0 inserted, 0 updated) instead of rewriting every matched row.
    changed = update_condition or " OR ".join(
        f"NOT (t.`{c}` <=> s.`{c}`)" for c in source.columns if c not in set(keys)
    )
    check_write(uri)
    if table_properties:
        set_properties(spark, uri, table_properties)
    with _translated(spark, uri, "merge into"):
        target = DeltaTable.forPath(spark, uri)
        before = int(target.history(1).select("version").collect()[0][0])
        rows_before = _count_at(spark, uri, before) if count_rows else None
        merge = target.alias("t").merge(source.alias("s"), condition)
        if when_matched == "update" and update_set is not None:
            assignments = {f"`{c}`": value for c, value in update_set.items()}
            merge = merge.whenMatchedUpdate(condition=update_condition, set=assignments)
        elif when_matched == "update" and changed:
            merge = merge.whenMatchedUpdateAll(condition=changed)
        elif when_matched == "delete":
            merge = merge.whenMatchedDelete()
        if when_not_matched == "insert":
            merge = merge.whenNotMatchedInsertAll()
        merge.execute()
        # the table already opened: its history lists the log again, without a second open
        last = _commits(target, 1)[0]
    if int(last["version"]) == before:
        # Delta commits nothing when a merge without an insert clause matches no row; the
        # latest commit's metrics would be an older operation's
        return MergeResult(
            version=before,
            inserted=0,
            updated=0,
            source_rows=source.count(),
            deleted=0,
            rows_before=rows_before,
            rows_after=rows_before,
        )
    metrics = last["operationMetrics"]
    version = int(last["version"])
    return MergeResult(
        version=version,
        inserted=int(metrics.get("numTargetRowsInserted", 0)),
        updated=int(metrics.get("numTargetRowsUpdated", 0)),
        source_rows=int(metrics["numSourceRows"]),
        deleted=int(metrics.get("numTargetRowsDeleted", 0)),
        rows_before=rows_before,
        rows_after=_count_at(spark, uri, version) if count_rows else None,
    )


def properties_of(spark: SparkSession, uri: str) -> dict[str, str]:
    """The table's Delta properties (``delta.*``, ``lake.*``, comment...)."""
    return {str(k): str(v) for k, v in (_detail(spark, uri)["properties"] or {}).items()}


def set_properties(spark: SparkSession, uri: str, properties: Mapping[str, str]) -> int | None:
    """Give the table the Delta ``properties`` it lacks (one commit); the new version, or None
    when it already had them all (nothing committed)."""
    current = properties_of(spark, uri)
    missing = {k: v for k, v in properties.items() if current.get(k) != v}
    if not missing:
        return None
    check_write(uri)

    def quote(text: str) -> str:
        return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"

    pairs = ", ".join(f"{quote(k)} = {quote(v)}" for k, v in missing.items())
    with _translated(spark, uri, "set the properties of"):
        spark.sql(f"ALTER TABLE delta.`{uri}` SET TBLPROPERTIES ({pairs})")
    return table_version(spark, uri)


def read_changes(spark: SparkSession, uri: str, *, start: int, end: int) -> DataFrame:
    """The table's Change Data Feed from version ``start`` to ``end`` (both included): every
    inserted row, deleted row, and each updated row's pre- and post-image, with Delta's
    ``_change_type``, ``_commit_version`` and ``_commit_timestamp`` columns.

    Lazy: a range the feed does not cover (before the feed was enabled, log entries removed)
    fails here or, for change files vacuumed since, when the rows are read.
    """
    _require_table(spark, uri)
    with _translated(spark, uri, "read the change feed of"):
        return (
            spark.read.format("delta")
            .option("readChangeFeed", "true")
            .option("startingVersion", start)
            .option("endingVersion", end)
            .load(uri)
        )


def _count_at(spark: SparkSession, uri: str, version: int) -> int:
    """The table's rows at ``version`` (a metadata-only query when the log has statistics)."""
    with _translated(spark, uri, "count the rows of"):
        return int(read_table(spark, uri, version=version).count())


@dataclass(frozen=True)
class OptimizeResult:
    """What one maintenance pass did to a table (``version`` None: nothing was rewritten)."""

    uri: str
    files_before: int
    files_after: int
    version: int | None
    zorder_by: tuple[str, ...] = ()
    checkpoint: bool = False


def data_file_count(spark: SparkSession, uri: str) -> int:
    """How many data files the table's current version reads (from the log, no data scan)."""
    return int(_detail(spark, uri)["numFiles"])


def _detail(spark: SparkSession, uri: str) -> Any:
    _require_table(spark, uri)
    with _translated(spark, uri, "describe"):
        return spark.sql(f"DESCRIBE DETAIL delta.`{uri}`").collect()[0]


def optimize_table(
    spark: SparkSession,
    uri: str,
    *,
    zorder_by: Sequence[str] = (),
    checkpoint: bool = True,
    min_files: int = 2,
) -> OptimizeResult:
    """Compact the table's small files (Z-ordered on ``zorder_by`` when given), then write a
    checkpoint of its log, when it has at least ``min_files`` data files.

    The rows and every older version stay as they are: OPTIMIZE only rewrites files (a commit
    with ``dataChange=false``), and old files go only when ``VACUUM`` passes the retention
    horizon (``lake lifecycle apply``), never here.

    Raises:
        TableError: No table at ``uri``, or a Z-order column it does not have.
        LeaseError: A job run is active and does not hold the table's lease.
    """
    from delta.tables import DeltaTable

    before = data_file_count(spark, uri)
    columns = dict(table_columns(spark, uri))
    unknown = [c for c in zorder_by if c not in columns]
    if unknown:
        raise TableError(
            f"Z-order column(s) {', '.join(unknown)} not in the table; it has "
            f"{', '.join(columns)}.",
            table=uri,
            fix="Z-order on the table's key columns",
        )
    if before < max(min_files, 1):
        return OptimizeResult(uri, before, before, None, tuple(zorder_by))
    check_write(uri)
    with _translated(spark, uri, "optimize"):
        version_before = table_version(spark, uri)
        builder = DeltaTable.forPath(spark, uri).optimize()
        if zorder_by:
            builder.executeZOrderBy(*zorder_by)
        else:
            builder.executeCompaction()
        version = table_version(spark, uri)
        interval = int(
            (_detail(spark, uri)["properties"] or {}).get("delta.checkpointInterval", 10)
        )
        if checkpoint and version % interval:
            # a checkpoint lets readers load one Parquet file instead of replaying every JSON
            # commit since the last one; Delta writes one itself at every interval-th version
            # (writing that one again would race it)
            jvm = spark.sparkContext._jvm
            assert jvm is not None
            jvm.org.apache.spark.sql.delta.DeltaLog.forTable(
                spark._jsparkSession,
                uri,
            ).checkpoint()
    return OptimizeResult(
        uri,
        before,
        data_file_count(spark, uri),
        version if version != version_before else None,
        tuple(zorder_by),
        checkpoint,
    )


def table_columns(spark: SparkSession, uri: str) -> list[tuple[str, str]]:
    """The table's top-level columns and their Spark types (``simpleString``), in order."""
    return [(f.name, f.dataType.simpleString()) for f in read_table(spark, uri).schema.fields]


def add_columns(
    spark: SparkSession,
    uri: str,
    columns: Sequence[tuple[str, str]],
    *,
    widen: Sequence[tuple[str, str]] = (),
) -> int:
    """Evolve the table's schema explicitly: add nullable columns, widen types; the new version.

    Added columns read null in every existing row (``ALTER TABLE ... ADD COLUMNS``: no data file
    is rewritten). Widened columns (``int`` -> ``bigint``...) are cast in a rewrite of the table
    (``overwriteSchema``; older versions keep the old types): Delta's own type widening
    (``delta.enableTypeWidening``) would add a reader feature delta-rs cannot read yet
    (deltalake 1.6), and the lake's other readers must keep reading the table. Nothing else is
    changed: what is not additive needs a migration (:func:`write_table`, ``overwrite_schema``).

    Raises:
        TableError: No table at ``uri``, or Delta refused the change.
        LeaseError: A job run is active and does not (or no longer) hold the table's lease.
    """
    from pyspark.sql import functions as F

    _require_table(spark, uri)
    check_write(uri)
    if columns:
        added = ", ".join(f"`{name}` {kind}" for name, kind in columns)
        with _translated(spark, uri, "change the schema of"):
            spark.sql(f"ALTER TABLE delta.`{uri}` ADD COLUMNS ({added})")
    if widen:
        wider = dict(widen)
        current = read_table(spark, uri)
        cast = current.select(
            *[
                F.col(f"`{c}`").cast(wider[c]).alias(c) if c in wider else F.col(f"`{c}`")
                for c in current.columns
            ]
        )
        return write_table(cast, uri, mode="overwrite", overwrite_schema=True)
    return table_version(spark, uri)


def _refuse_unknown(what: str, option: str, value: str, valid: Sequence[str], uri: str) -> None:
    """Refuse a value of a ``Literal`` option that is not one of ``valid``, listing them."""
    if value not in valid:
        raise TableError(
            f"{what} {value!r} is not one of {', '.join(valid)}.",
            table=uri,
            fix=f"pass {option}= one of {', '.join(valid)}",
        )


def _require_table(spark: SparkSession, uri: str) -> None:
    if not table_exists(spark, uri):
        raise TableError(
            f"No Delta table at {uri}.",
            table=uri,
            fix="check the layer and name, or run the job that creates it",
        )


def _credentials_rejected(spark: SparkSession, uri: str) -> bool:
    """True when the store says the S3A key of this URI's bucket is wrong (not a policy)."""
    from lake.storage import key_rejected

    bucket = uri.removeprefix("s3a://").split("/", 1)[0]
    hadoop = spark.sparkContext._jsc.hadoopConfiguration()

    def conf(name: str) -> str:
        value = hadoop.get(f"fs.s3a.bucket.{bucket}.{name}") or hadoop.get(f"fs.s3a.{name}")
        return "" if value is None else str(value)

    return key_rejected(
        conf("endpoint"),
        conf("access.key"),
        conf("secret.key"),
        bucket=bucket,
        region=conf("endpoint.region") or "us-east-1",
    )


def _s3a_endpoint(spark: SparkSession, uri: str) -> str:
    """The endpoint S3A uses for this URI's bucket (per-bucket settings win, as in S3A)."""
    bucket = uri.removeprefix("s3a://").split("/", 1)[0]
    hadoop = spark.sparkContext._jsc.hadoopConfiguration()
    endpoint = hadoop.get(f"fs.s3a.bucket.{bucket}.endpoint") or hadoop.get("fs.s3a.endpoint")
    return str(endpoint or "the object store")


@contextmanager
def _translated(spark: SparkSession, uri: str, action: str) -> Iterator[None]:
    """Turn Java-side failures into one readable LakeError naming the table."""
    try:
        yield
    except LakeError:
        raise
    except Exception as exc:
        raise _explain(exc, spark, uri, action) from exc


def _explain(exc: Exception, spark: SparkSession, uri: str, action: str) -> LakeError:
    text = str(exc)
    first = text.strip().splitlines()[0][:300] if text.strip() else type(exc).__name__
    if uri.startswith("s3a://") and any(
        marker in text
        for marker in (
            "AccessDenied",
            "403",
            "InvalidAccessKeyId",
            "SignatureDoesNotMatch",
            "Connection refused",
            "ConnectException",
            "Unable to execute HTTP request",
            "UnknownHost",
            "timed out",
        )
    ):
        endpoint = _s3a_endpoint(spark, uri)
        bad_key = any(m in text for m in ("InvalidAccessKeyId", "SignatureDoesNotMatch"))
        denied = not bad_key and any(m in text for m in ("AccessDenied", "403"))
        if denied and _credentials_rejected(spark, uri):
            # a 403 to a HEAD request has no body, so S3A cannot tell a wrong key from a
            # policy refusal: one listing request, whose error names the reason, tells
            bad_key, denied = True, False
        if denied:
            # valid credentials, but their policy does not allow this (issue 7 roles)
            return StorageError(
                f"Could not {action} table {uri}: the object store at {endpoint} denied access "
                "(the credentials are valid, their policy does not allow this).",
                endpoint=str(endpoint),
                table=uri,
                fix="run the job under a role allowed to "
                f"{'write' if action == 'write' else 'read'} this layer (LAKE__STORAGE__ROLE, "
                "policy/minio-roles.yaml), or ask the lake's administrator",
            )
        what = "refused the credentials" if bad_key else "is not reachable"
        return StorageError(
            f"Could not {action} table {uri}: the object store at {endpoint} {what}.",
            endpoint=str(endpoint),
            table=uri,
            fix="run `lake status` / `lake up`, then `lake doctor`",
        )
    if (
        "DELTA_FAILED_TO_MERGE_FIELDS" in text
        or "schema mismatch" in text.lower()
        or ("DELTA_METADATA_MISMATCH" in text)
    ):
        return TableError(
            f"Could not {action} table {uri}: the data's schema differs from the table's "
            f"({first}).",
            table=uri,
            fix="align the columns and types, or pass merge_schema=True for new columns",
        )
    return TableError(
        f"Could not {action} table {uri}: {first}",
        table=uri,
        fix="rerun with `lake --debug` for the whole Spark error; `lake doctor` checks the setup",
    )
