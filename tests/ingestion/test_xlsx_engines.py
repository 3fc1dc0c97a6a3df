"""The two .xlsx engines agree cell for cell, and the scan sends calamine only what it reads alike.

calamine (Rust) reads workbooks of plain values; openpyxl the rest (ingestion.readers.xlsx_reader).
The property test writes messy workbooks with openpyxl - typed cells (text, integers, floats,
booleans, dates, date-times, times), gaps, a title above the header, cells before the first
column and beyond the header's width, both date systems - and checks that both engines give the
same layout, the same records with the same row numbers and the same malformed rows.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import NamedTuple

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ingestion.errors import ExtractError
from ingestion.readers import read_layout, xlsx_reader
from ingestion.readers.records import Malformed
from ingestion.readers.xlsx_reader import read_xlsx, scan_worksheets
from lake.contracts import Contract, load_contract

CONTRACT = """
source: demo
title: Démo
domain: test
owner: DGM
description: Test.
format: xlsx
encoding: utf-8
header_row: {header_row}
primary_key: [id]
exposure_level: 4
retention: {{years: 5, end: purge}}
columns:
  - {{name: id, type: string, description: Identifiant, source_name: "N°"}}
  - {{name: amount, type: decimal, description: Montant, source_name: Montant}}
  - {{name: day, type: date, description: Jour, source_name: Jour}}
"""


def make_contract(folder: Path, header_row: int = 1) -> Contract:
    path = folder / "demo.yaml"
    path.write_text(CONTRACT.format(header_row=header_row), encoding="utf-8")
    return load_contract(path)


def read(contract: Contract, path: Path, engine: str):
    layout, chunks = read_xlsx(contract, path, chunk_rows=3, engine=engine)
    records: list[tuple[int, list[str | None]]] = []
    malformed: list[Malformed] = []
    for chunk in chunks:
        records += chunk.records
        malformed += chunk.malformed
    return layout, records, [(m.line, m.raw, m.reason) for m in malformed]


class Styled(NamedTuple):
    value: float
    number_format: str


# openpyxl refuses control characters; "_x" starts an escape; "=" would be written as a formula.
TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"))
    | st.sampled_from(list(" \t;,<>&'\"")),
    max_size=12,
).filter(lambda s: "_x" not in s and not s.startswith("="))
CELL = st.one_of(
    st.none(),
    TEXT,
    st.integers(-(10**15) + 1, 10**15 - 1),  # 16 digits or more go to openpyxl (see below)
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.dates(dt.date(1900, 3, 1), dt.date(9999, 12, 31)),
    st.datetimes(dt.datetime(1900, 3, 1), dt.datetime(9999, 12, 31)).map(
        lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000)  # Excel keeps milliseconds
    ),
    st.times().map(lambda t: t.replace(microsecond=0)),
    # a number with a number format: a date or time format makes it a date for both engines,
    # or a time, a duration, "#VALUE!" (see test_numbers_outside_excel_dates_go_to_openpyxl)
    st.tuples(
        # mostly within Excel's dates (0 to 2,958,465), sometimes outside
        st.integers(0, 2_958_465)
        | st.floats(0, 2_958_465)
        | st.integers(-(10**8), 10**8)
        | st.floats(-1e20, 1e20),  # 1e+16 is written with an exponent
        st.sampled_from(
            [
                "General",
                "0.00",
                "#,##0",
                "0%",
                "yyyy-mm-dd",
                "dd/mm/yyyy hh:mm",
                "mm-dd-yy",
                "h:mm",
                "[h]:mm:ss",
                "mm:ss",
                '0.00"d"',
                "[$-40C]d mmmm yyyy",
                "@",
            ]
        ),
    ).map(Styled._make),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=st.booleans(),
    skip=st.integers(0, 2),
    header=st.permutations(["N°", "Montant", "Jour"]).map(list),
    rows=st.lists(st.lists(CELL, max_size=6), max_size=12),
    gaps=st.sets(st.integers(0, 12), max_size=3),
    lead=st.booleans(),
    mac_epoch=st.booleans(),
)
def test_calamine_and_openpyxl_agree_on_messy_workbooks(
    tmp_path_factory: pytest.TempPathFactory,
    title: bool,
    skip: int,
    header: list[str],
    rows: list[list[object]],
    gaps: set[int],
    lead: bool,
    mac_epoch: bool,
) -> None:
    from openpyxl import Workbook
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    tmp = tmp_path_factory.mktemp("engines")
    book = Workbook()
    if mac_epoch:
        book.epoch = CALENDAR_MAC_1904
    sheet = book.active
    row = 1
    if title:
        sheet.cell(row=row, column=1, value="Extraction du registre - titre")
        row += 1 + skip
    header_row = row
    column = 2 if lead else 1  # an empty first column: both engines keep it
    for offset, name in enumerate(header):
        sheet.cell(row=header_row, column=column + offset, value=name)
    row += 1
    for index, values in enumerate(rows):
        if index in gaps:
            row += 1  # a blank row: no record, and the numbers after it stay physical
        for offset, value in enumerate(values):
            if isinstance(value, Styled):
                cell = sheet.cell(row=row, column=column + offset, value=value.value)
                cell.number_format = value.number_format
            elif value is not None:
                sheet.cell(row=row, column=column + offset, value=value)
        row += 1
    path = tmp / "demo.xlsx"
    book.save(path)

    # what goes to openpyxl (a number past 2**53, a date-styled number outside Excel's dates)
    # is tested below; here, what calamine reads must read alike
    assume(scan_worksheets(path).engine == "calamine")
    contract = make_contract(tmp, header_row=header_row)
    by_calamine = read(contract, path, "calamine")
    by_openpyxl = read(contract, path, "openpyxl")
    assert by_calamine == by_openpyxl
    assert read_layout(contract, path) == by_calamine[0]  # landing's header: the first rows
    _, records, malformed = by_calamine
    data_rows = {n for n, _ in records} | {n for n, _, _ in malformed}
    assert all(n > header_row for n in data_rows)


def save(path: Path, rows: list[list[object]]) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    for values in rows:
        book.active.append(values)
    book.save(path)
    return path


def test_error_cells_formulas_and_long_numbers_go_to_openpyxl(tmp_path: Path) -> None:
    """What calamine would not give back as delivered is read by openpyxl, as before."""
    contract = make_contract(tmp_path)
    header = ["N°", "Montant", "Jour"]

    errors = save(tmp_path / "errors.xlsx", [header, ["A", "#N/A", None]])
    from openpyxl import load_workbook

    book = load_workbook(errors)
    book.active["B2"].data_type = "e"  # an error cell, as Excel writes #N/A
    book.save(errors)
    assert scan_worksheets(errors).markers == {"error"}
    assert scan_worksheets(errors).engine == "openpyxl"
    _, records, _ = read(contract, errors, "openpyxl")
    assert records == [(2, ["A", "#N/A", None])]
    _, records, _ = read_xlsx_default(contract, errors)
    assert records == [(2, ["A", "#N/A", None])]  # calamine would give an empty cell

    # openpyxl writes a Python int as a float; another tool writes every digit: patch the XML
    long_number = save(tmp_path / "long.xlsx", [header, ["B", 4242, None]])
    rewrite_part(
        long_number, "xl/worksheets/sheet1.xml", b"<v>4242</v>", b"<v>12345678901234567890</v>"
    )
    assert scan_worksheets(long_number).markers == {"long_number"}
    _, records, _ = read_xlsx_default(contract, long_number)
    assert records == [(2, ["B", "12345678901234567890", None])]  # every digit

    formulas = save(tmp_path / "formulas.xlsx", [header, ["C", "=1+1", None]])
    assert "formula" in scan_worksheets(formulas).markers
    _, records, _ = read_xlsx_default(contract, formulas)
    assert records == [(2, ["C", "=1+1", None])]

    plain = save(tmp_path / "plain.xlsx", [header, ["D", 1234567890123456, "2024-01-31"]])
    assert scan_worksheets(plain).engine == "calamine"  # 16 digits, held exactly by a double
    _, records, _ = read_xlsx_default(contract, plain)
    assert records == [(2, ["D", "1234567890123456", "2024-01-31"])]


def rewrite_part(path: Path, name: str, old: bytes, new: bytes) -> None:
    """Replace ``old`` by ``new`` in the zip part ``name`` of the workbook."""
    import zipfile

    with zipfile.ZipFile(path) as source:
        parts = {info.filename: source.read(info) for info in source.infolist()}
    assert old in parts[name]
    parts[name] = parts[name].replace(old, new)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in parts.items():
            target.writestr(name, data)


def test_numbers_outside_excel_dates_go_to_openpyxl(tmp_path: Path) -> None:
    """A date-styled number before the epoch or past 9999-12-31, and a locale date format."""
    from openpyxl import Workbook

    contract = make_contract(tmp_path)
    book = Workbook()
    sheet = book.active
    sheet.append(["N°", "Montant", "Jour"])
    sheet.append(["A", 1, -400])
    sheet.append(["B", 2, 3_000_000])
    sheet.append(["C", 3, 1e16])  # written "1e+16"
    for ref in ("C2", "C3", "C4"):
        sheet[ref].number_format = "yyyy-mm-dd"
    path = tmp_path / "dates.xlsx"
    book.save(path)
    assert scan_worksheets(path).markers == {"date_out_of_range"}
    by_openpyxl = read(contract, path, "openpyxl")
    assert by_openpyxl[1] == [
        (2, ["A", "1", "1898-11-25"]),
        (3, ["B", "2", "#VALUE!"]),
        (4, ["C", "3", "#VALUE!"]),
    ]
    assert read(contract, path, "calamine") != by_openpyxl  # why they go to openpyxl
    assert read_xlsx_default(contract, path)[1] == by_openpyxl[1]

    # the same numbers without a date style: plain numbers, calamine, even beside a date
    plain = save(tmp_path / "plain.xlsx", [["N°", "Montant", "Jour"], ["A", -400, 3_000_000]])
    assert scan_worksheets(plain).engine == "calamine"
    assert read_xlsx_default(contract, plain)[1] == [(2, ["A", "-400", "3000000"])]
    book = Workbook()
    book.active.append(["N°", "Montant", "Jour"])
    book.active.append(["A", -400, dt.date(2024, 1, 31)])
    book.active.append(["B", 3e16, dt.datetime(2024, 2, 1, 8, 30)])
    beside = tmp_path / "beside.xlsx"
    book.save(beside)
    assert scan_worksheets(beside).engine == "calamine"
    assert read_xlsx_default(contract, beside)[1] == [
        (2, ["A", "-400", "2024-01-31"]),
        (3, ["B", "30000000000000000", "2024-02-01T08:30:00"]),
    ]
    assert read(contract, beside, "calamine") == read(contract, beside, "openpyxl")

    # a built-in locale date format (id 31): a date for calamine, a number for openpyxl
    book = Workbook()
    book.active.append(["N°", "Montant", "Jour"])
    book.active.append(["C", 3, 45000])
    book.active["C2"].number_format = "mm-dd-yy"  # built-in id 14, patched to 31 below
    locale = tmp_path / "locale.xlsx"
    book.save(locale)
    rewrite_part(locale, "xl/styles.xml", b'numFmtId="14"', b'numFmtId="31"')
    assert scan_worksheets(locale).markers == {"locale_date"}
    assert read(contract, locale, "calamine") != read(contract, locale, "openpyxl")
    assert read_xlsx_default(contract, locale)[1] == [(2, ["C", "3", "45000"])]


def read_xlsx_default(contract: Contract, path: Path):
    layout, chunks = read_xlsx(contract, path, chunk_rows=10)
    records = [r for chunk in chunks for r in chunk.records]
    return layout, records, []


def test_a_sheet_stored_under_another_name_is_scanned_too(tmp_path: Path) -> None:
    """The scan reads every XML part: a sheet outside xl/worksheets/ with an error cell."""
    import zipfile

    from openpyxl import load_workbook

    path = save(tmp_path / "demo.xlsx", [["N°", "Montant", "Jour"], ["A", "#N/A", None]])
    book = load_workbook(path)
    book.active["B2"].data_type = "e"
    book.save(path)
    with zipfile.ZipFile(path) as source:
        parts = {info.filename: source.read(info) for info in source.infolist()}
    moved = {"xl/worksheets/sheet1.xml": "xl/data/feuille.xml"}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in parts.items():
            for old, new in moved.items():
                data = data.replace(b"/" + old.encode(), b"/" + new.encode())
            target.writestr(moved.get(name, name), data)
    with zipfile.ZipFile(path) as check:
        assert "xl/data/feuille.xml" in check.namelist()
    assert scan_worksheets(path).markers == {"error"}
    assert read_xlsx_default(make_contract(tmp_path), path)[1] == [(2, ["A", "#N/A", None])]


def test_a_sheet_too_large_for_memory_is_streamed_by_openpyxl(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = save(tmp_path / "demo.xlsx", [["N°", "Montant", "Jour"], ["A", 1, None]])
    assert scan_worksheets(path).engine == "calamine"
    monkeypatch.setattr(xlsx_reader, "MAX_CALAMINE_SHEET_BYTES", scan_worksheets(path).inflated - 1)
    assert scan_worksheets(path).engine == "openpyxl"
    calls: list[str] = []
    original = xlsx_reader._openpyxl_rows

    def spy(*args: object, **kwargs: object):
        calls.append("openpyxl")
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(xlsx_reader, "_openpyxl_rows", spy)
    _, records, _ = read_xlsx_default(make_contract(tmp_path), path)
    assert calls == ["openpyxl"] and records == [(2, ["A", "1", None])]


def test_landing_reads_the_header_without_parsing_the_sheet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows: list[list[object]] = [["N°", "Montant", "Jour"]] + [["A", i, None] for i in range(500)]
    path = save(tmp_path / "demo.xlsx", rows)
    monkeypatch.setattr(xlsx_reader, "_calamine_rows", None)  # any call would fail
    monkeypatch.setattr(xlsx_reader, "scan_worksheets", None)
    layout = read_layout(make_contract(tmp_path), path)
    assert layout.columns == ["id", "amount", "day"]
    with pytest.raises(ExtractError, match="no header on row 600"):
        read_layout(make_contract(tmp_path, header_row=600), path)


def test_the_sample_pvt_workbooks_read_alike(tmp_path: Path) -> None:
    from lake.contracts import get_contract

    root = Path(__file__).resolve().parents[2]
    contract = get_contract(root, "pvt_visas")
    files = sorted((root / "samples" / "pvt_visas").glob("*/*.xlsx"))
    assert files
    for path in files:
        assert scan_worksheets(path).engine == "calamine"
        assert read(contract, path, "calamine") == read(contract, path, "openpyxl")
