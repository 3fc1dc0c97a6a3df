"""Reading delivered extracts (CSV, XLSX, JSON lines) into string records with line numbers.

Pure Python, streaming: a file is read once, record by record, so a malformed line is caught with
its exact line number and raw text instead of failing the batch, and memory stays bounded (records
come out in chunks). Rules (also in docs/extracts.md):

- CSV: decoded with the contract's encoding; one record per physical line; the header is line
  ``header_row`` (lines above it, e.g. a title, are ignored); empty lines are not records. A line
  with another field count than the header, or an unterminated quote, is *malformed*.
- XLSX: the sheet ``sheet`` (else the first), header on row ``header_row``; cells become strings
  (dates ``yyyy-MM-dd``). A ``.xlsx`` that is not a valid workbook is an unreadable file.
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
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lake.contracts import Contract, normalise_header
from lake.errors import LakeError

# A delivered line longer than this is malformed: no silo writes megabyte lines, and reading one
# whole would let a single line exhaust the driver's memory.
MAX_LINE_BYTES = 1 << 20
# What a malformed overlong line keeps of its text (the whole line stays in the landing copy).
OVERLONG_PREVIEW_CHARS = 4096
# Zip bomb limits of an .xlsx, checked on the sizes its central directory declares (Python's
# zipfile never inflates an entry past its declared size: a lying directory fails its CRC).
MAX_XLSX_INFLATED_BYTES = 1 << 30
MAX_XLSX_ENTRIES = 10_000
MAX_XLSX_RATIO = 200
_RATIO_FLOOR_BYTES = 16 << 20  # small entries may compress as well as they like


class ExtractError(LakeError):
    """A delivered file cannot be read at all (not a malformed line: the whole file).

    Attributes:
        path: The file.
    """

    def __init__(self, path: Path, message: str, *, fix: str | None = None) -> None:
        self.path = path
        super().__init__(f"{path}: {message}", fix=fix)


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
            )
        columns.append(name)
    missing = [c.name for c in contract.columns if c.name not in columns]
    return Layout(header=header, columns=columns, extra_columns=extras, missing_columns=missing)


def read_extract(
    contract: Contract, path: Path, *, chunk_rows: int = 100_000
) -> tuple[Layout, Iterator[Chunk]]:
    """Open an extract; return its layout and an iterator of chunks.

    Raises:
        ExtractError: The file is missing, empty, undecodable, or has no header.
    """
    if not path.is_file():
        raise ExtractError(path, "file not found.")
    suffix = path.suffix.lower()
    if contract.format == "csv" and suffix in (".csv", ".txt"):
        return _read_csv(contract, path, chunk_rows)
    if contract.format == "xlsx" and suffix == ".xlsx":
        return _read_xlsx(contract, path, chunk_rows)
    if contract.format == "json" and suffix in (".jsonl", ".json"):
        return _read_jsonl(contract, path, chunk_rows)
    raise ExtractError(
        path,
        f"the contract of {contract.source!r} expects {contract.format} "
        f"files; found a {suffix or 'nameless'} file.",
        fix=f"deliver a .{contract.format} file or fix {contract.path}",
    )


@dataclass(frozen=True)
class _Line:
    number: int
    text: str
    # Bytes of a line longer than MAX_LINE_BYTES (its text is then only a preview), else None.
    overlong: int | None = None


def _decoded_lines(contract: Contract, path: Path) -> Iterator[_Line]:
    """Physical lines (split on LF), decoded, without their line end; bounded memory."""
    with open(path, "rb") as handle:
        number = 0
        while True:
            raw = handle.readline(MAX_LINE_BYTES + 1)
            if not raw:
                return
            number += 1
            if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                first, size = raw, len(raw)
                while not raw.endswith(b"\n"):  # skip the rest of the line, block by block
                    raw = handle.readline(MAX_LINE_BYTES)
                    if not raw:
                        break
                    size += len(raw)
                head = first[: OVERLONG_PREVIEW_CHARS * 4].decode(contract.encoding, "replace")
                if number == 1:
                    head = head.removeprefix("\ufeff")
                size -= raw.endswith(b"\n")  # the line end is not part of the line
                yield _Line(number, head[:OVERLONG_PREVIEW_CHARS], overlong=size)
                continue
            try:
                text = raw.decode(contract.encoding)
            except UnicodeDecodeError as exc:
                raise ExtractError(
                    path,
                    f"line {number}, byte {exc.start + 1}: not valid {contract.encoding} "
                    f"(found byte 0x{raw[exc.start]:02x}).",
                    fix=f"check the encoding declared in {contract.path} (encoding: "
                    f"{contract.encoding})",
                ) from None
            if number == 1 and text.startswith("\ufeff"):
                text = text[1:]
            yield _Line(number, text.rstrip("\r\n"))


def _split(line: str, contract: Contract) -> list[str]:
    # A field may be as long as a line (csv's own default stops at 128 KiB).
    if csv.field_size_limit() < MAX_LINE_BYTES:
        csv.field_size_limit(MAX_LINE_BYTES)
    return next(
        csv.reader([line], delimiter=contract.delimiter, quotechar=contract.quote, strict=True)
    )


def _csv_reason(exc: csv.Error) -> str:
    if "unexpected end of data" in str(exc):
        return "guillemet non fermé (unterminated quote)"
    return f"ligne CSV illisible : {exc} (unreadable CSV line)"


def _overlong(line: _Line) -> Malformed:
    return Malformed(
        line.number,
        line.text,
        f"ligne trop longue : {line.overlong} octets, au plus {MAX_LINE_BYTES} "
        f"(line too long; the {OVERLONG_PREVIEW_CHARS} first characters are kept)",
    )


def _read_csv(contract: Contract, path: Path, chunk_rows: int) -> tuple[Layout, Iterator[Chunk]]:
    lines = _decoded_lines(contract, path)
    header: list[str] | None = None
    for line in lines:
        if line.number == contract.header_row:
            if line.overlong is not None:
                raise ExtractError(
                    path,
                    f"line {line.number}: the header is {line.overlong} bytes long; expected "
                    f"at most {MAX_LINE_BYTES}.",
                    fix=f"check the file is a CSV extract and header_row in {contract.path}",
                )
            try:
                header = [h.strip() for h in _split(line.text, contract)]
            except csv.Error as exc:
                raise ExtractError(
                    path,
                    f"line {line.number}: the header cannot be read ({exc}); expected "
                    f"fields separated by {contract.delimiter!r}.",
                    fix="fix the header row of the extract",
                ) from None
            break
    if not header or header == [""]:
        raise ExtractError(
            path,
            f"no header at line {contract.header_row} (the file is empty or shorter).",
            fix=f"check header_row in {contract.path}",
        )
    layout = layout_for(contract, header, path, line=contract.header_row)
    width = len(header)

    def chunks() -> Iterator[Chunk]:
        chunk = Chunk([], [])
        for line in lines:
            if line.overlong is not None:
                chunk.malformed.append(_overlong(line))
                continue
            text = line.text
            if not text.strip():
                continue
            try:
                values = _split(text, contract)
            except csv.Error as exc:
                chunk.malformed.append(Malformed(line.number, text, _csv_reason(exc)))
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


def _read_xlsx(contract: Contract, path: Path, chunk_rows: int) -> tuple[Layout, Iterator[Chunk]]:
    from openpyxl import load_workbook

    check_zip_sizes(path)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
        # The same sheet with formulas, read in step: a formula without a cached value is kept
        # as its text rather than lost as an empty cell.
        formulas = load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # any failure to parse an untrusted workbook: unreadable file
        raise ExtractError(
            path,
            f"not a readable Excel workbook ({type(exc).__name__}); expected an .xlsx.",
            fix="re-export the extract as .xlsx",
        ) from None

    def close() -> None:
        workbook.close()
        formulas.close()

    if contract.sheet and contract.sheet not in workbook.sheetnames:
        sheets = ", ".join(workbook.sheetnames)
        close()
        raise ExtractError(
            path,
            f"no sheet {contract.sheet!r}; sheets: {sheets}.",
            fix=f"fix sheet in {contract.path}",
        )
    try:
        data_sheet: Any = workbook[contract.sheet] if contract.sheet else workbook.worksheets[0]
        formula_sheet: Any = formulas[contract.sheet] if contract.sheet else formulas.worksheets[0]
        pairs = zip(
            data_sheet.iter_rows(values_only=True),
            formula_sheet.iter_rows(values_only=True),
            strict=False,
        )
    except Exception as exc:  # no worksheet at all, or a chart sheet where data was expected
        close()
        raise ExtractError(
            path,
            f"sheet {contract.sheet or 1} cannot be read ({type(exc).__name__}); expected a "
            "worksheet of data.",
            fix=f"re-export the extract, or fix sheet in {contract.path}",
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


def _json_line(line: _Line) -> tuple[dict[str, object] | None, Malformed | None]:
    """A JSON line as an object, or why it is malformed."""
    if line.overlong is not None:
        return None, _overlong(line)
    try:
        obj = json.loads(line.text)
    except (ValueError, RecursionError):  # bad JSON, 4300+ digit numbers, deep nesting
        return None, Malformed(line.number, line.text, "ligne JSON illisible (invalid JSON)")
    if not isinstance(obj, dict):
        return None, Malformed(line.number, line.text, "ligne JSON qui n'est pas un objet")
    return obj, None


def _read_jsonl(contract: Contract, path: Path, chunk_rows: int) -> tuple[Layout, Iterator[Chunk]]:
    lines = _decoded_lines(contract, path)
    first: tuple[int, dict[str, object]] | None = None
    pending: list[Malformed] = []
    for line in lines:
        if line.overlong is None and not line.text.strip():
            continue
        obj, bad = _json_line(line)
        if obj is not None and not obj:
            bad = Malformed(line.number, line.text, "objet JSON sans clé (empty object)")
        if bad is not None:
            pending.append(bad)
            continue
        assert obj is not None
        first = (line.number, obj)
        break
    if first is None:
        raise ExtractError(
            path,
            "no JSON object in the file (it is empty or unreadable); expected one JSON object "
            "per line"
            + (
                f", found {len(pending)} unreadable line(s) from line {pending[0].line}"
                if pending
                else ""
            )
            + ".",
            fix="re-export the extract as JSON lines",
        )
    header = [str(k) for k in first[1]]
    layout = layout_for(contract, header, path, line=first[0])

    def as_values(obj: dict[str, object]) -> list[str | None] | None:
        if set(obj) - set(header):
            return None
        return [
            None
            if obj.get(h) is None
            else (
                json.dumps(obj[h], ensure_ascii=False)
                if isinstance(obj[h], dict | list)
                else str(obj[h])
            )
            for h in header
        ]

    def chunks() -> Iterator[Chunk]:
        chunk = Chunk([], list(pending))
        first_values = as_values(first[1])
        assert first_values is not None
        chunk.records.append((first[0], first_values))
        for line in lines:
            if line.overlong is None and not line.text.strip():
                continue
            obj, bad = _json_line(line)
            values = as_values(obj) if obj is not None else None
            if bad is None and values is None:
                bad = Malformed(
                    line.number,
                    line.text,
                    "ligne JSON qui n'est pas un objet aux clés de l'en-tête",
                )
            if bad is not None:
                chunk.malformed.append(bad)
                continue
            assert values is not None
            chunk.records.append((line.number, values))
            if len(chunk.records) >= chunk_rows:
                yield chunk
                chunk = Chunk([], [])
        yield chunk

    return layout, chunks()
