"""What the store itself says about the lake's tables, read with delta-rs from the logs only.

A table is a prefix of ``bronze/``, ``silver/``, ``gold/`` or ``quarantine/`` holding a
``_delta_log/``, listed from the bucket (MinIO) or the local root. Its facts come from the Delta
log, never from a scan of the data: rows and bytes are the sums of the ``add`` actions'
``numRecords`` and ``size``, the last update the latest commit's timestamp. The quality history
(``meta/quality_results``) is read by URI, so governance needs none of the quality package's code.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lake.delta_reader import open_table
from lake.errors import TableError
from lake.layers import DATA_LAYERS
from lake.settings import Settings
from lake.storage import explain_storage_failure, object_client, table_uri

if TYPE_CHECKING:
    from deltalake import DeltaTable

__all__ = [
    "CATALOG_LAYERS",
    "QUALITY_TABLE",
    "TableFacts",
    "latest_quality",
    "list_tables",
    "read_quality_rows",
    "scan_table",
]

CATALOG_LAYERS: tuple[str, ...] = DATA_LAYERS
QUALITY_TABLE = "quality_results"  # meta/quality_results, written by the quality package
# owner, rule_id and success: the dashboard checks a decision on a review against its owner and
# whether a request to fix at the source was met (lake.review_decisions).
_QUALITY_COLUMNS = (
    "review_id",
    "reviewed_at",
    "table",
    "rows_reviewed",
    "rows_rejected",
    "owner",
    "rule_id",
    "success",
)


@dataclass(frozen=True)
class TableFacts:
    """A table as its Delta log describes it.

    Attributes:
        rows: Sum of the files' ``numRecords``; counted from the Parquet footers when a file has
            no statistics; None when delta-rs cannot count them (e.g. deletion vectors).
        columns: ``(name, type)`` of the schema's top-level fields, types in Spark's short form.
        description: The Delta description (``comment`` property when Spark put it there).
        properties: The table properties (``lake.sources``, ``lake.domain``...).
        created_at: When the table was created: the ``createdTime`` of its Delta metadata, which
            every later commit keeps (it survives log clean-up, unlike version 0).
    """

    uri: str
    version: int
    rows: int | None
    size_bytes: int
    updated_at: dt.datetime | None
    columns: tuple[tuple[str, str], ...]
    description: str = ""
    properties: Mapping[str, str] = field(default_factory=dict)
    created_at: dt.datetime | None = None


def list_tables(settings: Settings) -> list[tuple[str, str]]:
    """``(layer, name)`` of every Delta table of the catalogued layers, by layer then name.

    Raises:
        StorageError: The object store cannot be listed.
    """
    if settings.storage.backend == "local":
        root = settings.storage.local_root.resolve()
        return [
            (layer, path.name)
            for layer in CATALOG_LAYERS
            if (root / layer).is_dir()
            for path in sorted((root / layer).iterdir())
            if (path / "_delta_log").is_dir()
        ]
    client = object_client(settings)
    bucket = settings.storage.bucket
    found = []
    try:
        for layer in CATALOG_LAYERS:
            listing = client.list_objects(bucket, prefix=f"{layer}/")
            for prefix in sorted(o.object_name for o in listing if o.is_dir and o.object_name):
                # One object under _delta_log/ is enough: the listing stops there.
                log = client.list_objects(bucket, prefix=f"{prefix}_delta_log/")
                if next(iter(log), None) is not None:
                    found.append((layer, prefix[len(layer) + 1 :].rstrip("/")))
    except Exception as exc:
        raise explain_storage_failure(exc, settings) from exc
    return found


def scan_table(settings: Settings, layer: str, name: str) -> TableFacts:
    """Version, size, schema, properties and last commit of one table, from its log.

    Raises:
        ValueError: ``layer`` or ``name`` cannot name a lake table.
        TableError: delta-rs finds no readable Delta table there.
        StorageError: The store cannot be reached.
    """
    uri = table_uri(settings, layer, name)  # type: ignore[arg-type]
    table = open_table(settings, uri)
    meta = table.metadata()
    properties = {str(k): str(v) for k, v in (meta.configuration or {}).items()}
    rows, size = _file_stats(table)
    fields = json.loads(table.schema().to_json())["fields"]
    history = table.history(1)
    stamp = history[0].get("timestamp") if history else None
    return TableFacts(
        uri=uri,
        version=int(table.version()),
        rows=rows,
        size_bytes=size,
        updated_at=_from_millis(stamp),
        columns=tuple((str(f["name"]), _type_name(f["type"])) for f in fields),
        description=meta.description or properties.get("comment", ""),
        properties=properties,
        created_at=_from_millis(meta.created_time),
    )


def read_quality_rows(settings: Settings) -> list[dict[str, Any]]:
    """The columns of ``meta/quality_results`` a score needs; [] when nothing was reviewed yet."""
    try:
        table = open_table(settings, table_uri(settings, "meta", QUALITY_TABLE))
    except TableError:
        return []
    present = {f.name for f in table.schema().fields}
    columns = [c for c in _QUALITY_COLUMNS if c in present]
    return list(table.to_pyarrow_table(columns=columns).to_pylist())


def latest_quality(
    rows: Iterable[Mapping[str, Any]],
) -> dict[str, tuple[float | None, dt.datetime]]:
    """Score and time of the latest review of each table (``silver/x``, ``gold/y``).

    The latest review has the latest ``reviewed_at`` (then ``review_id``); its score is
    ``100 × (1 − rows_rejected / rows_reviewed)``, None when it reviewed no row. Rows without a
    table or a readable time are ignored.
    """
    latest: dict[str, tuple[tuple[dt.datetime, str], Mapping[str, Any]]] = {}
    for row in rows:
        when = _as_utc(row.get("reviewed_at"))
        table = str(row.get("table") or "")
        if not table or when is None:
            continue
        order = (when, str(row.get("review_id") or ""))
        if table not in latest or order > latest[table][0]:
            latest[table] = (order, row)
    scores: dict[str, tuple[float | None, dt.datetime]] = {}
    for table, ((when, _), row) in latest.items():
        reviewed = max(int(row.get("rows_reviewed") or 0), 0)
        rejected = min(max(int(row.get("rows_rejected") or 0), 0), reviewed)
        scores[table] = (100.0 * (1 - rejected / reviewed) if reviewed else None, when)
    return scores


def _file_stats(table: DeltaTable) -> tuple[int | None, int]:
    """Rows and bytes from the ``add`` actions; rows from the footers for files without stats."""
    import pyarrow as pa

    actions = pa.table(table.get_add_actions(flatten=True))
    size = sum(int(s or 0) for s in actions.column("size_bytes").to_pylist())
    counts: list[Any] = (
        actions.column("num_records").to_pylist()
        if "num_records" in actions.column_names
        else [None] * actions.num_rows
    )
    if all(c is not None for c in counts):
        return sum(int(c) for c in counts), size
    try:
        return int(table.to_pyarrow_dataset().count_rows()), size
    except Exception:  # a table feature delta-rs cannot read (deletion vectors...): unknown
        return None, size


def _from_millis(stamp: Any) -> dt.datetime | None:
    """A Delta timestamp (milliseconds since the epoch) as aware UTC; None when absent."""
    return dt.datetime.fromtimestamp(stamp / 1000, dt.UTC) if stamp else None


def _type_name(kind: Any) -> str:
    """A Delta schema type in Spark's short form (``array<string>``, ``struct<a:long>``)."""
    if isinstance(kind, str):
        return kind
    if kind.get("type") == "array":
        return f"array<{_type_name(kind['elementType'])}>"
    if kind.get("type") == "map":
        return f"map<{_type_name(kind['keyType'])},{_type_name(kind['valueType'])}>"
    if kind.get("type") == "struct":
        inner = ",".join(f"{f['name']}:{_type_name(f['type'])}" for f in kind["fields"])
        return f"struct<{inner}>"
    return str(kind.get("type"))


def _as_utc(value: Any) -> dt.datetime | None:
    """A datetime (naive = UTC) or ISO-8601 text as an aware UTC datetime; None otherwise."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if not isinstance(value, dt.datetime):
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
