"""Table Schema import/export: the IRVE schema of schema.data.gouv.fr becomes a contract whose
rules check what the schema states, and exported schemas are valid Table Schemas."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import frictionless
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lake.contracts import ContractError, load_contract, load_contracts
from quality.errors import SchemaError
from quality.rules import anchored, suite_rules
from quality.tableschema import (
    HEX64,
    PROVENANCE,
    ImportedSchema,
    import_schema,
    schema_for_contract,
    schema_for_fields,
    snake_case,
    spark_date_format,
    write_contract,
)

REPO = Path(__file__).resolve().parents[2]
IRVE_DIR = REPO / "reference" / "table-schema-irve"
IRVE_SCHEMA = IRVE_DIR / "schema-statique.json"
IRVE_CSV = IRVE_DIR / "exemple-valide-statique.csv"
needs_irve = pytest.mark.skipif(not IRVE_SCHEMA.exists(), reason="reference/ (vendored) is missing")


def table_schema_errors(descriptor: dict[str, Any]) -> list[str]:
    """What frictionless finds wrong in a Table Schema descriptor (empty: valid)."""
    report = frictionless.Schema.validate_descriptor(descriptor)
    return [f"{kind}: {note}" for kind, note in report.flatten(["type", "note"])]


def write_schema(tmp_path: Path, fields: list[dict[str, Any]], **extra: Any) -> Path:
    path = tmp_path / "schema.json"
    path.write_text(json.dumps({"name": "demo", "fields": fields, **extra}), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def irve() -> ImportedSchema:
    if not IRVE_SCHEMA.exists():
        pytest.skip("reference/ (vendored) is missing")
    return import_schema(IRVE_SCHEMA, source="irve", primary_key=["id_pdc_itinerance"])


@pytest.fixture(scope="module")
def irve_original() -> dict[str, Any]:
    if not IRVE_SCHEMA.exists():
        pytest.skip("reference/ (vendored) is missing")
    return json.loads(IRVE_SCHEMA.read_text(encoding="utf-8"))


@pytest.fixture
def irve_path(irve: ImportedSchema, tmp_path: Path) -> Path:
    return write_contract(irve, tmp_path / "contracts")


# --- The reference itself ------------------------------------------------------------------------


@needs_irve
def test_irve_example_is_valid_against_its_schema_and_a_broken_copy_is_not(
    tmp_path: Path,
) -> None:
    schema = frictionless.Schema.from_descriptor(json.loads(IRVE_SCHEMA.read_text("utf-8")))
    valid = frictionless.Resource(path=IRVE_CSV.name, basepath=str(IRVE_DIR), schema=schema)
    assert valid.validate().valid
    broken_text = IRVE_CSV.read_text(encoding="utf-8").replace(",Voirie,", ",Trottoir,", 1)
    (tmp_path / IRVE_CSV.name).write_text(broken_text, encoding="utf-8")
    broken = frictionless.Resource(path=IRVE_CSV.name, basepath=str(tmp_path), schema=schema)
    report = broken.validate()
    assert not report.valid
    assert report.flatten(["rowNumber", "fieldName", "type"]) == [
        [2, "implantation_station", "constraint-error"]
    ]


# --- Import --------------------------------------------------------------------------------------


def test_irve_imports_into_a_contract_that_loads(irve: ImportedSchema, irve_path: Path) -> None:
    contract = load_contract(irve_path)
    assert irve_path.name == "irve.yaml"
    assert contract.source == "irve"
    assert contract.title == "IRVE statique"
    assert len(contract.columns) == 40
    assert contract.primary_key == ("id_pdc_itinerance",)
    assert (contract.format, contract.encoding, contract.delimiter) == ("csv", "utf-8", ",")
    assert (contract.decimal, contract.thousands) == (".", "")
    assert contract.date_formats == ("yyyy-MM-dd",)
    assert contract.null_markers == ("",)
    assert contract.exposure_level == 4
    assert {c.sensitivity.level for c in contract.columns} == {4}
    assert [c.source_name for c in contract.columns] == list(irve.column_names)
    assert irve.contract_yaml.startswith(
        "# Contrat généré depuis le schéma Table Schema « IRVE statique » "
        "(schema-irve-statique, version\n#   v2.3.0), fichier "
    )
    assert str(IRVE_SCHEMA) in irve.contract_yaml.split("\nsource:")[0]


def test_irve_columns_are_mapped(irve_path: Path) -> None:
    contract = load_contract(irve_path)
    implantation = contract.column("implantation_station")
    assert implantation.type == "string"
    assert not implantation.nullable
    assert implantation.allowed == (
        "Voirie",
        "Parking public",
        "Parking privé à usage public",
        "Parking privé réservé à la clientèle",
        "Station dédiée à la recharge rapide",
    )
    siren = contract.column("siren_amenageur")
    assert (siren.pattern, siren.nullable) == (r"^\d{9}$", True)
    assert contract.column("contact_operateur").pattern == r"[^@\s]+@[^@\s]+\.[^@\s]+"
    coordinates = contract.column("coordonnees_xy")
    assert (coordinates.source_name, coordinates.type) == ("coordonneesXY", "string")
    assert re.fullmatch(anchored(coordinates.pattern or ""), "[7.48710500,48.345345]")
    assert not re.fullmatch(anchored(coordinates.pattern or ""), "7.48710500 48.345345")
    assert (contract.column("date_maj").type, contract.column("date_maj").nullable) == (
        "date",
        False,
    )
    assert contract.column("date_mise_en_service").nullable
    assert (contract.column("nbre_pdc").type, contract.column("nbre_pdc").minimum) == (
        "integer",
        0,
    )
    assert contract.column("puissance_nominale").type == "decimal"
    assert contract.column("prise_type_2").type == "boolean"
    assert contract.column("id_pdc_itinerance").pattern == (
        "(?:(?:^|,)(^[A-Z]{2}[A-Z0-9]{4,33}$|Non concerné))+$"
    )


def test_irve_approximations_are_reported(irve: ImportedSchema) -> None:
    assert irve.warnings == [
        "contact_amenageur : format email vérifié par un motif simplifié.",
        "contact_operateur : format email vérifié par un motif simplifié.",
        "coordonneesXY : type geopoint (array) importé en texte, vérifié par un motif.",
        "puissance_nominale : nombre stocké en decimal(18,2) par le lac (2 décimales).",
    ]
    assert irve.column_names["coordonneesXY"] == "coordonnees_xy"
    for warning in irve.warnings:
        assert f"# Approximation : {warning}" in irve.contract_yaml


def test_irve_contract_rules_check_pattern_enum_and_dates(irve_path: Path, tmp_path: Path) -> None:
    rules = {r.id: r for r in suite_rules(load_contract(irve_path), tmp_path)}
    pattern = rules["irve.siren_amenageur.pattern"]
    assert pattern.expectation == "expect_column_values_to_match_regex"
    assert pattern.kwargs == {"column": "__raw_siren_amenageur", "regex": r"^(?:^\d{9}$)$"}
    allowed = rules["irve.condition_acces.allowed"]
    assert allowed.expectation == "expect_column_values_to_be_in_set"
    assert allowed.kwargs == {
        "column": "__raw_condition_acces",
        "value_set": ["Accès libre", "Accès réservé"],
    }
    date = rules["irve.date_maj.type"]
    # the text typing could not read, checked with the column rules (no query of its own)
    assert date.expectation == "expect_column_values_to_be_null"
    assert date.kwargs == {"column": "__unread_date_maj"}
    assert date.adds == (
        ("__unread_date_maj", "CASE WHEN `date_maj` IS NULL THEN `__raw_date_maj` END"),
    )
    assert "une date au format aaaa-mm-jj" in date.message
    assert rules["irve.date_maj.required"].kwargs == {"column": "__raw_date_maj"}
    assert "irve.nom_amenageur.required" not in rules
    assert rules["irve.nbre_pdc.range"].kwargs["min_value"] == 0


@needs_irve
def test_irve_patterns_accept_the_example_rows(irve_path: Path) -> None:
    import csv

    contract = load_contract(irve_path)
    with IRVE_CSV.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    for col in contract.columns:
        for row in rows:
            value = row[col.source_name]
            if col.pattern and value:
                assert re.fullmatch(anchored(col.pattern), value), (col.name, value)
            if col.allowed and value:
                assert value in col.allowed


def test_write_contract_refuses_to_overwrite(irve: ImportedSchema, irve_path: Path) -> None:
    with pytest.raises(ContractError) as caught:
        write_contract(irve, irve_path.parent)
    assert str(caught.value) == (
        f"Contract {irve_path}: (file): already exists; the imported schema would replace it. "
        "Fix: compare both, then pass overwrite=True, or import under another source id."
    )
    assert write_contract(irve, irve_path.parent, overwrite=True) == irve_path
    assert set(load_contracts(irve_path.parents[1])) == {"irve"}


def test_source_defaults_to_the_schema_name(tmp_path: Path) -> None:
    path = write_schema(
        tmp_path,
        [{"name": "Numéro", "type": "integer", "constraints": {"required": True, "unique": True}}],
        name="Mon-Schéma",
    )
    imported = import_schema(path)
    assert imported.source == "mon_schema"
    assert load_contract(write_contract(imported, tmp_path)).primary_key == ("numero",)


def test_field_types_and_formats(tmp_path: Path) -> None:
    fields: list[dict[str, Any]] = [
        {"name": "id", "type": "string", "format": "uuid", "constraints": {"required": True}},
        {"name": "jour", "type": "date", "format": "%d/%m/%Y"},
        {"name": "mois", "type": "date", "format": "%Y-%m"},
        {"name": "horodatage", "type": "datetime"},
        {"name": "annee", "type": "year", "constraints": {"minimum": 2000}},
        {"name": "actif", "type": "boolean", "trueValues": ["Vrai", "X"], "falseValues": ["N"]},
        {"name": "code", "type": "string", "constraints": {"minLength": 2, "maxLength": 5}},
        {"name": "montant", "type": "number", "decimalChar": ",", "groupChar": " "},
        {"name": "CODE", "type": "string"},
    ]
    path = write_schema(tmp_path, fields, primaryKey="id", missingValues=["", "n/a"])
    imported = import_schema(path, exposure_level=2)
    contract = load_contract(write_contract(imported, tmp_path))
    assert contract.date_formats == ("dd/MM/yyyy", "yyyy-MM")
    assert (contract.decimal, contract.thousands) == (",", " ")
    assert contract.column("annee").pattern == r"\d{4}"
    assert contract.column("annee").minimum is None
    assert (contract.column("code").min_length, contract.column("code").max_length) == (2, 5)
    assert contract.column("code_bis").source_name == "CODE"
    assert contract.null_markers == ("", "n/a")
    assert {c.sensitivity.level for c in contract.columns} == {2}
    assert imported.warnings == [
        "id : format uuid vérifié par un motif simplifié.",
        "mois : format yyyy-MM : chaque date du contrat accepte dd/MM/yyyy ou yyyy-MM.",
        "horodatage : type datetime importé en texte, vérifié par un motif.",
        "annee : type year importé en texte, vérifié par un motif.",
        "annee : borne minimum (year) non reprise ; l'écrire en règle métier.",
        "actif : valeurs booléennes non reconnues par le lac (X) ; acceptées : oui/non, o/n, "
        "vrai/faux, true/false, 1/0, yes/no.",
        "montant : nombre stocké en decimal(18,2) par le lac (2 décimales).",
        "CODE : colonne renommée code_bis (même nom qu'un autre champ).",
    ]


def test_spark_date_formats() -> None:
    assert spark_date_format("%d/%m/%Y") == "dd/MM/yyyy"
    assert spark_date_format("%Y-%m-%dT%H:%M") == "yyyy-MM-dd'T'HH:mm"
    assert spark_date_format("le %d %B %Y") == "'le' dd MMMM yyyy"
    assert spark_date_format("%a %d") is None


@given(st.text())
def test_snake_case_always_gives_a_column_name(text: str) -> None:
    assert re.fullmatch(r"[a-z][a-z0-9_]*", snake_case(text))


def test_snake_case_examples() -> None:
    assert snake_case("coordonneesXY") == "coordonnees_xy"
    assert snake_case("Date d'été") == "date_d_ete"
    assert snake_case("N° dossier") == "n_dossier"
    assert snake_case("2 roues") == "c_2_roues"


# --- Import errors -------------------------------------------------------------------------------


def test_invalid_json_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "schema.json"
    path.write_text('{\n  "fields": [\n    {"name": "a",}\n  ]\n}\n', encoding="utf-8")
    with pytest.raises(SchemaError) as caught:
        import_schema(path)
    assert str(caught.value) == (
        f"Table Schema {path}: is not valid JSON (line 3, column 18: Expecting property name "
        f"enclosed in double quotes). Fix: correct the JSON at that place (python -m json.tool "
        f"{path} shows it)."
    )


def test_unknown_field_type(tmp_path: Path) -> None:
    path = write_schema(
        tmp_path, [{"name": "id", "type": "string"}, {"name": "m", "type": "money"}]
    )
    with pytest.raises(SchemaError) as caught:
        import_schema(path, primary_key=["id"])
    assert caught.value.fix == "correct field 'm' (fields[1]) in schema.json"
    assert caught.value.message == (
        f"Table Schema {path}: field 'm' (fields[1]): type 'money' is not a Table Schema type; "
        "expected one of: any, array, boolean, date, datetime, duration, geojson, geopoint, "
        "integer, list, number, object, string, time, year, yearmonth."
    )


@needs_irve
def test_no_primary_key() -> None:
    with pytest.raises(SchemaError) as caught:
        import_schema(IRVE_SCHEMA)
    assert str(caught.value) == (
        f"Table Schema {IRVE_SCHEMA}: primaryKey: is missing and no field is both unique and "
        "required; the lake needs a key to deduplicate and merge rows. Fix: pass the field(s) "
        "identifying a row as primary_key, or declare primaryKey in the schema."
    )


def test_unknown_primary_key_field(tmp_path: Path) -> None:
    path = write_schema(tmp_path, [{"name": "a"}, {"name": "b"}], primaryKey=["c"])
    with pytest.raises(SchemaError) as caught:
        import_schema(path)
    assert caught.value.message == (
        f"Table Schema {path}: primaryKey: 'c' is not a field; expected one of: a, b."
    )
    assert caught.value.field == "primaryKey"


def test_unconvertible_date_format(tmp_path: Path) -> None:
    path = write_schema(tmp_path, [{"name": "d", "type": "date", "format": "%A %d"}])
    with pytest.raises(SchemaError) as caught:
        import_schema(path, primary_key=["d"])
    assert caught.value.message == (
        f"Table Schema {path}: field 'd' (fields[0]): date format '%A %d' cannot be converted; "
        "expected 'default' or a format made of %Y, %y, %m, %d, %B, %b, %j, %H, %M, %S, %% and "
        "literal text."
    )


def test_invalid_contract_options_are_reported(tmp_path: Path) -> None:
    path = write_schema(tmp_path, [{"name": "a"}], primaryKey="a")
    with pytest.raises(SchemaError) as caught:
        import_schema(path, owner="NASA")
    assert caught.value.message == (
        f"Table Schema {path}: the generated contract is invalid: owner: is 'NASA'; allowed: a "
        "direction among DFAE, DGM, CDCS, DRH, DNUM, DAF, DCP, DGP, SG (optionally /SERVICE)."
    )
    assert caught.value.fix == (
        "correct owner (an option of the import, or the schema field it comes from)"
    )
    with pytest.raises(SchemaError, match="source id 'Bad-Id' is not valid"):
        import_schema(path, source="Bad-Id")


# --- Export --------------------------------------------------------------------------------------


def test_irve_round_trip_is_a_valid_table_schema(
    irve: ImportedSchema, irve_path: Path, irve_original: dict[str, Any]
) -> None:
    exported = schema_for_contract(load_contract(irve_path))
    assert table_schema_errors(exported) == []
    assert list(exported) == [
        "$schema",
        "name",
        "title",
        "description",
        "fields",
        "primaryKey",
        "missingValues",
    ]
    assert exported["primaryKey"] == ["id_pdc_itinerance"]
    by_name = {f["name"]: f for f in exported["fields"]}
    for original in irve_original["fields"]:
        field = by_name[irve.column_names[original["name"]]]
        assert field.get("title", field["name"]) == original["name"]
        ours, theirs = field.get("constraints", {}), original.get("constraints", {})
        assert ours.get("required", False) == theirs.get("required", False), original["name"]
        assert ours.get("enum") == theirs.get("enum"), original["name"]
        if "pattern" in theirs:
            assert ours["pattern"] == theirs["pattern"]
        assert field["description"] == original["description"]
    assert by_name["date_maj"]["type"] == "date"
    assert by_name["nbre_pdc"]["type"] == "integer"
    assert by_name["puissance_nominale"]["type"] == "number"
    assert by_name["gratuit"]["type"] == "boolean"


@pytest.mark.parametrize(
    ("key", "change", "error"),
    [
        ("type", "money", 'field-error: field type "money" is not supported'),
        ("constraints", {"minimum": 3}, 'field-error: constraint "minimum" is not supported'),
        ("primaryKey", ["nope"], "schema-error: primary key \"['nope']\" does not match"),
    ],
)
def test_a_broken_schema_is_reported_invalid(
    irve_path: Path, key: str, change: Any, error: str
) -> None:
    broken = schema_for_contract(load_contract(irve_path))
    assert table_schema_errors(broken) == []
    if key == "primaryKey":
        broken["primaryKey"] = change
    else:
        field = next(f for f in broken["fields"] if f["name"] == "nom_amenageur")  # a string
        field[key] = change
    errors = table_schema_errors(broken)
    assert len(errors) == 1
    assert errors[0].startswith(error)


def test_silver_schema_of_every_project_contract_is_valid() -> None:
    contracts = load_contracts(REPO)
    assert contracts
    for contract in contracts.values():
        exported = schema_for_contract(contract)
        assert table_schema_errors(exported) == [], contract.source
        names = [f["name"] for f in exported["fields"]]
        assert names[: len(PROVENANCE)] == [
            "_source",
            "_batch_id",
            "_file_uri",
            "_file_sha256",
            "_line",
            "_delivered_at",
            "_ingested_at",
        ]
        assert names[-1] == "_row_hash"


def test_provenance_matches_bronze() -> None:
    from ingestion.bronze import PROVENANCE as BRONZE_PROVENANCE

    assert tuple(name for name, _, _ in PROVENANCE) == BRONZE_PROVENANCE


def test_silver_schema_documents_countries_and_pseudonyms() -> None:
    contract = load_contracts(REPO)["consular_register"]
    by_name = {f["name"]: f for f in schema_for_contract(contract)["fields"]}
    last_name = by_name["last_name"]
    assert last_name["title"] == "Nom"
    assert last_name["constraints"] == {"required": True, "pattern": HEX64}
    assert "HMAC-SHA256" in last_name["description"]
    assert by_name["country"]["constraints"] == {"pattern": "[A-Z]{3}"}
    assert by_name["country_label"]["type"] == "string"
    assert by_name["country_status"]["constraints"] == {
        "required": True,
        "enum": ["ok", "territory", "no_iso_code"],
    }
    assert by_name["_line"] == {
        "name": "_line",
        "description": "Numéro de la ligne dans le fichier livré.",
        "type": "integer",
        "constraints": {"required": True},
    }
    assert by_name["_delivered_at"]["type"] == "datetime"
    assert by_name["birth_date"]["type"] == "date"


def test_gold_schema_from_spark_types() -> None:
    exported = schema_for_fields(
        "gold.adoptions_par_pays",
        "Adoptions par pays",
        "Une ligne par pays d'origine, année et tranche d'âge.",
        [
            ("pays_iso3", "string", "Code ISO 3166-1 alpha-3 du pays.", False),
            ("annee", "int", None, False),
            ("adoptions", "bigint", "Nombre d'adoptions.", True),
            ("montant", "decimal(18,2)", None, True),
            ("part", "double", None, True),
            ("jour", "date", None, True),
            ("calcule_le", "timestamp", None, True),
            ("secret_statistique", "boolean", None, True),
        ],
        ["pays_iso3", "annee"],
    )
    assert table_schema_errors(exported) == []
    assert [(f["name"], f["type"]) for f in exported["fields"]] == [
        ("pays_iso3", "string"),
        ("annee", "integer"),
        ("adoptions", "integer"),
        ("montant", "number"),
        ("part", "number"),
        ("jour", "date"),
        ("calcule_le", "datetime"),
        ("secret_statistique", "boolean"),
    ]
    assert exported["fields"][1] == {
        "name": "annee",
        "type": "integer",
        "constraints": {"required": True},
    }
    assert exported["primaryKey"] == ["pays_iso3", "annee"]
    assert exported["missingValues"] == [""]


def test_gold_schema_errors() -> None:
    with pytest.raises(SchemaError) as caught:
        schema_for_fields("gold.t", "T", "T", [("x", "interval day", None, True)], [])
    assert caught.value.message == (
        "Table Schema gold.t: column 'x': Spark type 'interval day' has no Table Schema "
        "equivalent; expected one of: string, date, boolean, bigint, int, long, smallint, "
        "tinyint, double, float, timestamp, timestamp_ntz, decimal(p,s), array<..>, struct<..>, "
        "map<..>."
    )
    with pytest.raises(SchemaError) as caught:
        schema_for_fields("gold.t", "T", "T", [("x", "string", None, True)], ["y"])
    assert caught.value.message == (
        "Table Schema gold.t: primary key 'y' is not a column; expected one of: x."
    )
