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
matches no column is kept under a safe name and reported as an extra column.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from lake.contracts import Contract, normalise_header
from lake.errors import LakeError


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


def layout_for(contract: Contract, header: list[str], path: Path) -> Layout:
    """Map a delivered header to bronze column names (contract names, then extras)."""
    mapping = contract.header_map()
    columns: list[str] = []
    extras: list[str] = []
    for raw in header:
        name = mapping.get(normalise_header(raw))
        if name is None:
            name = _safe_name(raw)
            extras.append(name)
        if name in columns:
            raise ExtractError(
                path,
                f"header {raw!r} maps to column {name!r} twice.",
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


def _decoded_lines(contract: Contract, path: Path) -> Iterator[tuple[int, str]]:
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
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
            yield number, text.rstrip("\r\n")


def _split(line: str, contract: Contract) -> list[str]:
    return next(
        csv.reader([line], delimiter=contract.delimiter, quotechar=contract.quote, strict=True)
    )


def _read_csv(contract: Contract, path: Path, chunk_rows: int) -> tuple[Layout, Iterator[Chunk]]:
    lines = _decoded_lines(contract, path)
    header: list[str] | None = None
    for number, text in lines:
        if number == contract.header_row:
            try:
                header = [h.strip() for h in _split(text, contract)]
            except csv.Error as exc:
                raise ExtractError(
                    path,
                    f"line {number}: the header cannot be read ({exc}).",
                    fix="fix the header row of the extract",
                ) from None
            break
    if not header or header == [""]:
        raise ExtractError(
            path,
            f"no header at line {contract.header_row} (the file is empty or shorter).",
            fix=f"check header_row in {contract.path}",
        )
    layout = layout_for(contract, header, path)
    width = len(header)

    def chunks() -> Iterator[Chunk]:
        chunk = Chunk([], [])
        for number, text in lines:
            if not text.strip():
                continue
            try:
                values = _split(text, contract)
            except csv.Error:
                chunk.malformed.append(
                    Malformed(number, text, "guillemet non fermé (unterminated quote)")
                )
                continue
            if len(values) != width:
                chunk.malformed.append(
                    Malformed(
                        number,
                        text,
                        f"nombre de champs incorrect : {len(values)} au lieu de "
                        f"{width} (wrong field count)",
                    )
                )
                continue
            chunk.records.append((number, list(values)))
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


def _read_xlsx(contract: Contract, path: Path, chunk_rows: int) -> tuple[Layout, Iterator[Chunk]]:
    import zipfile

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ExtractError(
            path,
            f"not a readable Excel workbook ({type(exc).__name__}).",
            fix="re-export the extract as .xlsx",
        ) from None
    if contract.sheet and contract.sheet not in workbook.sheetnames:
        sheets = ", ".join(workbook.sheetnames)
        raise ExtractError(
            path,
            f"no sheet {contract.sheet!r}; sheets: {sheets}.",
            fix=f"fix sheet in {contract.path}",
        )
    sheet = workbook[contract.sheet] if contract.sheet else workbook.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header: list[str] | None = None
    for number, row in enumerate(rows, start=1):
        if number == contract.header_row:
            header = [(_cell(v) or "").strip() for v in row]
            while header and not header[-1]:
                header.pop()
            break
    if not header:
        workbook.close()
        raise ExtractError(
            path,
            f"no header on row {contract.header_row}.",
            fix=f"check header_row in {contract.path}",
        )
    layout = layout_for(contract, header, path)
    width = len(header)

    def chunks() -> Iterator[Chunk]:
        chunk = Chunk([], [])
        for number, row in enumerate(rows, start=contract.header_row + 1):
            values = [_cell(v) for v in row]
            if all(v is None or not str(v).strip() for v in values):
                continue
            extra = [v for v in values[width:] if v is not None and str(v).strip()]
            if extra:
                raw = "\t".join("" if v is None else v for v in values)
                chunk.malformed.append(
                    Malformed(
                        number,
                        raw,
                        f"nombre de champs incorrect : cellules au-delà des {width} colonnes",
                    )
                )
                continue
            values = (values + [None] * width)[:width]
            chunk.records.append((number, values))
            if len(chunk.records) >= chunk_rows:
                yield chunk
                chunk = Chunk([], [])
        workbook.close()
        yield chunk

    return layout, chunks()


def _read_jsonl(contract: Contract, path: Path, chunk_rows: int) -> tuple[Layout, Iterator[Chunk]]:
    lines = _decoded_lines(contract, path)
    first: tuple[int, dict[str, object]] | None = None
    pending: list[Malformed] = []
    for number, text in lines:
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError:
            pending.append(Malformed(number, text, "ligne JSON illisible (invalid JSON)"))
            continue
        if not isinstance(obj, dict):
            pending.append(Malformed(number, text, "ligne JSON qui n'est pas un objet"))
            continue
        first = (number, obj)
        break
    if first is None:
        raise ExtractError(
            path,
            "no JSON object in the file (it is empty or unreadable).",
            fix="re-export the extract as JSON lines",
        )
    header = [str(k) for k in first[1]]
    layout = layout_for(contract, header, path)

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
        for number, text in lines:
            if not text.strip():
                continue
            try:
                obj = json.loads(text)
            except json.JSONDecodeError:
                chunk.malformed.append(
                    Malformed(number, text, "ligne JSON illisible (invalid JSON)")
                )
                continue
            values = as_values(obj) if isinstance(obj, dict) else None
            if values is None:
                chunk.malformed.append(
                    Malformed(
                        number, text, "ligne JSON qui n'est pas un objet aux clés de l'en-tête"
                    )
                )
                continue
            chunk.records.append((number, values))
            if len(chunk.records) >= chunk_rows:
                yield chunk
                chunk = Chunk([], [])
        yield chunk

    return layout, chunks()
