"""The A08/A11 catalogue: tables found in the store, their facts, tags, scores and indicators."""

from __future__ import annotations

import datetime as dt
import json
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from conftest import base_settings
from governance.catalog.entries import Catalog, ColumnEntry, TableEntry, build_catalog
from governance.catalog.render import format_size_fr, render_text
from governance.catalog.scan import latest_quality, list_tables, scan_table
from governance.lineage.graph import DatasetEdge, LineageGraph
from governance.lineage.model import ColumnEdge, ColumnRef, DatasetRef, Tag
from governance.sensitivity.propagation import DerivedTag, explain_fr, propagate
from lake.contracts import Contract, load_contracts
from lake.settings import Settings
from lake.storage import openlineage_dataset, table_uri

T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 3, 2, 10, 30, tzinfo=dt.UTC)

REGISTER_YAML = """\
source: register
title: Registre des Français établis hors de France
domain: Administration consulaire
owner: DFAE
description: Inscriptions au registre.
format: csv
primary_key: [person_id]
exposure_level: 1
retention: {years: 5, end: purge}
columns:
  - {name: person_id, type: string, description: Identifiant., pseudonymise: true,
     sensitivity: {level: 1, personal: true}}
  - {name: birth_date, type: date, description: Date de naissance.,
     sensitivity: {level: 1, personal: true}}
  - {name: address, type: string, description: Adresse.,
     sensitivity: {level: 1, personal: true, exclusion: true}}
  - {name: country, type: country, description: Pays de résidence., sensitivity: {level: 4}}
"""

VISAS_YAML = """\
source: visas
title: Programmes vacances-travail
domain: Mobilité internationale
owner: DGM/MOB
description: Visas délivrés par pays et année.
format: csv
primary_key: [partner_country, year]
exposure_level: 4
retention: {years: 10, end: archive}
columns:
  - {name: partner_country, type: country, description: Pays., sensitivity: {level: 4}}
  - {name: year, type: integer, description: Année., sensitivity: {level: 4}}
  - {name: visas_issued, type: integer, description: Visas., sensitivity: {level: 4}}
"""


def settings_for(tmp: Path) -> Settings:
    return base_settings(tmp).with_overrides(
        {"storage": {"backend": "local", "local_root": str(tmp / "lake")}}
    )


def contracts_in(tmp: Path) -> dict[str, Contract]:
    (tmp / "contracts").mkdir()
    (tmp / "contracts" / "register.yaml").write_text(REGISTER_YAML, encoding="utf-8")
    (tmp / "contracts" / "visas.yaml").write_text(VISAS_YAML, encoding="utf-8")
    return load_contracts(tmp)


def write(
    settings: Settings, layer: str, name: str, data: dict[str, list[Any]], **kwargs: Any
) -> str:
    uri = table_uri(settings, layer, name)  # type: ignore[arg-type]
    write_deltalake(uri, pa.table(data), **kwargs)
    return uri


def ref(settings: Settings, layer: str, name: str) -> DatasetRef:
    """The dataset as the lake's lineage names a local table."""
    return DatasetRef(*openlineage_dataset(table_uri(settings, layer, name)))  # type: ignore[arg-type]


@dataclass
class Lake:
    settings: Settings
    contracts: dict[str, Contract]
    derived: dict[ColumnRef, DerivedTag]
    before: dt.datetime
    after: dt.datetime


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    """Seven tables (one without contract) plus what is not a catalogued table."""
    settings = settings_for(tmp_path)
    contracts = contracts_in(tmp_path)
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    write(settings, "bronze", "orphan", {"x": ["a"]})
    write(
        settings,
        "bronze",
        "register",
        {"_source": ["register"] * 3, "person_id": ["A", "B", "C"], "country": ["FR"] * 3},
    )
    silver = {
        "person_id": ["h1", "h2"],
        "birth_date": ["1980-01-01", "1990-02-02"],
        "address": ["1 rue", "2 rue"],
        "country": ["FRA", "DEU"],
        "country_label": ["France", "Allemagne"],
        "_batch_id": ["b1", "b1"],
    }
    write(settings, "silver", "register", silver)
    write(
        settings,
        "quarantine",
        "register",
        {"_source": ["register"], "column": ["birth_date"], "value": ["31/02"], "raw": ["x;y"]},
    )
    visas: dict[str, list[Any]] = {
        "partner_country": ["CAN", "AUS"],
        "year": [2024, 2024],
        "visas_issued": [10, 20],
    }
    write(settings, "silver", "visas", visas)
    write(settings, "silver", "visas", visas, mode="append")
    for name, source in (("inscrits_par_pays", "register"), ("visas_par_pays", "visas")):
        uri = write(
            settings,
            "gold",
            name,
            {"pays_iso3": ["FRA"], "inscrits": [12], "secret_statistique": [False]},
            description=f"Indicateur {name}.",
        )
        DeltaTable(uri).alter.set_table_properties(
            {"lake.sources": source, "lake.domain": "indicateur"}, raise_if_not_exists=False
        )
    root = tmp_path / "lake"
    (root / "bronze" / "not_a_table").mkdir()  # no _delta_log
    write(settings, "meta", "quality_results", {"table": ["silver/register"]})
    (root / "landing" / "register").mkdir(parents=True)

    # Tags: the silver declarations under the lake's own naming; the gold count aggregated
    # under the statistical secret, its events naming datasets as on MinIO (s3://lake).
    gold = DatasetRef("s3://lake", "gold/inscrits_par_pays")
    birth = ColumnRef(ref(settings, "silver", "register"), "birth_date")
    country = ColumnRef(ref(settings, "silver", "register"), "country")
    derived = propagate(
        [
            ColumnEdge(birth, ColumnRef(gold, "inscrits"), "DIRECT/AGGREGATION"),
            ColumnEdge(country, ColumnRef(gold, "pays_iso3"), "DIRECT/IDENTITY"),
        ],
        {birth: Tag(1, personal=True), country: Tag(4)},
        secret={gold: 11},
    )
    after = dt.datetime.now(dt.UTC)
    return Lake(settings, contracts, derived, before, after)


def review(
    review_id: str, at: object, table: str, reviewed: int, rejected: int, rule: str = "a"
) -> dict[str, Any]:
    """One result row of a review, as ``meta/quality_results`` holds it."""
    return {
        "review_id": review_id,
        "reviewed_at": at,
        "table": table,
        "rule_id": rule,
        "rows_reviewed": reviewed,
        "rows_rejected": rejected,
    }


# Two rule rows per review of silver/register; the latest review of each table counts.
REVIEWS = [
    review("r1", T0, "silver/register", 100, 50, "a"),
    review("r1", T0, "silver/register", 100, 50, "b"),
    review("r2", "2026-03-01T10:00:00Z", "silver/register", 200, 5, "a"),
    review("r2", "2026-03-01T10:00:00Z", "silver/register", 200, 5, "b"),
    review("r3", T0, "gold/inscrits_par_pays", 10, 0),
    review("r4", T0, "silver/visas", 0, 0),
]


def catalog_of(lake: Lake, **kwargs: Any) -> Catalog:
    options: dict[str, Any] = {"graph": None, "derived": lake.derived, "quality_rows": REVIEWS}
    options.update(kwargs)
    return build_catalog(lake.settings, contracts=lake.contracts, now=NOW, **options)


def by_key(catalog: Catalog) -> dict[str, TableEntry]:
    return {t.key: t for t in catalog.tables}


# --- finding tables and reading their facts ----------------------------------------------------


def test_lists_every_delta_table_of_the_four_layers_in_order(lake: Lake) -> None:
    assert list_tables(lake.settings) == [
        ("bronze", "orphan"),
        ("bronze", "register"),
        ("silver", "register"),
        ("silver", "visas"),
        ("gold", "inscrits_par_pays"),
        ("gold", "visas_par_pays"),
        ("quarantine", "register"),
    ]


def test_facts_come_from_the_delta_log(lake: Lake) -> None:
    facts = scan_table(lake.settings, "silver", "visas")
    files = sorted((lake.settings.storage.local_root / "silver" / "visas").glob("*.parquet"))
    assert len(files) == 2
    assert (facts.rows, facts.version) == (4, 1)
    assert facts.size_bytes == sum(f.stat().st_size for f in files)
    assert facts.updated_at is not None
    assert lake.before <= facts.updated_at <= lake.after
    # Created by the first of its two commits: the metadata's createdTime, kept by the second.
    first_commit = DeltaTable(facts.uri).history()[-1]["timestamp"]
    assert facts.created_at is not None
    assert lake.before <= facts.created_at <= facts.updated_at
    assert facts.created_at.timestamp() <= first_commit / 1000
    assert facts.columns == (
        ("partner_country", "string"),
        ("year", "long"),
        ("visas_issued", "long"),
    )


def test_gold_facts_carry_description_and_properties(lake: Lake) -> None:
    facts = scan_table(lake.settings, "gold", "visas_par_pays")
    assert facts.version == 1  # creation, then the properties
    assert facts.description == "Indicateur visas_par_pays."
    assert facts.properties == {"lake.sources": "visas", "lake.domain": "indicateur"}


def test_rows_are_counted_from_parquet_footers_when_the_log_has_no_stats(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    uri = write(settings, "bronze", "nostats", {"x": [1, 2, 3]})
    log = Path(uri.removeprefix("file://")) / "_delta_log" / f"{0:020}.json"
    actions = [json.loads(line) for line in log.read_text().splitlines()]
    for action in actions:
        action.get("add", {}).pop("stats", None)
    log.write_text("\n".join(json.dumps(a) for a in actions) + "\n")
    assert scan_table(settings, "bronze", "nostats").rows == 3


def test_nested_types_are_named_as_spark_does(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    data = {
        "failures": pa.array([[{"column": "a", "value": "b"}]]),
        "when": pa.array([T0], pa.timestamp("us", tz="UTC")),
    }
    write(settings, "quarantine", "nested", data)
    assert scan_table(settings, "quarantine", "nested").columns == (
        ("failures", "array<struct<column:string,value:string>>"),
        ("when", "timestamp"),
    )


@dataclass
class FakeObject:
    object_name: str
    is_dir: bool = False


class FakeClient:
    """The two listings `list_tables` asks MinIO for."""

    def __init__(self, keys: list[str]) -> None:
        self.keys = keys

    def list_objects(self, bucket: str, prefix: str = "") -> list[FakeObject]:
        assert bucket == "lake"
        below = {k[len(prefix) :] for k in self.keys if k.startswith(prefix)}
        dirs = {prefix + n.split("/")[0] + "/" for n in below if "/" in n}
        files = [FakeObject(prefix + n) for n in below if "/" not in n]
        return [FakeObject(d, is_dir=True) for d in sorted(dirs)] + files


def test_lists_tables_on_the_object_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    keys = [
        "silver/visas/_delta_log/00000000000000000000.json",
        "silver/visas/part-0.parquet",
        "bronze/visas/_delta_log/00000000000000000000.json",
        "bronze/staging/part-0.parquet",  # no log: not a table
        "landing/visas/abc/file.xlsx",
        "meta/run_log/_delta_log/00000000000000000000.json",
    ]
    monkeypatch.setattr("governance.catalog.scan.object_client", lambda _: FakeClient(keys))
    assert list_tables(base_settings(tmp_path)) == [("bronze", "visas"), ("silver", "visas")]


# --- the catalogue -----------------------------------------------------------------------------


def test_contract_tables_take_domain_owner_and_declared_tags(lake: Lake) -> None:
    tables = by_key(catalog_of(lake))
    silver = tables["silver/register"]
    assert (silver.domain, silver.owner, silver.description) == (
        "Administration consulaire",
        "DFAE",
        "Inscriptions au registre.",
    )
    assert (silver.level, silver.personal, silver.rows, silver.sources) == (
        1,
        True,
        2,
        ("register",),
    )
    columns = {c.name: c for c in silver.columns}
    assert columns["person_id"].declared == Tag(1, personal=True)
    assert columns["person_id"].pseudonymised is True
    assert columns["address"].tag == Tag(1, personal=True, exclusion=True)
    assert columns["country_label"].declared == Tag(4)  # the country it labels
    assert columns["country_label"].description == ""
    assert columns["_batch_id"].tag is None
    assert columns["birth_date"].derived_fr.startswith("niveau 1, données personnelles — ")
    # Bronze holds the delivered values: same tags, nothing pseudonymised yet.
    bronze = {c.name: c for c in tables["bronze/register"].columns}
    assert bronze["person_id"].pseudonymised is False
    assert tables["bronze/register"].level == 1


def test_quarantine_values_carry_the_strictest_tag_of_the_contract(lake: Lake) -> None:
    table = by_key(catalog_of(lake))["quarantine/register"]
    tags = {c.name: c.tag for c in table.columns}
    assert tags == {
        "_source": None,
        "column": None,
        "value": Tag(1, personal=True, exclusion=True),
        "raw": Tag(1, personal=True, exclusion=True),
    }
    assert table.description == (
        "Lignes rejetées de la source « Registre des Français établis hors de France ». "
        "Inscriptions au registre."
    )


def test_gold_takes_its_sources_contracts_and_its_derived_tags(lake: Lake) -> None:
    tables = by_key(catalog_of(lake))
    gold = tables["gold/inscrits_par_pays"]
    assert (gold.domain, gold.owner, gold.sources) == (
        "Administration consulaire",
        "DFAE",
        ("register",),
    )
    assert gold.description == "Indicateur inscrits_par_pays."
    assert (gold.level, gold.personal) == (4, False)
    inscrits = next(c for c in gold.columns if c.name == "inscrits")
    key = ColumnRef(DatasetRef("s3://lake", "gold/inscrits_par_pays"), "inscrits")
    assert inscrits.declared is None
    assert inscrits.derived == Tag(4)
    assert inscrits.derived_fr == explain_fr(key, lake.derived[key])
    assert "agrégation sous secret statistique, seuil 11" in inscrits.derived_fr
    # No derived tag for the other indicator: it stays unclassified.
    other = tables["gold/visas_par_pays"]
    assert (other.domain, other.owner, other.level) == ("Mobilité internationale", "DGM/MOB", None)


def test_gold_without_sources_property_falls_back_to_lineage(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    contracts = contracts_in(tmp_path)
    write(settings, "gold", "visas_par_pays", {"n": [1]})
    gold = DatasetRef("s3://lake", "gold/visas_par_pays")
    graph = LineageGraph(
        {},
        [
            DatasetEdge(DatasetRef("s3://lake", "silver/visas"), gold),
            DatasetEdge(DatasetRef("s3://lake", "landing/visas/abc/f.xlsx"), gold),
        ],
    )
    catalog = build_catalog(
        settings, contracts=contracts, graph=graph, derived=None, quality_rows=[]
    )
    (table,) = catalog.tables
    assert (table.sources, table.domain, table.owner) == (
        ("visas",),
        "Mobilité internationale",
        "DGM/MOB",
    )
    assert catalog.warnings == ()


def test_a_broken_table_is_skipped_with_a_warning(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    write(settings, "silver", "visas", {"year": [2024]})
    log = tmp_path / "lake" / "silver" / "broken" / "_delta_log"
    log.mkdir(parents=True)
    (log / f"{0:020}.json").write_text('{"garbage": 1}\n')
    catalog = build_catalog(
        settings, contracts=contracts_in(tmp_path), graph=None, derived=None, quality_rows=[]
    )
    assert [t.key for t in catalog.tables] == ["silver/visas"]
    assert catalog.warnings == (
        "silver/broken : table ignorée (Kernel error: No table metadata or protocol found in "
        "delta log.).",
    )


def test_quality_score_is_the_latest_review_of_each_table(lake: Lake) -> None:
    tables = by_key(catalog_of(lake))
    assert tables["silver/register"].quality_score == pytest.approx(97.5)
    assert tables["silver/register"].quality_reviewed_at == dt.datetime(
        2026, 3, 1, 10, tzinfo=dt.UTC
    )
    assert tables["gold/inscrits_par_pays"].quality_score == 100.0
    assert tables["silver/visas"].quality_score is None  # reviewed no row
    assert tables["silver/visas"].quality_reviewed_at == T0
    assert tables["bronze/register"].quality_reviewed_at is None


def test_latest_quality_ignores_rows_without_table_or_time() -> None:
    rows: list[dict[str, Any]] = [
        {"table": "", "reviewed_at": T0},
        {"table": "silver/x", "reviewed_at": None},
    ]
    assert latest_quality(rows) == {}
    assert latest_quality([{"table": "gold/y", "reviewed_at": T0, "rows_reviewed": 4}]) == {
        "gold/y": (100.0, T0)
    }


def test_quality_rows_are_read_from_the_meta_table_when_not_given(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    write(settings, "silver", "visas", {"year": [2024]})
    write(
        settings,
        "meta",
        "quality_results",
        {
            "review_id": ["r1"],
            "reviewed_at": pa.array([T0], pa.timestamp("us", tz="UTC")),
            "table": ["silver/visas"],
            "rows_reviewed": [8],
            "rows_rejected": [2],
        },
    )
    catalog = build_catalog(settings, contracts=contracts_in(tmp_path), graph=None, derived=None)
    assert catalog.tables[0].quality_score == 75.0
    assert catalog.tables[0].quality_reviewed_at == T0


def test_summary_counts_domains_levels_layers_and_totals(lake: Lake) -> None:
    catalog = catalog_of(lake)
    summary = catalog.summary
    assert summary.domains == ("Administration consulaire", "Mobilité internationale")
    assert dict(summary.per_level) == {1: 3, 2: 0, 3: 0, 4: 2}
    assert summary.unclassified == 2
    assert dict(summary.per_layer) == {"bronze": 2, "silver": 2, "gold": 2, "quarantine": 1}
    assert (summary.personal, summary.rows) == (3, 1 + 3 + 2 + 4 + 1 + 1 + 1)
    assert summary.size_bytes == sum(t.size_bytes for t in catalog.tables) > 0
    assert catalog.warnings == ("bronze/orphan : aucun contrat de source « orphan ».",)


def test_to_dict_is_json_ready_with_stable_keys(lake: Lake) -> None:
    data = json.loads(json.dumps(catalog_of(lake).to_dict()))
    assert list(data) == ["generated_at", "summary", "tables", "warnings"]
    assert data["generated_at"] == "2026-03-02T10:30:00+00:00"
    assert data["summary"]["tables_per_level"] == {"1": 3, "2": 0, "3": 0, "4": 2}
    assert data["summary"]["domain_count"] == 2
    table = next(t for t in data["tables"] if t["name"] == "register" and t["layer"] == "silver")
    assert list(table) == [
        "layer", "name", "uri", "domain", "owner", "description", "sources", "rows",
        "size_bytes", "version", "updated_at", "created_at", "level", "personal", "exclusion",
        "quality_score", "quality_reviewed_at", "columns",
    ]  # fmt: skip
    assert (table["level"], table["personal"], table["exclusion"]) == (1, True, True)
    assert table["quality_reviewed_at"] == "2026-03-01T10:00:00+00:00"
    person = table["columns"][0]
    assert person["name"] == "person_id"
    assert person["declared"] == {"level": 1, "personal": True, "exclusion": False}
    assert person["pseudonymised"] is True


# --- text --------------------------------------------------------------------------------------


def entry(layer: str, name: str, **kwargs: Any) -> TableEntry:
    values: dict[str, Any] = {
        "uri": f"s3a://lake/{layer}/{name}",
        "domain": "",
        "owner": "",
        "description": "",
        "sources": (),
        "rows": 0,
        "size_bytes": 0,
        "version": 0,
        "updated_at": None,
        "columns": (),
    }
    values.update(kwargs)
    return TableEntry(layer=layer, name=name, **values)


def test_render_text_aligns_the_table_then_the_indicators_in_french() -> None:
    catalog = Catalog(
        (
            entry(
                "silver",
                "consular_register",
                domain="Administration consulaire",
                owner="DFAE",
                rows=12345,
                size_bytes=5734,
                version=3,
                updated_at=NOW,
                columns=(ColumnEntry("birth_date", "date", declared=Tag(1, personal=True)),),
                contract_level=1,
                quality_score=97.5,
            ),
            entry(
                "gold",
                "vigilance",
                domain="Sécurité des Français à l'étranger (CDCS)",
                owner="CDCS",
                rows=None,
                size_bytes=512,
                columns=(ColumnEntry("pays", "string", derived=Tag(4)),),
            ),
            entry("bronze", "orphan", rows=1, size_bytes=3 * 1024 * 1024),
        ),
        NOW,
        ("bronze/orphan : aucun contrat de source « orphan ».",),
    )
    assert render_text(catalog) == textwrap.dedent(
        """\
        couche  table              domaine                         responsable  lignes  taille  version  mise à jour       niveau      RGPD  qualité
        silver  consular_register  Administration consulaire       DFAE         12 345  5,6 Ko        3  2026-03-02 10:30  1           oui      97,5
        gold    vigilance          Sécurité des Français à l'étr…  CDCS              —   512 o        0  —                 4           non         —
        bronze  orphan             —                               —                 1  3,0 Mo        0  —                 non classé  non         —

        Tables par couche : bronze → 1, silver → 1, gold → 1, quarantine → 0
        Domaines métier couverts : 2
        Jeux exposés par niveau : 1 → 1, 2 → 0, 3 → 0, 4 → 1, non classés → 1
        Jeux contenant des données personnelles : 1
        Volume total : 12 346 lignes, 3,0 Mo
        Avertissement : bronze/orphan : aucun contrat de source « orphan ».
        """  # noqa: E501
    )


@pytest.mark.parametrize(
    ("size", "text"),
    [(0, "0 o"), (1023, "1023 o"), (1024, "1,0 Ko"), (1536, "1,5 Ko"), (5 * 1024**4, "5,0 To")],
)
def test_sizes_are_written_in_french_units(size: int, text: str) -> None:
    assert format_size_fr(size) == text
