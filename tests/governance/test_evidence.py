"""What the dashboard reads back from disk: page stamps and the published Table Schemas."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from governance.evidence import (
    PageStamp,
    PublishedSchemas,
    freshness,
    published_schemas,
    read_stamp,
    stamp_path,
    write_stamp,
)

T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
CATALOG: dict[str, Any] = {
    "tables": [
        {"layer": "silver", "name": "visas", "version": 3, "updated_at": "2026-02-28T08:00:00"},
        {"layer": "gold", "name": "visas_par_pays", "version": 1, "updated_at": None},
    ]
}
SCHEMA = {
    "fields": [{"name": "pays", "type": "string"}, {"name": "visas", "type": "integer"}],
    "primaryKey": ["pays"],
}


def test_a_stamp_records_the_versions_the_page_described(tmp_path: Path) -> None:
    page = tmp_path / "etude" / "index.html"
    out = write_stamp(page, CATALOG, T0)
    assert out == stamp_path(page) == tmp_path / "etude" / "index.stamp.json"
    assert json.loads(out.read_text(encoding="utf-8")) == {
        "page": "index.html",
        "generated_at": "2026-03-01T09:00:00+00:00",
        "tables": {
            "gold/visas_par_pays": {"version": 1, "updated_at": None},
            "silver/visas": {"version": 3, "updated_at": "2026-02-28T08:00:00"},
        },
    }
    assert read_stamp(page) == PageStamp(
        "index.html", T0, {"gold/visas_par_pays": 1, "silver/visas": 3}
    )
    assert freshness(read_stamp(page), CATALOG).current


def test_a_missing_or_unreadable_stamp_is_no_stamp(tmp_path: Path) -> None:
    page = tmp_path / "cloud.html"
    page.write_text("<!DOCTYPE html>")  # a page alone proves nothing
    assert read_stamp(page) is None
    found = freshness(read_stamp(page), CATALOG)
    assert (found.current, found.details) == (
        False,
        ("Document absent, ou produit sans trace de génération.",),
    )
    for broken in ("{", '{"page": "cloud.html"}', '{"page": 1, "generated_at": "x", "tables": {}}'):
        stamp_path(page).write_text(broken)
        assert read_stamp(page) is None, broken


def test_a_commit_after_the_stamp_makes_the_page_stale(tmp_path: Path) -> None:
    page = tmp_path / "cloud.html"
    write_stamp(page, CATALOG, T0)
    later = {"tables": [dict(CATALOG["tables"][0], version=4), CATALOG["tables"][1]]}
    found = freshness(read_stamp(page), later)
    assert not found.current
    assert found.details == (
        "Produit le 1er mars 2026 à 9 h 00 UTC : périmé, les données ont changé depuis.",
        "silver/visas : modifiée le 28 février 2026 à 8 h 00 UTC (version 4, le document "
        "décrit la version 3).",
    )


def write_published(folder: Path, name: str, schema: Any, header: str | None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    text = schema if isinstance(schema, str) else json.dumps(schema)
    (folder / f"{name}.schema.json").write_text(text, encoding="utf-8")
    if header is not None:
        (folder / f"{name}.csv").write_text(f"{header}\r\nFR,3\r\n", encoding="utf-8")


def test_only_valid_schemas_published_beside_their_data_count(tmp_path: Path) -> None:
    opendata = tmp_path / "opendata"
    write_published(opendata, "visas_par_pays", SCHEMA, "pays,visas")
    write_published(opendata, "bad_type", {"fields": [{"name": "pays", "type": "pays"}]}, "pays")
    write_published(opendata, "no_data", SCHEMA, None)
    write_published(opendata, "other_header", SCHEMA, "visas,pays")
    write_published(opendata, "not_json", "{", "pays,visas")
    # What `lake reports` writes for every table elsewhere is documentation, not a publication.
    write_published(tmp_path / "schemas", "silver.visas", SCHEMA, "pays,visas")
    assert published_schemas(opendata) == PublishedSchemas(
        valid=("visas_par_pays",),
        refused=(
            "bad_type.schema.json : schéma invalide : field 'pays': type 'pays' is not a Table "
            "Schema type",
            "no_data.schema.json : aucune donnée publiée à côté (no_data.csv absent)",
            "not_json.schema.json : illisible (Expecting property name enclosed in double "
            "quotes: line 1 column 2 (char 1))",
            "other_header.schema.json : les champs ['pays', 'visas'] ne sont pas l'en-tête de "
            "other_header.csv ['visas', 'pays']",
        ),
    )
    assert published_schemas(tmp_path / "absent") == PublishedSchemas()
