"""What the readers produce: records and malformed lines in chunks, and the header's layout.

Every reader (CSV, XLSX, JSON lines) turns a file into the same things: a :class:`Layout` (how
the delivered header maps to bronze columns: contract names, then extras under safe names) and
:class:`Chunk` objects, each a slice of well-formed records (line number, string values) and
:class:`Malformed` lines (line number, raw text, reason), in file order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ingestion.errors import ExtractError
from lake.contracts import Contract, normalise_header


@dataclass(frozen=True)
class Malformed:
    """A line that could not be split into the header's fields."""

    line: int
    raw: str
    reason: str


@dataclass
class Layout:
    """How the delivered header maps to bronze columns."""

    header: list[str]
    columns: list[str]
    extra_columns: list[str] = field(default_factory=list)
    missing_columns: list[str] = field(default_factory=list)


@dataclass
class Chunk:
    """A slice of a file: well-formed records and malformed lines, in file order."""

    records: list[tuple[int, list[str | None]]]
    malformed: list[Malformed]


def _safe_name(header: str) -> str:
    name = re.sub(r"[^0-9a-z]+", "_", normalise_header(header)).strip("_")
    return f"extra_{name or 'column'}"


def layout_for(
    contract: Contract, header: list[str], path: Path, *, line: int | None = None
) -> Layout:
    """Map a delivered header to bronze column names (contract names, then extras).

    Raises:
        ExtractError: Two delivered headers name the same contract column.
    """
    mapping = contract.header_map()
    columns: list[str] = []
    extras: list[str] = []
    where = f"line {line}, " if line is not None else ""
    for position, raw in enumerate(header, start=1):
        name = mapping.get(normalise_header(raw))
        if name is None:
            base = name = _safe_name(raw)
            suffix = 1
            while name in columns:  # "a b" and "a_b", or two empty headers
                suffix += 1
                name = f"{base}_{suffix}"
            extras.append(name)
        elif name in columns:
            raise ExtractError(
                path,
                f"{where}column {position}: header {raw!r} maps to column {name!r} twice "
                f"(already column {columns.index(name) + 1}); expected each contract column "
                "at most once.",
                fix="fix the header row of the extract",
                source=contract.source,
                line=line,
                column=position,
            )
        columns.append(name)
    missing = [c.name for c in contract.columns if c.name not in columns]
    return Layout(header=header, columns=columns, extra_columns=extras, missing_columns=missing)
