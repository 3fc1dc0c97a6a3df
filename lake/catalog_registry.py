"""Tables by name: the lake's Delta tables registered in the shared Hive metastore.

Each table the lake writes at ``s3a://<bucket>/<layer>/<name>`` becomes the external table
``<layer>.<name>`` (databases ``bronze``, ``silver``, ``gold``, ``quarantine``), so that
``spark.table("silver.consular_register")``, ``spark-sql -e`` and ``lake sql`` find it
(decision 0011, docs/catalog.md). What a table means travels with it, in its Delta log, where
``DESCRIBE TABLE EXTENDED`` (and delta-rs) read it: the table comment and the column comments
(the contract's French descriptions) and the ``lake.*`` table properties (owner, exposure level,
sensitivity). Registering changes the Delta log only when that metadata differs, in at most two
commits (properties with the comment, then every column comment at once), so a rerun writes
nothing.

The entries (what to register) are plain :class:`TableEntry` records built by the stage that
owns the tables (:mod:`ingestion.catalog_entries`); this module only talks to Spark. It needs a
session with the Hive catalog (:func:`lake.spark.catalog_conf`); without one,
:func:`catalog_active` is false and callers skip registration.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lake.errors import CatalogError
from lake.layers import DATA_LAYERS
from lake.leases import check_write

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

PROPERTY_PREFIX = "lake."
_USER_METADATA = "spark.databricks.delta.commitInfo.userMetadata"
DATABASES = DATA_LAYERS  # bronze, silver, gold, quarantine: one database per layer


@dataclass(frozen=True)
class TableEntry:
    """One table to register: where it is and what it means.

    Attributes:
        layer: The layer, which is also the database (``silver``).
        name: The table's name in its layer (``consular_register``).
        location: Its Delta location (``s3a://lake/silver/consular_register``).
        comment: The table comment (French).
        columns: Column name -> comment (French); columns absent from the table are ignored.
        properties: ``lake.*`` properties (owner, exposure level, sensitivity...).
    """

    layer: str
    name: str
    location: str
    comment: str = ""
    columns: Mapping[str, str] = field(default_factory=dict)
    properties: Mapping[str, str] = field(default_factory=dict)

    @property
    def qualified(self) -> str:
        """``layer.name``, the name Spark SQL knows the table by."""
        return f"{self.layer}.{self.name}"


@dataclass(frozen=True)
class Registered:
    """What registering one table did."""

    table: str
    created: bool
    metadata_updated: bool


def catalog_active(spark: SparkSession) -> bool:
    """True when the session keeps its tables in the Hive metastore (not in memory)."""
    return spark.conf.get("spark.sql.catalogImplementation", "in-memory") == "hive"


def _quote(text: str) -> str:
    """A Spark SQL string literal."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _ident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def register(
    spark: SparkSession,
    entries: Iterable[TableEntry],
    *,
    commit_info: Mapping[str, Any] | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> list[Registered]:
    """Register ``entries`` (idempotent): databases, external tables, comments, properties.

    A table whose Delta log does not exist (never written) is skipped. A table registered at
    another location (the bucket moved) is re-pointed: dropping an external table keeps its data.
    A metadata change is a Delta commit: inside a job run it needs the table's lease
    (:func:`lake.leases.check_write`), and it carries ``commit_info`` (the run id) like the
    run's own commits, so ``lake audit`` attributes it.

    Raises:
        CatalogError: The metastore refused or failed (one line, the cause named).
    """
    entries = list(entries)
    done: list[Registered] = []
    try:
        for database in sorted({e.layer for e in entries}):
            spark.sql(f"CREATE DATABASE IF NOT EXISTS {_ident(database)}")
        for entry in entries:
            if not _is_delta(spark, entry.location):
                continue
            result = _register_one(spark, entry, commit_info)
            done.append(result)
            if result.created or result.metadata_updated:
                verb = "registered" if result.created else "described"
                progress(f"  catalog: {verb} {entry.qualified} -> {entry.location}")
    except CatalogError:
        raise
    except Exception as exc:
        raise CatalogError(
            f"The catalog could not register the tables: {one_line(exc)}",
            fix="check the metastore (`lake status`), then `lake sql --refresh`",
        ) from exc
    return done


def _is_delta(spark: SparkSession, location: str) -> bool:
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    return bool(jvm.io.delta.tables.DeltaTable.isDeltaTable(spark._jsparkSession, location))


def _register_one(
    spark: SparkSession, entry: TableEntry, commit_info: Mapping[str, Any] | None
) -> Registered:
    name = f"{_ident(entry.layer)}.{_ident(entry.name)}"
    created = False
    current = _location(spark, entry)
    if current is not None and current.rstrip("/") != _normal(entry.location):
        spark.sql(f"DROP TABLE {name}")  # external: the data stays where it is
        current = None
    if current is None:
        location = _quote(entry.location)
        spark.sql(f"CREATE TABLE IF NOT EXISTS {name} USING DELTA LOCATION {location}")
        created = True
    previous = spark.conf.get(_USER_METADATA, None)
    if commit_info:
        spark.conf.set(_USER_METADATA, json.dumps(dict(commit_info), default=str))
    try:
        updated = _describe(spark, entry, name)
    finally:
        if previous is None:
            spark.conf.unset(_USER_METADATA)
        else:
            spark.conf.set(_USER_METADATA, previous)
    return Registered(table=entry.qualified, created=created, metadata_updated=updated)


def _normal(location: str) -> str:
    # Spark stores file:///x as file:/x.
    return location.rstrip("/").replace("file:///", "file:/")


def _location(spark: SparkSession, entry: TableEntry) -> str | None:
    if not spark.catalog.tableExists(f"{_ident(entry.layer)}.{_ident(entry.name)}"):
        return None
    rows = spark.sql(f"DESCRIBE DETAIL {_ident(entry.layer)}.{_ident(entry.name)}").collect()
    return _normal(str(rows[0]["location"])) if rows else None


def _describe(spark: SparkSession, entry: TableEntry, name: str) -> bool:
    """Bring the comment, properties and column comments to ``entry``'s; True if changed."""
    detail = spark.sql(f"DESCRIBE DETAIL {name}").collect()[0]
    wanted = {k: str(v) for k, v in entry.properties.items()}
    props = {k: v for k, v in (detail["properties"] or {}).items() if k in wanted}
    changes: dict[str, str] = {k: v for k, v in wanted.items() if props.get(k) != v}
    if entry.comment and (detail["description"] or "") != entry.comment:
        changes["comment"] = entry.comment
    changed = False
    fields = {f.name: (f.metadata or {}).get("comment", "") for f in spark.table(name).schema}
    columns = [
        (col, text)
        for col, text in entry.columns.items()
        if col in fields and text and fields[col] != text
    ]
    if changes or columns:
        check_write(entry.location)
    if changes:
        pairs = ", ".join(f"{_quote(k)} = {_quote(v)}" for k, v in sorted(changes.items()))
        spark.sql(f"ALTER TABLE {name} SET TBLPROPERTIES ({pairs})")
        changed = True
    if columns:
        clauses = ", ".join(f"{_ident(col)} COMMENT {_quote(text)}" for col, text in columns)
        spark.sql(f"ALTER TABLE {name} ALTER COLUMN {clauses}")
        changed = True
    return changed


def registered_tables(spark: SparkSession, databases: Sequence[str] = DATABASES) -> list[str]:
    """Every table the catalog knows in the lake's databases, as ``layer.name``, sorted."""
    known = {db.name for db in spark.catalog.listDatabases()}
    return sorted(
        f"{db}.{t.name}"
        for db in databases
        if db in known
        for t in spark.catalog.listTables(db)
        if not t.isTemporary
    )


def one_line(exc: BaseException) -> str:
    """The first meaningful line of a Spark/Java error, without its stack trace."""
    text = str(exc).strip()
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("at ", "JVM stacktrace", "==")):
            return line[:300]
    return type(exc).__name__
