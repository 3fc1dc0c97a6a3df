"""The native CSV reader agrees with the line-by-line reader, line for line, on messy files."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingestion.readers import ExtractError, csv_native, read_extract, text_lines
from ingestion.readers.csv_native import read_csv_native
from ingestion.readers.csv_reader import read_csv
from lake.contracts import Contract, load_contract

CONTRACT = """
source: demo
title: Démo
domain: test
owner: DGM
description: Test.
format: csv
encoding: {enc}
delimiter: "{delimiter}"
quote: "{quote}"
header_row: {header_row}
primary_key: [id]
exposure_level: 4
retention: {{years: 5, end: purge}}
columns:
  - {{name: id, type: string, description: Identifiant, source_name: "N°"}}
  - {{name: amount, type: decimal, description: Montant, source_name: Montant}}
  - {{name: label, type: string, description: Libellé, source_name: Libellé}}
"""
ENCODINGS = ("utf-8", "utf-8-sig", "latin-1", "cp1252")
AGREE = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Pieces of messy lines: quotes (closed, doubled, unterminated, after text), delimiters of every
# contract, CR, NUL, BOM, Unicode spaces, Latin-1 letters, bytes no encoding has.
PIECES = [
    ";", ",", "\t", "|", '"', "'", '""', '"a;b"', '"x,y"', "\r", "\r\n", "\x00", "\ufeff",
    "\xa0", "\u3000", "\x1c", " ", "é", "°", "’", "N°", "Montant", "1 250,50", "=1+1", "A", "42",
]  # fmt: skip
LINE = st.lists(st.sampled_from(PIECES) | st.characters(max_codepoint=0x3000), max_size=12).map(
    "".join
)


@contextmanager
def folder() -> Iterator[Path]:
    """A fresh directory per hypothesis example (function fixtures are shared by examples)."""
    with tempfile.TemporaryDirectory(prefix="csv-native-") as tmp:
        yield Path(tmp)


def make_contract(
    folder: Path, enc: str = "utf-8", delimiter: str = ";", quote: str = '"', header_row: int = 1
) -> Contract:
    path = folder / "demo.yaml"
    escaped = {"\t": "\\t", '"': '\\"'}
    path.write_text(
        CONTRACT.format(
            enc=enc,
            delimiter=escaped.get(delimiter, delimiter),
            quote=escaped.get(quote, quote),
            header_row=header_row,
        ),
        encoding="utf-8",
    )
    return load_contract(path)


def outcome(reader, contract: Contract, path: Path, chunk_rows: int = 4):
    """Records and malformed lines in line order, or the error's text."""
    try:
        layout, chunks = reader(contract, path, chunk_rows)
        records, malformed = [], []
        for chunk in chunks:
            records += chunk.records
            malformed += [(m.line, m.raw, m.reason) for m in chunk.malformed]
    except ExtractError as exc:
        return ("error", str(exc))
    return (layout.columns, sorted(records), sorted(malformed))


@given(
    lines=st.lists(LINE, max_size=25),
    encoding=st.sampled_from(ENCODINGS),
    delimiter=st.sampled_from([";", ",", "\t", "|"]),
    quote=st.sampled_from(['"', "'"]),
    header_row=st.integers(1, 2),
    line_end=st.sampled_from(["\n", "\r\n"]),
    block=st.sampled_from([7, 64, 1 << 20]),
    max_line=st.sampled_from([16, 1 << 20]),
    raw_bytes=st.lists(
        st.tuples(st.integers(0, 400), st.binary(min_size=1, max_size=2)), max_size=2
    ),
)
@AGREE
def test_native_and_line_by_line_readers_agree_line_for_line(
    lines: list[str],
    encoding: str,
    delimiter: str,
    quote: str,
    header_row: int,
    line_end: str,
    block: int,
    max_line: int,
    raw_bytes: list[tuple[int, bytes]],
) -> None:
    if delimiter == quote:
        quote = '"'
    header = delimiter.join(["N°", "Montant", "Libellé"])
    text = line_end.join(["titre", header][2 - header_row :] + lines) + line_end
    data = bytearray(text.encode(encoding, errors="replace"))
    for position, planted in raw_bytes:  # bytes the encoding may refuse, anywhere after line 1
        at = min(len(data), max(position, len(line_end) + 10))
        data[at:at] = planted
    with folder() as tmp, pytest.MonkeyPatch.context() as patch:
        patch.setattr(csv_native, "BLOCK_BYTES", block)
        patch.setattr(text_lines, "MAX_LINE_BYTES", max_line)
        contract = make_contract(tmp, encoding, delimiter, quote, header_row)
        path = tmp / "demo.csv"
        path.write_bytes(bytes(data))
        assert outcome(read_csv_native, contract, path) == outcome(read_csv, contract, path)


def test_generated_extract_reads_the_same(tmp_path: Path) -> None:
    """A realistic extract of the generator, in Latin-1 / CRLF / BOM flavours, read both ways."""
    rows = [f"P{i};{i},5;Libellé {i}" for i in range(3000)]
    rows[10] = 'P10;"1;5";"Libellé ""dix"""'
    rows[20] = 'P20;"unterminated;x'
    rows[21] = "P21;too;many;fields"
    rows[30] = "   "
    for encoding, end, bom in (("latin-1", "\r\n", ""), ("utf-8-sig", "\n", "\ufeff")):
        path = tmp_path / f"{encoding}.csv"
        path.write_bytes((bom + end.join(["N°;Montant;Libellé", *rows]) + end).encode(encoding))
        contract = make_contract(tmp_path, encoding)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(csv_native, "BLOCK_BYTES", 4096)  # many blocks, several in flight
            native = outcome(read_csv_native, contract, path, chunk_rows=1000)
        assert native == outcome(read_csv, contract, path, chunk_rows=1000)
        _, records, malformed = native
        assert len(records) == 2997 and [m[0] for m in malformed] == [22, 23]
        assert records[10] == (12, ["P10", "1;5", 'Libellé "dix"'])


def test_read_extract_uses_the_native_reader_and_gives_arrow_tables(tmp_path: Path) -> None:
    path = tmp_path / "demo.csv"
    path.write_text("N°;Montant;Libellé\nA;1;x\nB;2\n", encoding="utf-8")
    layout, chunks = read_extract(make_contract(tmp_path), path)
    chunk = next(chunks)
    table = chunk.table(layout.columns)
    assert table.column_names == ["_line", "id", "amount", "label"]
    assert table.to_pylist() == [{"_line": 2, "id": "A", "amount": "1", "label": "x"}]
    assert [(m.line, m.reason) for m in chunk.malformed] == [
        (3, "nombre de champs incorrect : 2 au lieu de 3 (wrong field count)")
    ]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"])
def test_a_byte_order_mark_inside_the_file_is_read_as_line_by_line(
    tmp_path: Path, encoding: str
) -> None:
    """utf-8-sig drops one BOM at the start of every line (each line is decoded alone)."""
    path = tmp_path / "demo.csv"
    path.write_bytes("\ufeffN°;Montant;Libellé\n\ufeffA;1;x\r\n\ufeff\ufeffB;2;y\n".encode())
    contract = make_contract(tmp_path, encoding)
    native = outcome(read_csv_native, contract, path)
    assert native == outcome(read_csv, contract, path)
    first = "A" if encoding == "utf-8-sig" else "\ufeffA"
    assert native[1][0] == (2, [first, "1", "x"])
