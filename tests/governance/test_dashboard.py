"""The A03/A06 dashboard and the reports index: indicators, pages, escaping (pure, no Spark)."""

from __future__ import annotations

import datetime as dt
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from governance.dashboard import Indicator, compute_indicators, render_dashboard
from governance.errors import GovernanceError
from governance.evidence import PageStamp, PublishedSchemas
from governance.reports_index import render_reports_index, resolve_entry

EVIL = "<script>alert(1)</script>"
NOW = dt.datetime(2024, 12, 1, 9, 5, tzinfo=dt.UTC)
T0 = dt.datetime(2024, 11, 28, 9, 0, tzinfo=dt.UTC)
T1 = dt.datetime(2024, 11, 29, 10, 30, tzinfo=dt.UTC)
NNBSP = "\u202f"


def table(
    layer: str, name: str, level: int | None, domain: str, *, created: str = "2024-03-01"
) -> dict[str, Any]:
    return {
        "layer": layer,
        "name": name,
        "level": level,
        "domain": domain,
        "version": 2,
        "updated_at": "2024-11-27T08:00:00+00:00",
        "created_at": f"{created}T08:00:00+00:00",
    }


CATALOG: dict[str, Any] = {
    "generated_at": "2024-12-01T09:00:00+00:00",
    "summary": {
        "tables": 6,
        "domains": ["Administration consulaire", "Mobilité internationale", "Visas"],
        "domain_count": 3,
        "tables_per_level": {"1": 2, "2": 1, "3": 0, "4": 2},
        "unclassified": 1,
        "tables_per_layer": {"bronze": 1, "silver": 1, "gold": 4, "quarantine": 0},
        "personal_tables": 2,
        "rows": 1000,
        "size_bytes": 2048,
    },
    "tables": [
        table("bronze", "consular_register", 1, "Administration consulaire"),
        table("silver", "consular_register", 1, "Administration consulaire"),
        table("gold", "inscrits_par_pays", 2, "Administration consulaire", created="2023-06-01"),
        table("gold", "pvt_par_pays_annee", 4, "Mobilité internationale"),
        table("gold", "visas_par_poste", 4, "Visas"),
        table("gold", "brouillon", None, "Visas"),
    ],
    "warnings": [],
}


def quality_row(review_id: str, when: Any, table_name: str = "silver/consular_register") -> dict:
    return {"review_id": review_id, "reviewed_at": when, "table": table_name, "rule_id": "r"}


ROWS = [
    # Two expectation results of one review count once.
    quality_row("rev-1", T0),
    quality_row("rev-1", T0),
    quality_row("rev-2", T1.isoformat(), "gold/pvt_par_pays_annee"),
    quality_row("", T1),  # no review id: not a review
    quality_row("rev-later", dt.datetime(2025, 1, 2, tzinfo=dt.UTC)),  # after the dashboard
]


def stamp(catalog: dict[str, Any] | None = None, **versions: int) -> PageStamp:
    """A page generated at T1 from ``catalog``'s tables (``versions`` override, by key)."""
    tables = {f"{t['layer']}/{t['name']}": t["version"] for t in (catalog or CATALOG)["tables"]}
    tables.update({k.replace("__", "/"): v for k, v in versions.items()})
    return PageStamp("index.html", T1, tables)


def indicators(**over: Any) -> list[Indicator]:
    args: dict[str, Any] = {
        "schemas": PublishedSchemas(("pvt_par_pays_annee", "visas_par_poste")),
        "open_data_eligible": ["visas_par_poste", "pvt_par_pays_annee", "visas_par_poste"],
        "study": stamp(),
        "cloud": None,
        "generated_at": NOW,
    }
    args.update(over)
    catalog = args.pop("catalog", CATALOG)
    rows = args.pop("rows", ROWS)
    return compute_indicators(catalog, rows, **args)


def by_key(items: list[Indicator]) -> dict[str, Indicator]:
    return {i.key: i for i in items}


class Page(HTMLParser):
    """Collects tags, attributes and text, and fails on markup the parser cannot balance."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self._in_style = False
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if not self._in_style:
            self.text.append(data)

    def hrefs(self) -> list[str]:
        return [str(a["href"]) for t, a in self.tags if t == "a" and a.get("href")]

    @property
    def plain(self) -> str:
        # ASCII whitespace only: the narrow no-break space before "%" must survive.
        return re.sub(r"[ \t\r\n]+", " ", " ".join(self.text)).strip()


def test_indicators_in_order_with_their_codes() -> None:
    found = [(i.code, i.key) for i in indicators()]
    assert found == [
        ("A13", "quality_reviews"),
        ("A13", "schemas_published"),
        ("A08/A11", "domains_covered"),
        ("A08", "datasets_exposed"),
        ("A11", "open_data_eligible"),
        ("A15", "opportunity_study"),
        ("A09", "cloud_framework"),
    ]


def test_exact_values_targets_and_statuses() -> None:
    got = {i.key: (i.value, i.target, i.unit, i.status) for i in indicators()}
    assert got == {
        "quality_reviews": (2, 1, "revue", "ok"),
        "schemas_published": (2, 1, "schéma", "ok"),
        "domains_covered": (3, 4, "domaine", "en cours"),
        "datasets_exposed": (3, 10, "jeu de données", "en cours"),
        "open_data_eligible": (2, None, "jeu de données", "en cours"),
        "opportunity_study": (True, True, "", "ok"),
        "cloud_framework": (False, True, "", "à faire"),
    }


def test_reviews_are_distinct_ids_up_to_the_dashboard_date() -> None:
    reviews = by_key(indicators())["quality_reviews"]
    assert reviews.source_fr.startswith("nombre de review_id distincts dans meta/quality_results")
    assert reviews.details == (
        "Tables revues : 2",
        "Dernière revue : 29 novembre 2024 à 10 h 30 UTC",
    )
    assert reviews.as_of == NOW
    assert by_key(indicators(generated_at=T0))["quality_reviews"].value == 1


def test_details_name_the_domains_levels_and_open_datasets() -> None:
    found = by_key(indicators())
    assert found["domains_covered"].details == (
        "Administration consulaire",
        "Mobilité internationale",
        "Visas",
    )
    assert found["datasets_exposed"].details == (
        "Créées en 2023 : 1 table",
        "Créées en 2024 : 3 tables",
        "Niveau 2 (ouvert à tout interne du MEAE) : 1 table",
        "Niveau 4 (ouvert à tous) : 2 tables",
        "Non classées : 1 table",
    )
    assert found["open_data_eligible"].details == ("pvt_par_pays_annee", "visas_par_poste")


def test_targets_are_quoted_from_the_roadmap() -> None:
    found = by_key(indicators())
    assert found["domains_covered"].target_fr == (
        "Nombre de domaines métiers couverts par un catalogue de données : 4"
    )
    assert found["quality_reviews"].target_fr == "Nombre de revues de qualité des données : 1"
    assert found["schemas_published"].target_fr == (
        "Publier ou contribuer à un schéma de données : 1"
    )
    assert found["datasets_exposed"].target_fr == "Nombre de jeux de données exposés : +10 par an"
    assert found["opportunity_study"].target_fr == "Etude d'opportunité réalisée."


@pytest.mark.parametrize(
    ("domains", "status"),
    [([], "à faire"), (["a"], "en cours"), (["a", "b", "c", "d"], "ok"), (list("abcde"), "ok")],
)
def test_status_against_the_target_of_four_domains(domains: list[str], status: str) -> None:
    catalog = {"summary": {"domains": domains, "tables_per_layer": {}}, "tables": []}
    found = by_key(indicators(catalog=catalog))["domains_covered"]
    assert (found.value, found.status) == (len(domains), status)


def test_nothing_yet_is_to_do_everywhere() -> None:
    empty = {"summary": {"domains": [], "tables_per_layer": {}}, "tables": []}
    found = indicators(catalog=empty, rows=[], schemas=PublishedSchemas(), open_data_eligible=[])
    assert {i.status for i in found} == {"à faire"}
    assert [i.progress for i in found] == [0.0, 0.0, 0.0, 0.0, None, 0.0, 0.0]


def test_on_an_empty_lake_a_generated_study_and_cloud_framework_are_not_met() -> None:
    """Pages written by the same command no longer count by existing: they must describe data."""
    empty = {"summary": {"domains": [], "tables_per_layer": {}}, "tables": []}
    page = PageStamp("index.html", T1, {})
    found = by_key(indicators(catalog=empty, study=page, cloud=page))
    for key in ("opportunity_study", "cloud_framework"):
        assert (found[key].value, found[key].status) == (False, "à faire")
        assert found[key].details == (
            "Produit le 29 novembre 2024 à 10 h 30 UTC sur un lac sans aucune table.",
        )


def test_a_study_older_than_the_data_is_not_met() -> None:
    """Stale: a table committed to, one created and one removed since the pages were generated."""
    tables = dict(stamp(gold__visas_par_poste=1, gold__supprimee=4).tables)
    del tables["gold/brouillon"]
    old = PageStamp("index.html", T1, tables)
    found = by_key(indicators(study=old, cloud=old))
    for key in ("opportunity_study", "cloud_framework"):
        assert (found[key].value, found[key].status) == (False, "à faire")
        assert found[key].details == (
            "Produit le 29 novembre 2024 à 10 h 30 UTC : périmé, les données ont changé depuis.",
            "gold/brouillon : table apparue depuis (version 2).",
            "gold/visas_par_poste : modifiée le 27 novembre 2024 à 8 h 00 UTC (version 2, le "
            "document décrit la version 1).",
            "gold/supprimee : table disparue depuis.",
        )
    current = by_key(indicators())["opportunity_study"]
    assert (current.value, current.status) == (True, "ok")
    assert current.details == (
        "Produit le 29 novembre 2024 à 10 h 30 UTC, à jour des 6 tables du lac (versions Delta "
        "identiques).",
    )


def test_datasets_exposed_are_counted_per_calendar_year() -> None:
    """The target is "+10 a year": tables created in the dashboard's year, not all gold tables."""
    found = by_key(indicators())["datasets_exposed"]
    assert found.label_fr == "Jeux de données exposés en 2024 (tables gold créées dans l'année)"
    assert found.value == 3
    next_year = by_key(indicators(generated_at=dt.datetime(2025, 1, 2, tzinfo=dt.UTC)))
    assert (next_year["datasets_exposed"].value, next_year["datasets_exposed"].status) == (
        0,
        "à faire",
    )
    ten = {
        "summary": CATALOG["summary"],
        "tables": [table("gold", f"t{i}", 4, "Visas", created="2024-01-05") for i in range(10)],
    }
    reached = by_key(indicators(catalog=ten, study=None))["datasets_exposed"]
    assert (reached.value, reached.status) == (10, "ok")


def test_summary_only_catalogue_cannot_count_a_year() -> None:
    catalog = {"summary": CATALOG["summary"]}
    found = by_key(indicators(catalog=catalog, study=None))["datasets_exposed"]
    assert (found.value, found.status) == (0, "à faire")
    assert found.details == (
        "Année de création inconnue : le catalogue ne donne que le total (4 tables gold).",
    )


def test_only_valid_published_schemas_count() -> None:
    schemas = PublishedSchemas(("visas",), ("x.schema.json : schéma invalide : boom",))
    found = by_key(indicators(schemas=schemas))["schemas_published"]
    assert (found.value, found.status) == (1, "ok")
    assert found.details == ("visas", "Non compté : x.schema.json : schéma invalide : boom")
    none = by_key(indicators(schemas=PublishedSchemas((), ("x.schema.json : …",))))
    assert (none["schemas_published"].value, none["schemas_published"].status) == (0, "à faire")


def test_progress_is_capped_at_the_target() -> None:
    found = by_key(indicators())
    assert found["quality_reviews"].progress == 1.0
    assert found["domains_covered"].progress == 0.75
    assert found["datasets_exposed"].progress == 0.3
    assert found["open_data_eligible"].progress is None


def test_to_dict_is_json_ready() -> None:
    data = json.loads(json.dumps([i.to_dict() for i in indicators()]))
    assert data[0]["as_of"] == "2024-12-01T09:05:00+00:00"
    assert data[2]["details"] == ["Administration consulaire", "Mobilité internationale", "Visas"]


def test_a_catalogue_without_summary_is_refused() -> None:
    with pytest.raises(GovernanceError) as err:
        indicators(catalog={"tables": []})
    assert str(err.value) == (
        "The catalogue has no 'summary' mapping; found keys: tables. Fix: Pass Catalog.to_dict() "
        "(the JSON of `lake catalog --json`)."
    )


def test_dashboard_page_shows_values_targets_and_bars(tmp_path: Path) -> None:
    out = render_dashboard(indicators(), tmp_path / "pilotage" / "tableau-de-bord.html", links={})
    html = out.read_text(encoding="utf-8")
    page = Page(html)
    text = page.plain
    assert out == tmp_path / "pilotage" / "tableau-de-bord.html"
    assert ("html", {"lang": "fr"}) in page.tags
    assert "Situation au 1er décembre 2024 à 9 h 05 UTC : 3 indicateurs sur 7 ont atteint" in text
    assert "3 domaines Cible : 4 domaines" in text
    assert "3 jeux de données Cible : 10 jeux de données" in text
    assert f"30{NNBSP}% de la cible." in text
    assert "2 jeux de données Pas de cible chiffrée dans la feuille de route." in text
    assert "document absent ou périmé Cible : document à jour des données" in text
    assert "Calcul : nombre de review_id distincts dans meta/quality_results" in text
    # Six bars (no bar without a target), each with a text alternative.
    svgs = [a for t, a in page.tags if t == "svg"]
    assert len(svgs) == 6
    assert all(a["role"] == "img" and a["aria-labelledby"] for a in svgs)
    assert (
        "Domaines métiers couverts par le catalogue : 3 domaines sur une cible de 4 domaines "
        f"(75{NNBSP}% de la cible)"
    ) in text
    csp = [a for t, a in page.tags if t == "meta" and a.get("http-equiv")]
    assert csp == [
        {
            "http-equiv": "Content-Security-Policy",
            "content": "default-src 'none'; script-src 'none'; style-src 'unsafe-inline'; "
            "img-src data:",
        }
    ]
    assert not [t for t, _ in page.tags if t in ("script", "link", "img", "iframe")]


def test_dashboard_links_by_key_then_code_and_never_javascript(tmp_path: Path) -> None:
    links = {
        "A13": "quality/index.html",
        "schemas_published": "schemas/",
        "A15": "javascript:alert(1)",
        "A09": "cadre-cloud.html",
    }
    page = Page(render_dashboard(indicators(), tmp_path / "t.html", links=links).read_text())
    assert page.hrefs() == ["#contenu", "quality/index.html", "schemas/", "cadre-cloud.html"]
    assert "Détail : javascript:alert(1)" in page.plain


def test_markup_in_the_data_is_shown_as_text(tmp_path: Path) -> None:
    catalog = {
        "summary": {"domains": [EVIL, "Visas"], "tables_per_layer": {}},
        "tables": [table("gold", EVIL, 4, EVIL)],
    }
    items = indicators(catalog=catalog, open_data_eligible=[EVIL, '" onmouseover="x'])
    items.append(Indicator("A99", EVIL, 1, 2, "<b>unité</b>", "en cours", EVIL, key='"><script>x'))
    html = render_dashboard(items, tmp_path / "t.html", links={"A99": EVIL}).read_text()
    page = Page(html)
    assert "<script" not in html.lower()
    assert "<b>" not in html
    assert not [t for t, _ in page.tags if t in ("script", "b")]
    assert not [k for _, attrs in page.tags for k in attrs if k.startswith("on")]
    assert page.plain.count(EVIL) >= 4
    assert '" onmouseover="x' in page.plain


def test_empty_dashboard_says_so(tmp_path: Path) -> None:
    page = Page(render_dashboard([], tmp_path / "t.html", links={}).read_text())
    assert "Aucun indicateur n'a été calculé." in page.plain


ENTRIES = [
    ("Revues de qualité des données", "quality/index.html", "A13 : une page par domaine."),
    ("Tableau de bord", "tableau-de-bord.html", "A03/A06 : les indicateurs."),
    ("Étude d'opportunité", "etude/", "A15 : quels lacs pour quels usages."),
    ("Cadre d'usage du cloud", "cadre-cloud.html#synthese", "A09 : hébergement admissible."),
    ("Lignage", "lignage.svg", "Schéma du lignage des données."),
]


def test_reports_index_links_what_exists_only(tmp_path: Path) -> None:
    (tmp_path / "quality").mkdir()
    (tmp_path / "quality" / "index.html").write_text("ok")
    (tmp_path / "etude").mkdir()
    (tmp_path / "etude" / "index.html").write_text("ok")
    (tmp_path / "cadre-cloud.html").write_text("ok")
    index = render_reports_index(tmp_path, ENTRIES, generated_at=NOW)
    assert index == tmp_path / "index.html"
    page = Page(index.read_text(encoding="utf-8"))
    assert page.hrefs() == ["#contenu", "quality/index.html", "etude/", "cadre-cloud.html#synthese"]
    text = page.plain
    assert "Tableau de bord — pas encore produit A03/A06 : les indicateurs." in text
    assert "Lignage — pas encore produit Schéma du lignage des données." in text
    assert text.count("pas encore produit") == 2
    assert "Page générée le 1er décembre 2024 à 9 h 05 UTC" in text
    assert not [t for t, _ in page.tags if t == "script"]


def test_reports_index_escapes_titles_and_descriptions(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_text("ok")
    html = render_reports_index(tmp_path, [(EVIL, "a.html", EVIL)]).read_text()
    assert "<script" not in html.lower()
    assert Page(html).plain.count(EVIL) == 2


def test_reports_index_keeps_web_addresses(tmp_path: Path) -> None:
    assert resolve_entry(tmp_path, "http://localhost:3000/lineage") == (
        "http://localhost:3000/lineage"
    )


@pytest.mark.parametrize(
    "href", ["javascript:alert(1)", "/etc/passwd", "file:///tmp/x.html", "", "//host/x"]
)
def test_reports_index_refuses_other_addresses(tmp_path: Path, href: str) -> None:
    with pytest.raises(GovernanceError) as err:
        render_reports_index(tmp_path, [("X", href, "")])
    assert str(err.value) == (
        "A report address must be a path relative to the reports folder or an http(s) address; "
        f"found {href!r}. Fix: Give the path from the index page, e.g. 'quality/index.html'."
    )
    assert not (tmp_path / "index.html").exists()


def test_an_unknown_status_lists_the_valid_ones() -> None:
    with pytest.raises(GovernanceError) as err:
        Indicator("A13", "x", 1, 1, "revue", "fini", "y", key="k")  # type: ignore[arg-type]
    assert str(err.value) == (
        "Indicator k: status must be one of 'ok', 'en cours', 'à faire'; found 'fini'."
    )


# --- through `lake reports`, on a real (local) Delta lake -----------------------------------------


def test_lake_reports_meets_nothing_on_an_empty_lake_and_flags_stale_pages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`lake reports` then `lake study`: the dashboard judges what is on disk against the lake."""
    import argparse

    import pyarrow as pa
    from deltalake import write_deltalake

    from app.cli.reports import cmd_reports, cmd_study, gather, write_dashboard
    from conftest import base_settings
    from lake.storage import table_uri

    settings = base_settings(tmp_path).with_overrides(
        {"storage": {"backend": "local", "local_root": str(tmp_path / "lake")}}
    )

    def reports() -> dict[str, tuple[Any, str]]:
        assert cmd_reports(settings, argparse.Namespace(json=True)) == 0
        found = json.loads(capsys.readouterr().out)["indicators"]
        return {i["key"]: (i["value"], i["status"]) for i in found}

    watched = ("schemas_published", "datasets_exposed", "opportunity_study", "cloud_framework")
    empty = reports()
    assert {k: empty[k] for k in watched} == {
        "schemas_published": (0, "à faire"),  # `lake reports` wrote reports/schemas/: not counted
        "datasets_exposed": (0, "à faire"),
        "opportunity_study": (False, "à faire"),  # generated a moment ago, on an empty lake
        "cloud_framework": (False, "à faire"),
    }
    study_pages = [settings.reports.dir / "etude" / f for f in ("index.html", "etude.md")]
    for page in study_pages:  # the study names its cost model without this machine's path
        assert str(settings.root) not in page.read_text(encoding="utf-8")

    uri = table_uri(settings, "gold", "visas_par_pays")
    write_deltalake(uri, pa.table({"pays": ["FRA"], "visas": [3]}))
    opendata = settings.reports.dir / "opendata"
    opendata.mkdir()
    (opendata / "visas_par_pays.csv").write_text("pays,visas\r\nFRA,3\r\n", encoding="utf-8")
    schema = {"fields": [{"name": "pays", "type": "string"}, {"name": "visas", "type": "integer"}]}
    (opendata / "visas_par_pays.schema.json").write_text(json.dumps(schema), encoding="utf-8")
    fresh = reports()
    assert {k: fresh[k] for k in watched} == {
        "schemas_published": (1, "ok"),
        "datasets_exposed": (1, "en cours"),  # created this year, 1 of the 10 a year
        "opportunity_study": (True, "ok"),
        "cloud_framework": (True, "ok"),
    }

    write_deltalake(uri, pa.table({"pays": ["DEU"], "visas": [5]}), mode="append")
    stale = {i.key: i for i in write_dashboard(settings, gather(settings))}
    for key in ("opportunity_study", "cloud_framework"):
        assert (stale[key].value, stale[key].status) == (False, "à faire")
        assert stale[key].details[1].startswith("gold/visas_par_pays : modifiée le ")
        assert stale[key].details[1].endswith("(version 1, le document décrit la version 0).")
    page = Page((settings.reports.dir / "tableau-de-bord.html").read_text(encoding="utf-8"))
    assert "périmé, les données ont changé depuis." in page.plain

    assert cmd_study(settings, argparse.Namespace(cost=None, out=None, json=False)) == 0
    capsys.readouterr()
    again = {i.key: i.status for i in write_dashboard(settings, gather(settings))}
    assert (again["opportunity_study"], again["cloud_framework"]) == ("ok", "à faire")
