"""French quality-review reports: wording, score, trend chart, pages, escaping (pure, no Spark)."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from quality.errors import QualityError
from quality.report import (
    TrendPoint,
    render_reviews,
    score,
    score_history,
    sentence_for,
    trend_direction,
    trend_svg,
)

SP = "\u202f"  # narrow no-break space
SVG = "{http://www.w3.org/2000/svg}"
EVIL = "<script>alert(1)</script>"
T0 = dt.datetime(2024, 11, 28, 9, 5, tzinfo=dt.UTC)
T1 = dt.datetime(2024, 11, 29, 10, 30, tzinfo=dt.UTC)
CONSULAR = "Administration consulaire"
BIRTH = "ont une date de naissance postérieure à la date d'inscription"


def result(**over: Any) -> dict[str, Any]:
    """One expectation result as the quality-results table gives it (a failed row rule)."""
    row: dict[str, Any] = {
        "review_id": "r1",
        "run_id": "run-1",
        "reviewed_at": T1,
        "source": "consular_register",
        "domain": CONSULAR,
        "owner": "DFAE",
        "table": "silver/consular_register",
        "layer": "silver",
        "batch_id": "b1",
        "table_version": 3,
        "rule_id": "consular_register.birth_date.after_registration",
        "expectation": "unexpected_rows_expectation",
        "column": "birth_date",
        "severity": "blocking",
        "scope": "row",
        "success": False,
        "element_count": 3000,
        "unexpected_count": 12,
        "unexpected_percent": 0.4,
        "observed_value": None,
        "message": BIRTH,
        "fix": "Corriger la date de naissance dans le registre.",
        "decision": "promoted",
        "rows_reviewed": 3000,
        "rows_rejected": 12,
        "data_docs": "gx/data_docs/r1.html",
    }
    row.update(over)
    return row


def passed(n: int, **over: Any) -> list[dict[str, Any]]:
    """``n`` passed rules of the same review."""
    return [
        result(rule_id=f"consular_register.rule_{i}", success=True, unexpected_count=0, **over)
        for i in range(n)
    ]


DOMAINS = [
    {
        "domain": CONSULAR,
        "owner": "DFAE",
        "sources": [
            {
                "source": "consular_register",
                "title": "Registre des Français établis hors de France",
                "description": "Inscriptions au registre, par poste consulaire.",
            }
        ],
    },
    {"domain": "État civil", "owner": "SCEC", "sources": []},
]


class Page(HTMLParser):
    """Tags, attributes and visible text of an HTML page."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.chunks: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)

    @property
    def text(self) -> str:
        # collapse ASCII whitespace only: the narrow no-break spaces are part of what is checked
        return re.sub(r"[ \t\r\n\f]+", " ", " ".join(self.chunks)).strip()

    def hrefs(self) -> list[str]:
        """Links to other documents (not the in-page "skip to content" link)."""
        links = [a.get("href") or "" for tag, a in self.tags if tag == "a"]
        return [href for href in links if not href.startswith("#")]


def read(path: Path) -> Page:
    return Page(path.read_text(encoding="utf-8"))


# --- French sentences -------------------------------------------------------------------------


def test_sentence_plural_with_decimal_comma() -> None:
    assert sentence_for(result()) == f"12 lignes (0,4{SP}%) {BIRTH}"


def test_sentence_singular_conjugates_the_verb() -> None:
    one = result(unexpected_count=1)
    assert sentence_for(one) == (
        f"1 ligne (moins de 0,1{SP}%) a une date de naissance postérieure à la date d'inscription"
    )


def test_sentence_thousands_separator_and_share_of_all_lines() -> None:
    # GX's unexpected_percent ignores empty values; the sentence counts every line.
    row = result(
        unexpected_count=1234,
        element_count=5000,
        unexpected_percent=60.0,
        message="n'ont pas de valeur dans « Nom », qui est obligatoire",
    )
    assert sentence_for(row) == (
        f"1{SP}234 lignes (25{SP}%) n'ont pas de valeur dans « Nom », qui est obligatoire"
    )


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "n'ont pas de valeur dans « Nom », qui est obligatoire",
            "n'a pas de valeur dans « Nom », qui est obligatoire",
        ),
        (
            "partagent leur valeur de « N° » avec une autre ligne",
            "partage sa valeur de « N° » avec une autre ligne",
        ),
        (
            "partagent leur identifiant (« N° ») avec une autre ligne",
            "partage son identifiant (« N° ») avec une autre ligne",
        ),
        ("ne sont pas renseignées", "n'est pas renseignée"),
        ("sont antérieures à 1900", "est antérieure à 1900"),
    ],
)
def test_sentence_singular_forms(message: str, expected: str) -> None:
    row = result(unexpected_count=1, element_count=10, message=message)
    assert sentence_for(row) == f"1 ligne (10{SP}%) {expected}"


def test_sentence_of_a_table_rule_keeps_its_own_sentence() -> None:
    held = result(
        scope="table",
        unexpected_count=620,
        element_count=1000,
        message="Plus de 50 % des lignes sont rejetées : la livraison entière est retenue",
    )
    assert sentence_for(held) == (
        "Plus de 50 % des lignes sont rejetées : la livraison entière est retenue "
        f"(620 lignes sur 1{SP}000, soit 62{SP}%)"
    )
    empty = result(
        scope="table",
        unexpected_count=None,
        element_count=None,
        unexpected_percent=None,
        message="La livraison ne contient aucune ligne de données",
    )
    assert sentence_for(empty) == "La livraison ne contient aucune ligne de données"


# --- score and trend --------------------------------------------------------------------------


def test_score_sums_the_latest_review_of_each_table() -> None:
    rows = [
        result(review_id="a1", reviewed_at=T0, rows_reviewed=1000, rows_rejected=100),
        result(review_id="a2", reviewed_at=T1, rows_reviewed=1000, rows_rejected=10),
        result(
            review_id="b1",
            reviewed_at=T0,
            source="pvt_visas",
            table="silver/pvt_visas",
            rows_reviewed=3000,
            rows_rejected=0,
        ),
    ]
    # a1 is superseded by a2: 100 × (1 − 10 / 4000)
    assert score(rows) == pytest.approx(99.75)


def test_score_is_none_without_reviewed_lines() -> None:
    assert score([]) is None
    assert score([result(rows_reviewed=0, rows_rejected=0)]) is None


def test_trend_over_two_reviews_has_two_points_going_up() -> None:
    rows = [
        result(review_id="a1", reviewed_at=T0, rows_reviewed=1000, rows_rejected=100),
        result(review_id="a2", reviewed_at=T1, rows_reviewed=1000, rows_rejected=10),
    ]
    points = score_history(rows)
    assert [p.review_id for p in points] == ["a1", "a2"]
    assert [p.score for p in points] == pytest.approx([90.0, 99.0])
    assert trend_direction(points) == "up"
    assert trend_direction(points[::-1]) == "down"
    assert trend_direction(points[:1]) == "none"

    svg = ET.fromstring(trend_svg(points))
    assert len(svg.findall(f"{SVG}circle")) == 2
    assert svg.find(f"{SVG}polyline") is not None
    assert svg.get("role") == "img"
    assert svg.findtext(f"{SVG}title") == "Évolution du score de qualité"
    desc = svg.findtext(f"{SVG}desc") or ""
    assert desc == (
        f"Score après la dernière revue : 99{SP}%, en hausse par rapport à la revue précédente "
        f"(90{SP}% puis 99{SP}%). Sur les 2 dernières revues, il a varié entre 90{SP}% et 99{SP}%."
    )
    # the later point is higher on the chart (smaller y)
    first, second = svg.findall(f"{SVG}circle")
    assert float(second.get("cy", "0")) < float(first.get("cy", "0"))


def test_trend_keeps_the_last_reviews_only() -> None:
    rows = [
        result(review_id=f"r{i}", reviewed_at=T0 + dt.timedelta(days=i), rows_rejected=i)
        for i in range(15)
    ]
    assert [p.review_id for p in score_history(rows)] == [f"r{i}" for i in range(5, 15)]
    assert len(score_history(rows, last=3)) == 3


def test_trend_svg_without_points_is_well_formed() -> None:
    svg = ET.fromstring(trend_svg([]))
    assert "Aucune revue" in "".join(svg.itertext())
    assert svg.findall(f"{SVG}circle") == []


def test_trend_svg_escapes_titles_and_labels() -> None:
    point = TrendPoint(T1, 50.0, source=EVIL)
    markup = trend_svg([point], title=f'Score "{EVIL}"')
    svg = ET.fromstring(markup)
    assert not [e for e in svg.iter() if e.tag.endswith("script")]
    assert svg.get("aria-label") == f'Score "{EVIL}"'
    assert svg.findtext(f"{SVG}title") == f'Score "{EVIL}"'
    assert EVIL in (svg.findtext(f"{SVG}circle/{SVG}title") or "")


# --- pages ------------------------------------------------------------------------------------


def consular_results() -> list[dict[str, Any]]:
    return [
        result(review_id="r0", reviewed_at=T0, rows_rejected=300, success=False),
        result(),
        result(
            rule_id="consular_register.primary_key.unique",
            scope="table",
            severity="warning",
            column=None,
            unexpected_count=1,
            message="partagent leur identifiant avec une autre ligne de la livraison",
            fix="Supprimer les doublons.",
        ),
        *passed(23),
    ]


def test_domain_page_tells_business_readers_what_is_wrong(tmp_path: Path) -> None:
    samples = [
        {
            "rule_id": "consular_register.birth_date.after_registration",
            "review_id": "r1",
            "file": "registre_2024-11.csv",
            "line": 10 + i,
            "column": "birth_date",
            "value": "<masqué>",
        }
        for i in range(7)
    ]
    files = render_reviews(
        consular_results(),
        samples,
        DOMAINS,
        tmp_path,
        generated_at=T1,
        data_docs_index="gx/data_docs/index.html",
    )
    page = read(files.pages[CONSULAR])
    text = page.text
    assert files.pages[CONSULAR] == tmp_path / "administration-consulaire.html"
    assert "Qualité des données : Administration consulaire" in text
    assert "Direction propriétaire : DFAE" in text
    assert "part des lignes conformes" in text
    assert f"99,6{SP}% des lignes sont conformes" in text
    assert (
        f"Tendance : en hausse par rapport à la revue précédente (90{SP}% puis 99,6{SP}%)" in text
    )
    assert "Nombre de revues de qualité réalisées : 2 revues" in text
    assert f"12 lignes (0,4{SP}%) {BIRTH}" in text
    assert "bloquant : lignes écartées" in text
    assert f"1 ligne (moins de 0,1{SP}%) partage son identifiant avec une autre ligne" in text
    assert "avertissement : lignes conservées" in text
    assert "Que corriger à la source : Corriger la date de naissance dans le registre." in text
    assert "23 contrôles réussis" in text
    assert "Décision : livraison promue" in text
    assert text.count("registre_2024-11.csv") == 5  # five samples at most per rule
    assert "<masqué>" in text  # shown as text, never unmasked
    assert "gx/data_docs/r1.html" in page.hrefs()
    assert "gx/data_docs/index.html" in page.hrefs()
    assert [t for t, _ in page.tags].count("svg") == 1
    assert "Évolution du score, revue par revue" in text  # the chart's text alternative


def test_decision_in_words(tmp_path: Path) -> None:
    rows = [
        result(decision="blocked"),
        result(review_id="w", source="pvt", table="silver/pvt", decision="promoted_with_warnings"),
    ]
    text = read(render_reviews(rows, [], DOMAINS, tmp_path).pages[CONSULAR]).text
    assert "Décision : livraison bloquée" in text
    assert "Décision : livraison promue avec avertissements" in text


def test_index_links_each_domain_page(tmp_path: Path) -> None:
    rows = [
        *consular_results(),
        result(
            review_id="c1",
            domain="État civil",
            source="civil_status",
            table="silver/civil_status",
            owner="SCEC",
        ),
    ]
    files = render_reviews(rows, [], DOMAINS, tmp_path)
    index = read(files.index)
    assert files.index == tmp_path / "index.html"
    assert index.hrefs() == ["administration-consulaire.html", "etat-civil.html"]
    assert all((tmp_path / href).is_file() for href in index.hrefs())
    assert set(files.pages) == {CONSULAR, "État civil"}
    assert "Nombre de revues de qualité réalisées : 3 revues" in index.text
    assert "↗ en hausse" in index.text


def test_domain_filter_renders_one_page_and_the_index(tmp_path: Path) -> None:
    files = render_reviews(consular_results(), [], DOMAINS, tmp_path, domain="etat-civil")
    assert list(files.pages) == ["État civil"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["etat-civil.html", "index.html"]
    assert read(files.index).hrefs() == ["etat-civil.html"]  # no link to a page not written
    assert (
        "Aucune revue de qualité n'a encore été réalisée pour ce domaine."
        in read(files.pages["État civil"]).text
    )
    with pytest.raises(QualityError) as err:
        render_reviews([], [], DOMAINS, tmp_path, domain="Visas")
    assert str(err.value).startswith(
        "Domain 'Visas' has no quality review and no domain description; known domains: "
        "'Administration consulaire', 'État civil'."
    )


def test_empty_input_says_no_review_yet(tmp_path: Path) -> None:
    files = render_reviews([], [], [], tmp_path / "reports")
    assert files.pages == {}
    assert files.paths == [tmp_path / "reports" / "index.html"]
    text = read(files.index).text
    assert "Aucune revue de qualité n'a encore été réalisée." in text
    assert "Nombre de revues de qualité réalisées : 0 revue" in text


def test_markup_in_the_data_is_shown_as_text_everywhere(tmp_path: Path) -> None:
    rows = [
        result(
            domain=EVIL,
            owner=EVIL,
            source=EVIL,
            table=EVIL,
            column=EVIL,
            rule_id=EVIL,
            message=f"ont {EVIL}",
            fix=EVIL,
            data_docs="javascript:alert(1)",
        ),
        result(
            review_id="r2",
            domain=EVIL,
            source=EVIL,
            table="gold/x",
            scope="table",
            message=EVIL,
            observed_value='"<b>x</b>"',
            unexpected_count=None,
        ),
    ]
    samples = [
        {"rule_id": EVIL, "review_id": "r1", "file": EVIL, "line": 3, "column": EVIL, "value": EVIL}
    ]
    files = render_reviews(rows, samples, [], tmp_path, data_docs_index="javascript:alert(2)")
    for path in files.paths:
        html = path.read_text(encoding="utf-8")
        page = Page(html)
        assert "<script" not in html.lower()
        assert not [t for t, _ in page.tags if t in ("script", "b")]
        assert not [
            (t, k, v)
            for t, attrs in page.tags
            for k, v in attrs.items()
            if k.startswith("on") or (v or "").strip().lower().startswith("javascript:")
        ]
        assert EVIL in page.text
    text = read(files.pages[EVIL]).text
    assert text.count(EVIL) >= 8  # title, owner, table, sentence, column, rule, fix, sample...
    assert "<b>x</b>" in text
    assert "javascript:alert(1)" in text  # shown to engineers, not linked
    svg = next(attrs for tag, attrs in read(files.pages[EVIL]).tags if tag == "svg")
    assert svg["aria-label"] == f"Évolution du score de qualité : {EVIL}"


def test_slugs_are_ascii_and_never_the_index(tmp_path: Path) -> None:
    domains = [{"domain": d, "owner": "X", "sources": []} for d in ("Index", "Coopération & Aide")]
    files = render_reviews([], [], domains, tmp_path)
    assert [p.name for p in files.pages.values()] == ["index-2.html", "cooperation-aide.html"]


def test_a_result_without_its_review_keys_is_refused(tmp_path: Path) -> None:
    with pytest.raises(QualityError) as err:
        render_reviews([result(table=None)], [], [], tmp_path)
    assert str(err.value) == (
        "Quality result 'consular_register.birth_date.after_registration' of review 'r1' has no "
        "'table'; every result needs review_id, reviewed_at, source, table, decision. "
        "Fix: Check the rows read from the quality-results table."
    )
    assert not tmp_path.joinpath("index.html").exists()
