"""Excel extracts: the sheet ``sheet`` (else the first), header on row ``header_row``.

Cells become strings (dates ``yyyy-MM-dd``, whole floats without ``.0``); a formula cell without
a cached value is kept as its formula text (``=...``), as text. That takes a second pass over the
sheet (openpyxl gives cached values or formulas, not both), made only when a worksheet of the
workbook holds a formula element at all (:func:`has_formulas`, a byte scan of the inflated
parts): an export of values is read once. A row with cells beyond the
header's width is malformed. The workbook is untrusted: its zip central directory is checked
before anything is inflated (:func:`check_zip_sizes`), so a zip bomb is refused, not expanded, and
any failure to parse it is an :class:`~ingestion.errors.ExtractError` naming the file.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ingestion.errors import ExtractError
from ingestion.readers.records import Chunk, Layout, Malformed, layout_for
from lake.contracts import Contract

# Zip bomb limits of an .xlsx, checked on the sizes its central directory declares (Python's
# zipfile never inflates an entry past its declared size: a lying directory fails its CRC).
MAX_XLSX_INFLATED_BYTES = 1 << 30
MAX_XLSX_ENTRIES = 10_000
MAX_XLSX_RATIO = 200
_RATIO_FLOOR_BYTES = 16 << 20  # small entries may compress as well as they like


def _cell(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _formula_or(value: object, formula: object) -> object:
    """The cached value of a cell; for a formula never computed, its text (``=...``)."""
    if value is not None:
        return value
    text = getattr(formula, "text", formula)  # an ArrayFormula keeps its text in .text
    return text if isinstance(text, str) and text.startswith("=") else None


# A formula element of SpreadsheetML, with or without a namespace prefix: <f>, <f t="shared"/>...
_FORMULA_ELEMENT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s/>]")


def has_formulas(path: Path) -> bool:
    """Whether any worksheet part of the workbook holds a formula element.

    Called after :func:`check_zip_sizes` (the inflated sizes are bounded). Anything unexpected
    (a part that does not inflate) answers True: the full two-pass reading then reports it.
    """
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                name = info.filename
                if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
                    continue
                with archive.open(info) as part:
                    tail = b""
                    while block := part.read(1 << 20):
                        if _FORMULA_ELEMENT.search(tail + block):
                            return True
                        tail = block[-32:]
    except Exception:  # an unreadable part: let the reader say what is wrong with it
        return True
    return False


def check_zip_sizes(path: Path) -> None:
    """Refuse an .xlsx whose zip entries would inflate beyond the limits (zip bomb).

    Only the central directory is read; nothing is inflated.

    Raises:
        ExtractError: Not a zip, too many entries, an entry or the total too large once
            inflated, or an entry compressed suspiciously well.
    """
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except Exception as exc:  # BadZipFile, NotImplementedError (zip version), EOFError...
        raise ExtractError(
            path,
            f"not a readable Excel workbook ({type(exc).__name__}); expected an .xlsx (zip).",
            fix="re-export the extract as .xlsx",
        ) from None
    fix = "re-export the extract as a plain .xlsx, or split it; ask the silo what the file holds"
    if len(entries) > MAX_XLSX_ENTRIES:
        raise ExtractError(
            path,
            f"the workbook has {len(entries)} zip entries; expected at most {MAX_XLSX_ENTRIES}.",
            fix=fix,
        )
    total = 0
    for info in entries:
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > _RATIO_FLOOR_BYTES and ratio > MAX_XLSX_RATIO:
            raise ExtractError(
                path,
                f"zip entry {info.filename!r} would inflate {info.compress_size} bytes to "
                f"{info.file_size} ({ratio:.0f}:1); expected at most {MAX_XLSX_RATIO}:1 "
                "(zip bomb?). Nothing was inflated.",
                fix=fix,
            )
        if total > MAX_XLSX_INFLATED_BYTES:
            raise ExtractError(
                path,
                f"the workbook would inflate to more than {MAX_XLSX_INFLATED_BYTES} bytes "
                f"(at entry {info.filename!r}); expected at most that (zip bomb?). Nothing "
                "was inflated.",
                fix=fix,
            )


def read_xlsx(contract: Contract, path: Path, chunk_rows: int) -> tuple[Layout, Iterator[Chunk]]:
    """The layout of an Excel extract and its chunks of at most ``chunk_rows`` records.

    Raises:
        ExtractError: A zip bomb, not a readable workbook, no such sheet, no header, or a
            broken sheet part (raised while the chunks are read).
    """
    from openpyxl import load_workbook

    check_zip_sizes(path)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
        # The same sheet with formulas, read in step: a formula without a cached value is kept
        # as its text rather than lost as an empty cell. No formula anywhere: no second pass.
        formulas = (
            load_workbook(path, read_only=True, data_only=False) if has_formulas(path) else None
        )
    except Exception as exc:  # any failure to parse an untrusted workbook: unreadable file
        raise ExtractError(
            path,
            f"not a readable Excel workbook ({type(exc).__name__}); expected an .xlsx.",
            fix="re-export the extract as .xlsx",
            source=contract.source,
        ) from None

    def close() -> None:
        workbook.close()
        if formulas is not None:
            formulas.close()

    if contract.sheet and contract.sheet not in workbook.sheetnames:
        sheets = ", ".join(workbook.sheetnames)
        close()
        raise ExtractError(
            path,
            f"no sheet {contract.sheet!r}; sheets: {sheets}.",
            fix=f"fix sheet in {contract.path}",
            source=contract.source,
        )
    try:
        data_sheet: Any = workbook[contract.sheet] if contract.sheet else workbook.worksheets[0]
        texts: Iterator[Any] = itertools.repeat(())
        if formulas is not None:
            formula_sheet: Any = (
                formulas[contract.sheet] if contract.sheet else formulas.worksheets[0]
            )
            texts = formula_sheet.iter_rows(values_only=True)
        pairs = zip(data_sheet.iter_rows(values_only=True), texts, strict=False)
    except Exception as exc:  # no worksheet at all, or a chart sheet where data was expected
        close()
        raise ExtractError(
            path,
            f"sheet {contract.sheet or 1} cannot be read ({type(exc).__name__}); expected a "
            "worksheet of data.",
            fix=f"re-export the extract, or fix sheet in {contract.path}",
            source=contract.source,
        ) from None
    number = 0

    def rows() -> Iterator[tuple[int, list[str | None]]]:
        nonlocal number
        try:
            for values, texts in pairs:
                number += 1
                yield (
                    number,
                    [
                        _cell(_formula_or(v, f))
                        for v, f in zip(values, [*texts, *[None] * len(values)], strict=False)
                    ],
                )
        except ExtractError:
            raise
        except Exception as exc:  # a broken sheet part shows up only while reading it
            close()
            raise ExtractError(
                path,
                f"row {number + 1}: the sheet cannot be read ({type(exc).__name__}: "
                f"{str(exc)[:200]}); expected a well-formed worksheet.",
                fix="re-export the extract as .xlsx",
                source=contract.source,
                line=number + 1,
            ) from None

    stream = rows()
    header: list[str] | None = None
    for row_number, row in stream:
        if row_number == contract.header_row:
            header = [(v or "").strip() for v in row]
            while header and not header[-1]:
                header.pop()
            break
    if not header:
        close()
        raise ExtractError(
            path,
            f"no header on row {contract.header_row}.",
            fix=f"check header_row in {contract.path}",
            source=contract.source,
            line=contract.header_row,
        )
    layout = layout_for(contract, header, path, line=contract.header_row)
    width = len(header)

    def chunks() -> Iterator[Chunk]:
        chunk = Chunk([], [])
        for row_number, values in stream:
            if all(v is None or not v.strip() for v in values):
                continue
            extra = [v for v in values[width:] if v is not None and v.strip()]
            if extra:
                raw = "\t".join("" if v is None else v for v in values)
                chunk.malformed.append(
                    Malformed(
                        row_number,
                        raw,
                        f"nombre de champs incorrect : cellules au-delà des {width} colonnes",
                    )
                )
                continue
            values = (values + [None] * width)[:width]
            chunk.records.append((row_number, values))
            if len(chunk.records) >= chunk_rows:
                yield chunk
                chunk = Chunk([], [])
        close()
        yield chunk

    return layout, chunks()
