"""``lake cloud``, ``lake study`` and ``lake reports``: the governance products.

Everything is computed from what the lake stored (catalogue, run log, quality history, lineage
events), read without Spark. ``lake reports`` builds them all, the roadmap dashboard and the index
page that links them. The cloud and study pages get a stamp beside them (the table versions they
described), which the dashboard reads back from disk to decide whether they are still current.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.cli.commands import print_json
from lake.settings import Settings

OPENDATA = "opendata"  # where `lake export opendata` publishes by default: <reports>/opendata


@dataclass
class LakeFacts:
    """What the governance products read, gathered once."""

    contracts: Any
    graph: Any
    catalog: dict[str, Any]
    runs: list[dict[str, Any]]
    quality: list[dict[str, Any]]


def gather(settings: Settings) -> LakeFacts:
    from governance.catalog.entries import build_catalog
    from governance.catalog.scan import read_quality_rows
    from governance.sensitivity.tags import derived_tags, load_graph
    from ingestion.runlog import read_runs
    from lake.contracts import load_contracts

    contracts = load_contracts(settings.root)
    graph = load_graph(settings)
    quality = read_quality_rows(settings)
    catalog = build_catalog(
        settings,
        contracts=contracts,
        graph=graph,
        derived=derived_tags(settings, graph, contracts),
        quality_rows=quality,
    ).to_dict()
    return LakeFacts(contracts, graph, catalog, read_runs(settings, limit=None), quality)


def cloud_decisions(settings: Settings, facts: LakeFacts, policy_path: Path | None = None) -> Any:
    from governance.cloud.framework import assess, default_policy_path, load_policy

    policy = load_policy(policy_path or default_policy_path(settings.root))
    decisions = assess(
        facts.catalog,
        policy,
        contracts_legal_secret={s: c.legal_secret for s, c in facts.contracts.items()},
    )
    return policy, decisions


def _lineage_summary(facts: LakeFacts) -> dict[str, Any]:
    from governance.lineage.render import render_svg

    gold = [d for d in facts.graph.datasets if d.layer == "gold"]
    pairs: set[tuple[str, str]] = set()
    for table in gold:
        up = facts.graph.upstream(table)
        for ds in up.datasets:
            if ds.layer == "bronze":
                pairs.add((ds.name.split("/", 1)[1], table.name))
    svg = None
    if gold:
        svg = render_svg(facts.graph.upstream(sorted(gold)[0]))
    return {
        "datasets": len(facts.graph.datasets),
        "column_edges": len(facts.graph.column_edges),
        "sources_to_gold": sorted(pairs),
        "svg": svg,
    }


def build_study(
    settings: Settings, facts: LakeFacts, decisions: Any, cost_path: Path | None = None
) -> Any:
    from governance.study.build import StudyInputs, compute
    from governance.study.cost import load_cost_model

    cost = load_cost_model(
        cost_path or settings.root / "policy" / "cost_model.yaml", root=settings.root
    )
    return compute(
        StudyInputs(
            catalog=facts.catalog,
            runs=facts.runs,
            quality=facts.quality,
            lineage=_lineage_summary(facts),
            cloud=[d.to_dict() for d in decisions],
            generated_at=dt.datetime.now(dt.UTC),
        ),
        cost,
    )


def cmd_cloud(settings: Settings, args: argparse.Namespace) -> int:
    from governance.cloud.framework import render_html, render_text
    from governance.evidence import write_stamp

    facts = gather(settings)
    policy, decisions = cloud_decisions(settings, facts, args.policy)
    if args.json:
        print_json([d.to_dict() for d in decisions])
    else:
        print(render_text(decisions))
    out = render_html(decisions, policy, args.html or settings.reports.dir / "cloud.html")
    write_stamp(out, facts.catalog, dt.datetime.now(dt.UTC))
    print(f"Page: {out}", file=sys.stderr)
    return 0


def cmd_study(settings: Settings, args: argparse.Namespace) -> int:
    from governance.evidence import write_stamp
    from governance.study.render import render_html, render_markdown

    facts = gather(settings)
    _, decisions = cloud_decisions(settings, facts)
    study = build_study(settings, facts, decisions, args.cost)
    out = args.out or settings.reports.dir / "etude"
    html = render_html(study, out / "index.html")
    md = render_markdown(study, out / "etude.md")
    write_stamp(html, facts.catalog, study.generated_at)
    if args.json:
        print_json(study.to_dict())
    else:
        print(f"Étude d'opportunité : {html}\nVersion Markdown : {md}")
    return 0


def cmd_reports(settings: Settings, args: argparse.Namespace) -> int:
    """Every governance product, then the index linking them."""
    from app.cli.quality import table_schema
    from governance.evidence import write_stamp
    from governance.lineage.render import render_svg
    from governance.reports_index import render_reports_index
    from governance.study.render import render_html as study_html
    from governance.study.render import render_markdown
    from quality.review import write_reviews

    reports = settings.reports.dir
    reports.mkdir(parents=True, exist_ok=True)
    say = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    say("quality reviews...")
    write_reviews(settings)
    facts = gather(settings)
    say("cloud-usage framework (A09)...")
    from governance.cloud.framework import render_html as cloud_html

    policy, decisions = cloud_decisions(settings, facts)
    cloud = cloud_html(decisions, policy, reports / "cloud.html")
    write_stamp(cloud, facts.catalog, dt.datetime.now(dt.UTC))
    say("opportunity study (A15)...")
    study = build_study(settings, facts, decisions)
    page = study_html(study, reports / "etude" / "index.html")
    render_markdown(study, reports / "etude" / "etude.md")
    write_stamp(page, facts.catalog, study.generated_at)
    say("published schemas and lineage picture...")
    schemas = reports / "schemas"
    schemas.mkdir(exist_ok=True)
    for table in facts.catalog["tables"]:
        if table["layer"] in ("silver", "gold"):
            key = f"{table['layer']}/{table['name']}"
            try:
                schema = table_schema(settings, key)
            except Exception as exc:  # a table without contract (smoke) has no schema to publish
                say(f"  no schema for {key}: {exc}")
                continue
            path = schemas / f"{table['layer']}.{table['name']}.schema.json"
            path.write_text(json.dumps(schema, indent=2, ensure_ascii=False), encoding="utf-8")
    gold = sorted(d for d in facts.graph.datasets if d.layer == "gold")
    lineage_dir = reports / "lineage"
    lineage_dir.mkdir(exist_ok=True)
    if gold:
        (lineage_dir / "index.svg").write_text(
            render_svg(facts.graph.upstream(gold[0])), encoding="utf-8"
        )
    indicators = write_dashboard(settings, facts)
    index = render_reports_index(
        reports,
        [
            ("Revues de qualité (A13)", "quality/index.html", "Une page par domaine métier."),
            ("Étude d'opportunité data lake (A15)", "etude/index.html", "Générée du lac."),
            ("Cadre d'usage du cloud (A09)", "cloud.html", "Hébergement admissible par jeu."),
            ("Tableau de bord de la feuille de route", "tableau-de-bord.html", "Indicateurs."),
            ("Lignage des données", "lineage/index.svg", "Des fichiers livrés aux tables gold."),
        ],
    )
    if args.json:
        print_json({"index": str(index), "indicators": [i.to_dict() for i in indicators]})
    else:
        print(f"Rapports : {index}")
    return 0


def dashboard_indicators(
    settings: Settings, facts: LakeFacts, *, now: dt.datetime | None = None
) -> list[Any]:
    """The roadmap indicators from what is on disk and in the lake, not from what just ran.

    Schemas are those published where the open-data export puts them (``<reports>/opendata``);
    the study and the cloud framework are judged by the stamps beside their pages against the
    catalogue in ``facts``, so a page left from an earlier run over since-changed data is not met.
    Used by :func:`write_dashboard` and by ``lake serve``'s dashboard page.

    Returns:
        The indicators, as `governance.dashboard.compute_indicators` gives them.
    """
    from governance.dashboard import compute_indicators
    from governance.evidence import published_schemas, read_stamp
    from lake import meta_tables

    reports = settings.reports.dir
    eligible = [
        t["name"]
        for t in facts.catalog["tables"]
        if t["layer"] == "gold" and t["level"] == 4 and not t["personal"] and not t["exclusion"]
    ]
    return compute_indicators(
        facts.catalog,
        facts.quality,
        schemas=published_schemas(reports / OPENDATA),
        open_data_eligible=eligible,
        study=read_stamp(reports / "etude" / "index.html"),
        cloud=read_stamp(reports / "cloud.html"),
        generated_at=now or dt.datetime.now(dt.UTC),
        # the directions' sign-offs and fix requests (`lake serve`), from the lake
        decisions=meta_tables.read(settings, meta_tables.REVIEW_DECISIONS),
    )


def write_dashboard(
    settings: Settings, facts: LakeFacts, *, now: dt.datetime | None = None
) -> list[Any]:
    """The roadmap dashboard page (:func:`dashboard_indicators`); returns the indicators."""
    from governance.dashboard import render_dashboard

    indicators = dashboard_indicators(settings, facts, now=now)
    links = {"A13": "quality/index.html", "A15": "etude/index.html", "A09": "cloud.html"}
    render_dashboard(indicators, settings.reports.dir / "tableau-de-bord.html", links=links)
    return indicators


def register(sub: argparse._SubParsersAction) -> None:
    """Add the governance products to the CLI."""
    p = sub.add_parser(
        "cloud",
        help="the A09 cloud-usage framework: admissible hosting per dataset, with its rule",
        description="Decide for each table the admissible hosting (ministry on-premises, "
        "SecNumCloud, public cloud) from policy/cloud.yaml; table, --json, and an HTML page.",
    )
    p.add_argument("--policy", type=Path, help="policy file (default policy/cloud.yaml)")
    p.add_argument("--html", type=Path, help="page to write (default <reports>/cloud.html)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_cloud)
    p = sub.add_parser(
        "study",
        help="the A15 data-lake opportunity study (HTML + Markdown), generated from the lake",
        description="Generate the opportunity study in French from the catalogue, run log, "
        "quality history, lineage and cloud framework; costs from policy/cost_model.yaml.",
    )
    p.add_argument("--cost", type=Path, help="cost model (default policy/cost_model.yaml)")
    p.add_argument("--out", type=Path, help="output directory (default <reports>/etude)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_study)
    p = sub.add_parser(
        "reports",
        help="build every report (quality, cloud, study, schemas, dashboard) and their index",
        description="Build the quality reviews, the cloud framework, the opportunity study, "
        "the published Table Schemas, the lineage picture, the roadmap dashboard and the index.",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_reports)
