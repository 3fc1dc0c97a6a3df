"""Excel extracts: the sheet ``sheet`` (else the first), header on row ``header_row``.

Cells become strings (dates ``yyyy-MM-dd``, whole floats without ``.0``); a formula cell without
a cached value is kept as its formula text (``=...``), as text. A row with cells beyond the
header's width is malformed. The workbook is untrusted: its zip central directory is checked
before anything is inflated (:func:`check_zip_sizes`), so a zip bomb is refused, not expanded, and
any failure to parse it is an :class:`~ingestion.errors.ExtractError` naming the file.

Two engines read the cells, chosen per workbook after one byte scan of its inflated XML parts
(:func:`scan_worksheets`):

- **calamine** (``python-calamine``, Rust), about ten times faster than openpyxl, for a workbook
  of plain values: the usual export, and the bench's. It reads the whole sheet into memory, so it
  is used only while the workbook's XML parts inflate to at most :data:`MAX_CALAMINE_SHEET_BYTES`.
- **openpyxl** (streaming, read-only) for everything else: a sheet larger than that (memory stays
  bounded), and the cells calamine would not give back as openpyxl did - a formula (openpyxl
  gives cached values or formulas, not both, so a second pass keeps the text of a formula never
  computed), an error cell (``#N/A`` kept as its text; calamine gives an empty cell), an
  integer beyond 2**53 (openpyxl keeps its digits exactly; calamine reads a double), a
  date-styled number outside Excel's dates (openpyxl: a date before 1900 or ``#VALUE!``;
  calamine: a time or a number), and a built-in locale date format (ids 27-36, 50-58: dates for
  calamine, numbers for openpyxl). The last two are found with the workbook's styles part.

The two agree cell for cell on every other workbook: ``tests/ingestion/test_xlsx_engines.py``
generates messy ones (typed cells, dates, gaps, offsets, malformed rows) and compares them.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
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
# calamine holds the whole sheet in memory (about its XML's size): above this, openpyxl streams.
MAX_CALAMINE_SHEET_BYTES = 256 << 20


def _cell(value: object) -> str | None:
    if value is None:
        return None
    if value.__class__ is float:  # the usual number first (calamine gives every number so)
        number: float = value
        return str(int(number)) if number.is_integer() else str(number)
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


# What only openpyxl gives back as delivered, found in the worksheet XML (any namespace prefix):
# a formula element <f>, an error cell (t="e"), an integer a double cannot hold exactly in a <v>.
# Each has a cheap first pattern (a literal the regex engine finds fast); the exact one runs only
# on a block where the cheap one matched: a scan of plain values costs about one inflate.
_PREFIX = rb"(?:[A-Za-z_][\w.-]*:)?"
_FORMULA_ELEMENT = re.compile(rb"<" + _PREFIX + rb"f[\s/>]")
_ERROR_HINT = re.compile(rb"t\s*=\s*[\"']e[\"']")
_ERROR_CELL = re.compile(rb"<" + _PREFIX + rb"c\s[^<>]*\bt\s*=\s*[\"']e[\"']")
_LONG_HINT = re.compile(rb"v>\s*[+-]?\d{16}")
_LONG_NUMBER = re.compile(rb"<" + _PREFIX + rb"v>\s*[+-]?(\d{16,})(?![\d.eE])")
_EXACT_IN_A_DOUBLE = 2**53  # every integer up to this is a double exactly
# A date-styled cell outside Excel's dates - negative, or past 9999-12-31 - is a date before the
# epoch or "#VALUE!" for openpyxl, a time or a number for calamine. Cheap hints (a negative
# number, 7 digits or more before the point, a positive exponent) find the blocks where such a
# number may be; there, each numeric cell's style and value are read (_CELL_VALUE), and only a
# cell whose style is a date style counts. 9999-12-31 is serial 2,958,465 in the 1900 system and
# 2,957,003 in the 1904 one: the lower limit serves both (a cautious answer).
_NEGATIVE_HINT = re.compile(rb"v>\s*-")
_LARGE_HINT = re.compile(rb"v>\s*\+?(?:\d{7}|[\d.]+[eE]\+?\d)")  # or 1E+16, 2.5e7...
_CELL_VALUE = re.compile(
    rb"<" + _PREFIX + rb"c((?:\s[^<>]*)?)>\s*<" + _PREFIX + rb"v>\s*([^<]*?)\s*<"
)
_STYLE_ATTR = re.compile(rb"\bs\s*=\s*[\"'](\d+)[\"']")
_TYPE_ATTR = re.compile(rb"\bt\s*=\s*[\"'](\w*)[\"']")
_LAST_DATE_SERIAL = 2_958_465 - 1_462  # 9999-12-31 in the 1904 system (1900: 2,958,465)
# Built-in number formats that calamine reads as dates and openpyxl does not know (locale dates).
_LOCALE_DATE_FORMAT_IDS = frozenset({*range(27, 37), *range(50, 59)})


def _outside_dates(buffer: bytes, date_styles: frozenset[int]) -> bool:
    """Whether a numeric cell of ``buffer`` with a date style holds no date Excel can show."""
    for match in _CELL_VALUE.finditer(buffer):
        attributes, text = match[1], match[2]
        kind = _TYPE_ATTR.search(attributes)
        if kind is not None and kind[1] not in (b"n", b""):
            continue  # a string's index, a boolean, an error: not a number
        style = _STYLE_ATTR.search(attributes)
        if (int(style[1]) if style else 0) not in date_styles:
            continue
        try:
            value = float(text)
        except ValueError:
            return True  # not a number where one is expected: let openpyxl say what it is
        if not 0 <= value <= _LAST_DATE_SERIAL:
            return True
    return False


def _markers(buffer: bytes, date_styles: frozenset[int] = frozenset()) -> set[str]:
    found = set()
    if _FORMULA_ELEMENT.search(buffer):
        found.add("formula")
    if _ERROR_HINT.search(buffer) and _ERROR_CELL.search(buffer):
        found.add("error")
    if _LONG_HINT.search(buffer) and any(
        int(m[1]) > _EXACT_IN_A_DOUBLE for m in _LONG_NUMBER.finditer(buffer)
    ):
        found.add("long_number")
    if (
        date_styles
        and (_NEGATIVE_HINT.search(buffer) or _LARGE_HINT.search(buffer))
        and _outside_dates(buffer, date_styles)
    ):
        found.add("date_out_of_range")
    return found


def _date_styles(archive: zipfile.ZipFile) -> tuple[frozenset[int], bool]:
    """The cell styles with a date format, as openpyxl sees them, and whether a locale date
    format is used (``numFmtId`` 27-36 or 50-58: dates for calamine, unknown to openpyxl).

    A style is its index in ``cellXfs`` (a cell's ``s``); openpyxl's own test of a format
    decides what a date is. A styles part that cannot be read makes every style a date style
    (the cautious answer).
    """
    from xml.etree import ElementTree

    from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format

    # xl/styles.xml by convention; any part named so, wherever the workbook keeps it
    parts = [n for n in archive.namelist() if n.lower().endswith("styles.xml")]
    dates: set[int] = set()
    locale = False
    for part in parts:
        try:
            root = ElementTree.fromstring(archive.read(part))
        except Exception:
            return frozenset(range(_MAX_STYLES)), False
        custom = {
            el.get("numFmtId"): el.get("formatCode") or ""
            for el in root.iter()
            if el.tag.rsplit("}", 1)[-1] == "numFmt"
        }
        for xfs in (el for el in root.iter() if el.tag.rsplit("}", 1)[-1] == "cellXfs"):
            for index, xf in enumerate(xfs):
                ident = xf.get("numFmtId") or "0"
                code = custom.get(ident)
                if code is None and ident.isdigit():
                    if int(ident) in _LOCALE_DATE_FORMAT_IDS:
                        locale = True
                        continue
                    code = BUILTIN_FORMATS.get(int(ident))
                if code and is_date_format(code):
                    dates.add(index)
    return frozenset(dates), locale  # no styles part: every cell is General


_MAX_STYLES = 65_490  # Excel's limit of cell formats per workbook


_SCAN_OVERLAP = 512  # a marker split across two blocks is found in the overlap


@dataclass(frozen=True)
class WorksheetScan:
    """What one byte scan of a workbook's XML parts found.

    ``markers``: ``formula``, ``error``, ``long_number`` (see :func:`_markers`),
    ``date_out_of_range`` (a number with a date style that is no date Excel can show),
    ``locale_date`` (a built-in locale date format), or ``unreadable`` when a part does not
    inflate (the openpyxl reading then says what is wrong).
    ``inflated``: the XML parts' total inflated size, in bytes.
    """

    markers: frozenset[str]
    inflated: int

    @property
    def engine(self) -> str:
        """``calamine`` for a workbook of plain values small enough to hold; else ``openpyxl``."""
        if self.markers or self.inflated > MAX_CALAMINE_SHEET_BYTES:
            return "openpyxl"
        return "calamine"


def scan_worksheets(path: Path) -> WorksheetScan:
    """Scan the inflated XML parts once for what decides the engine (see the module doc).

    Every ``.xml`` part is read, not only ``xl/worksheets/``: a workbook may keep its sheets
    under another name (its relationships say where), and a marker found in another part (a
    chart's ``<c:f>``) only sends the workbook to openpyxl, never the wrong way. Shared strings
    count in ``inflated``: calamine holds them too. Called after :func:`check_zip_sizes` (the
    inflated sizes are bounded).
    """
    found: set[str] = set()
    inflated = 0
    try:
        with zipfile.ZipFile(path) as archive:
            date_styles, locale = _date_styles(archive)
            if locale:
                found.add("locale_date")
            for info in archive.infolist():
                name = info.filename
                if not name.lower().endswith(".xml"):
                    continue
                inflated += info.file_size
                with archive.open(info) as part:
                    tail = b""
                    while block := part.read(1 << 20):
                        found |= _markers(tail + block, date_styles)
                        if "formula" in found:  # openpyxl in two passes: nothing more to learn
                            return WorksheetScan(frozenset(found), inflated)
                        tail = block[-_SCAN_OVERLAP:]
    except Exception:  # an unreadable part: let the reader say what is wrong with it
        found.add("unreadable")
    return WorksheetScan(frozenset(found), inflated)


def has_formulas(path: Path) -> bool:
    """Whether any XML part of the workbook holds a formula element.

    Anything unexpected (a part that does not inflate) answers True: the full two-pass reading
    then reports it.
    """
    return bool(scan_worksheets(path).markers & {"formula", "unreadable"})


def check_zip_sizes(path: Path) -> None:
    """Refuse an .xlsx whose zip entries would inflate beyond the limits (zip bomb).

    Only the central directory is read; nothing is inflated.

    Raises:
        ExtractError: Not a zip, too many entries, an entry or the total too large once
            inflated, or an entry compressed suspiciously well.
    """

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


Rows = Iterator[tuple[int, list[str | None]]]


def _unreadable(contract: Contract, path: Path, exc: BaseException) -> ExtractError:
    return ExtractError(
        path,
        f"not a readable Excel workbook ({type(exc).__name__}); expected an .xlsx.",
        fix="re-export the extract as .xlsx",
        source=contract.source,
    )


def _no_such_sheet(contract: Contract, path: Path, sheets: list[str]) -> ExtractError:
    return ExtractError(
        path,
        f"no sheet {contract.sheet!r}; sheets: {', '.join(sheets)}.",
        fix=f"fix sheet in {contract.path}",
        source=contract.source,
    )


def _sheet_unreadable(contract: Contract, path: Path, exc: BaseException) -> ExtractError:
    return ExtractError(
        path,
        f"sheet {contract.sheet or 1} cannot be read ({type(exc).__name__}); expected a "
        "worksheet of data.",
        fix=f"re-export the extract, or fix sheet in {contract.path}",
        source=contract.source,
    )


def _broken_row(contract: Contract, path: Path, number: int, exc: BaseException) -> ExtractError:
    return ExtractError(
        path,
        f"row {number}: the sheet cannot be read ({type(exc).__name__}: {str(exc)[:200]}); "
        "expected a well-formed worksheet.",
        fix="re-export the extract as .xlsx",
        source=contract.source,
        line=number,
    )


def _only_errors(exc: BaseException) -> None:
    """Re-raise an interruption; a Rust panic (pyo3's PanicException) is a failure to read."""
    if not isinstance(exc, Exception) and type(exc).__name__ != "PanicException":
        raise exc


def _openpyxl_rows(
    contract: Contract, path: Path, formulas: bool
) -> tuple[Rows, Callable[[], None]]:
    """The sheet's rows, streamed by openpyxl: (row number from 1, cells as strings)."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
        # The same sheet with formulas, read in step: a formula without a cached value is kept
        # as its text rather than lost as an empty cell. No formula anywhere: no second pass.
        formula_book = load_workbook(path, read_only=True, data_only=False) if formulas else None
    except Exception as exc:  # any failure to parse an untrusted workbook: unreadable file
        raise _unreadable(contract, path, exc) from None

    def close() -> None:
        workbook.close()
        if formula_book is not None:
            formula_book.close()

    if contract.sheet and contract.sheet not in workbook.sheetnames:
        close()
        raise _no_such_sheet(contract, path, workbook.sheetnames)
    try:
        data_sheet: Any = workbook[contract.sheet] if contract.sheet else workbook.worksheets[0]
        texts: Iterator[Any] = itertools.repeat(())
        if formula_book is not None:
            formula_sheet: Any = (
                formula_book[contract.sheet] if contract.sheet else formula_book.worksheets[0]
            )
            texts = formula_sheet.iter_rows(values_only=True)
        pairs = zip(data_sheet.iter_rows(values_only=True), texts, strict=False)
    except Exception as exc:  # no worksheet at all, or a chart sheet where data was expected
        close()
        raise _sheet_unreadable(contract, path, exc) from None

    def rows() -> Rows:
        number = 0
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
        except Exception as exc:  # a broken sheet part shows up only while reading it
            close()
            raise _broken_row(contract, path, number + 1, exc) from None

    return rows(), close


def _calamine_rows(contract: Contract, path: Path) -> tuple[Rows, Callable[[], None]]:
    """The sheet's rows, read by calamine: (row number from 1, cells as strings).

    calamine parses the whole sheet when it is opened (a broken part fails here, not while the
    rows are read); its rows start at row 1 but at the sheet's first used column, so the
    columns before it are put back as empty cells. An empty cell comes back as ``""``: None.
    """
    from python_calamine import CalamineWorkbook, SheetTypeEnum

    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except BaseException as exc:
        _only_errors(exc)
        raise _unreadable(contract, path, exc) from None
    close = workbook.close
    if contract.sheet and contract.sheet not in workbook.sheet_names:
        sheets = list(workbook.sheet_names)
        close()
        raise _no_such_sheet(contract, path, sheets)
    try:
        name = contract.sheet or next(
            m.name for m in workbook.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet
        )
        sheet = workbook.get_sheet_by_name(name)
    except BaseException as exc:  # no worksheet at all, a chart sheet, or a broken sheet part
        _only_errors(exc)
        close()
        raise _sheet_unreadable(contract, path, exc) from None
    before: list[str | None] = [None] * (sheet.start[1] if sheet.start else 0)

    def rows() -> Rows:
        number = 0
        try:
            for values in sheet.iter_rows():
                number += 1
                # a string as it is ("" is an empty cell), anything else through _cell
                yield (
                    number,
                    before + [(v or None) if v.__class__ is str else _cell(v) for v in values],
                )
        except BaseException as exc:
            _only_errors(exc)
            close()
            raise _broken_row(contract, path, number + 1, exc) from None

    return rows(), close


def _layout(contract: Contract, path: Path, stream: Rows, close: Callable[[], None]) -> Layout:
    """Read ``stream`` up to the header row; its layout (the rows after it stay in ``stream``).

    Raises:
        ExtractError: No header on the contract's header row (``close`` is called first).
    """
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
    return layout_for(contract, header, path, line=contract.header_row)


def read_xlsx_layout(contract: Contract, path: Path) -> Layout:
    """The layout of an Excel extract, from its first rows only (landing checks the header).

    openpyxl streams the rows up to the header, in two passes so that a formula in the header
    is its text as in :func:`read_xlsx` (a few milliseconds: nothing after the header is
    parsed, no scan); both engines give the same layout (tests/ingestion/test_xlsx_engines.py).

    Raises:
        ExtractError: As :func:`read_xlsx` does for the file and its header.
    """
    check_zip_sizes(path)
    stream, close = _openpyxl_rows(contract, path, formulas=True)
    try:
        return _layout(contract, path, stream, close)
    finally:
        close()


def read_xlsx(
    contract: Contract, path: Path, chunk_rows: int, *, engine: str | None = None
) -> tuple[Layout, Iterator[Chunk]]:
    """The layout of an Excel extract and its chunks of at most ``chunk_rows`` records.

    ``engine`` forces ``calamine`` or ``openpyxl`` (the tests compare them); by default the
    scan of the worksheets chooses (see the module doc).

    Raises:
        ExtractError: A zip bomb, not a readable workbook, no such sheet, no header, or a
            broken sheet part (raised while the chunks are read).
    """
    check_zip_sizes(path)
    scan = scan_worksheets(path)
    if (engine or scan.engine) == "calamine":
        stream, close = _calamine_rows(contract, path)
    else:
        stream, close = _openpyxl_rows(
            contract, path, formulas=bool(scan.markers & {"formula", "unreadable"})
        )

    layout = _layout(contract, path, stream, close)
    width = len(layout.header)

    def chunks() -> Iterator[Chunk]:
        chunk = Chunk([], [])
        for row_number, values in stream:
            if all(v is None or not v.strip() for v in values):
                continue
            extra = [v for v in values[width:] if v is not None and v.strip()]
            if extra:
                # The row's cells up to its last one (not the sheet's width): one raw text
                # whichever engine read it.
                last = max(i for i, v in enumerate(values) if v) + 1
                raw = "\t".join("" if v is None else v for v in values[:last])
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
