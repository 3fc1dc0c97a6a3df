"""CSV extracts: one record per physical line, split with the contract's delimiter and quote.

The header is line ``header_row`` (lines above it, e.g. a title, are ignored); empty lines are not
records. A line with another field count than the header, an unterminated quote, or longer than
:data:`~ingestion.readers.text_lines.MAX_LINE_BYTES` is *malformed*, with its reason. The limit is
read from :mod:`~ingestion.readers.text_lines` at each use, so patching it there changes it here.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from ingestion.errors import ExtractError
from ingestion.readers import text_lines
from ingestion.readers.records import Chunk, Layout, Malformed, layout_for
from ingestion.readers.text_lines import Line, decoded_lines, overlong_line
from lake.contracts import Contract


def split_line(line: str, contract: Contract) -> list[str]:
    """One line's fields, split by Python's csv module (strict: a bad quote raises)."""
    # A field may be as long as a line (csv's own default stops at 128 KiB).
    if csv.field_size_limit() < text_lines.MAX_LINE_BYTES:
        csv.field_size_limit(text_lines.MAX_LINE_BYTES)
    return next(
        csv.reader([line], delimiter=contract.delimiter, quotechar=contract.quote, strict=True)
    )


def csv_reason(exc: csv.Error) -> str:
    """The quarantine reason of a line csv could not split."""
    if "unexpected end of data" in str(exc):
        return "guillemet non fermé (unterminated quote)"
    return f"ligne CSV illisible : {exc} (unreadable CSV line)"


def parse_header(contract: Contract, path: Path, line: Line) -> list[str]:
    """The delivered header's names, from the header line.

    Raises:
        ExtractError: The header line is overlong or cannot be split.
    """
    if line.overlong is not None:
        raise ExtractError(
            path,
            f"line {line.number}: the header is {line.overlong} bytes long; expected "
            f"at most {text_lines.MAX_LINE_BYTES}.",
            fix=f"check the file is a CSV extract and header_row in {contract.path}",
            source=contract.source,
            line=line.number,
        )
    try:
        return [h.strip() for h in split_line(line.text, contract)]
    except csv.Error as exc:
        raise ExtractError(
            path,
            f"line {line.number}: the header cannot be read ({exc}); expected "
            f"fields separated by {contract.delimiter!r}.",
            fix="fix the header row of the extract",
            source=contract.source,
            line=line.number,
        ) from None


def read_csv(contract: Contract, path: Path, chunk_rows: int) -> tuple[Layout, Iterator[Chunk]]:
    """The layout of a CSV extract and its chunks of at most ``chunk_rows`` records.

    Raises:
        ExtractError: The header is missing, overlong or unreadable, or a line is not in the
            contract's encoding (raised while the chunks are read).
    """
    lines = decoded_lines(contract, path)
    header: list[str] | None = None
    for line in lines:
        if line.number == contract.header_row:
            header = parse_header(contract, path, line)
            break
    if not header or header == [""]:
        raise ExtractError(
            path,
            f"no header at line {contract.header_row} (the file is empty or shorter).",
            fix=f"check header_row in {contract.path}",
            source=contract.source,
            line=contract.header_row,
        )
    layout = layout_for(contract, header, path, line=contract.header_row)
    width = len(header)

    def chunks() -> Iterator[Chunk]:
        chunk = Chunk([], [])
        for line in lines:
            if line.overlong is not None:
                chunk.malformed.append(overlong_line(line))
                continue
            text = line.text
            if not text.strip():
                continue
            try:
                values = split_line(text, contract)
            except csv.Error as exc:
                chunk.malformed.append(Malformed(line.number, text, csv_reason(exc)))
                continue
            if len(values) != width:
                chunk.malformed.append(
                    Malformed(
                        line.number,
                        text,
                        f"nombre de champs incorrect : {len(values)} au lieu de "
                        f"{width} (wrong field count)",
                    )
                )
                continue
            chunk.records.append((line.number, list(values)))
            if len(chunk.records) >= chunk_rows:
                yield chunk
                chunk = Chunk([], [])
        yield chunk

    return layout, chunks()
