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
from typing import TYPE_CHECKING

from ingestion.errors import ExtractError
from lake.contracts import Contract, normalise_header

if TYPE_CHECKING:
    import pyarrow as pa


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


class Chunk:
    """A slice of a file: well-formed records and malformed lines, in file order.

    A reader fills ``records`` (line number, values) or, for the native CSV reader, gives the
    records as one Arrow table (``_line`` then one string column per bronze column): then
    ``records`` is built from it on first use and :meth:`table` returns it without copying.
    """

    def __init__(
        self,
        records: list[tuple[int, list[str | None]]] | None = None,
        malformed: list[Malformed] | None = None,
        *,
        table: pa.Table | None = None,
    ) -> None:
        self._records = records if records is not None or table is not None else []
        self.malformed: list[Malformed] = malformed if malformed is not None else []
        self._table = table

    @property
    def records(self) -> list[tuple[int, list[str | None]]]:
        """The well-formed records: (physical line number, string values)."""
        if self._records is None:
            assert self._table is not None
            columns = self._table.to_pydict()
            lines = columns.pop("_line")
            values = list(columns.values())
            self._records = [(line, [col[i] for col in values]) for i, line in enumerate(lines)]
        return self._records

    @property
    def row_count(self) -> int:
        """How many well-formed records the chunk holds."""
        return self._table.num_rows if self._table is not None else len(self.records)

    def table(self, columns: list[str]) -> pa.Table:
        """The records as an Arrow table: ``_line`` (int64) then ``columns`` (strings)."""
        import pyarrow as pa

        if self._table is not None:
            return self._table
        schema = pa.schema([("_line", pa.int64())] + [(c, pa.string()) for c in columns])
        records = self.records
        by_column = (
            list(zip(*(values for _, values in records), strict=False))
            if records
            else [()] * len(columns)
        )
        arrays = [pa.array([line for line, _ in records], pa.int64())] + [
            pa.array(list(col), pa.string()) for col in by_column
        ]
        return pa.Table.from_arrays(arrays, schema=schema)


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
