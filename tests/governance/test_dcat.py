"""The open-data catalogue record validates against the official DCAT-AP 3.0.1 SHACL shapes."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pyshacl import validate
from rdflib import Graph, Namespace

from conftest import REPO
from governance.errors import CatalogueRecordInvalid, GovernanceError
from governance.lineage.model import DatasetRef, Tag
from governance.sensitivity.dcat import catalogue_record, themes_for_domain
from governance.sensitivity.dcat_shapes import RELATIVE_BASE, check_record
from governance.sensitivity.export import export_opendata
from governance.sensitivity.propagation import DerivedTag

SH = Namespace("http://www.w3.org/ns/shacl#")
SHAPES = REPO / "reference" / "dcat-ap-3.0.1" / "shacl"
GOLD = DatasetRef("s3://lake", "gold/visas_par_pays")
BASE_URL = "https://opendata.diplomatie.example/lake"
DATASET = f"<{BASE_URL}/visas_par_pays.dcat.jsonld#dataset>"
# The recommendations the lake cannot meet yet: they warn, they do not refuse.
WARNINGS = (
    f"dcat:Dataset {DATASET} dct:publisher: is not an entry of the expected controlled "
    "vocabulary (A non EU managed concept is used to indicate the publisher, check if a "
    "corresponding exists in the EU corporates bodies NAL) (found (blank node))",
    f"dcat:Dataset {DATASET} dct:publisher: must be an IRI (A non EU managed concept is used to "
    "indicate the publisher, check if a corresponding exists in the EU corporates bodies NAL) "
    "(found (blank node))",
    f"dcat:Dataset {DATASET} dct:spatial: is missing",
    f"dcat:Dataset {DATASET} dct:temporal: is missing",
)


def small_export(out: Path, **overrides: Any) -> Path:
    frame = pd.DataFrame({"pays_iso3": ["FRA", "DEU"], "visas": [12, 40]})
    tags = {c: DerivedTag(Tag(4), True, None, "étiquette déclarée") for c in frame.columns}
    options: dict[str, Any] = {
        "table_schema": {"fields": [{"name": c, "type": "string"} for c in frame.columns]},
        "title": "Visas PVT par pays",
        "description": "Visas vacances-travail délivrés, par pays.",
        "base_url": BASE_URL,
        "contact_email": "opendata@diplomatie.example",
        "themes": themes_for_domain("Mobilité internationale"),
        "keywords": ["PVT"],
        "issued": date(2026, 3, 1),
        "modified": datetime(2026, 3, 2, 10, 30, tzinfo=UTC),
        **overrides,
    }
    return export_opendata(GOLD, frame, tags, out, **options).dcat


def record(**overrides: Any) -> dict[str, Any]:
    options: dict[str, Any] = {
        "identifier": "gold/visas_par_pays",
        "base_url": BASE_URL,
        "title": "Visas PVT par pays",
        "description": "Visas vacances-travail délivrés, par pays.",
        "publisher": "Ministère de l'Europe et des Affaires étrangères",
        "contact_name": "Données ouvertes",
        "contact_email": "opendata@diplomatie.example",
        "themes": ("INTR",),
        "keywords": ("PVT",),
        "license": "Licence Ouverte / Open Licence version 2.0",
        "issued": date(2026, 3, 1),
        "modified": datetime(2026, 3, 2, tzinfo=UTC),
        "byte_size": 42,
        **overrides,
    }
    return catalogue_record("visas_par_pays", **options)


@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")
def test_the_exported_record_conforms_to_the_official_shapes(tmp_path: Path) -> None:
    path = small_export(tmp_path)
    data = Graph().parse(path, format="json-ld", base=RELATIVE_BASE)
    # The official usage (reference/dcat-ap-3.0.1/README.md): the conformance shapes, the ranges
    # and the controlled vocabularies; pyshacl itself, not the lake's wrapper.
    shapes = Graph()
    for name in ("shapes.ttl", "range.ttl", "mdr-vocabularies.shape.ttl"):
        shapes.parse(SHAPES / name, format="turtle")

    # Warnings (a publisher outside the EU corporate-body list) do not break conformance.
    conforms, report, text = validate(
        data, shacl_graph=shapes, inference="none", allow_warnings=True
    )

    assert conforms, text
    # Top-level results only: a warning's sh:detail explains it with nested results.
    severities = {report.value(r, SH.resultSeverity) for r in report.objects(None, SH.result)}
    assert severities == {SH.Warning}
    assert check_record(json.loads(path.read_text(encoding="utf-8"))).warnings == WARNINGS


def test_the_old_record_did_not_validate() -> None:
    # What `lake export opendata` wrote before issue 17: literals for the format and media type,
    # relative URLs, no contact point, no theme.
    old = {
        "@context": {
            "dcat": "http://www.w3.org/ns/dcat#",
            "dct": "http://purl.org/dc/terms/",
            "foaf": "http://xmlns.com/foaf/0.1/",
        },
        "@type": "dcat:Dataset",
        "dct:title": {"@value": "Visas PVT par pays", "@language": "fr"},
        "dct:description": {"@value": "Visas.", "@language": "fr"},
        "dct:publisher": {"@type": "foaf:Organization", "foaf:name": "MEAE"},
        "dcat:distribution": [
            {
                "@type": "dcat:Distribution",
                "dcat:accessURL": {"@id": "visas_par_pays.csv"},
                "dcat:downloadURL": {"@id": "visas_par_pays.csv"},
                "dct:format": "text/csv",
                "dcat:mediaType": "text/csv",
                "dct:conformsTo": {"@id": "visas_par_pays.schema.json"},
            }
        ],
    }

    violations = check_record(old).violations

    found = "(found literal 'text/csv')"
    for expected in (
        f"dcat:Distribution (blank node) dct:format: must be a dct:MediaTypeOrExtent {found}",
        f"dcat:Distribution (blank node) dcat:mediaType: must be a dct:MediaType {found}",
        "dcat:Distribution (blank node) dcat:accessURL: the access URL must be an absolute "
        "http(s) URL (found relative IRI 'visas_par_pays.csv')",
        "dcat:Dataset (blank node) dcat:contactPoint: a contact point (vcard:Kind with an "
        "e-mail) is required",
        "dcat:Dataset (blank node) dcat:theme: at least one theme from the EU data-theme "
        "vocabulary is required",
    ):
        assert expected in violations


def test_a_record_without_contact_point_is_refused_with_the_violation_named() -> None:
    broken = record()
    del broken["dcat:contactPoint"]

    assert check_record(broken).violations == (
        f"dcat:Dataset {DATASET} dcat:contactPoint: a contact point (vcard:Kind with an e-mail) "
        "is required",
    )


def test_a_relative_base_url_publishes_nothing(tmp_path: Path) -> None:
    with pytest.raises(CatalogueRecordInvalid) as err:
        small_export(tmp_path, base_url="opendata", contact_email="")

    relative = "relative IRI 'opendata/visas_par_pays.dcat.jsonld#"
    assert err.value.violations == [
        f"dcat:Dataset {relative}dataset': the dataset must be named by an absolute http(s) IRI",
        f"dcat:Distribution {relative}csv' dcat:accessURL: the access URL must be an absolute "
        "http(s) URL (found relative IRI 'opendata/visas_par_pays.csv')",
        f"dcat:Distribution {relative}csv' dcat:downloadURL: the download URL must be an "
        "absolute http(s) URL (found relative IRI 'opendata/visas_par_pays.csv')",
        "vcard:Kind/vcard:Organization (blank node) vcard:hasEmail: the contact point needs an "
        "e-mail (mailto: IRI) (found <mailto:>)",
    ]
    assert str(err.value).startswith(
        "The DCAT-AP record of gold/visas_par_pays does not validate against the DCAT-AP 3.0.1 "
        "shapes: 4 violation(s) — dcat:Dataset"
    )
    assert list(tmp_path.iterdir()) == []


def test_themes_come_from_the_eu_vocabulary() -> None:
    assert themes_for_domain("Aide publique au développement") == ("INTR", "ECON")
    assert themes_for_domain("Un domaine inconnu") == ("GOVE",)
    with pytest.raises(GovernanceError) as err:
        record(themes=("VISA",))

    assert str(err.value).startswith("Themes ['VISA'] are not EU data themes; expected among [")
    assert check_record(record()).conforms
