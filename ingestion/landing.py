"""Landing (raw zone): delivered files copied once, unchanged, with their checksum.

Objects are content-addressed (``landing/<source>/<sha256>/<file name>``): the same delivery lands
once however often it is sent, and a landed object is never overwritten or modified. The checksum,
the delivery time and the source id travel as object metadata.

Delivered names are not trusted: only the last part of the name is used, reduced to letters,
digits, ``.``, ``-`` and ``_`` (``../../etc/passwd.csv`` lands as ``passwd.csv``), and the key is
checked to stay under ``landing/<source>/``; a path with a NUL byte, a name left empty, or
something that is not a regular file (a directory, a FIFO that would block the checksum) is
refused with :class:`LandingError`. Object metadata is US-ASCII, so the original name travels
percent-encoded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from ingestion.errors import LandingError
from lake.contracts import Contract
from lake.objects import ObjectStore
from lake.settings import Settings

_DATE_IN_NAME = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_KEY = re.compile(r"^landing/[a-z][a-z0-9_]*/[0-9a-f]{64}/[^/\x00]+$")
_MAX_NAME_CHARS = 200  # S3 keys stop at 1024 bytes; a file name has no business being longer


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
    """The file name as stored: no directory part, no traversal, no control characters.

    Raises:
        LandingError: Nothing usable is left of the name.
    """
    name = re.sub(r"[^\w.\-]+", "_", path.name).lstrip(".")
    if len(name) > _MAX_NAME_CHARS:  # keep the end: the extension and the delivery date
        name = name[-_MAX_NAME_CHARS:].lstrip(".")
    if not name:
        raise LandingError(
            path,
            "no usable file name (expected letters, digits, '.', '-', '_').",
            fix="rename it (letters, digits, '.', '-', '_')",
        )
    return name


def check_delivered(path: Path) -> None:
    """Refuse what cannot be landed safely, before reading a byte of it.

    Raises:
        LandingError: A NUL byte in the path, or not a regular file.
    """
    if "\x00" in str(path):
        raise LandingError(
            str(path).replace("\x00", "\\0"),
            "the path contains a NUL byte; expected a plain file name.",
            fix="rename the file (letters, digits, '.', '-', '_')",
        )
    if not path.is_file():
        found = "nothing" if not path.exists() else "not a regular file"
        raise LandingError(
            path,
            f"expected a regular file; found {found}.",
            fix="deliver a plain file into the inbox, or check the --file path",
        )


def landing_key(contract: Contract, digest: str, name: str) -> str:
    """``landing/<source>/<sha256>/<name>``, checked to stay under the landing prefix."""
    key = f"landing/{contract.source}/{digest}/{name}"
    if not _KEY.match(key) or name in (".", ".."):
        raise LandingError(
            name,
            f"the landing key {key!r} would leave landing/{contract.source}/.",
            fix="rename the file (letters, digits, '.', '-', '_')",
            source=contract.source,
        )
    return key


def land(settings: Settings, contract: Contract, path: Path) -> LandedFile:
    """Copy a delivered file to the landing zone (once) and return where it is.

    Raises:
        LandingError: The path cannot be landed (see :func:`check_delivered`).
    """
    check_delivered(path)
    name = safe_file_name(path)
    digest = sha256_of(path)
    key = landing_key(contract, digest, name)
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
            # S3 metadata is US-ASCII: "données.csv" travels as "donn%C3%A9es.csv".
            "original-name": quote(name, safe=""),
        },
    )
    return LandedFile(
        contract.source, name, uri, digest, path.stat().st_size, delivered, already_landed=False
    )
