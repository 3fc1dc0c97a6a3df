"""The page toolkit: French numbers and dates, the shared templates, the SVG charts (pure)."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import jinja2
import pytest

from lake.pages.charts import Bar, LinePoint, bar_chart, line_chart
from lake.pages.french import (
    MONTHS,
    as_utc,
    format_count_fr,
    format_date_fr,
    format_date_short_fr,
    format_decimal_fr,
    format_int_fr,
    format_percent_fr,
)
from lake.pages.templates import SHARED_TEMPLATES, environment, markdown_escape, safe_link

SP = "\u202f"  # narrow no-break space
SVG = "{http://www.w3.org/2000/svg}"
EVIL = "<script>alert(1)</script>"
HOSTILE = f'"><img src=x onerror=alert(1)>{EVIL}&amp;'
CSP = "default-src 'none'; script-src 'none'; style-src 'unsafe-inline'; img-src data:"


# --- French numbers and dates ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "0"),
        (999, "999"),
        (1000, f"1{SP}000"),
        (1234567, f"1{SP}234{SP}567"),
        (-1500, f"-1{SP}500"),
    ],
)
def test_format_int_fr(value: int, expected: str) -> None:
    assert format_int_fr(value) == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((0, "ligne"), "0 ligne"),
        ((1, "ligne"), "1 ligne"),
        ((2, "ligne"), "2 lignes"),
        ((-1, "ligne"), "-1 ligne"),
        ((1500, "ligne"), f"1{SP}500 lignes"),
        ((23, "contrôle réussi", "contrôles réussis"), "23 contrôles réussis"),
        ((2, "jeu de données", "jeux de données"), "2 jeux de données"),
    ],
)
def test_format_count_fr(args: tuple[int, str] | tuple[int, str, str], expected: str) -> None:
    assert format_count_fr(*args) == expected


def test_format_decimal_fr_rounds_half_up_on_the_decimal_text() -> None:
    assert format_decimal_fr(0.25) == "0,3"  # round() would say 0.2
    assert format_decimal_fr(1234.56, 1) == f"1{SP}234,6"
    assert format_decimal_fr(3.0) == "3"
    assert format_decimal_fr(0.5, 2, keep_zeros=True) == "0,50"
    assert format_decimal_fr(-0.5, 0) == "-1"
    assert format_decimal_fr(-0.04, 1) == "0"  # no "-0"
    assert format_decimal_fr(Decimal("99.95"), 1) == "100"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (-3, f"0{SP}%"),
        (0, f"0{SP}%"),
        (0.4, f"0,4{SP}%"),
        (0.25, f"0,3{SP}%"),
        (0.04, f"moins de 0,1{SP}%"),
        (3.0, f"3{SP}%"),
        (9.96, f"10{SP}%"),
        (12.4, f"12{SP}%"),
        (99.6, f"99,6{SP}%"),
        (99.96, f"plus de 99,9{SP}%"),
        (100, f"100{SP}%"),
        (140, f"100{SP}%"),
    ],
)
def test_format_percent_fr_by_default(value: float, expected: str) -> None:
    assert format_percent_fr(value) == expected


def test_format_percent_fr_with_fixed_decimals() -> None:
    assert format_percent_fr(97.25, decimals=1) == f"97,3{SP}%"
    assert format_percent_fr(95.8333, decimals=1) == f"95,8{SP}%"
    assert format_percent_fr(90, decimals=0) == f"90{SP}%"
    assert format_percent_fr(99.7, decimals=0) == f"99,7{SP}%"  # never rounds a share to 100 %
    assert format_percent_fr(99.99, decimals=1) == f"plus de 99,9{SP}%"
    assert format_percent_fr(0.001, decimals=2) == f"moins de 0,01{SP}%"


def test_dates_in_words_in_utc() -> None:
    assert MONTHS[0] == "janvier" and MONTHS[7] == "août" and len(MONTHS) == 12
    first = dt.datetime(2024, 12, 1, 9, 5, tzinfo=dt.UTC)
    assert format_date_fr(first) == "1er décembre 2024"
    assert format_date_fr(first, time=True) == "1er décembre 2024 à 9 h 05 UTC"
    assert format_date_fr(dt.datetime(2026, 3, 2, 10, 30), time=True) == (
        "2 mars 2026 à 10 h 30 UTC"  # naive means UTC
    )
    paris = dt.timezone(dt.timedelta(hours=2))
    assert format_date_fr(dt.datetime(2025, 8, 1, 1, 0, tzinfo=paris), time=True) == (
        "31 juillet 2025 à 23 h 00 UTC"
    )
    assert format_date_short_fr(dt.datetime(2025, 8, 1, 1, 0, tzinfo=paris)) == "31/07/2025"


def test_as_utc_reads_datetimes_and_iso_text() -> None:
    expected = dt.datetime(2024, 11, 29, 10, 30, tzinfo=dt.UTC)
    assert as_utc("2024-11-29T10:30:00") == expected
    assert as_utc("2024-11-29T11:30:00+01:00") == expected
    assert as_utc(dt.datetime(2024, 11, 29, 10, 30)) == expected
    assert as_utc(expected).tzinfo is dt.UTC


# --- templates -------------------------------------------------------------------------------


@pytest.fixture
def stage(tmp_path: Path) -> Path:
    """A stage's template folder: one page on the shared skeleton, and a would-be impostor."""
    (tmp_path / "page.html").write_text(
        '{% extends "base.html" %}\n'
        "{% block generator %}tests.stage{% endblock %}\n"
        "{% block title %}Page : {{ name }}{% endblock %}\n"
        "{% block style %}.stage { color: #000091; }{% endblock %}\n"
        "{% block content %}<h1>{{ name }}</h1><p>{{ text }}</p>{% endblock %}\n"
        "{% block footer %}<p>Généré le {{ when }}.</p>{% endblock %}\n",
        encoding="utf-8",
    )
    (tmp_path / "base.html").write_text("<html>{% block content %}{% endblock %}</html>")
    (tmp_path / "table.md.j2").write_text("| {{ name }} | {{ text }} |\n", encoding="utf-8")
    return tmp_path


def test_a_stage_page_extends_the_shared_skeleton(stage: Path) -> None:
    html = environment(stage).get_template("page.html").render(name="Visas", text="Bonjour", when=1)
    assert html.startswith('<!DOCTYPE html>\n<html lang="fr">\n')
    assert f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' in html
    assert '<meta name="generator" content="meae-datalake (tests.stage)">' in html
    assert "<title>Page : Visas</title>" in html
    assert '<a class="skip" href="#contenu">Aller au contenu</a>' in html
    assert "<h1>Visas</h1><p>Bonjour</p>" in html
    assert html.split("<footer>")[1].startswith("\n<p>Généré le 1.</p></footer>")
    assert ".stage { color: #000091; }" in html and ".callout.tone-ok" in html  # both stylesheets
    assert "<script" not in html and "<link" not in html and "://" not in html  # nothing outside


def test_a_stage_cannot_replace_the_shared_skeleton(stage: Path) -> None:
    # The stage folder holds its own base.html (without the CSP): the shared one still wins.
    assert "Content-Security-Policy" in environment(stage).get_template("base.html").render()


def test_hostile_text_is_escaped_in_every_html_template(stage: Path) -> None:
    html = environment(stage).get_template("page.html").render(name=HOSTILE, text=EVIL, when=EVIL)
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&amp;amp;" in html  # an entity in the data is text too, not an entity


def test_markdown_output_escapes_for_markdown_not_html(stage: Path) -> None:
    text = (
        environment(stage, output="markdown")
        .get_template("table.md.j2")
        .render(name="a|b *c* [d](e)\nf", text=f"1{SP}234 {EVIL}")
    )
    assert (
        text
        == rf"| a\|b \*c\* \[d\](e) f | 1{SP}234 &lt;script&gt;alert(1)&lt;/script&gt; |" + "\n"
    )
    assert markdown_escape("# titre & `code`") == r"\# titre &amp; \`code\`"


def test_environments_are_strict_cached_and_checked(stage: Path) -> None:
    assert environment(stage) is environment(stage)
    assert environment(stage) is not environment(stage, output="markdown")
    with pytest.raises(jinja2.UndefinedError):
        environment(stage).get_template("page.html").render(name="Visas")
    with pytest.raises(ValueError) as err:
        environment(stage, output="pdf")  # type: ignore[arg-type]
    assert str(err.value) == "output must be one of 'html', 'markdown'; found 'pdf'."


def test_the_shared_templates_ship_inside_the_package() -> None:
    # Files under lake/ are in the wheel (pyproject: packages = ["lake", ...]).
    names = sorted(p.name for p in SHARED_TEMPLATES.iterdir())
    assert names == ["bar_chart.svg", "base.html", "line_chart.svg", "pages.css"]
    assert SHARED_TEMPLATES.parent.name == "pages" and SHARED_TEMPLATES.parents[1].name == "lake"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("quality/index.html", "quality/index.html"),
        (" https://data.gouv.fr/x ", "https://data.gouv.fr/x"),
        ("file:///srv/rapports/index.html", "file:///srv/rapports/index.html"),
        ("#contenu", "#contenu"),
        ("javascript:alert(1)", None),
        ("JavaScript:alert(1)", None),
        ("data:text/html,<script>", None),
        ("http://[::1", None),  # unreadable address
        ("", None),
        (None, None),
    ],
)
def test_safe_link_keeps_web_file_and_relative_addresses_only(
    target: str | None, expected: str | None
) -> None:
    assert safe_link(target) == expected


# --- charts ----------------------------------------------------------------------------------


def points(*values: float) -> list[LinePoint]:
    return [
        LinePoint(f"0{i + 1}/12/2024", v, format_percent_fr(v, decimals=1), f"revue {i + 1}")
        for i, v in enumerate(values)
    ]


def test_line_chart_is_well_formed_svg_with_a_text_alternative() -> None:
    svg = ET.fromstring(
        line_chart(points(90, 99.6), title="Évolution", desc="Score en hausse.", chart_id="t")
    )
    assert svg.tag == f"{SVG}svg"
    assert (svg.get("role"), svg.get("aria-label"), svg.get("aria-describedby")) == (
        "img",
        "Évolution",
        "t-desc",
    )
    assert svg.findtext(f"{SVG}title") == "Évolution"
    assert svg.findtext(f"{SVG}desc") == "Score en hausse."
    circles = svg.findall(f"{SVG}circle")
    assert [c.findtext(f"{SVG}title") for c in circles] == ["revue 1", "revue 2"]
    assert float(circles[1].get("cy", "0")) < float(circles[0].get("cy", "0"))  # higher is up
    assert svg.find(f"{SVG}polyline") is not None
    texts = ["".join(t.itertext()) for t in svg.iter(f"{SVG}text")]
    assert texts == [f"80{SP}%", f"90{SP}%", f"100{SP}%", "01/12/2024", "02/12/2024", f"99,6{SP}%"]


def test_line_chart_with_one_point_or_none() -> None:
    one = ET.fromstring(line_chart(points(50), title="t", desc="d", chart_id="u"))
    assert len(one.findall(f"{SVG}circle")) == 1 and one.find(f"{SVG}polyline") is None
    assert one.findall(f"{SVG}circle")[0].get("cx") == "328.0"  # centred
    ticks = [t.text for t in one.iter(f"{SVG}text") if t.get("text-anchor") == "end"]
    assert ticks == [f"40{SP}%", f"70{SP}%", f"100{SP}%"]  # the axis starts below the lowest
    none = ET.fromstring(line_chart([], title="t", desc="d", chart_id="v", empty="Rien"))
    assert none.findall(f"{SVG}circle") == [] and "Rien" in "".join(none.itertext())


def test_line_chart_dates_only_the_ends_of_a_long_series() -> None:
    svg = ET.fromstring(line_chart(points(*range(90, 98)), title="t", desc="d", chart_id="w"))
    dates = [t.text for t in svg.iter(f"{SVG}text") if t.text and "/" in t.text]
    assert dates == ["01/12/2024", "08/12/2024"]


def test_bar_chart_is_well_formed_with_its_figures_in_the_desc() -> None:
    long = "Sécurité des Français à l'étranger et crises"
    bars = [Bar("Visas", 300, f"3{SP}Go"), Bar(long, 150, "1,5 Go"), Bar("Vide", 0, "0 o")]
    svg = ET.fromstring(bar_chart(bars, title="Volume par domaine", chart_id="b"))
    assert svg.findtext(f"{SVG}desc") == f"Visas : 3{SP}Go ; {long} : 1,5 Go ; Vide : 0 o."
    rects = svg.findall(f"{SVG}rect")[1:]  # the first is the background
    assert [r.get("width") for r in rects] == ["280.0", "140.0", "0.0"]
    assert [r.findtext(f"{SVG}title") for r in rects][1] == f"{long} : 1,5 Go"
    labels = [t.text for t in svg.iter(f"{SVG}text") if t.get("text-anchor") == "end"]
    assert labels == ["Visas", "Sécurité des Français à l'étr…", "Vide"]
    assert svg.get("height") == str(12 * 2 + 3 * 30)


def test_bar_chart_without_bars_says_so() -> None:
    svg = ET.fromstring(bar_chart([], title="t", chart_id="c"))
    assert svg.findtext(f"{SVG}desc") == "Aucune donnée."
    assert "Aucune donnée" in "".join(svg.itertext())


def test_hostile_text_stays_text_in_the_charts() -> None:
    line = line_chart(
        [LinePoint(HOSTILE, 50, EVIL, HOSTILE)], title=HOSTILE, desc=EVIL, chart_id='x" onload="y'
    )
    bars = bar_chart([Bar(HOSTILE, 1, EVIL)], title=HOSTILE, chart_id="b")
    for markup in (line, bars):
        assert "<script" not in markup and "<img" not in markup
        svg = ET.fromstring(markup)  # well-formed: nothing broke out of an attribute
        assert not [e for e in svg.iter() if not e.tag.startswith(SVG)]
        assert not [k for e in svg.iter() for k in e.attrib if k.startswith("on")]
        assert svg.get("aria-label") == HOSTILE and svg.findtext(f"{SVG}title") == HOSTILE
    assert ET.fromstring(line).get("aria-describedby") == 'x" onload="y-desc'
