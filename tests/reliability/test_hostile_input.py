"""Hostile and broken deliveries (issue 7, part 4): a clear error or quarantine, never a crash,
never a lost line.

Property-based tests (hypothesis) feed the readers arbitrary bytes and text; explicit cases cover
an empty file, a header-only file, binary garbage, a 100 MB single line, a wrong encoding, a zip
bomb in an xlsx, path-traversal and NUL file names, formula injection and markup. One test runs
a hostile delivery through bronze on the real stack (Spark + MinIO) and checks the quarantine.

Markup is kept as data by the readers and escaped where it is shown: the report tests check the
escaping (tests/quality/test_report.py::test_markup_in_the_data_is_shown_as_text_everywhere,
tests/governance/test_dashboard.py::test_markup_in_the_data_is_shown_as_text,
tests/ingestion/test_pipeline.py::test_a_new_delivery_is_reviewed_and_its_markup_shown_as_text),
and tests/governance/test_export.py::test_formulas_are_neutralised_in_text_and_numbers_stay_numbers
the CSV export's formula neutralisation.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import tempfile
import time
import tracemalloc
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingestion import readers
from ingestion.landing import LandingError, check_delivered, land, landing_key, safe_file_name
from ingestion.readers import ExtractError, Malformed, read_extract, text_lines, xlsx_reader
from lake.contracts import Contract, load_contract

pytestmark = [pytest.mark.reliability]

CONTRACT = """
source: demo
title: Démo
domain: test
owner: DGM
description: Test.
format: {fmt}
encoding: {enc}
delimiter: "{delimiter}"
header_row: {header_row}
primary_key: [id]
exposure_level: 4
retention: {{years: 5, end: purge}}
columns:
  - {{name: id, type: string, description: Identifiant, source_name: "N°"}}
  - {{name: amount, type: decimal, description: Montant, source_name: Montant}}
"""
ENCODINGS = ("utf-8", "utf-8-sig", "latin-1", "cp1252")
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Characters that exercise the CSV and JSON rules more often than random text would.
TRICKY = [*list(";,\"'\r\n\t\x00 \ufeff\xa0\u202fé°’=+-@<>{}[]:\\"), "N°", "Montant"]
TOKENS = st.lists(st.sampled_from(TRICKY) | st.characters(), max_size=30)


def make_contract(
    folder: Path,
    fmt: str = "csv",
    enc: str = "utf-8",
    header_row: int = 1,
    delimiter: str = ";",
) -> Contract:
    path = folder / "demo.yaml"
    path.write_text(
        CONTRACT.format(
            fmt=fmt, enc=enc, header_row=header_row, delimiter=delimiter.replace("\t", "\\t")
        ),
        encoding="utf-8",
    )
    return load_contract(path)


def read_all(contract: Contract, path: Path, chunk_rows: int = 3):
    layout, chunks = read_extract(contract, path, chunk_rows=chunk_rows)
    records: list[tuple[int, list[str | None]]] = []
    malformed: list[Malformed] = []
    for chunk in chunks:
        records += chunk.records
        malformed += chunk.malformed
    return layout, records, malformed


@contextmanager
def folder() -> Iterator[Path]:
    """A fresh directory per hypothesis example (function fixtures are shared by examples)."""
    with tempfile.TemporaryDirectory(prefix="hostile-") as tmp:
        yield Path(tmp)


def expected_lines(data: bytes, encoding: str, header_row: int) -> dict[int, str]:
    """Independently: the non-blank physical lines after the header, decoded, by number."""
    lines: dict[int, str] = {}
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if number == len(data.split(b"\n")) and raw == b"":
            break  # after the last line end
        text = raw.decode(encoding).rstrip("\r\n")
        if number == 1:
            text = text.removeprefix("\ufeff")
        if number > header_row and text.strip():
            lines[number] = text
    return lines


def check_nothing_lost(
    path: Path, data: bytes, contract: Contract, delimiter: str = ";", header_row: int = 1
) -> None:
    """Either one ExtractError naming the file, or every line is a record or malformed."""
    try:
        layout, records, malformed = read_all(contract, path)
    except ExtractError as exc:
        assert str(exc).startswith(f"{path}: "), exc
        assert exc.fix, exc
        return
    wanted = expected_lines(data, contract.encoding, header_row)
    numbers = [n for n, _ in records] + [m.line for m in malformed]
    assert sorted(numbers) == sorted(wanted), "a line was lost or invented"
    assert len(numbers) == len(set(numbers))
    width = len(layout.columns)
    for number, values in records:
        assert len(values) == width
        parsed = next(csv.reader([wanted[number]], delimiter=delimiter, strict=True))
        assert values == parsed  # values exactly as delivered: no trimming, no escaping
    for m in malformed:
        assert m.raw == wanted[m.line] and m.reason


# --- property-based: CSV -------------------------------------------------------------------------


@FUZZ
@given(
    data=st.binary(max_size=600),
    encoding=st.sampled_from(ENCODINGS),
    delimiter=st.sampled_from([";", ",", "\t", "|"]),
    header_row=st.integers(1, 3),
)
def test_arbitrary_bytes_as_csv_are_an_error_or_lose_no_line(
    data: bytes, encoding: str, delimiter: str, header_row: int
) -> None:
    with folder() as tmp:
        contract = make_contract(tmp, enc=encoding, delimiter=delimiter, header_row=header_row)
        path = tmp / "demo.csv"
        path.write_bytes(data)
        check_nothing_lost(path, data, contract, delimiter, header_row)


@FUZZ
@given(
    body=st.lists(TOKENS.map("".join), max_size=12),
    encoding=st.sampled_from(("utf-8", "utf-8-sig")),
    line_end=st.sampled_from(["\n", "\r\n"]),
)
def test_arbitrary_text_after_a_valid_header_loses_no_line(
    body: list[str], encoding: str, line_end: str
) -> None:
    text = line_end.join(["N°;Montant", *body]) + line_end
    data = text.encode(encoding, errors="surrogatepass")
    with folder() as tmp:
        contract = make_contract(tmp, enc=encoding)
        path = tmp / "demo.csv"
        path.write_bytes(data)
        try:
            data.decode(encoding)
        except UnicodeDecodeError:  # lone surrogates: not valid UTF-8, a clear error
            with pytest.raises(ExtractError, match=r"line \d+, byte \d+: not valid utf-8"):
                read_all(contract, path)
            return
        check_nothing_lost(path, data, contract)


# --- property-based: JSON lines ------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)
JSON_LINE = (
    st.dictionaries(st.sampled_from(["N°", "Montant", "autre", ""]), JSON_VALUES, max_size=3).map(
        lambda d: json.dumps(d, ensure_ascii=False)
    )
    | TOKENS.map("".join)
    | st.sampled_from(["[" * 5000, "9" * 5000, '{"N°": ' + "9" * 5000 + "}", "{}", "null"])
)


@FUZZ
@given(lines=st.lists(JSON_LINE, max_size=10), encoding=st.sampled_from(ENCODINGS))
def test_arbitrary_json_lines_are_an_error_or_lose_no_line(lines: list[str], encoding: str) -> None:
    data = "\n".join(lines).encode(encoding, errors="replace")
    with folder() as tmp:
        contract = make_contract(tmp, fmt="json", enc=encoding)
        path = tmp / "demo.jsonl"
        path.write_bytes(data)
        try:
            layout, records, malformed = read_all(contract, path)
        except ExtractError as exc:
            assert str(exc).startswith(f"{path}: ") and exc.fix
            return
        wanted = expected_lines(data, encoding, 0)
        numbers = sorted([n for n, _ in records] + [m.line for m in malformed])
        assert numbers == sorted(wanted)
        for number, values in records:
            obj = json.loads(wanted[number])
            assert isinstance(obj, dict) and len(values) == len(layout.columns)
        for m in malformed:
            assert m.raw == wanted[m.line]


# --- property-based: XLSX ------------------------------------------------------------------------

# openpyxl refuses control characters in cells; "_x" starts an escape in the xlsx format.
CELL_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from(list("=+-@<> ")),
    max_size=20,
).filter(lambda s: "_x" not in s)


def workbook_bytes(rows: list[list[object]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.lists(st.none() | CELL_TEXT, max_size=4), max_size=8))
def test_any_cells_in_a_workbook_are_kept_as_text_or_quarantined(rows) -> None:
    with folder() as tmp:
        contract = make_contract(tmp, fmt="xlsx")
        path = tmp / "demo.xlsx"
        path.write_bytes(workbook_bytes([["N°", "Montant"], *rows]))
        layout, records, malformed = read_all(contract, path)
        assert layout.columns == ["id", "amount"]
        kept = {n: v for n, v in records}
        bad = {m.line: m for m in malformed}
        for number, row in enumerate(rows, start=2):
            cells = [c if c else None for c in row]  # openpyxl writes "" as an empty cell
            if all(c is None or not c.strip() for c in cells):
                assert number not in kept and number not in bad
            elif any(c is not None and c.strip() for c in cells[2:]):
                assert number in bad  # cells beyond the header: malformed, raw kept
                raw = "\t".join(c or "" for c in cells).rstrip("\t")
                assert bad[number].raw.rstrip("\t") == raw
            else:
                # formulas ("=...", never computed) come back as their text
                assert kept[number] == ([*cells, None, None])[:2]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sheet=st.binary(max_size=400) | st.text(max_size=200).map(str.encode))
def test_a_broken_sheet_inside_a_valid_zip_is_a_clear_error(sheet: bytes) -> None:
    base = workbook_bytes([["N°", "Montant"], ["A", "1"]])
    with folder() as tmp:
        path = tmp / "demo.xlsx"
        with zipfile.ZipFile(io.BytesIO(base)) as src, zipfile.ZipFile(path, "w") as out:
            for info in src.infolist():
                data = src.read(info.filename)
                out.writestr(info, sheet if info.filename.endswith("sheet1.xml") else data)
        contract = make_contract(tmp, fmt="xlsx")
        try:
            read_all(contract, path)
        except ExtractError as exc:
            assert str(exc).startswith(f"{path}: ") and exc.fix


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flips=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=8))
def test_a_corrupted_workbook_is_a_clear_error(flips) -> None:
    data = bytearray(workbook_bytes([["N°", "Montant"], ["A", "1"], ["B", "2"]]))
    for position, value in flips:
        data[position % len(data)] = value
    with folder() as tmp:
        path = tmp / "demo.xlsx"
        path.write_bytes(bytes(data))
        try:
            read_all(make_contract(tmp, fmt="xlsx"), path)
        except ExtractError as exc:
            assert str(exc).startswith(f"{path}: ") and exc.fix


# --- explicit cases ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "name", "message"),
    [
        ("csv", "demo.csv", "no header at line 1 (the file is empty or shorter)."),
        ("json", "demo.jsonl", "no JSON object in the file (it is empty or unreadable)"),
        ("xlsx", "demo.xlsx", "not a readable Excel workbook (BadZipFile)"),
    ],
)
def test_an_empty_file_is_a_clear_error(tmp_path: Path, fmt: str, name: str, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"")
    with pytest.raises(ExtractError) as err:
        read_all(make_contract(tmp_path, fmt=fmt), path)
    assert str(err.value).startswith(f"{path}: {message}")


def test_a_header_only_file_gives_no_rows_and_no_error(tmp_path: Path) -> None:
    csv_path = tmp_path / "demo.csv"
    csv_path.write_bytes("N°;Montant\r\n\r\n".encode())
    layout, records, malformed = read_all(make_contract(tmp_path), csv_path)
    assert (layout.columns, records, malformed) == (["id", "amount"], [], [])
    xlsx_path = tmp_path / "demo.xlsx"
    xlsx_path.write_bytes(workbook_bytes([["N°", "Montant"]]))
    layout, records, malformed = read_all(make_contract(tmp_path, fmt="xlsx"), xlsx_path)
    assert (layout.columns, records, malformed) == (["id", "amount"], [], [])


def test_binary_garbage(tmp_path: Path) -> None:
    garbage = random.Random(7).randbytes(64 * 1024)
    path = tmp_path / "demo.csv"
    path.write_bytes(garbage)
    with pytest.raises(ExtractError, match=r"line \d+, byte \d+: not valid utf-8 \(found byte"):
        read_all(make_contract(tmp_path, enc="utf-8"), path)
    # Latin-1 decodes any byte: the garbage is parsed, and no line is lost.
    check_nothing_lost(path, garbage, make_contract(tmp_path, enc="latin-1"))
    for fmt, name, message in [
        ("xlsx", "demo.xlsx", "not a readable Excel workbook"),
        ("json", "demo.jsonl", "not valid utf-8"),
    ]:
        other = tmp_path / name
        other.write_bytes(garbage)
        with pytest.raises(ExtractError, match=message):
            read_all(make_contract(tmp_path, fmt=fmt), other)


def test_a_header_mapping_a_column_twice_names_both_positions(tmp_path: Path) -> None:
    path = tmp_path / "demo.csv"
    path.write_bytes("N°;Montant;n°\nA;1;B\n".encode())
    with pytest.raises(ExtractError) as err:
        read_all(make_contract(tmp_path), path)
    assert str(err.value) == (
        f"{path}: line 1, column 3: header 'n°' maps to column 'id' twice (already column 1); "
        "expected each contract column at most once. Fix: fix the header row of the extract"
    )


def test_unnamed_and_colliding_extra_headers_are_numbered(tmp_path: Path) -> None:
    path = tmp_path / "demo.csv"
    path.write_bytes("N°;Montant;;;a b;a_b\nA;1;x;y;z;w\n".encode())
    layout, records, _ = read_all(make_contract(tmp_path), path)
    assert layout.extra_columns == ["extra_column", "extra_column_2", "extra_a_b", "extra_a_b_2"]
    assert records == [(2, ["A", "1", "x", "y", "z", "w"])]


def test_unreadable_csv_lines_say_why(tmp_path: Path) -> None:
    path = tmp_path / "demo.csv"
    path.write_bytes(b'N\xc2\xb0;Montant\nA;"1"x\nB;1\rC\nD;"2\n')
    _, records, malformed = read_all(make_contract(tmp_path), path)
    assert records == []
    assert [(m.line, m.reason) for m in malformed] == [
        (2, "ligne CSV illisible : ';' expected after '\"' (unreadable CSV line)"),
        (
            3,
            "ligne CSV illisible : new-line character seen in unquoted field - do you need to "
            "open the file in universal-newline mode? (unreadable CSV line)",
        ),
        (4, "guillemet non fermé (unterminated quote)"),
    ]


def _write_long_line(path: Path, header: bytes, size: int, after: bytes) -> None:
    block = b"x;" * (1 << 19)  # 1 MiB
    with path.open("wb") as out:
        out.write(header)
        left = size
        while left:
            out.write(block[: min(left, len(block))])
            left -= min(left, len(block))
        out.write(after)


@pytest.mark.slow
def test_a_100_mb_single_line_is_quarantined_without_being_held_in_memory(tmp_path: Path) -> None:
    size = 100 * (1 << 20)
    path = tmp_path / "demo.csv"
    _write_long_line(path, "N°;Montant\nA;1\n".encode(), size, b"\nB;2\n")
    contract = make_contract(tmp_path)
    tracemalloc.start()
    try:
        _, records, malformed = read_all(contract, path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert records == [(2, ["A", "1"]), (4, ["B", "2"])]
    assert len(malformed) == 1 and malformed[0].line == 3
    assert malformed[0].reason.startswith(
        f"ligne trop longue : {size} octets, au plus {readers.MAX_LINE_BYTES} (line too long"
    )
    assert (
        malformed[0].raw
        == ("x;" * readers.OVERLONG_PREVIEW_CHARS)[: readers.OVERLONG_PREVIEW_CHARS]
    )
    assert peak < 16 * (1 << 20), f"the reader held {peak} bytes"
    # The same line as the header: a clear error, not a 100 MB header.
    header_first = tmp_path / "header.csv"
    _write_long_line(header_first, b"", size, b"\nA;1\n")
    with pytest.raises(ExtractError) as err:
        read_all(contract, header_first)
    assert f"line 1: the header is {size} bytes long; expected at most" in str(err.value)


def test_an_overlong_json_line_is_quarantined(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(text_lines, "MAX_LINE_BYTES", 64)
    path = tmp_path / "demo.jsonl"
    long_line = json.dumps({"N°": "x" * 200})
    path.write_text(f'{{"N°": "A"}}\n{long_line}\n{{"N°": "B"}}\n', encoding="utf-8")
    _, records, malformed = read_all(make_contract(tmp_path, fmt="json"), path)
    assert records == [(1, ["A"]), (3, ["B"])]
    assert [m.line for m in malformed] == [2]
    assert malformed[0].reason.startswith(f"ligne trop longue : {len(long_line)} octets")


@pytest.mark.parametrize(
    ("declared", "content", "message"),
    [
        ("utf-8", "N°;Montant\nA;1\nÉté;2\n".encode("latin-1"), "line 1, byte 2: not valid utf-8"),
        (
            "cp1252",
            b"N;Montant\nA;1\nB;\x81\n",
            "line 3, byte 3: not valid cp1252 (found byte 0x81)",
        ),
    ],
)
def test_a_wrong_declared_encoding_refuses_the_file_naming_line_and_byte(
    tmp_path: Path, declared: str, content: bytes, message: str
) -> None:
    path = tmp_path / "demo.csv"
    path.write_bytes(content)
    with pytest.raises(ExtractError) as err:
        read_all(make_contract(tmp_path, enc=declared), path)
    assert str(err.value).startswith(f"{path}: {message}")
    assert f"encoding: {declared}" in str(err.value)


# --- zip bomb ------------------------------------------------------------------------------------


def bomb(path: Path, inflated: int) -> None:
    """A valid workbook whose sheet inflates to ``inflated`` bytes of (valid) XML whitespace."""
    base = workbook_bytes([["N°", "Montant"], ["A", "1"]])
    with (
        zipfile.ZipFile(io.BytesIO(base)) as src,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out,
    ):
        for info in src.infolist():
            data = src.read(info.filename)
            if not info.filename.endswith("sheet1.xml"):
                out.writestr(info.filename, data)
                continue
            head, tail = data.split(b"<sheetData>", 1)
            with out.open(info.filename, "w", force_zip64=True) as entry:
                entry.write(head + b"<sheetData>")
                chunk = b" " * (1 << 20)
                for _ in range(inflated >> 20):
                    entry.write(chunk)
                entry.write(tail)


def test_a_zip_bomb_in_an_xlsx_is_refused_before_inflating(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "demo.xlsx"
    bomb(path, 256 << 20)  # 256 MiB of XML in about 250 KiB
    assert path.stat().st_size < 1 << 20

    def never(*args, **kwargs):
        raise AssertionError("openpyxl was reached: the workbook was going to be inflated")

    monkeypatch.setattr("openpyxl.load_workbook", never)
    started = time.monotonic()
    with pytest.raises(ExtractError) as err:
        read_all(make_contract(tmp_path, fmt="xlsx"), path)
    assert time.monotonic() - started < 2
    text = str(err.value)
    assert text.startswith(f"{path}: zip entry 'xl/worksheets/sheet1.xml' would inflate ")
    assert f"expected at most {readers.MAX_XLSX_RATIO}:1 (zip bomb?). Nothing was inflated." in text


def test_an_xlsx_over_the_inflated_total_or_entry_count_is_refused(
    tmp_path: Path, monkeypatch
) -> None:
    path = tmp_path / "demo.xlsx"
    path.write_bytes(workbook_bytes([["N°", "Montant"], ["A", "1"]]))
    contract = make_contract(tmp_path, fmt="xlsx")
    monkeypatch.setattr(xlsx_reader, "MAX_XLSX_INFLATED_BYTES", 1000)
    with pytest.raises(ExtractError, match=r"would inflate to more than 1000 bytes"):
        read_all(contract, path)
    monkeypatch.setattr(xlsx_reader, "MAX_XLSX_INFLATED_BYTES", 1 << 30)
    monkeypatch.setattr(xlsx_reader, "MAX_XLSX_ENTRIES", 3)
    with pytest.raises(ExtractError, match=r"zip entries; expected at most 3\."):
        read_all(contract, path)


# --- formulas and markup -------------------------------------------------------------------------

FORMULAS = ["=cmd|' /C calc'!A0", "+33 1 43 17 53 53", "-2+3", "@SUM(1+1)*cmd|' /C calc'!A0"]
MARKUP = ["<script>alert('x')</script>", '<b>gras</b> & "guillemets"', "<img src=x onerror=1>"]


def test_formulas_and_markup_in_csv_cells_are_kept_as_text(tmp_path: Path) -> None:
    lines = [f"{value};1" for value in FORMULAS + MARKUP]
    path = tmp_path / "demo.csv"
    path.write_bytes(("N°;Montant\n" + "\n".join(lines) + "\n").encode())
    _, records, malformed = read_all(make_contract(tmp_path), path)
    assert malformed == []
    assert [values[0] for _, values in records] == FORMULAS + MARKUP


def test_formula_cells_in_a_workbook_are_kept_as_their_text(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["N°", "Montant"])
    for value in FORMULAS + MARKUP:
        sheet.append([value, 1])  # openpyxl stores a value starting with "=" as a formula
    sheet["A2"].value = "=cmd|' /C calc'!A0"
    path = tmp_path / "demo.xlsx"
    book.save(path)
    _, records, malformed = read_all(make_contract(tmp_path, fmt="xlsx"), path)
    assert malformed == []
    assert [values[0] for _, values in records] == FORMULAS + MARKUP


def test_formula_text_is_neutralised_in_the_csv_export() -> None:
    from governance.sensitivity.export import neutralise_cell

    assert [neutralise_cell(v) for v in FORMULAS] == ["'" + v for v in FORMULAS]
    assert [neutralise_cell(v) for v in MARKUP] == MARKUP  # markup is escaped where shown


# --- file names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("delivered", "stored"),
    [
        ("../../etc/passwd.csv", "passwd.csv"),
        ("/etc/passwd.csv", "passwd.csv"),
        ("..\\..\\windows\\win.ini.csv", "_.._windows_win.ini.csv"),
        ("...hidden.csv", "hidden.csv"),
        ("a b;rm -rf $HOME.csv", "a_b_rm_-rf_HOME.csv"),
        ("données été_2026-01-15.csv", "données_été_2026-01-15.csv"),
        ("x" * 300 + ".csv", "x" * 196 + ".csv"),
    ],
)
def test_delivered_names_cannot_leave_the_landing_prefix(
    tmp_path: Path, delivered: str, stored: str
) -> None:
    name = safe_file_name(Path(delivered))
    assert name == stored
    contract = make_contract(tmp_path)
    key = landing_key(contract, "0" * 64, name)
    assert key == f"landing/demo/{'0' * 64}/{stored}"


@pytest.mark.parametrize("delivered", ["..", ".", "...", "dir/.."])
def test_a_name_with_nothing_usable_is_refused(delivered: str) -> None:
    with pytest.raises(LandingError, match="no usable file name"):
        safe_file_name(Path(delivered))


def test_a_nul_byte_a_directory_or_a_fifo_is_refused_before_reading(tmp_path: Path) -> None:
    with pytest.raises(LandingError) as err:
        check_delivered(Path(str(tmp_path / "x\x00.csv")))
    assert "the path contains a NUL byte; expected a plain file name." in str(err.value)
    with pytest.raises(LandingError, match="expected a regular file; found not a regular file"):
        check_delivered(tmp_path)
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)  # hashing it would block for ever
    with pytest.raises(LandingError, match="found not a regular file"):
        check_delivered(fifo)
    with pytest.raises(LandingError, match="found nothing"):
        check_delivered(tmp_path / "missing.csv")


def test_a_traversal_name_lands_under_its_source_prefix(tmp_path: Path) -> None:
    from conftest import base_settings

    settings = base_settings(tmp_path).with_overrides(
        {"storage": {"backend": "local", "local_root": str(tmp_path / "lake")}}
    )
    contract = make_contract(tmp_path)
    inbox = tmp_path / "inbox" / "demo" / "sub"
    inbox.mkdir(parents=True)
    delivered = tmp_path / "inbox" / "demo" / "sub" / ".." / "..%2f..%2fpasswd_2026-01-15.csv"
    delivered.write_text("N°;Montant\nA;1\n", encoding="utf-8")
    landed = land(settings, contract, delivered)
    root = (tmp_path / "lake").resolve()
    files = [p for p in root.rglob("*") if p.is_file() and not p.name.endswith(".meta.json")]
    assert [p.relative_to(root).parts[:2] for p in files] == [("landing", "demo")]
    assert landed.name == "_2f.._2fpasswd_2026-01-15.csv"
    assert landed.uri.endswith(f"/landing/demo/{landed.sha256}/{landed.name}")


def test_symbolic_links_in_the_inbox_are_not_deliveries(tmp_path: Path) -> None:
    from conftest import base_settings
    from ingestion.pipeline import inbox_files, inbox_links

    settings = base_settings(tmp_path).with_overrides(
        {"ingestion": {"inbox": str(tmp_path / "in")}}
    )
    contract = make_contract(tmp_path)
    source = tmp_path / "in" / "demo"
    (source / "2026-01").mkdir(parents=True)
    real = source / "2026-01" / "demo_2026-01-15.csv"
    real.write_text("N°;Montant\nA;1\n", encoding="utf-8")
    secret = tmp_path / "elsewhere" / "secret.csv"
    secret.parent.mkdir()
    secret.write_text("N°;Montant\nSECRET;1\n", encoding="utf-8")
    (source / "linked_2026-01-16.csv").symlink_to(secret)  # a file link
    (source / "linked-dir").symlink_to(secret.parent, target_is_directory=True)  # a dir link

    assert inbox_files(settings, contract) == [real]
    assert inbox_links(settings, contract) == [
        source / "linked-dir",
        source / "linked_2026-01-16.csv",
    ]


# --- the real stack: a hostile delivery through bronze -------------------------------------------

HR_HEADER = (
    "Matricule;Nom;Prénom;Grade;Affectation;Pays d'affectation;"
    "Rémunération mensuelle brute (EUR);Date de prise de poste"
)


def hr_line(agent: str, last_name: str = "Pérez") -> str:
    return (
        f"{agent};{last_name};Léa;Secrétaire de chancellerie;Ambassade de France à Bamako;Mali;"
        "2583,57;05/03/2025"
    )


@pytest.mark.spark
@pytest.mark.minio
def test_a_hostile_delivery_through_bronze_keeps_every_line(spark, lake_settings, tmp_path) -> None:
    from app.compose import quality_gates
    from ingestion import runlog
    from ingestion.bronze import batch_id_for
    from ingestion.landing import sha256_of
    from ingestion.pipeline import run
    from lake import delta_io
    from lake.contracts import get_contract
    from lake.storage import ensure_bucket, object_client, table_uri

    settings = lake_settings.with_overrides(
        {
            "storage": {"bucket": "lake-hostile"},
            "ingestion": {"inbox": str(tmp_path / "inbox")},
            "security": {"pseudonymisation_key_file": str(tmp_path / "key")},
        }
    )
    ensure_bucket(settings)
    contract = get_contract(settings.root, "hr_agents")
    kept = [hr_line("AG1", value) for value in FORMULAS + MARKUP] + [hr_line("AG2", "a\x00b")]
    broken = [
        "AG3;Pérez;Léa",  # wrong field count
        'AG4;"Pérez;Léa;x;x;x;1;01/01/2020',  # unterminated quote
        "AG5;Pé\rrez;Léa;x;x;x;1;01/01/2020",  # a carriage return inside a field
    ]
    body = [HR_HEADER, kept[0], broken[0], "", *kept[1:4], broken[1], *kept[4:], broken[2]]
    # A traversal and non-ASCII name, through a directory that is left with "..".
    (tmp_path / "in" / "sub").mkdir(parents=True)
    hostile = tmp_path / "in" / "sub" / ".." / "données été ; $(id)_2026-03-01.csv"
    hostile.write_bytes(("\r\n".join(body) + "\r\n").encode("utf-8"))
    gates = quality_gates(settings)

    summary = run(
        spark, settings, gates=gates, sources=["hr_agents"], layers=["bronze"], files=[hostile]
    )
    record = summary.records[-1]
    assert record.status == "succeeded", record
    assert (record.lines_read, record.rows_out, record.quarantined) == (len(kept) + 3, len(kept), 3)
    bronze = delta_io.read_table(spark, table_uri(settings, "bronze", "hr_agents"))
    names = [r["last_name"] for r in bronze.orderBy("_line").collect()]
    assert names == FORMULAS + MARKUP + ["a\x00b"]  # text as delivered
    quarantine = delta_io.read_table(spark, table_uri(settings, "quarantine", "hr_agents"))
    raws = {r["_line"]: (r["raw"], r["reason"]) for r in quarantine.collect()}
    assert [raws[n][0] for n in sorted(raws)] == broken
    assert raws[max(raws)][1].startswith("ligne CSV illisible : new-line character")
    keys = [
        o.object_name for o in object_client(settings).list_objects("lake-hostile", recursive=True)
    ]
    landing = [k for k in keys if k.startswith("landing/")]
    assert landing == [f"landing/hr_agents/{record.file_sha256}/données_été_id__2026-03-01.csv"]

    # A wrong encoding: the file is refused whole, logged as failed, nothing reaches bronze.
    latin = tmp_path / "hr_agents_2026-03-02.csv"
    latin.write_bytes(("\n".join([HR_HEADER, hr_line("AG9")]) + "\n").encode("latin-1"))
    with pytest.raises(ExtractError, match=r"line 1, byte 17: not valid utf-8 \(found byte 0xe9\)"):
        run(spark, settings, gates=gates, sources=["hr_agents"], layers=["bronze"], files=[latin])
    failed = runlog.read_runs(settings, source="hr_agents", limit=1)[0]
    assert failed["status"] == "failed" and "not valid utf-8" in failed["message"]
    batch = batch_id_for(contract, sha256_of(latin))
    assert (
        bronze.sparkSession.read.format("delta")
        .load(table_uri(settings, "bronze", "hr_agents"))
        .filter(f"_batch_id = '{batch}'")
        .count()
        == 0
    )

    # A NUL byte in --file: refused before anything is read, logged as failed.
    with pytest.raises(LandingError, match="NUL byte"):
        run(
            spark,
            settings,
            gates=gates,
            sources=["hr_agents"],
            layers=["bronze"],
            files=[Path(str(tmp_path / "x\x00.csv"))],
        )
    assert runlog.read_runs(settings, source="hr_agents", limit=1)[0]["status"] == "failed"
