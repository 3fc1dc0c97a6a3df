"""An independent look at the lake's tables, without Spark: delta-rs and the S3 client.

Other tools (BI, notebooks, DuckDB, polars) read the lake through delta-rs rather than Spark, so
this is what they will see. ``lake inspect`` and the tests use it to check that what Spark wrote is
a valid Delta table for everybody.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from lake.errors import StorageError, TableError
from lake.settings import Settings
from lake.storage import explain_storage_failure, object_client

if TYPE_CHECKING:
    from deltalake import DeltaTable


@dataclass(frozen=True)
class TableSnapshot:
    """What an independent reader sees of a Delta table."""

    uri: str
    version: int
    rows: int
    columns: list[str]
    data_files: int
    log_objects: list[str]

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly dictionary."""
        return {
            "uri": self.uri,
            "version": self.version,
            "rows": self.rows,
            "columns": self.columns,
            "data_files": self.data_files,
            "log_objects": self.log_objects,
        }


def storage_options(settings: Settings) -> dict[str, str]:
    """delta-rs ``storage_options`` for the lake's object store."""
    if settings.storage.backend == "local":
        return {}
    return {
        "AWS_ENDPOINT_URL": settings.endpoint,
        "AWS_ACCESS_KEY_ID": settings.storage.access_key,
        "AWS_SECRET_ACCESS_KEY": settings.storage.secret_key,
        "AWS_REGION": settings.storage.region,
        "AWS_ALLOW_HTTP": str(settings.endpoint.startswith("http://")).lower(),
        "AWS_S3_ADDRESSING_STYLE": "path",
    }


def to_delta_rs_uri(uri: str) -> str:
    """delta-rs names S3 locations ``s3://`` where Hadoop says ``s3a://``."""
    return "s3://" + uri[len("s3a://") :] if uri.startswith("s3a://") else uri


def open_table(settings: Settings, uri: str, *, version: int | None = None) -> DeltaTable:
    """Open a table with delta-rs (``s3a://`` is read as ``s3://``)."""
    from deltalake import DeltaTable
    from deltalake.exceptions import TableNotFoundError

    rs_uri = to_delta_rs_uri(uri)
    try:
        return DeltaTable(rs_uri, version=version, storage_options=storage_options(settings))
    except TableNotFoundError as exc:
        raise TableError(
            f"delta-rs finds no Delta table at {uri}.",
            table=uri,
            fix="check the layer and name (`lake catalog` lists the tables), or run the job "
            "that creates it",
        ) from exc
    except OSError as exc:
        raise explain_storage_failure(exc, settings) from exc


def open_if_exists(settings: Settings, uri: str) -> DeltaTable | None:
    """:func:`open_table` at its latest version, or None when there is no table at ``uri`` yet."""
    try:
        return open_table(settings, uri)
    except TableError:
        return None


def snapshot(settings: Settings, uri: str, *, version: int | None = None) -> TableSnapshot:
    """Version, row count, columns and files of a table, read without Spark."""
    table = open_table(settings, uri, version=version)
    data = table.to_pyarrow_table()
    return TableSnapshot(
        uri=uri,
        version=int(table.version()),
        rows=int(data.num_rows),
        columns=list(data.column_names),
        data_files=len(table.file_uris()),
        log_objects=log_objects(settings, uri),
    )


def log_objects(settings: Settings, uri: str) -> list[str]:
    """Names of the ``_delta_log`` objects of a table, listed straight from the object store."""
    if settings.storage.backend == "local" or not uri.startswith("s3a://"):
        path = urlparse(uri).path
        from pathlib import Path

        log_dir = Path(path) / "_delta_log"
        return sorted(p.name for p in log_dir.iterdir()) if log_dir.is_dir() else []
    parsed = urlparse(uri)
    prefix = parsed.path.lstrip("/") + "/_delta_log/"
    client = object_client(settings)
    try:
        objects = client.list_objects(parsed.netloc, prefix=prefix, recursive=True)
        return sorted(o.object_name[len(prefix) :] for o in objects if o.object_name)
    except StorageError:
        raise
    except Exception as exc:
        raise explain_storage_failure(exc, settings) from exc
