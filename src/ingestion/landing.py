"""Landing (raw zone): delivered files copied once, unchanged, with their checksum.

Objects are content-addressed (``landing/<source>/<sha256>/<file name>``): the same delivery lands
once however often it is sent, and a landed object is never overwritten or modified. The checksum,
the delivery time and the source id travel as object metadata.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from lake.contracts import Contract
from lake.errors import LakeError
from lake.objects import ObjectStore
from lake.settings import Settings

_DATE_IN_NAME = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


@dataclass(frozen=True)
class LandedFile:
    """A delivered file, as the landing zone holds it."""

    source: str
    name: str
    uri: str
    sha256: str
    size: int
    delivered_at: dt.datetime
    already_landed: bool


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def delivery_time(path: Path) -> dt.datetime:
    """When the silo delivered the file: the date in its name (``..._2026-01-15.csv``), else its
    modification time."""
    match = _DATE_IN_NAME.search(path.name)
    if match:
        try:
            year, month, day = (int(g) for g in match.groups())
            return dt.datetime(year, month, day, tzinfo=dt.UTC)
        except ValueError:
            pass
    return dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC)


def safe_file_name(path: Path) -> str:
    """The file name as stored: no directory part, no traversal, no control characters."""
    name = re.sub(r"[^\w.\-]+", "_", path.name).lstrip(".")
    if not name:
        raise LakeError(
            f"Delivered file {path} has no usable name.",
            fix="rename it (letters, digits, '.', '-', '_')",
        )
    return name


def land(settings: Settings, contract: Contract, path: Path) -> LandedFile:
    """Copy a delivered file to the landing zone (once) and return where it is."""
    digest = sha256_of(path)
    name = safe_file_name(path)
    key = f"landing/{contract.source}/{digest}/{name}"
    store = ObjectStore(settings)
    delivered = delivery_time(path)
    existing = store.stat(key)
    if existing is not None:
        return LandedFile(
            contract.source,
            name,
            existing.uri,
            digest,
            existing.size,
            delivered,
            already_landed=True,
        )
    uri = store.put_file(
        key,
        path,
        {
            "sha256": digest,
            "source": contract.source,
            "delivered-at": delivered.isoformat(),
            "original-name": name,
        },
    )
    return LandedFile(
        contract.source, name, uri, digest, path.stat().st_size, delivered, already_landed=False
    )
