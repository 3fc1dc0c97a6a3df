"""The lease record: what a lease object holds, where it lives, and the clock it is written with.

A lease is a small JSON object ``_locks/<layer>/<name>.json`` in the lake bucket (or under
``<local_root>/_locks``). This module is its format: the :class:`LeaseRecord` written into it, the
key of a table's lease, the table a Delta URI names, and the UTC timestamps the records carry.
Everything else in :mod:`lake.leases` reads and writes these records.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass

from lake.layers import DATA_LAYERS
from lake.settings import Settings
from lake.storage import LAYERS, lake_root

LOCK_PREFIX = "_locks"
LEASED_LAYERS = DATA_LAYERS


@dataclass(frozen=True)
class LeaseRecord:
    """The content of a lease object (JSON)."""

    table: str
    run_id: str
    job: str
    user: str
    host: str
    pid: int
    acquired_at: str
    renewed_at: str
    expires_at: str
    ttl_s: float
    pid_started: str = ""
    boot_id: str = ""
    released_at: str | None = None

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> LeaseRecord:
        raw = json.loads(data)
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in raw.items() if k in known})


def lease_key(table: str) -> str:
    """``_locks/<layer>/<name>.json`` for ``table`` = ``layer/name``."""
    layer, _, name = table.partition("/")
    if layer not in LAYERS or not name or "/" in name:
        raise ValueError(f"a leased table is LAYER/NAME with LAYER in {LAYERS}; got {table!r}")
    return f"{LOCK_PREFIX}/{layer}/{name}.json"


def table_of_uri(settings: Settings, uri: str) -> str | None:
    """``layer/name`` of a table URI under the lake root, or None for anything else."""
    root = lake_root(settings).rstrip("/") + "/"
    if not uri.startswith(root):
        return None
    parts = uri[len(root) :].strip("/").split("/")
    if len(parts) != 2 or parts[0] not in LAYERS:
        return None
    return f"{parts[0]}/{parts[1]}"


def utc_now() -> dt.datetime:
    """This host's clock, in UTC (expiry itself is judged on the store's clock)."""
    return dt.datetime.now(dt.UTC)


def iso_seconds(stamp: dt.datetime) -> str:
    """``stamp`` as ISO 8601 to the second, as lease records write their times."""
    return stamp.isoformat(timespec="seconds")
