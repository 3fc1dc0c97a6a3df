"""Reading delivered extracts (CSV, XLSX, JSON lines) into string records with line numbers.

Streaming: a file is read once, in blocks or record by record, so a malformed line is caught with
its exact line number and raw text instead of failing the batch, and memory stays bounded (records
come out in chunks). Rules (also in docs/extracts.md):

- CSV: decoded with the contract's encoding; one record per physical line; the header is line
  ``header_row`` (lines above it, e.g. a title, are ignored); empty lines are not records. A line
  with another field count than the header, or an unterminated quote, is *malformed*.
- XLSX: the sheet ``sheet`` (else the first), header on row ``header_row``; cells become strings
  (dates ``yyyy-MM-dd``). A ``.xlsx`` that is not a valid workbook is an unreadable file. calamine
  reads a workbook of plain values, openpyxl the others (``xlsx_reader``'s doc says which).
- JSON: ``.jsonl``, one object per line; keys are headers; a line that is not an object is
  malformed.

Headers are mapped to contract columns (``source_name`` or ``aliases``); a delivered header that
matches no column is kept under a safe name and reported as an extra column (numbered when two
delivered headers give the same safe name).

Hostile or broken input (docs/reliability.md) never escapes as anything but :class:`ExtractError`,
which names the file, the line (or row) and what was expected; a readable file loses no line:
every non-blank line after the header is a record or a :class:`Malformed` line with its raw text.
A line longer than :data:`MAX_LINE_BYTES` is malformed (its first characters are kept, the whole
line stays in the landing copy) and is never held in memory whole. An ``.xlsx`` is checked in its
zip central directory before anything is inflated (:data:`MAX_XLSX_INFLATED_BYTES`,
:data:`MAX_XLSX_RATIO`): a zip bomb is refused, not expanded. A formula cell without a cached
value is kept as its formula text (``=...``), as text.

Modules, one reason to change each:

- ``records``: what every reader produces (:class:`Layout`, :class:`Chunk`, :class:`Malformed`)
  and the mapping of a delivered header to bronze columns (:func:`layout_for`);
- ``text_lines``: the decoded physical lines of a text file, overlong lines kept as previews;
- ``csv_native``, ``xlsx_reader``, ``jsonl_reader``: one format each. CSV is read by
  ``csv_native`` (blocks of lines split by Arrow on a few threads, the rare irregular line by
  Python's csv); ``csv_reader`` is the line-by-line reader it must agree with, line for line,
  which it uses for those irregular lines and its header.

This package opens an extract (:func:`read_extract`) and re-exports the names above, so
``from ingestion.readers import read_extract`` stays the one import callers need. A limit is
read where it is used: patch ``text_lines.MAX_LINE_BYTES`` or ``xlsx_reader.MAX_XLSX_*``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ingestion.errors import ExtractError
from ingestion.readers.csv_native import read_csv_native
from ingestion.readers.jsonl_reader import read_jsonl
from ingestion.readers.records import Chunk, Layout, Malformed, layout_for
from ingestion.readers.text_lines import MAX_LINE_BYTES, OVERLONG_PREVIEW_CHARS
from ingestion.readers.xlsx_reader import (
    MAX_XLSX_ENTRIES,
    MAX_XLSX_INFLATED_BYTES,
    MAX_XLSX_RATIO,
    check_zip_sizes,
    read_xlsx,
    read_xlsx_layout,
)
from lake.contracts import Contract

__all__ = [
    "MAX_LINE_BYTES",
    "MAX_XLSX_ENTRIES",
    "MAX_XLSX_INFLATED_BYTES",
    "MAX_XLSX_RATIO",
    "OVERLONG_PREVIEW_CHARS",
    "Chunk",
    "ExtractError",
    "Layout",
    "Malformed",
    "check_zip_sizes",
    "layout_for",
    "read_extract",
    "read_layout",
]


def read_layout(contract: Contract, path: Path) -> Layout:
    """The layout of an extract (its header mapped to the contract), reading as little as can be.

    A text file is read up to its header, as :func:`read_extract` does; an ``.xlsx`` streams its
    first rows with openpyxl (calamine would parse the whole sheet first).

    Raises:
        ExtractError: As :func:`read_extract` does for the file and its header.
    """
    if contract.format == "xlsx" and path.suffix.lower() == ".xlsx" and path.is_file():
        return read_xlsx_layout(contract, path)
    layout, chunks = read_extract(contract, path)
    close = getattr(chunks, "close", None)
    if close is not None:
        close()
    return layout


def read_extract(
    contract: Contract, path: Path, *, chunk_rows: int = 100_000
) -> tuple[Layout, Iterator[Chunk]]:
    """Open an extract; return its layout and an iterator of chunks.

    Raises:
        ExtractError: The file is missing, empty, undecodable, or has no header.
    """
    if not path.is_file():
        raise ExtractError(
            path,
            "file not found.",
            fix="check the path, or deliver the file to the inbox again",
            source=contract.source,
        )
    suffix = path.suffix.lower()
    if contract.format == "csv" and suffix in (".csv", ".txt"):
        return read_csv_native(contract, path, chunk_rows)
    if contract.format == "xlsx" and suffix == ".xlsx":
        return read_xlsx(contract, path, chunk_rows)
    if contract.format == "json" and suffix in (".jsonl", ".json"):
        return read_jsonl(contract, path, chunk_rows)
    raise ExtractError(
        path,
        f"the contract of {contract.source!r} expects {contract.format} "
        f"files; found a {suffix or 'nameless'} file.",
        fix=f"deliver a .{contract.format} file or fix {contract.path}",
        source=contract.source,
    )
