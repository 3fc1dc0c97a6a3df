"""Traces of one person in the objects themselves, independently of Delta's current version.

Every object under a store of :func:`lake.copies.source_stores` is read as it is stored: Delta
logs and checkpoints as text (the ``add`` actions carry per-file minimum and maximum values),
Parquet files decoded (data files of every version, checkpoints), XLSX sheets cell by cell,
anything else as text (UTF-8, then Latin-1). A text (a line, a row) holds the person when it
holds one of their identifiers (business key, pseudonym: whole words), or every value of a group
of criteria that names them only together (name, first name and birth date). What erasure
reports and removes is checked against this scan: "nothing to erase" means that it found
nothing, and the certificate gives its counts before and after - never the values.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lake.copies import Store
from lake.objects import ObjectStore


@dataclass(frozen=True)
class Needles:
    """What identifies the person in a text (kept in memory only)."""

    identifiers: frozenset[str] = frozenset()
    together: tuple[tuple[str, ...], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.identifiers or self.together)

    def _patterns(self) -> list[re.Pattern[str]]:
        return [
            re.compile(r"(?<![0-9A-Za-z])" + re.escape(n) + r"(?![0-9A-Za-z])")
            for n in sorted(self.identifiers)
            if n
        ]

    def held_by(self, texts: Iterable[str]) -> bool:
        patterns = self._patterns()
        for text in texts:
            if any(p.search(text) for p in patterns):
                return True
            if any(group and all(part in text for part in group) for group in self.together):
                return True
        return False


@dataclass
class StoreTraces:
    """What a scan found in one store (counts and object keys; keys name no person)."""

    store: Store
    objects: int = 0
    holding: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "store": self.store.prefix,
            "kind": self.store.kind,
            "role": self.store.role,
            "objects_scanned": self.objects,
            "objects_holding_the_person": len(self.holding),
        }


def texts_of(name: str, data: bytes) -> list[str]:
    """The texts of one stored object: its lines, and its rows when it is Parquet or XLSX."""
    texts: list[str] = []
    if name.endswith(".parquet"):
        import pyarrow.parquet as pq

        rows = pq.read_table(io.BytesIO(data)).to_pylist()
        texts += [json.dumps(r, default=str, ensure_ascii=False) for r in rows]
    elif name.endswith(".xlsx"):
        from openpyxl import load_workbook

        workbook = load_workbook(io.BytesIO(data), read_only=True)
        for sheet in workbook.worksheets:
            for row in sheet.iter_rows(values_only=True):
                texts.append("\t".join("" if v is None else str(v) for v in row))
        return texts
    text = data.decode("utf-8", "replace")
    texts += text.split("\n")
    if "\ufffd" in text:
        texts += data.decode("latin-1").split("\n")
    return texts


def scan(store: ObjectStore, stores: Sequence[Store], needles: Needles) -> list[StoreTraces]:
    """Where the person appears, object by object, in each of ``stores``."""
    found = []
    for entry in stores:
        traces = StoreTraces(entry)
        if entry.kind == "local":
            path = Path(entry.key)
            keys = [str(path)] if path.is_file() else []
        else:
            keys = [k for k in store.list_keys(entry.prefix) if k.startswith(entry.prefix)]
        for key in keys:
            data = Path(key).read_bytes() if entry.kind == "local" else store.get_bytes(key)
            traces.objects += 1
            if needles and needles.held_by(texts_of(key, data)):
                traces.holding.append(key)
        found.append(traces)
    return found


def total(traces: Sequence[StoreTraces]) -> int:
    """How many objects hold the person."""
    return sum(len(t.holding) for t in traces)
