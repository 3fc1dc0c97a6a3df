"""Where a source's records can be: the one registry of every copy the lake makes of them.

A person's row delivered by ``<source>`` can sit in the landing file, the bronze, silver and
quarantine tables, their cold copies written by retention (``<archive>/<layer>/<source>``, and
``<archive>/landing/<source>/`` for landing files), the views published per audience
(``views/level-N/<layer>_<source>.csv``), the staging area of a crashed bronze attempt
(``_staging/``) and, outside the bucket, the open-data files exported
from its tables. Erasure, the access export and retention walk this list instead of naming the
prefixes themselves; a test lists every object of a lake built for real and fails when a key
that holds a source's data is under no registered prefix (``tests/lifecycle``).

Gold indicators are aggregates named by indicator, not by source: they are recomputed by the
erasure, not listed here (:data:`SHARED_PREFIXES` names them with the lake's own logs).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from lake.layers import SOURCE_LAYERS
from lake.settings import Settings

StoreKind = Literal["table", "files", "local"]
StoreRole = Literal["hot", "quarantine", "archive", "landing", "staging", "view", "opendata"]

# Prefixes of the bucket that hold no one source's rows: aggregates, the lake's own logs and
# tables (run log, quality history, lifecycle journal: counts and ids, never values), the
# table leases (lake.leases.LOCK_PREFIX).
SHARED_PREFIXES: tuple[str, ...] = ("gold/", "meta/", "_locks/")

# Parsed records staged as Parquet (``_staging/<batch>/``, lake.storage): bronze staged there
# before decision 0015 (it now streams a delivery straight into its commit), the bench's bare
# baseline still does; removed when the batch ends, a crashed attempt's left behind until the
# next one. The key names the batch, not the source, so every source's registry includes it.
STAGING_PREFIX = "_staging/"

AUDIENCES: tuple[int, ...] = (1, 2, 3, 4)


@dataclass(frozen=True)
class Store:
    """One place that can hold a source's records.

    ``key`` is a key prefix of the bucket (a Delta table's directory for ``table``, a prefix of
    plain objects for ``files``) or, for ``local``, a path outside the bucket.
    """

    kind: StoreKind
    role: StoreRole
    key: str
    layer: str = ""

    @property
    def prefix(self) -> str:
        """The key prefix every object of the store starts with (ends with ``/`` for a
        directory; a published view is one object, its key is its own prefix)."""
        if self.kind == "table":
            return self.key.rstrip("/") + "/"
        return self.key


def archive_key(settings: Settings, layer: str, source: str) -> str:
    """The key of the cold copy of ``layer/source`` (``<archive_prefix>/<layer>/<source>``)."""
    return f"{settings.lifecycle.archive_prefix}/{layer}/{source}"


def archived_landing_key(settings: Settings, landing_key: str) -> str:
    """Where retention moves a landing object (``<archive_prefix>/landing/<source>/...``)."""
    return f"{settings.lifecycle.archive_prefix}/{landing_key}"


def view_keys(source: str) -> list[str]:
    """The published views a source's tables can have (one per layer and audience), as
    :func:`lake.access_roles.view_key` names them."""
    return [f"views/level-{a}/{layer}_{source}.csv" for a in AUDIENCES for layer in SOURCE_LAYERS]


def opendata_files(settings: Settings, source: str) -> list[Path]:
    """Open-data files exported from a source's tables (default export directory)."""
    directory = settings.reports.dir / "opendata"
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.is_file() and p.name.startswith(source))


def source_stores(settings: Settings, source: str) -> list[Store]:
    """Every store that can hold ``source``'s records, hot first, then copies."""
    stores = [
        Store("files", "landing", f"landing/{source}/", "landing"),
        Store("files", "staging", STAGING_PREFIX),
    ]
    for layer in SOURCE_LAYERS:
        role: StoreRole = "quarantine" if layer == "quarantine" else "hot"
        stores.append(Store("table", role, f"{layer}/{source}", layer))
    for layer in SOURCE_LAYERS:
        stores.append(Store("table", "archive", archive_key(settings, layer, source), layer))
    stores.append(
        Store("files", "archive", archived_landing_key(settings, f"landing/{source}/"), "landing")
    )
    stores += [
        Store("files", "view", key, key.split("/")[-1].split("_")[0]) for key in view_keys(source)
    ]
    stores += [Store("local", "opendata", str(p)) for p in opendata_files(settings, source)]
    return stores


def tables(settings: Settings, source: str, *, roles: tuple[StoreRole, ...] = ()) -> list[Store]:
    """The Delta tables of :func:`source_stores` (those of ``roles`` if given)."""
    return [
        s
        for s in source_stores(settings, source)
        if s.kind == "table" and (not roles or s.role in roles)
    ]


def bucket_prefixes(settings: Settings, source: str) -> list[str]:
    """The key prefixes of the bucket where ``source``'s records can be."""
    return [s.prefix for s in source_stores(settings, source) if s.kind != "local"]
