"""Extract generator: determinism, scaling, contracts, encodings and the defect manifest (pure).

The files are read back with the parsing rules of docs/extracts.md, reimplemented here on
purpose (stdlib + openpyxl, no ingestion code): every planted value must break or pass those rules
exactly as its manifest entry says, and every other line must follow its contract.
"""

from __future__ import annotations

import csv
import json
import re
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pycountry
import pytest
from openpyxl import load_workbook

from ingestion.generator import SOURCES, generate_all, generate_delivery, planted_defects
from lake.contracts import Contract, load_contracts, normalise_header

REPO = Path(__file__).resolve().parents[2]
ROWS = 45
KINDS = {
    "malformed_field_count", "unterminated_quote", "invalid_json", "bad_date", "bad_number",
    "null_in_required", "not_allowed", "unknown_country", "country_without_iso", "territory",
    "country_variant", "exact_duplicate", "duplicate_key", "null_marker", "thousands_separator",
    "decimal_comma", "added_column", "renamed_column", "title_row", "formula_text", "markup_text",
    "business_rule",
}  # fmt: skip
EXPECTED = {"quarantine", "typed", "flagged", "dropped_duplicate", "reported"}
SPACES = (" ", "\u00a0", "\u202f")


# --- reading the files back with the documented rules ---------------------------------------------


@dataclass
class Extract:
    """One delivered file: header, raw lines and parsed records by physical line (xlsx: row)."""

    header: list[str]
    header_line: int
    lines: dict[int, str] = field(default_factory=dict)
    records: dict[int, list[str]] = field(default_factory=dict)
    errors: dict[int, str] = field(default_factory=dict)

    def value(self, contract: Contract, line: int, column: str) -> str:
        mapping = contract.header_map()
        index = next(
            i for i, h in enumerate(self.header) if mapping.get(normalise_header(h)) == column
        )
        return self.records[line][index]


def read_extract(contract: Contract, path: Path) -> Extract:
    if contract.format == "xlsx":
        sheet = load_workbook(path, read_only=True)[contract.sheet or 0]
        rows = list(sheet.iter_rows(values_only=True))
        cells = [["" if v is None else str(v) for v in row] for row in rows]
        extract = Extract(cells[contract.header_row - 1], contract.header_row)
        for number, row in enumerate(cells[contract.header_row :], start=contract.header_row + 1):
            extract.records[number] = row
        extract.lines = {1: cells[0][0]}
        return extract
    text = path.read_bytes().decode(contract.encoding)
    physical = text.split("\n")
    assert physical[-1] == "", f"{path.name} must end with a newline"
    lines = {n: line.removesuffix("\r") for n, line in enumerate(physical[:-1], start=1)}
    if contract.format == "json":
        extract = Extract([], 0, lines)
        for n, line in lines.items():
            try:
                obj = json.loads(line)
                assert isinstance(obj, dict)
            except (json.JSONDecodeError, AssertionError):
                extract.errors[n] = "invalid json"
                continue
            extract.header = extract.header or list(obj)
            extract.records[n] = [obj.get(h, "") for h in extract.header]
        return extract

    def split(line: str) -> list[str]:
        return next(
            csv.reader([line], delimiter=contract.delimiter, quotechar=contract.quote, strict=True)
        )

    extract = Extract(split(lines[contract.header_row]), contract.header_row, lines)
    for n, line in lines.items():
        if n <= contract.header_row or not line.strip():
            continue
        try:
            fields = split(line)
        except csv.Error:
            extract.errors[n] = "unterminated quote"
            continue
        if len(fields) != len(extract.header):
            extract.errors[n] = "wrong field count"
        else:
            extract.records[n] = fields
    return extract


def to_number(raw: str, contract: Contract, kind: str) -> float | int | None:
    text = raw.strip()
    for separator in {contract.thousands, *SPACES}:
        text = text.replace(separator, "")
    if contract.decimal == ",":
        text = text.replace(",", ".")
    if kind == "integer":
        return int(text) if re.fullmatch(r"[+-]?\d+", text) else None
    return float(text) if re.fullmatch(r"[+-]?\d+(\.\d+)?", text) else None


def to_date(raw: str, contract: Contract) -> str | None:
    for pattern in contract.date_formats:
        strptime = pattern.replace("yyyy", "%Y").replace("MM", "%m").replace("dd", "%d")
        try:
            return datetime.strptime(raw.strip(), strptime).date().isoformat()
        except ValueError:
            continue
    return None


def country_key(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(re.sub(r"[^A-Za-z0-9]+", " ", folded).upper().split())


@dataclass(frozen=True)
class Place:
    iso3: str
    name: str
    territory: bool


def _insee_places() -> tuple[dict[str, Place], set[str]]:
    """INSEE names and ISO codes -> place, plus pycountry's English names; and the INSEE names."""
    path = REPO / "ingestion/data/insee_cog_pays_territoires_2025.csv"
    if not path.exists():
        path = REPO.parent / "shared/reference/insee-cog-pays-territoires-2025.csv"
    places: dict[str, Place] = {}
    names: set[str] = set()
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            names.add(row["name"])
            place = Place(row["iso3_code"], row["name"], bool(row["parent_code"]))
            for key in (row["name"], row["iso2_code"], row["iso3_code"]):
                if key:
                    places.setdefault(country_key(key), place)
    for country in pycountry.countries:
        for name in (country.name, getattr(country, "official_name", None)):
            if name and country_key(name) not in places:
                places[country_key(name)] = Place(country.alpha_3, name, False)
    return places, names


PLACES, INSEE_NAMES = _insee_places()


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def contracts() -> dict[str, Contract]:
    return load_contracts(REPO)


@pytest.fixture(scope="module")
def delivered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Path]]:
    return generate_all(tmp_path_factory.mktemp("extracts"), rows=ROWS)


@pytest.fixture(scope="module")
def manifest() -> list[dict]:
    return [d for s in SOURCES for n in (1, 2) for d in planted_defects(s, n, ROWS)]


@pytest.fixture(scope="module")
def extracts(delivered, contracts) -> dict[tuple[str, int], Extract]:
    return {
        (source, n): read_extract(contracts[source], paths[n - 1])
        for source, paths in delivered.items()
        for n in (1, 2)
    }


# --- tests ---------------------------------------------------------------------------------------


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    for source in SOURCES:
        for n in (1, 2):
            (a,) = generate_delivery(source, n, 40, tmp_path / "a", seed=7)
            (b,) = generate_delivery(source, n, 40, tmp_path / "b", seed=7)
            (c,) = generate_delivery(source, n, 40, tmp_path / "c", seed=8)
            assert a.name == b.name == c.name
            assert a.read_bytes() == b.read_bytes(), a.name
            assert a.read_bytes() != c.read_bytes(), a.name
            assert planted_defects(source, n, 40, seed=7) == planted_defects(source, n, 40, seed=7)


@pytest.mark.parametrize("rows", [30, 77])
def test_rows_is_the_number_of_data_lines(tmp_path: Path, contracts, rows: int) -> None:
    written = generate_all(tmp_path, rows=rows)
    assert list(written) == list(SOURCES)
    for source, paths in written.items():
        assert [p.name.split("_")[-1] for p in paths] == [
            f"2026-01-15.{p.suffix[1:]}" for p in paths[:1]
        ] + [f"2026-02-16.{p.suffix[1:]}" for p in paths[1:]]
        for path in paths:
            extract = read_extract(contracts[source], path)
            data = len(extract.records) + len(extract.errors)
            assert data == rows, path.name
            assert (
                path.parent.name in ("delivery-1", "delivery-2")
                and path.parent.parent.name == source
            )


def test_invalid_arguments_name_the_valid_values(tmp_path: Path) -> None:
    valid = (
        "consular_register, adoptions, pvt_visas, civil_status, travel_advice, "
        "development_aid, hr_agents"
    )
    with pytest.raises(ValueError) as err:
        generate_delivery("visas", 1, 50, tmp_path)
    assert str(err.value) == f"unknown source 'visas'; valid sources: {valid}"
    with pytest.raises(ValueError, match=r"^unknown source 'x'; valid sources: consular_register"):
        planted_defects("x", 1, 50)
    with pytest.raises(ValueError, match=r"^delivery must be 1 or 2; got 3$"):
        generate_delivery("adoptions", 3, 50, tmp_path)
    with pytest.raises(ValueError, match=r"^rows must be >= 30 .*; got 29$"):
        planted_defects("adoptions", 1, 29)
    assert not list(tmp_path.iterdir())


def test_contracts_load_and_every_header_maps_except_the_added_column(
    contracts, extracts, manifest
) -> None:
    assert sorted(contracts) == sorted(SOURCES)
    added = {
        (d["source"], d["delivery"]): d["value"] for d in manifest if d["kind"] == "added_column"
    }
    assert added == {("adoptions", 2): "Commentaire", ("development_aid", 2): "Commentaire"}
    for (source, n), extract in extracts.items():
        mapping = contracts[source].header_map()
        mapped = [mapping.get(normalise_header(h)) for h in extract.header]
        unmapped = [h for h, m in zip(extract.header, mapped, strict=True) if m is None]
        assert unmapped == ([added[(source, n)]] if (source, n) in added else []), (source, n)
        assert sorted(m for m in mapped if m) == sorted(c.name for c in contracts[source].columns)
    renamed = {
        (d["source"], d["value"]): d["column"] for d in manifest if d["kind"] == "renamed_column"
    }
    assert renamed == {
        ("adoptions", "Pays de naissance de l'enfant"): "country_of_origin",
        ("development_aid", "Montant engagé (EUR)"): "amount_eur",
    }
    for (source, header), column in renamed.items():
        assert header in contracts[source].column(column).aliases
        assert header not in extracts[(source, 1)].header


def test_each_declared_encoding_really_decodes_its_file(delivered, contracts) -> None:
    for source, paths in delivered.items():
        contract = contracts[source]
        for path in paths:
            data = path.read_bytes()
            if contract.format == "xlsx":
                assert data[:2] == b"PK"
                continue
            data.decode(contract.encoding)
            assert data.startswith(b"\xef\xbb\xbf") == (contract.encoding == "utf-8-sig")
    assert contracts["adoptions"].encoding == "latin-1"
    latin = delivered["adoptions"][0].read_bytes()
    with pytest.raises(UnicodeDecodeError):
        latin.decode("utf-8")
    assert "Année".encode("latin-1") in latin
    windows = delivered["civil_status"][0].read_bytes()
    assert contracts["civil_status"].encoding == "cp1252"
    assert b"\x92" in windows  # ’ in cp1252: a C1 control in Latin-1, invalid in UTF-8
    with pytest.raises(UnicodeDecodeError):
        windows.decode("utf-8")
    assert windows.count(b"\r\n") == ROWS + 1
    assert {contracts[s].delimiter for s in SOURCES if contracts[s].format == "csv"} == {";", ","}


def test_every_defect_kind_is_planted_with_a_valid_outcome(manifest) -> None:
    assert {d["kind"] for d in manifest} == KINDS
    for d in manifest:
        assert d["expected"] in EXPECTED, d
        assert ("expected_value" in d) == (d["expected"] == "typed"), d
        assert set(d) >= {"source", "delivery", "file", "line", "column", "kind", "value"}
    rows = [
        (d["file"], d["line"])
        for d in manifest
        if d["kind"] not in ("added_column", "renamed_column", "title_row")
    ]
    assert len(rows) == len(set(rows)), "one planted defect per data line"
    assert {
        d["source"] for d in manifest if d["kind"] == "duplicate_key" and d["delivery"] == 2
    } == set(SOURCES)


def test_the_manifest_is_computed_from_the_files(contracts, extracts, manifest) -> None:
    for d in manifest:
        contract, extract = contracts[d["source"]], extracts[(d["source"], d["delivery"])]
        line, value, kind = d["line"], d["value"], d["kind"]
        if kind == "title_row":
            assert (line, extract.lines[1]) == (1, value)
            assert extract.header_line == contract.header_row == 2
        elif kind in ("added_column", "renamed_column"):
            assert line == extract.header_line and value in extract.header
        elif d["column"] is None:
            assert extract.lines[line] == value, d
        else:
            assert extract.value(contract, line, d["column"]) == value, d


def test_planted_values_break_or_pass_the_rules_as_the_manifest_says(
    contracts, extracts, manifest
) -> None:
    for d in manifest:
        contract, extract = contracts[d["source"]], extracts[(d["source"], d["delivery"])]
        kind, value, line = d["kind"], d["value"], d["line"]
        column = contract.column(d["column"]) if d["column"] else None
        if kind == "malformed_field_count":
            assert extract.errors[line] == "wrong field count"
        elif kind == "unterminated_quote":
            assert extract.errors[line] == "unterminated quote"
        elif kind == "invalid_json":
            assert extract.errors[line] == "invalid json"
        elif kind == "bad_date":
            assert value.strip() not in contract.null_markers and to_date(value, contract) is None
        elif kind == "bad_number":
            assert column and to_number(value, contract, column.type) is None
        elif kind == "null_in_required":
            assert column and not column.nullable and value.strip() in contract.null_markers
        elif kind == "not_allowed":
            assert column and column.allowed and value.strip() not in column.allowed
        elif kind == "unknown_country":
            assert country_key(value) not in PLACES
        elif kind in ("country_without_iso", "territory"):
            place = PLACES[country_key(value)]
            assert (place.iso3 == "", place.territory) == (
                kind == "country_without_iso",
                kind == "territory",
            )
        elif kind == "country_variant":
            assert (
                value not in INSEE_NAMES and PLACES[country_key(value)].iso3 == d["expected_value"]
            )
        elif kind == "null_marker":
            assert column and column.nullable and value in contract.null_markers
            assert d["expected_value"] is None
        elif kind in ("thousands_separator", "decimal_comma"):
            assert column and to_number(value, contract, column.type) == d["expected_value"]
            assert any(s in value for s in SPACES) == (kind == "thousands_separator")
        elif kind in ("formula_text", "markup_text"):
            assert d["expected_value"] == value and value[0] in "=<"
        elif kind == "exact_duplicate":
            assert extract.lines[d["duplicate_of"]["line"]] == value
        elif kind == "duplicate_key":
            earlier = extracts[(d["source"], d["duplicate_of"]["delivery"])]
            then = d["duplicate_of"]["line"]
            for key in contract.primary_key:
                assert extract.value(contract, line, key) == earlier.value(contract, then, key)
            assert column and earlier.value(contract, then, column.name) != value
            typed = to_date(value, contract) if column.type == "date" else value
            if column.type in ("integer", "decimal"):
                typed = to_number(value, contract, column.type)
            assert typed == d["expected_value"], d
    spaces = {
        v for d in manifest if d["kind"] == "thousands_separator" for v in d["value"] if v in SPACES
    }
    assert spaces == set(SPACES)


def test_every_other_line_follows_its_contract(contracts, extracts, manifest) -> None:
    planted = {(d["source"], d["delivery"], d["line"]) for d in manifest}
    for (source, n), extract in extracts.items():
        contract = contracts[source]
        keys: set[tuple[str, ...]] = set()
        clean = [line for line in extract.records if (source, n, line) not in planted]
        assert not set(extract.errors) - {d[2] for d in planted if d[:2] == (source, n)}
        assert len(clean) >= ROWS - 15
        for line in clean:
            for column in contract.columns:
                raw = extract.value(contract, line, column.name).strip()
                where = (source, n, line, column.name, raw)
                assert raw not in contract.null_markers, where
                if column.type in ("integer", "decimal"):
                    number = to_number(raw, contract, column.type)
                    assert number is not None and not any(s in raw for s in SPACES), where
                    assert column.minimum is None or number >= column.minimum, where
                    assert column.maximum is None or number <= column.maximum, where
                elif column.type == "date":
                    assert to_date(raw, contract) is not None, where
                elif column.type == "country":
                    place = PLACES.get(country_key(raw))
                    assert raw in INSEE_NAMES and place and place.iso3 and not place.territory, (
                        where
                    )
                assert not column.allowed or raw in column.allowed, where
            key = tuple(extract.value(contract, line, k) for k in contract.primary_key)
            assert key not in keys, (source, n, line, key)
            keys.add(key)
        if source == "development_aid":
            titles = [extract.lines[line] for line in clean]
            assert any('""' in t for t in titles) and any('";' in t for t in titles)


def _by_key(contract: Contract, extract: Extract) -> dict[tuple[str, ...], tuple[str, ...]]:
    """Parsed records: primary key -> the values of every contract column."""
    return {
        tuple(extract.value(contract, line, k) for k in contract.primary_key): tuple(
            extract.value(contract, line, c.name) for c in contract.columns
        )
        for line in extract.records
    }


def test_delivery_2_repeats_updates_and_adds_rows(contracts, extracts, manifest) -> None:
    for source in SOURCES:
        contract = contracts[source]
        before = _by_key(contract, extracts[(source, 1)])
        after = _by_key(contract, extracts[(source, 2)])
        common = set(before) & set(after)
        changed = {k for k in common if before[k] != after[k]}
        updates = [
            d
            for d in manifest
            if (d["source"], d["delivery"], d["kind"]) == (source, 2, "duplicate_key")
        ]
        assert len(common) == ROWS // 3 and len(changed) == len(updates) == 3, source
        assert len(after) == ROWS


def test_bundled_samples_are_what_the_generator_writes(tmp_path: Path) -> None:
    samples = REPO / "samples"
    document = json.loads((samples / "MANIFEST.json").read_text(encoding="utf-8"))
    rows, seed = document["rows"], document["seed"]
    assert (rows, seed) == (60, 2021)
    generate_all(tmp_path, rows=rows, seed=seed)
    for entry in document["deliveries"]:
        source, n = entry["source"], entry["delivery"]
        assert entry["defects"] == planted_defects(source, n, rows, seed=seed)
        bundled = samples / entry["path"]
        assert bundled.name == entry["file"] and bundled.stat().st_size < 50_000
        assert bundled.read_bytes() == (tmp_path / entry["path"]).read_bytes(), entry["path"]
    assert len(document["deliveries"]) == 2 * len(SOURCES)
    assert set(document["kinds"]) == KINDS


def test_the_docs_list_every_defect_of_the_samples() -> None:
    docs = (REPO / "docs" / "extracts.md").read_text(encoding="utf-8")
    document = json.loads((REPO / "samples" / "MANIFEST.json").read_text(encoding="utf-8"))
    for entry in document["deliveries"]:
        for d in entry["defects"]:
            if d["kind"] == "duplicate_key" and d["delivery"] == 2:
                row = f"| {d['source']} | {entry['repeated_from_delivery_1']} |"
                update = f"{d['line']} ← {d['duplicate_of']['line']}"
                assert any(row in line and update in line for line in docs.splitlines()), d
                continue
            row = f"| `{d['kind']}` | {d['source']} | {d['delivery']} | {d['line']} | "
            assert row + (d["column"] or "—") + " | " in docs, d
    for kind, total in document["kinds"].items():
        assert f"| `{kind}` | {total}" in docs, kind


@pytest.mark.slow
def test_a_million_rows_take_well_under_a_minute(tmp_path: Path) -> None:
    start = time.perf_counter()
    (path,) = generate_delivery("development_aid", 1, 1_000_000, tmp_path)
    elapsed = time.perf_counter() - start
    with path.open("rb") as handle:
        lines = sum(1 for _ in handle)
    assert lines == 1_000_001
    assert elapsed < 45, f"{elapsed:.1f} s"
