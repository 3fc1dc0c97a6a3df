"""Parsing delivered files: malformed lines caught with their line, clear errors otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingestion.readers import ExtractError, read_extract
from lake.contracts import load_contract

CONTRACT = """
source: demo
title: Démo
domain: test
owner: DGM
description: Test.
format: {fmt}
encoding: {enc}
header_row: {header_row}
primary_key: [id]
exposure_level: 4
retention: {{years: 5, end: purge}}
columns:
  - {{name: id, type: string, description: Identifiant, source_name: "N°"}}
  - {{name: amount, type: decimal, description: Montant, source_name: Montant,
      aliases: [Montant EUR]}}
"""


def contract(tmp_path: Path, fmt: str = "csv", enc: str = "latin-1", header_row: int = 1):
    path = tmp_path / "demo.yaml"
    path.write_text(CONTRACT.format(fmt=fmt, enc=enc, header_row=header_row))
    return load_contract(path)


def read_all(c, path: Path):
    layout, chunks = read_extract(c, path, chunk_rows=2)
    records, malformed = [], []
    for chunk in chunks:
        records += chunk.records
        malformed += chunk.malformed
    return layout, records, malformed


def test_csv_records_malformed_lines_and_extra_columns(tmp_path: Path) -> None:
    c = contract(tmp_path)
    path = tmp_path / "demo.csv"
    path.write_bytes(
        'N°;Montant EUR;Commentaire\nA;1 250,50;été\nB;2\n\nC;"3;x\nD;4;ok\n'.encode("latin-1")
    )
    layout, records, malformed = read_all(c, path)
    assert layout.columns == ["id", "amount", "extra_commentaire"]
    assert layout.extra_columns == ["extra_commentaire"]
    assert records == [(2, ["A", "1 250,50", "été"]), (6, ["D", "4", "ok"])]
    assert [(m.line, m.raw) for m in malformed] == [(3, "B;2"), (5, 'C;"3;x')]
    assert malformed[0].reason.startswith("nombre de champs incorrect : 2 au lieu de 3")
    assert malformed[1].reason == "guillemet non fermé (unterminated quote)"


def test_wrong_encoding_names_line_and_byte(tmp_path: Path) -> None:
    c = contract(tmp_path, enc="utf-8")
    path = tmp_path / "demo.csv"
    path.write_bytes("N°;Montant\nA;1\nB;é\n".encode("latin-1").replace(b"N\xb0", b"N"))
    _, chunks = read_extract(c, path)
    with pytest.raises(ExtractError) as err:
        list(chunks)
    assert str(err.value).startswith(f"{path}: line 3, byte 3: not valid utf-8 (found byte 0xe9).")


@pytest.mark.parametrize("content", [b"", b"\n\n"])
def test_empty_file_is_a_clear_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "demo.csv"
    path.write_bytes(content)
    with pytest.raises(ExtractError, match="no header at line 1"):
        read_extract(contract(tmp_path), path)


def test_wrong_format_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "demo.xlsx"
    path.write_bytes(b"PK")
    with pytest.raises(ExtractError, match=r"expects csv files; found a \.xlsx file"):
        read_extract(contract(tmp_path), path)


def test_xlsx_with_a_title_row(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Extrait du 15/01/2026"])
    sheet.append(["N°", "Montant"])
    sheet.append(["A", 12.5])
    sheet.append(["B", "1 250"])
    path = tmp_path / "demo.xlsx"
    book.save(path)
    layout, records, malformed = read_all(contract(tmp_path, "xlsx", "utf-8", 2), path)
    assert layout.columns == ["id", "amount"]
    assert records == [(3, ["A", "12.5"]), (4, ["B", "1 250"])]
    assert malformed == []


def test_a_workbook_of_values_is_read_by_calamine_and_one_with_formulas_by_openpyxl_in_two(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import openpyxl
    from openpyxl import Workbook

    from ingestion.readers.xlsx_reader import has_formulas

    def save(name: str, rows: list[list[object]]) -> Path:
        book = Workbook()
        for row in rows:
            book.active.append(row)
        path = tmp_path / name
        book.save(path)
        return path

    values = save("values.xlsx", [["N°", "Montant"], ["A", 12.5], ["B", "<f> x"]])
    formulas = save("formulas.xlsx", [["N°", "Montant"], ["A", "=1+1"]])
    assert not has_formulas(values)  # markup in a value is escaped text, not an element
    assert has_formulas(formulas)
    assert has_formulas(tmp_path / "missing.xlsx")  # unsure: the full reading reports it

    passes: list[bool] = []
    load = openpyxl.load_workbook

    def counted(*args: object, **kwargs: object):
        passes.append(bool(kwargs.get("data_only")))
        return load(*args, **kwargs)

    monkeypatch.setattr(openpyxl, "load_workbook", counted)
    _, records, _ = read_all(contract(tmp_path, "xlsx", "utf-8"), values)
    assert passes == []  # plain values: calamine, no openpyxl pass
    assert records == [(2, ["A", "12.5"]), (3, ["B", "<f> x"])]
    passes.clear()
    _, records, _ = read_all(contract(tmp_path, "xlsx", "utf-8"), formulas)
    assert passes == [True, False]
    assert records == [(2, ["A", "=1+1"])]  # never computed: kept as its text


def test_a_broken_workbook_is_an_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "demo.xlsx"
    path.write_bytes(b"this is not a zip")
    with pytest.raises(ExtractError, match="not a readable Excel workbook"):
        read_extract(contract(tmp_path, "xlsx", "utf-8"), path)


def test_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "demo.jsonl"
    path.write_text(
        '{"N°": "A", "Montant": 1}\nnot json\n{"N°": "B", "Autre": 2}\n'
        '{"N°": "C", "Montant": null}\n',
        encoding="utf-8",
    )
    layout, records, malformed = read_all(contract(tmp_path, "json", "utf-8"), path)
    assert layout.columns == ["id", "amount"]
    assert records == [(1, ["A", "1"]), (4, ["C", None])]
    assert [m.line for m in malformed] == [2, 3]
