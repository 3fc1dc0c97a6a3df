"""Landing files rewritten with some of their lines blanked (an erasure).

A landed object keeps its key (``landing/<source>/<sha256 of the delivery>/<name>``): the key is
the identity of the delivery, so the same file delivered again is still recognised as landed and
is not ingested a second time - the erased person does not come back through a redelivery. The
person's lines are blanked rather than removed: every other row keeps the line number bronze
records in ``_line`` (provenance stays true), the readers skip blank lines, and blanking twice
changes nothing, so an erasure interrupted after this step can simply run again.

The object's metadata says it was rewritten: ``erased-lines`` (lines blanked so far),
``erased-at`` and ``content-sha256`` (what the object now holds; ``sha256`` stays the
delivery's). Line numbers are physical lines for CSV and JSON lines (one record per line), sheet
rows for XLSX.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections.abc import Collection
from dataclasses import asdict, dataclass
from typing import Any

from lake.contracts import Contract
from lake.objects import ObjectStore


@dataclass(frozen=True)
class RewrittenFile:
    """A landing object after a rewrite (no content, only what a certificate may say)."""

    uri: str
    lines_blanked: int
    delivery_sha256: str
    sha256_before: str
    sha256_after: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def blank_text_lines(data: bytes, lines: Collection[int]) -> tuple[bytes, int]:
    """``data`` with the 1-based physical ``lines`` emptied (split on ``\n`` as the readers
    do); returns the new content and how many lines held something."""
    parts = data.split(b"\n")
    blanked = 0
    for number in sorted(set(lines)):
        if 1 <= number <= len(parts) and parts[number - 1].strip():
            parts[number - 1] = b"\r" if parts[number - 1].endswith(b"\r") else b""
            blanked += 1
    return b"\n".join(parts), blanked


def blank_xlsx_rows(data: bytes, rows: Collection[int], sheet: str | None) -> tuple[bytes, int]:
    """An XLSX workbook with the given rows of its data sheet emptied."""
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(data))
    worksheet = workbook[sheet] if sheet else workbook.worksheets[0]
    blanked = 0
    for number in sorted(set(rows)):
        if number > worksheet.max_row:
            continue
        cells = worksheet[number]
        if any(c.value not in (None, "") for c in cells):
            blanked += 1
        for cell in cells:
            cell.value = None
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue(), blanked


def blank_lines(
    store: ObjectStore, contract: Contract, uri: str, lines: Collection[int]
) -> RewrittenFile:
    """Rewrite the landing object at ``uri`` with ``lines`` blanked; metadata records it."""
    key = store.key_of(uri)
    before = store.get_bytes(key)
    info = store.stat(key)
    metadata = dict(info.metadata) if info else {}
    if contract.format == "xlsx":
        after, blanked = blank_xlsx_rows(before, lines, contract.sheet)
    else:
        after, blanked = blank_text_lines(before, lines)
    digest_before = hashlib.sha256(before).hexdigest()
    digest_after = hashlib.sha256(after).hexdigest()
    if blanked:
        metadata["erased-lines"] = str(int(metadata.get("erased-lines", "0")) + blanked)
        metadata["erased-at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        metadata["content-sha256"] = digest_after
        store.put_bytes(key, after, metadata)
    return RewrittenFile(
        uri=uri,
        lines_blanked=blanked,
        delivery_sha256=metadata.get("sha256", key.split("/")[-2]),
        sha256_before=digest_before,
        sha256_after=digest_after,
    )
