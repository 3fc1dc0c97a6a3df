"""Column plans per audience, and the open-data export (refusals, CSV safety, DCAT-AP)."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pytest

from governance.errors import ExportRefused, GovernanceError
from governance.lineage.model import ColumnEdge, ColumnRef, DatasetRef, Tag
from governance.sensitivity.export import (
    ExportFiles,
    apply_plan,
    export_opendata,
    neutralise_cell,
    visible_columns,
)
from governance.sensitivity.propagation import DerivedTag, propagate

NS = "s3://lake"
REGISTER = DatasetRef(NS, "silver/consular_register")
COUNTRIES = DatasetRef(NS, "silver/countries")
GOLD = DatasetRef(NS, "gold/inscrits_par_pays")
BIRTH = ColumnRef(REGISTER, "birth_date")
ISO3 = ColumnRef(COUNTRIES, "iso3")
KEY = b"k" * 32
MODIFIED = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)
BASE_URL = "https://opendata.diplomatie.example/lake"
CONTACT = "opendata@diplomatie.example"


def gold_tags(secret: dict[DatasetRef, int]) -> dict[str, DerivedTag]:
    """Tags of the gold columns: a count of people by country (referential key), secret flag."""
    edges = [
        ColumnEdge(BIRTH, ColumnRef(GOLD, "inscrits"), "DIRECT/AGGREGATION"),
        ColumnEdge(ISO3, ColumnRef(GOLD, "pays_iso3"), "DIRECT/IDENTITY"),
        ColumnEdge(ISO3, ColumnRef(GOLD, ""), "INDIRECT/GROUP_BY"),
    ]
    derived = propagate(
        edges,
        {BIRTH: Tag(1, personal=True), ISO3: Tag(4)},
        secret=secret,
        columns={GOLD: ["pays_iso3", "inscrits", "secret_statistique"]},
    )
    return {ref.column: tag for ref, tag in derived.items() if ref.dataset == GOLD}


def gold_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "pays_iso3": ["FRA", "DEU", "ISL"],
            "inscrits": pd.array([1200, 45, None], dtype="Int64"),
            "secret_statistique": [False, False, True],
        }
    )


def schema_for(frame: pd.DataFrame) -> dict[str, object]:
    return {"fields": [{"name": c, "type": "string"} for c in frame.columns]}


def export(
    frame: pd.DataFrame,
    tags: dict[str, DerivedTag],
    out: Path,
    mode: Literal["error", "overwrite"] = "error",
) -> ExportFiles:
    return export_opendata(
        GOLD,
        frame,
        tags,
        out,
        table_schema=schema_for(frame),
        title="Français inscrits au registre par pays",
        description="Nombre de Français inscrits, secret statistique appliqué.",
        keywords=["registre", "Français de l'étranger"],
        base_url=BASE_URL,
        contact_email=CONTACT,
        themes=("GOVE", "INTR"),
        issued=date(2026, 3, 1),
        modified=MODIFIED,
        mode=mode,
    )


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


# --- enforcement per audience ------------------------------------------------------------------

COLUMNS = {
    "registration_id": Tag(1, personal=True),
    "last_name": Tag(2, personal=True),
    "amount": Tag(3),
    "country": Tag(4),
    "address": Tag(1, personal=True, exclusion=True),
}


@pytest.mark.parametrize(
    ("audience", "keep", "mask"),
    [
        (1, ["registration_id", "last_name", "amount", "country"], []),
        (2, ["last_name", "amount", "country"], ["registration_id"]),
        (3, ["amount", "country"], []),
        (4, ["country"], []),
    ],
)
def test_each_audience_sees_its_levels_and_never_an_exclusion(
    audience: int, keep: list[str], mask: list[str]
) -> None:
    plan = visible_columns(COLUMNS, audience, keys={"registration_id", "last_name"})

    assert list(plan.columns("keep")) == keep
    assert list(plan.columns("mask")) == mask
    assert "address" in plan.columns("drop")


def test_plan_reasons_are_in_french() -> None:
    plan = visible_columns(COLUMNS, 2, keys={"registration_id"})
    reasons = {d.column: d.reason_fr for d in plan.decisions}

    assert reasons["registration_id"] == (
        "clé de jointure pseudonymisée : niveau 1 réservé aux habilités internes, "
        "le pseudonyme est visible par l'audience 2 (tout interne)"
    )
    assert reasons["address"] == "champ d'exclusion : retiré de toute vue et de tout export"
    assert visible_columns(COLUMNS, 4).decisions[1].reason_fr == (
        "retiré : niveau 2 (tout interne) fermé à l'audience 4 (tous)"
    )


def test_a_pseudonym_is_never_enough_outside_the_ministry() -> None:
    plan = visible_columns({"registration_id": Tag(1, personal=True)}, 3, keys={"registration_id"})

    assert plan.action("registration_id") == "drop"


def test_apply_plan_pseudonymises_keys_like_silver() -> None:
    rows = pd.DataFrame(
        {"registration_id": ["r-001", None], "country": ["FRA", "DEU"], "address": ["x", "y"]}
    )
    plan = visible_columns({k: COLUMNS[k] for k in rows.columns}, 2, keys={"registration_id"})

    out = apply_plan(rows, plan, key=KEY)

    assert list(out.columns) == ["registration_id", "country"]
    assert out["registration_id"][0] == hmac.new(KEY, b"R-001", hashlib.sha256).hexdigest()
    assert out["registration_id"][1] is None
    assert list(rows["registration_id"]) == ["r-001", None]  # the input is not modified


def test_apply_plan_needs_a_key_to_mask_and_a_decision_for_every_column() -> None:
    rows = pd.DataFrame({"registration_id": ["r"], "extra": [1]})
    plan = visible_columns(
        {"registration_id": COLUMNS["registration_id"]}, 2, keys={"registration_id"}
    )

    with pytest.raises(GovernanceError) as unplanned:
        apply_plan(rows, plan, key=KEY)
    with pytest.raises(GovernanceError) as no_key:
        apply_plan(rows[["registration_id"]], plan)

    assert str(unplanned.value) == (
        "Columns ['extra'] have no decision in the plan for audience 2; expected every column "
        "of the rows to be planned. Fix: Tag these columns (declare them or complete their "
        "lineage); rebuild the plan."
    )
    assert str(no_key.value).startswith(
        "Columns ['registration_id'] must be pseudonymised for audience 2; no key given."
    )


def test_an_unknown_audience_lists_the_valid_ones() -> None:
    with pytest.raises(GovernanceError) as err:
        visible_columns(COLUMNS, 5)

    assert err.value.message == "Audience must be an exposure level 1, 2, 3 or 4; found 5."
    assert err.value.fix == "pass an audience 1, 2, 3 or 4 (--audience)"


# --- open-data export --------------------------------------------------------------------------


def test_an_aggregate_under_the_secret_is_exported(tmp_path: Path) -> None:
    files = export(gold_frame(), gold_tags({GOLD: 11}), tmp_path / "out")

    assert files.rows == 3
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "inscrits_par_pays.csv",
        "inscrits_par_pays.dcat.jsonld",
        "inscrits_par_pays.schema.json",
    ]
    assert files.csv.read_bytes() == (
        b"pays_iso3,inscrits,secret_statistique\r\nFRA,1200,false\r\nDEU,45,false\r\nISL,,true\r\n"
    )
    assert json.loads(files.schema.read_text(encoding="utf-8")) == schema_for(gold_frame())


def test_the_dcat_record_uses_eu_vocabularies_and_absolute_urls(tmp_path: Path) -> None:
    files = export(gold_frame(), gold_tags({GOLD: 11}), tmp_path)
    record = json.loads(files.dcat.read_text(encoding="utf-8"))
    eu = "http://publications.europa.eu/resource/authority/"

    assert record["@type"] == "dcat:Dataset"
    assert record["@id"] == f"{BASE_URL}/inscrits_par_pays.dcat.jsonld#dataset"
    assert record["dct:identifier"] == "gold/inscrits_par_pays"
    assert record["dct:title"] == {
        "@value": "Français inscrits au registre par pays",
        "@language": "fr",
    }
    assert record["dct:description"]["@value"].startswith("Nombre de Français inscrits")
    assert (
        record["dct:publisher"]["foaf:name"] == "Ministère de l'Europe et des Affaires étrangères"
    )
    assert "foaf:Agent" in record["dct:publisher"]["@type"]
    assert record["dcat:contactPoint"]["vcard:hasEmail"] == {"@id": f"mailto:{CONTACT}"}
    assert [t["@id"] for t in record["dcat:theme"]] == [
        f"{eu}data-theme/GOVE",
        f"{eu}data-theme/INTR",
    ]
    assert record["dct:accessRights"]["@id"] == f"{eu}access-right/PUBLIC"
    assert record["dct:language"]["@id"] == f"{eu}language/FRA"
    assert record["dct:issued"] == {"@value": "2026-03-01", "@type": "xsd:date"}
    assert record["dct:modified"] == {
        "@value": "2026-03-02T10:30:00+00:00",
        "@type": "xsd:dateTime",
    }
    assert [k["@value"] for k in record["dcat:keyword"]] == ["registre", "Français de l'étranger"]
    (dist,) = record["dcat:distribution"]
    assert dist["@type"] == "dcat:Distribution"
    assert (
        dist["dcat:accessURL"]
        == dist["dcat:downloadURL"]
        == {"@id": f"{BASE_URL}/inscrits_par_pays.csv"}
    )
    assert dist["dct:format"]["@id"] == f"{eu}file-type/CSV"
    assert dist["dcat:mediaType"]["@id"] == "https://www.iana.org/assignments/media-types/text/csv"
    assert dist["dct:conformsTo"]["@id"] == f"{BASE_URL}/inscrits_par_pays.schema.json"
    assert dist["dct:conformsTo"]["dct:format"]["@id"] == f"{eu}file-type/JSON"
    assert dist["dct:license"]["@id"] == "http://spdx.org/licenses/etalab-2.0"
    assert dist["dct:license"]["dct:title"] == "Licence Ouverte / Open Licence version 2.0"
    assert dist["dcat:byteSize"]["@value"] == str(files.csv.stat().st_size)


def test_without_the_secret_the_export_is_refused_with_the_lineage(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(ExportRefused) as err:
        export(gold_frame(), gold_tags({}), out)

    assert err.value.offending == [
        "inscrits : niveau 1, données personnelles — hérité de "
        "silver/consular_register.birth_date via gold/inscrits_par_pays (agrégation)",
    ]
    assert str(err.value).startswith(
        "Export open data de gold/inscrits_par_pays refusé : 1 colonne(s) ne sont pas ouvertes "
        "à tous (niveau 4, sans données personnelles ni champ d'exclusion) — inscrits : niveau 1, "
        "données personnelles — hérité de silver/consular_register.birth_date via "
        "gold/inscrits_par_pays (agrégation) Fix: Retirer ces colonnes"
    )
    assert not out.exists()


def test_every_offending_column_is_named_and_exclusions_are_never_exported(tmp_path: Path) -> None:
    frame = gold_frame().assign(adresse="x", note="y")
    tags = {
        **gold_tags({GOLD: 11}),
        "adresse": DerivedTag(Tag(4, exclusion=True), True, None, "étiquette déclarée"),
    }
    with pytest.raises(ExportRefused) as err:
        export(frame, tags, tmp_path)

    assert err.value.offending == [
        "adresse : niveau 4, champ d'exclusion — étiquette déclarée pour "
        "gold/inscrits_par_pays.adresse",
        "note : sensibilité inconnue (ni déclarée, ni héritée du lignage)",
    ]
    assert list(tmp_path.iterdir()) == []


def test_existing_files_are_kept_unless_overwrite(tmp_path: Path) -> None:
    tags = gold_tags({GOLD: 11})
    first = export(gold_frame(), tags, tmp_path)
    with pytest.raises(GovernanceError) as err:
        export(gold_frame().head(1), tags, tmp_path)

    assert str(err.value).endswith("Fix: Pass mode='overwrite' to replace them.")
    assert read_csv(first.csv)[1:] == [
        ["FRA", "1200", "false"],
        ["DEU", "45", "false"],
        ["ISL", "", "true"],
    ]
    export(gold_frame().head(1), tags, tmp_path, mode="overwrite")
    assert read_csv(first.csv) == [
        ["pays_iso3", "inscrits", "secret_statistique"],
        ["FRA", "1200", "false"],
    ]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_a_schema_that_does_not_match_the_frame_is_refused(tmp_path: Path) -> None:
    with pytest.raises(GovernanceError) as err:
        export_opendata(
            GOLD,
            gold_frame(),
            gold_tags({GOLD: 11}),
            tmp_path,
            table_schema={"fields": [{"name": "pays_iso3"}]},
            title="t",
            description="d",
            base_url=BASE_URL,
            contact_email=CONTACT,
        )

    assert (
        "expected fields ['pays_iso3', 'inscrits', 'secret_statistique'], found ['pays_iso3']"
        in str(err.value)
    )
    assert list(tmp_path.iterdir()) == []


# --- CSV safety --------------------------------------------------------------------------------

TEXTS = [
    "=SUM(A1)",
    "+33 1 43 17 53 53",
    "-1",
    "@cmd",
    "\tcmd",
    "\rcmd",
    "<script>alert('x')</script>",
    'virgule, "guillemets"\net saut de ligne',
    "Côte d'Ivoire",
]


def test_formulas_are_neutralised_in_text_and_numbers_stay_numbers(tmp_path: Path) -> None:
    frame = pd.DataFrame({"texte": TEXTS, "nombre": [-1, 2, -3, 4, 5, 6, 7, 8, 9]})
    tags = {c: DerivedTag(Tag(4), True, None, "étiquette déclarée") for c in frame.columns}

    files = export(frame, tags, tmp_path)
    rows = read_csv(files.csv)

    assert rows[0] == ["texte", "nombre"]
    assert [r[0] for r in rows[1:]] == [
        "'=SUM(A1)",
        "'+33 1 43 17 53 53",
        "'-1",
        "'@cmd",
        "'\tcmd",
        "'\rcmd",
        "<script>alert('x')</script>",
        'virgule, "guillemets"\net saut de ligne',
        "Côte d'Ivoire",
    ]
    assert [r[1] for r in rows[1:]] == ["-1", "2", "-3", "4", "5", "6", "7", "8", "9"]
    raw = files.csv.read_bytes().decode("utf-8")
    assert '"virgule, ""guillemets""\net saut de ligne"' in raw
    assert "'-1,-1\r\n" not in raw and "'-1,-3\r\n" in raw


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (-1, "-1"),
        (np.int64(-3), "-3"),
        (2.0, "2"),
        (-2.5, "-2.5"),
        (float("nan"), ""),
        (float("-inf"), "-INF"),
        (Decimal("-1.50"), "-1.50"),
        (True, "true"),
        (np.bool_(False), "false"),
        (None, ""),
        (pd.NA, ""),
        (pd.NaT, ""),
        (date(2026, 3, 1), "2026-03-01"),
        (pd.Timestamp("2026-03-01T12:00:00"), "2026-03-01T12:00:00"),
        (np.datetime64("2026-03-01"), "2026-03-01T00:00:00"),
        ("-1", "'-1"),
        ("=1+1", "'=1+1"),
        (" =1+1", " =1+1"),
        ("texte", "texte"),
    ],
)
def test_cells(value: object, text: str) -> None:
    assert neutralise_cell(value) == text


def test_quoted_cells_round_trip_through_the_csv_reader() -> None:
    buffer = io.StringIO()
    values = ["a,b", 'say "hi"', "line\nbreak", "crlf\r\nbreak"]
    csv.writer(buffer, lineterminator="\r\n").writerow([neutralise_cell(v) for v in values])

    assert next(csv.reader(io.StringIO(buffer.getvalue(), newline=""))) == values


def test_a_failure_while_writing_leaves_no_file(tmp_path: Path) -> None:
    class Unprintable:
        def __str__(self) -> str:
            raise RuntimeError("cannot print")

    frame = pd.DataFrame({"texte": ["ok", Unprintable()]})
    tags = {"texte": DerivedTag(Tag(4), True, None, "étiquette déclarée")}

    with pytest.raises(RuntimeError, match="cannot print"):
        export(frame, tags, tmp_path)

    assert list(tmp_path.iterdir()) == []


def test_view_csv_neutralises_formulas(tmp_path) -> None:
    import pandas as pd

    from governance.sensitivity.export import write_view_csv

    path = tmp_path / "views" / "v.csv"
    write_view_csv(
        path, pd.DataFrame({"a": ["=cmd|'/c calc'!A1", "@SUM(1)", "ok"], "n": [1, 2, 3]})
    )
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "a,n"
    assert lines[1].startswith("'=cmd") and lines[2].startswith("'@SUM") and lines[3] == "ok,3"
