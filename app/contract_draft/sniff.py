"""Reading one delivered file as a contract will describe it: format, encoding, dialect, header.

Every choice comes with its evidence, in words an engineer can check against the file: the bytes
that decided the encoding, the field counts that decided the delimiter and the header row. The CSV
delimiter is frictionless' sniffer's choice (it is already a dependency), checked against the field
counts; encodings are decided here because the lake reads only four (``ENCODINGS``) and the
evidence must name bytes.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from app.errors import DraftError

# Delivered rows read to infer a contract: enough for every rule, bounded for a big extract.
MAX_SAMPLE_ROWS = 20_000
_DELIMITERS = (";", ",", "\t", "|")
_SUFFIX_FORMATS = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".jsonl": "json", ".json": "json"}


@dataclass(frozen=True)
class Choice:
    """One inferred setting and why."""

    value: object
    why: str


@dataclass
class Sample:
    """The delivered file as rows of text, and how it was read."""

    path: Path
    format: str
    headers: list[str]
    rows: list[list[str | None]]
    # First data line (or row) number of each sample row, for messages.
    lines: list[int]
    encoding: Choice | None = None
    delimiter: Choice | None = None
    quote: Choice | None = None
    header_row: Choice | None = None
    sheet: Choice | None = None
    skipped: list[str] = field(default_factory=list)

    def column(self, index: int) -> list[str | None]:
        """The values of one column, ``None`` where the row had no cell."""
        return [row[index] if index < len(row) else None for row in self.rows]


def read_sample(path: Path) -> Sample:
    """Read ``path`` (CSV, XLSX or JSON lines) into a :class:`Sample` with its evidence.

    Raises:
        DraftError: The file is missing, of an unknown kind, or has no header and rows.
    """
    if not path.is_file():
        raise DraftError(f"{path}: no such file.", fix="give the path of the delivered file")
    fmt = _SUFFIX_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise DraftError(
            f"{path}: cannot tell the format from the suffix {path.suffix!r}; "
            f"expected one of {', '.join(sorted(_SUFFIX_FORMATS))}.",
            fix="rename the file with the suffix of its format",
        )
    if fmt == "xlsx":
        return _read_xlsx(path)
    raw = path.read_bytes()
    encoding = detect_encoding(raw)
    text = raw.decode(str(encoding.value))
    if fmt == "json":
        return _read_jsonl(path, text, encoding)
    return _read_csv(path, text, encoding)


# --- encoding ---------------------------------------------------------------------------------


def _position(raw: bytes, offset: int) -> str:
    line = raw.count(b"\n", 0, offset) + 1
    column = offset - (raw.rfind(b"\n", 0, offset) + 1) + 1
    return f"line {line}, column {column}"


def detect_encoding(raw: bytes) -> Choice:
    """Which of the lake's encodings reads ``raw``, with the bytes that decided.

    A UTF-8 byte-order mark gives ``utf-8-sig``; text that decodes as UTF-8 gives ``utf-8``;
    otherwise a byte in 0x80-0x9F (printable in cp1252, a control code in Latin-1) gives
    ``cp1252``, else ``latin-1``.
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        return Choice(
            "utf-8-sig", "the file starts with the bytes EF BB BF, the UTF-8 byte-order mark"
        )
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        byte = raw[exc.start]
        where = _position(raw, exc.start)
        c1 = next((i for i, b in enumerate(raw) if 0x80 <= b <= 0x9F), None)
        if c1 is not None:
            char = bytes([raw[c1]]).decode("cp1252", errors="replace")
            return Choice(
                "cp1252",
                f"byte 0x{byte:02X} at {where} is not UTF-8; byte 0x{raw[c1]:02X} at "
                f"{_position(raw, c1)} is {char!r} in Windows cp1252 (a control code in Latin-1)",
            )
        return Choice(
            "latin-1",
            f"byte 0x{byte:02X} at {where} is not UTF-8 (Latin-1 reads it as "
            f"{bytes([byte]).decode('latin-1')!r}); no byte in 0x80-0x9F, so ISO-8859-1",
        )
    first = next((i for i, b in enumerate(raw) if b >= 0x80), None)
    if first is None:
        return Choice("utf-8", "every byte is ASCII (UTF-8 reads it as is)")
    end = first + 1
    while end < len(raw) and 0x80 <= raw[end] <= 0xBF:
        end += 1
    seq = " ".join(f"{b:02X}" for b in raw[first:end])
    char = raw[first:end].decode("utf-8")
    return Choice(
        "utf-8",
        f"every non-ASCII byte sequence is valid UTF-8 (first: {seq} = {char!r} at "
        f"{_position(raw, first)}); no byte-order mark",
    )


# --- CSV ------------------------------------------------------------------------------------


def _sniff_delimiter(path: Path, encoding: str, lines: list[str]) -> Choice:
    """frictionless' sniffer's delimiter, checked against the field counts of the lines."""
    sniffed = None
    try:
        import frictionless

        resource = frictionless.Resource(str(path), encoding=encoding, format="csv")
        resource.infer()
        control = resource.dialect.get_control("csv")
        sniffed = getattr(control, "delimiter", None)
    except Exception:  # any sniffer failure: the field counts decide
        sniffed = None
    scores = {}
    for delim in _DELIMITERS:
        counts = Counter(_field_count(line, delim) for line in lines if line.strip())
        width, n = counts.most_common(1)[0] if counts else (1, 0)
        scores[delim] = (width > 1, n, width)
    best = max(_DELIMITERS, key=lambda d: scores[d])
    chosen = sniffed if sniffed in scores and scores[sniffed][0] else best
    width, n = scores[chosen][2], scores[chosen][1]
    total = sum(1 for line in lines if line.strip())
    source = "frictionless' sniffer chose it" if chosen == sniffed else "field counts chose it"
    return Choice(chosen, f"{source}; {n} of {total} lines split into {width} fields on {chosen!r}")


def _field_count(line: str, delimiter: str) -> int:
    try:
        return len(next(csv.reader([line], delimiter=delimiter, quotechar='"', strict=True)))
    except (csv.Error, StopIteration):
        return -1


def _header_index(widths: list[int]) -> tuple[int, int]:
    """The first row as wide as most rows (a title above the header is narrower)."""
    usable = [w for w in widths if w > 0]
    modal = Counter(usable).most_common(1)[0][0] if usable else 1
    return next(i for i, w in enumerate(widths) if w == modal), modal


def _read_csv(path: Path, text: str, encoding: Choice) -> Sample:
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        raise DraftError(f"{path}: the file is empty; expected a header line and data lines.")
    delimiter = _sniff_delimiter(path, str(encoding.value), lines[:200])
    delim = str(delimiter.value)
    widths = [_field_count(line, delim) if line.strip() else 0 for line in lines[:50]]
    header_at, width = _header_index(widths)
    headers = next(csv.reader([lines[header_at]], delimiter=delim, quotechar='"'))
    headers = [h.replace("\ufeff", "").strip() for h in headers]
    quoted = sum(1 for line in lines if '"' in line)
    sample = Sample(
        path=path,
        format="csv",
        headers=headers,
        rows=[],
        lines=[],
        encoding=encoding,
        delimiter=delimiter,
        quote=Choice('"', f'{quoted} line(s) use " to quote a field' if quoted else
                     'no quoted field seen; " is the usual quote'),
        header_row=Choice(
            header_at + 1,
            f"line {header_at + 1} is the first as wide as most lines ({width} fields)"
            + ("; line(s) above it are narrower (a title)" if header_at else ""),
        ),
    )  # fmt: skip
    for number, line in enumerate(lines[header_at + 1 :], start=header_at + 2):
        if not line.strip():
            continue
        if len(sample.rows) >= MAX_SAMPLE_ROWS:
            break
        try:
            row = next(csv.reader([line], delimiter=delim, quotechar='"', strict=True))
        except csv.Error:
            sample.skipped.append(f"line {number}: unterminated quote")
            continue
        if len(row) != len(headers):
            sample.skipped.append(
                f"line {number}: {len(row)} fields, the header has {len(headers)}"
            )
            continue
        sample.rows.append(list(row))
        sample.lines.append(number)
    return sample


# --- JSON lines -------------------------------------------------------------------------------


def _read_jsonl(path: Path, text: str, encoding: Choice) -> Sample:
    headers: dict[str, None] = {}
    objects: list[tuple[int, dict[str, object]]] = []
    skipped = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            skipped.append(f"line {number}, column {exc.colno}: not JSON ({exc.msg})")
            continue
        if not isinstance(obj, dict):
            skipped.append(f"line {number}: a JSON {type(obj).__name__}, expected an object")
            continue
        headers.update(dict.fromkeys(obj))
        objects.append((number, obj))
        if len(objects) >= MAX_SAMPLE_ROWS:
            break
    if not objects:
        raise DraftError(f"{path}: no JSON object found; expected one object per line.")
    names = list(headers)
    return Sample(
        path=path,
        format="json",
        headers=names,
        rows=[[_text(obj.get(h)) for h in names] for _, obj in objects],
        lines=[n for n, _ in objects],
        encoding=encoding,
        skipped=skipped,
    )


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


# --- XLSX -------------------------------------------------------------------------------------


def _cell(value: object) -> str | None:
    """A cell as text, as the lake's xlsx reader writes it (dates ISO, whole floats as ints)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _read_xlsx(path: Path) -> Sample:
    import zipfile

    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(path.read_bytes()), read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise DraftError(f"{path}: not a readable .xlsx workbook ({exc}).") from None
    try:
        sheet_name = book.sheetnames[0]
        rows = []
        for values in book[sheet_name].iter_rows(values_only=True):
            rows.append([_cell(v) for v in values])
            if len(rows) > MAX_SAMPLE_ROWS + 50:
                break
    finally:
        book.close()
    widths = [sum(1 for v in r if v not in (None, "")) for r in rows[:50]]
    if not any(widths):
        raise DraftError(f"{path}: sheet {sheet_name!r} is empty; expected a header row.")
    header_at, width = _header_index(widths)
    headers = [(v or "").strip() for v in rows[header_at]][:width]
    data = [(i, r[:width]) for i, r in enumerate(rows[header_at + 1 :], start=header_at + 2)]
    data = [(i, r) for i, r in data if any(v not in (None, "") for v in r)]
    return Sample(
        path=path,
        format="xlsx",
        headers=headers,
        rows=[r + [None] * (width - len(r)) for _, r in data],
        lines=[i for i, _ in data],
        header_row=Choice(
            header_at + 1,
            f"row {header_at + 1} is the first with as many filled cells as most rows ({width})"
            + ("; the row(s) above are narrower (a title)" if header_at else ""),
        ),
        sheet=Choice(sheet_name, f"the first sheet of the workbook (of {len(book.sheetnames)})"),
    )
