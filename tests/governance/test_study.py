"""The A15 opportunity study: figures from plain metadata, the cost model, the French pages."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from governance.errors import GovernanceError
from governance.study.build import StudyInputs, compute, load_cost_model
from governance.study.format import (
    format_date_fr,
    format_eur_fr,
    format_int_fr,
    format_keur_fr,
    format_percent_fr,
    format_size_fr,
)
from governance.study.model import Study
from governance.study.render import render_html, render_markdown
from governance.study.svg import checked_svg

REPO = Path(__file__).resolve().parents[2]
GB = 10**9
NOW = dt.datetime(2026, 3, 2, 10, 30, tzinfo=dt.UTC)
SCRIPT = "<script>alert(1)</script>"

COST_YAML = """\
version: 1
hosting:
  on_premises: {storage_eur_per_tb_month: 10, vcpu_eur_per_hour: 0.1, replication_factor: 1.5}
  secnumcloud: {storage_eur_per_tb_month: 20, vcpu_eur_per_hour: 0.2, replication_factor: 1.0}
  public_cloud: {storage_eur_per_tb_month: 5, vcpu_eur_per_hour: 0.05, replication_factor: 1.0}
compute: {vcpus: 2}
growth: {deliveries_per_year: 12}
horizon_years: 3
people:
  source: Feuille de route, section 5
  daily_cost_eur: 500
  days_per_year: 200
  roles:
    - {role: Data analystes, etp: 2, lake_share: 0.5}
    - {role: Conformité SSI, etp: 4, lake_share: 0.25}
budget:
  source: Feuille de route, section 5
  lines:
    - {period: "2021", k_eur: 30, per_year: false}
    - {period: "2023-2026", k_eur: 100, per_year: true}
"""


def table(layer: str, name: str, size_gb: int, rows: int, **extra: Any) -> dict[str, Any]:
    """One catalogue table, shaped as ``TableEntry.to_dict()``."""
    register = name.startswith("register")
    entry = {
        "layer": layer,
        "name": name,
        "uri": f"s3a://lake/{layer}/{name}",
        "domain": "Administration consulaire" if register else "Mobilité internationale",
        "owner": "DFAE" if register else "DGM/MOB",
        "description": f"Table {name}.",
        "sources": [name.split("_")[0]],
        "rows": rows,
        "size_bytes": size_gb * GB,
        "version": 1,
        "updated_at": "2026-03-01T09:00:00+00:00",
        "level": 1 if register else 4,
        "personal": register,
        "exclusion": False,
        "quality_score": None,
        "quality_reviewed_at": None,
        "columns": [],
    }
    return {**entry, **extra}


def catalog() -> dict[str, Any]:
    """Seven tables, 1 TB in all: a personal source (register) and an open one (visas)."""
    tables = [
        table("bronze", "register", 400, 1000),
        table("silver", "register", 300, 900),
        table("quarantine", "register", 10, 100),
        table("gold", "register_by_country", 50, 120, level=2, personal=False),
        table("bronze", "visas", 100, 500),
        table("silver", "visas", 100, 500),
        table("gold", "visas_by_country", 40, 60, description=f"Visas par pays {SCRIPT}"),
    ]
    return {
        "generated_at": NOW.isoformat(),
        "summary": {
            "tables": len(tables),
            "domains": ["Administration consulaire", "Mobilité internationale"],
            "domain_count": 2,
            "tables_per_level": {"1": 3, "2": 1, "3": 0, "4": 3},
            "unclassified": 0,
            "tables_per_layer": {"bronze": 2, "silver": 2, "gold": 2, "quarantine": 1},
            "personal_tables": 3,
            "rows": sum(t["rows"] for t in tables),
            "size_bytes": sum(t["size_bytes"] for t in tables),
        },
        "tables": tables,
        "warnings": [],
    }


def run(source: str, layer: str, batch: str, day: str, seconds: float, **extra: Any) -> dict:
    started = dt.datetime.fromisoformat(f"2025-{day}T10:00:00+00:00")
    return {
        "run_id": f"run-{batch}",
        "batch_id": batch,
        "source": source,
        "layer": layer,
        "status": "succeeded",
        "started_at": started,
        "finished_at": started + dt.timedelta(seconds=seconds),
        "duration_s": seconds,
        "rows_in": 0,
        "rows_out": 0,
        "quarantined": 0,
        "inserted": 0,
        "updated": 0,
        "quality": "",
        **extra,
    }


RUNS = [
    run("register", "bronze", "r1", "01-01", 360),
    run("register", "silver", "r1", "01-01", 720, rows_in=550, inserted=500, quarantined=50,
        quality="promoted"),
    run("visas", "bronze", "v1", "01-15", 180),
    run("visas", "silver", "v1", "01-15", 180, rows_in=500, inserted=500, quality="promoted"),
    run("register", "bronze", "r2", "02-01", 360),
    run("register", "silver", "r2", "02-01", 720, rows_in=410, inserted=400, updated=10,
        quality="promoted_with_warnings"),
    run("visas", "bronze", "v2", "02-15", 180),
    run("visas", "silver", "v2", "02-15", 180, rows_in=40, quality="blocked"),
    run("register,visas", "gold", "gold-both-1", "02-16", 720, status="failed"),
]  # fmt: skip


def review(rid: str, when: str, name: str, reviewed: int, rejected: int, rule: str) -> dict:
    return {
        "review_id": rid,
        "reviewed_at": dt.datetime.fromisoformat(f"2025-{when}+00:00"),
        "table": name,
        "rule_id": rule,
        "rows_reviewed": reviewed,
        "rows_rejected": rejected,
    }


QUALITY = [
    review("q1", "01-01T10:20:00", "silver/register", 550, 50, "a"),
    review("q1", "01-01T10:20:00", "silver/register", 550, 50, "b"),
    review("q1", "01-01T10:20:00", "silver/register", 550, 50, "c"),
    review("q2", "01-15T10:10:00", "silver/visas", 500, 0, "a"),
    review("q3", "02-01T10:20:00", "silver/register", 400, 40, "a"),
    review("q4", "02-16T10:00:00", "gold/visas_by_country", 60, 0, "a"),
]


def decision(key: str, hostings: list[str]) -> dict[str, Any]:
    layer, name = key.split("/")
    return {
        "table": name,
        "layer": layer,
        "level": None,
        "personal": False,
        "hostings": hostings,
        "rule_id": "A09-test",
        "explanation_fr": f"Règle de test pour {key}.",
    }


ALL = ["on_premises", "secnumcloud", "public_cloud"]
CLOUD = [
    decision("bronze/register", ["on_premises"]),
    decision("silver/register", ["on_premises"]),
    decision("quarantine/register", ["on_premises"]),
    decision("gold/register_by_country", ["on_premises", "secnumcloud"]),
    decision("bronze/visas", ALL),
    decision("silver/visas", ALL),
    decision("gold/visas_by_country", ALL),
]
LINEAGE_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20">'
    "<title>Lignage</title><rect x='1' y='1' width='10' height='10'/></svg>"
)


def inputs(**changes: Any) -> StudyInputs:
    base = {
        "catalog": catalog(),
        "runs": RUNS,
        "quality": QUALITY,
        "lineage": {
            "datasets": 9,
            "column_edges": 14,
            "sources_to_gold": [
                ("silver/register", "gold/register_by_country"),
                ("silver/visas", "gold/visas_by_country"),
            ],
            "svg": LINEAGE_SVG,
        },
        "cloud": CLOUD,
        "generated_at": NOW,
    }
    return StudyInputs(**{**base, **changes})


@pytest.fixture
def cost_path(tmp_path: Path) -> Path:
    path = tmp_path / "cost_model.yaml"
    path.write_text(COST_YAML, encoding="utf-8")
    return path


@pytest.fixture
def study(cost_path: Path) -> Study:
    return compute(inputs(), load_cost_model(cost_path))


# --- the cost model ------------------------------------------------------------------------


def test_the_project_cost_model_copies_the_roadmap_tables() -> None:
    model = load_cost_model(REPO / "policy" / "cost_model.yaml")
    etp = {s.role.split(" (")[0]: s.etp for s in model.staff}
    assert etp == {
        "Data scientistes": 3,
        "Data analystes": 8,
        "Product owner Data": 1,
        "Conformité RGPD": 2,
        "Conformité SSI": 3,
        "Expertise juridique autour des données": 3,
        "Maîtrise du cycle de vie des données": 3,
        "Management de l'information": 3,
        "Autres spécialistes de la donnée": 15,
        "Atelier d'innovation numérique": 2,
    }
    assert "section 5 « Ressources et moyens »" in model.staff_source
    assert [(b.period, b.k_eur, b.per_year) for b in model.budget] == [
        ("2021", 30, False),
        ("2022", 144, False),
        ("2023-2026", 100, True),
    ]
    assert model.reference_budget_eur == 100_000
    assert set(model.hosting) == {"on_premises", "secnumcloud", "public_cloud"}
    assert model.vcpus == 2


def test_on_premises_replication_is_the_erasure_coding_the_lake_runs() -> None:
    """4 drives with MinIO's default parity EC:2 store 2 bytes per byte (docs/reliability.md)."""
    from lake.minio_server import bytes_stored_per_byte, default_parity

    model = load_cost_model(REPO / "policy" / "cost_model.yaml")
    assert default_parity(4) == 2
    assert model.hosting["on_premises"].replication_factor == bytes_stored_per_byte(4) == 2.0
    assert [bytes_stored_per_byte(n) for n in (1, 2, 8, 16)] == [1.0, 2.0, 2.0, 16 / 12]


def test_the_study_names_its_cost_model_without_the_machine_s_path(tmp_path: Path) -> None:
    model = load_cost_model(REPO / "policy" / "cost_model.yaml", root=REPO)
    assert model.source == "policy/cost_model.yaml"
    study = compute(inputs(), model)
    html = render_html(study, tmp_path / "index.html").read_text(encoding="utf-8")
    text = render_markdown(study, tmp_path / "etude.md").read_text(encoding="utf-8")
    assert "modèle de coûts <code>policy/cost_model.yaml</code>" in html
    assert "modèle de coûts policy/cost\\_model.yaml," in text  # Markdown-escaped
    assert str(REPO) not in html + text + json.dumps(study.to_dict())
    elsewhere = tmp_path / "prix" / "cost.yaml"
    elsewhere.parent.mkdir()
    elsewhere.write_text((REPO / "policy" / "cost_model.yaml").read_text(encoding="utf-8"))
    assert load_cost_model(elsewhere, root=REPO).source == "cost.yaml"
    assert load_cost_model(elsewhere).source == "cost.yaml"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "  secnumcloud: {storage_eur_per_tb_month: 20, vcpu_eur_per_hour: 0.2, "
            "replication_factor: 1.0}\n",
            "",
            "hosting.secnumcloud: is missing; every option is needed",
        ),
        ("vcpu_eur_per_hour: 0.05", "vcpu_eur_per_hour: -1", "hosting.public_cloud."
         "vcpu_eur_per_hour: expected a number >= 0, found -1."),
        ("replication_factor: 1.5", "replication_factor: 0.5", "hosting.on_premises."
         "replication_factor: expected a number >= 1, found 0.5."),
        ("horizon_years: 3", "horizon_years: 0", "horizon_years: expected a whole number >= 1"),
        ("compute: {vcpus: 2}", "compute: {vcpu: 2}", "compute.vcpu: unknown field; valid "
         "fields are: vcpus."),
        ("lake_share: 0.5", "lake_share: 2", "people.roles[0].lake_share: expected a number "
         "between 0 and 1, found 2."),
        ("daily_cost_eur: 500", "daily_cost_eur: cher", "people.daily_cost_eur: expected a "
         "number, found 'cher'."),
    ],
)  # fmt: skip
def test_an_invalid_cost_model_names_the_file_and_the_field(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    assert old in COST_YAML
    path = tmp_path / "cost.yaml"
    path.write_text(COST_YAML.replace(old, new), encoding="utf-8")
    with pytest.raises(GovernanceError) as caught:
        load_cost_model(path)
    assert str(caught.value).startswith(f"Cost model {path}: ")
    assert message in str(caught.value)


def test_an_unreadable_cost_model_is_a_governance_error(tmp_path: Path) -> None:
    with pytest.raises(GovernanceError, match=r"cost\.yaml: \(file\): cannot be read"):
        load_cost_model(tmp_path / "cost.yaml")
    (tmp_path / "bad.yaml").write_text("hosting: [", encoding="utf-8")
    with pytest.raises(GovernanceError, match=r"bad\.yaml: \(file\): is not valid YAML"):
        load_cost_model(tmp_path / "bad.yaml")


# --- the figures ---------------------------------------------------------------------------


def test_inventory_totals_equal_the_catalogue(study: Study) -> None:
    summary = catalog()["summary"]
    assert (study.totals.tables, study.totals.rows, study.totals.size_bytes) == (
        summary["tables"],
        summary["rows"],
        summary["size_bytes"],
    )
    domains = {d.name: d for d in study.domains}
    assert sum(d.total.size_bytes for d in study.domains) == summary["size_bytes"]
    assert sum(d.total.rows for d in study.domains) == summary["rows"]
    consular = domains["Administration consulaire"]
    assert (consular.total.tables, consular.total.rows, consular.total.size_bytes) == (
        4,
        2120,
        760 * GB,
    )
    assert list(consular.layers) == ["bronze", "silver", "gold", "quarantine"]
    assert consular.layers["quarantine"].size_bytes == 10 * GB
    assert consular.owners == ("DFAE",)
    assert [(s.name, s.total.tables) for s in study.sources] == [("register", 3), ("visas", 2)]
    assert study.notes == ()


def test_growth_per_silver_delivery_in_time_order(study: Study) -> None:
    growth = study.activity.growth
    assert [(g.source, g.batch_id, g.rows_added, g.cumulative_added) for g in growth] == [
        ("register", "r1", 500, 500),
        ("visas", "v1", 500, 1000),
        ("register", "r2", 400, 1400),
        ("visas", "v2", 0, 1400),
    ]
    assert study.activity.added_per_delivery == {"register": 450, "visas": 250}
    assert study.activity.blocked == ("visas (silver, lot v2)",)
    assert study.activity.failed == ("register,visas (gold, lot gold-both-1)",)


def test_compute_hours_come_from_the_run_durations(study: Study) -> None:
    usage = {u.source: u for u in study.activity.usage}
    assert usage["register"].hours == pytest.approx((360 + 720) * 2 / 3600)
    assert usage["register"].deliveries == 2
    assert usage["register,visas"].hosting == "on_premises"  # the most restrictive source
    assert usage["visas"].hosting == "public_cloud"
    assert study.activity.measured_hours == pytest.approx(1.0)
    # register 0.3 h, visas 0.1 h, gold 0.2 h per delivery, 12 deliveries a year.
    assert study.costs.hours_per_year == pytest.approx(7.2)


def test_quality_reviews_scores_and_trend(study: Study) -> None:
    q = study.quality
    assert q.reviews == 4
    assert [(p.review_id, p.score) for p in q.points] == [
        ("q1", pytest.approx(100 * (1 - 50 / 550))),
        ("q2", 100.0),
        ("q3", 90.0),
        ("q4", 100.0),
    ]
    assert q.points[2].lake_score == pytest.approx(100 * (1 - 40 / 900))
    assert q.lake_score == pytest.approx(100 * (1 - 40 / 960))
    register = next(t for t in q.tables if t.table == "silver/register")
    assert (register.score, register.reviews, register.direction) == (90.0, 2, "down")
    assert q.unreviewed == ("gold/register_by_country",)


def test_sensitivity_lineage_and_uses(study: Study) -> None:
    levels = {lv.level: (lv.tables, lv.size_bytes) for lv in study.sensitivity.levels}
    assert levels == {1: (3, 710 * GB), 2: (1, 50 * GB), 3: (0, 0), 4: (3, 240 * GB), None: (0, 0)}
    assert study.sensitivity.personal_tables == 3
    assert study.lineage.sources == ("silver/register", "silver/visas")
    assert study.lineage.svg is not None and study.lineage.svg.startswith("<svg")
    assert [(u.domain, u.table, u.hosting) for u in study.uses] == [
        ("Administration consulaire", "gold/register_by_country", "secnumcloud"),
        ("Mobilité internationale", "gold/visas_by_country", "public_cloud"),
    ]


def test_hosting_split_puts_each_table_on_its_most_open_option(study: Study) -> None:
    shares = {s.hosting: s for s in study.hosting.shares}
    assert (shares["on_premises"].admissible_tables, shares["on_premises"].placed_bytes) == (
        7,
        710 * GB,
    )
    assert (shares["secnumcloud"].admissible_bytes, shares["secnumcloud"].placed_bytes) == (
        290 * GB,
        50 * GB,
    )
    assert (shares["public_cloud"].placed_tables, shares["public_cloud"].placed_bytes) == (
        3,
        240 * GB,
    )


def test_storage_compute_and_people_costs_follow_the_formulas(study: Study) -> None:
    costs = study.costs
    people = (2 * 0.5 + 4 * 0.25) * 200 * 500
    # 1 TB × replication × price × 12.
    assert costs.scenario("on_premises").storage_eur_year == pytest.approx(1 * 1.5 * 10 * 12)
    assert costs.scenario("secnumcloud").storage_eur_year == pytest.approx(1 * 20 * 12)
    assert costs.scenario("public_cloud").storage_eur_year == pytest.approx(1 * 5 * 12)
    assert costs.scenario("public_cloud").compute_eur_year == pytest.approx(7.2 * 2 * 0.05)
    assert costs.scenario("public_cloud").admissible is False
    split = costs.scenario("split")
    assert split.storage_eur_year == pytest.approx(
        0.71 * 1.5 * 10 * 12 + 0.05 * 20 * 12 + 0.24 * 5 * 12
    )
    assert split.compute_eur_year == pytest.approx(3.6 * 2 * 0.1 + 1.2 * 2 * 0.05 + 2.4 * 2 * 0.1)
    assert split.people_eur_year == pytest.approx(people) == pytest.approx(200_000)
    # 700 rows a delivery × 12 over 1 400 silver rows: × (1 + 6 y) at the end of year y.
    assert costs.growth_rate == pytest.approx(6.0)
    assert [y.storage_eur for y in costs.years] == pytest.approx(
        [split.storage_eur_year * (1 + 6 * y) for y in (1, 2, 3)]
    )
    assert split.horizon_eur == pytest.approx(sum(y.total_eur for y in costs.years))
    assert costs.budget_share == pytest.approx(
        (split.storage_eur_year + split.compute_eur_year) / 100_000
    )


def test_a_price_change_changes_the_costs_and_only_them(cost_path: Path) -> None:
    before = compute(inputs(), load_cost_model(cost_path)).to_dict()
    cost_path.write_text(
        COST_YAML.replace("storage_eur_per_tb_month: 5,", "storage_eur_per_tb_month: 50,"),
        encoding="utf-8",
    )
    after = compute(inputs(), load_cost_model(cost_path)).to_dict()
    assert {k for k in before if before[k] != after[k]} == {"cost_model", "costs"}
    old = {s["scenario"]: s for s in before["costs"]["scenarios"]}
    new = {s["scenario"]: s for s in after["costs"]["scenarios"]}
    assert old["on_premises"] == new["on_premises"]
    assert old["secnumcloud"] == new["secnumcloud"]
    assert new["public_cloud"]["storage_eur_year"] == pytest.approx(1 * 50 * 12)
    assert new["public_cloud"]["compute_eur_year"] == old["public_cloud"]["compute_eur_year"]
    assert new["split"]["storage_eur_year"] - old["split"]["storage_eur_year"] == pytest.approx(
        0.24 * 45 * 12
    )
    assert new["split"]["compute_eur_year"] == old["split"]["compute_eur_year"]


def test_recommendations_and_risks_come_from_the_figures(study: Study) -> None:
    kinds = {r.id: r for r in study.recommendations}
    assert set(kinds) == {"internal", "open_data"}
    assert kinds["open_data"].uses == ("gold/visas_by_country",)
    assert "1 table gold de niveau 4" in kinds["open_data"].text_fr
    assert kinds["internal"].tables == 6
    assert "3 avec des données personnelles et 4 de niveau 1 ou 2" in kinds["internal"].text_fr
    risks = {r.id: r for r in study.risks}
    assert set(risks) == {
        "personal_data",
        "unreviewed",
        "low_quality",
        "blocked",
        "failed_runs",
        "single_owner",
    }
    assert risks["personal_data"].severity == "moyen"
    assert "3 tables sur 7 (42,9\u202f%)" in risks["personal_data"].text_fr
    assert risks["low_quality"].items == ("silver/register",)
    assert [r.severity for r in study.risks][:1] == ["moyen"]


def test_without_decisions_tables_stay_on_premises(cost_path: Path) -> None:
    study = compute(inputs(cloud=[]), load_cost_model(cost_path))
    assert {p.hosting for p in study.hosting.placements} == {"on_premises"}
    assert study.costs.scenario("split").storage_eur_year == pytest.approx(1 * 1.5 * 10 * 12)
    assert next(r for r in study.risks if r.id == "hosting").count == 7


def test_an_unsafe_lineage_drawing_is_left_out(cost_path: Path) -> None:
    bad = LINEAGE_SVG.replace("<title>", '<script>alert(1)</script><title onload="x()">')
    lineage = {**inputs().lineage, "svg": bad}
    study = compute(inputs(lineage=lineage), load_cost_model(cost_path))
    assert study.lineage.svg is None
    assert study.notes == ("Schéma de lignage non intégré : élément <script> refusé.",)
    assert (
        checked_svg('<svg xmlns="http://www.w3.org/2000/svg"><a href="http://x"/></svg>')[1]
        == "lien externe 'http://x' refusé."
    )
    assert checked_svg("<svg")[0] is None


def test_to_dict_is_json(study: Study) -> None:
    data = json.loads(json.dumps(study.to_dict()))
    assert data["quality"]["reviews"] == 4
    assert data["totals"] == {"tables": 7, "rows": 3180, "size_bytes": 1000 * GB}
    assert data["generated_at"] == NOW.isoformat()


# --- the pages -----------------------------------------------------------------------------


def test_html_page_is_static_escaped_and_its_charts_are_svg(study: Study, tmp_path: Path) -> None:
    out = render_html(study, tmp_path / "etude" / "index.html")
    html = out.read_text(encoding="utf-8")
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    svgs = re.findall(r"<svg\b.*?</svg>", html, flags=re.S)
    assert len(svgs) == 4  # inventory, quality trend, lineage, costs
    for svg in svgs:
        root = ET.fromstring(svg)
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert "Administration consulaire" in svgs[0]
    assert "95,8\u202f%" in html  # the lake's score after the last review
    assert "200\u202f000\u00a0€" in html  # people per year
    assert "Étude d'opportunité du lac de données" in html


def test_a_planted_script_in_a_domain_name_is_escaped_in_the_charts(
    cost_path: Path, tmp_path: Path
) -> None:
    data = catalog()
    data["tables"][0]["domain"] = SCRIPT
    study = compute(inputs(catalog=data), load_cost_model(cost_path))
    html = render_html(study, tmp_path / "etude.html").read_text(encoding="utf-8")
    assert "<script" not in html
    for svg in re.findall(r"<svg\b.*?</svg>", html, flags=re.S):
        ET.fromstring(svg)


def test_markdown_is_written_and_escaped(study: Study, tmp_path: Path) -> None:
    text = render_markdown(study, tmp_path / "etude.md").read_text(encoding="utf-8")
    assert text.startswith("# Étude d'opportunité du lac de données\n")
    assert "<script" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "| Administration consulaire | DFAE | 4 | 2\u202f120 | 760\u00a0Go |" in text
    assert "Nombre de revues de qualité réalisées : **4 revues**" in text


def test_french_formatting() -> None:
    assert format_int_fr(1234567) == "1\u202f234\u202f567"
    assert format_eur_fr(1234.5) == "1\u202f235\u00a0€"
    assert format_eur_fr(12.345) == "12,35\u00a0€"
    assert format_eur_fr(0.004) == "moins de 0,01\u00a0€"
    assert format_eur_fr(0) == "0\u00a0€"
    assert format_keur_fr(144) == "144\u00a0K€"
    assert format_percent_fr(95.8333) == "95,8\u202f%"
    assert format_percent_fr(0.01) == "moins de 0,1\u202f%"
    assert format_percent_fr(99.99) == "plus de 99,9\u202f%"
    assert format_size_fr(1_500_000) == "1,5\u00a0Mo"
    assert format_size_fr(999) == "999\u00a0o"
    assert format_date_fr(dt.datetime(2026, 3, 1, 9, 5)) == "1er mars 2026"
    assert format_date_fr(NOW, time=True) == "2 mars 2026 à 10 h 30 UTC"


def test_the_inputs_are_not_modified(cost_path: Path) -> None:
    given = inputs()
    snapshot = copy.deepcopy((given.catalog, list(given.runs), list(given.quality)))
    compute(given, load_cost_model(cost_path))
    assert (given.catalog, list(given.runs), list(given.quality)) == snapshot


def test_an_empty_lake_still_gives_a_study(cost_path: Path, tmp_path: Path) -> None:
    empty = StudyInputs(catalog={"tables": [], "warnings": []}, generated_at=NOW)
    study = compute(empty, load_cost_model(cost_path))
    assert (study.totals.tables, study.quality.reviews, study.activity.runs) == (0, 0, 0)
    assert [r.id for r in study.recommendations] == ["open_data"]
    assert study.recommendations[0].text_fr.startswith("Pas encore de couche de données")
    assert study.risks == ()
    assert study.costs.scenario("split").storage_eur_year == 0
    assert study.costs.scenario("split").people_eur_year == pytest.approx(200_000)
    html = render_html(study, tmp_path / "vide.html").read_text(encoding="utf-8")
    charts = [ET.fromstring(svg) for svg in re.findall(r"<svg\b.*?</svg>", html, flags=re.S)]
    trend = "".join(charts[1].itertext())  # inventory, quality trend, costs (no lineage)
    assert "Aucune revue pour l'instant" in trend
    assert "Aucun risque relevé" in render_markdown(study, tmp_path / "vide.md").read_text(
        encoding="utf-8"
    )
