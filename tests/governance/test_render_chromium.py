"""The static French pages render in a real browser: headless Chromium screenshots them.

Each page of ``PAGES`` is written into a temporary folder, opened from ``file://`` by headless
Chromium and screenshot at 1280x2000. The screenshot must be a valid PNG of that size (signature,
IHDR read with `struct`, every IDAT chunk inflated with `zlib` to the exact expected length) and
must not be blank: a page with content has many distinct scanlines, while the screenshot of an
empty page, taken the same way, has almost none and is much smaller.

Skipped when no Chromium binary is found; on Debian: ``apt-get install -y chromium``.
To check another page (the A15 study, the A09 cloud framework...), add a builder to ``PAGES``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from browser import HEIGHT, WIDTH, Png, require_browser, screenshot
from governance.dashboard import compute_indicators, render_dashboard
from governance.evidence import PageStamp, PublishedSchemas
from governance.reports_index import render_reports_index

pytestmark = [pytest.mark.slow, pytest.mark.browser]

NOW = dt.datetime(2024, 12, 1, 9, 5, tzinfo=dt.UTC)
CATALOG = {
    "summary": {
        "domains": ["Administration consulaire", "Mobilité internationale", "<script>x</script>"],
        "tables_per_layer": {"gold": 2},
    },
    "tables": [
        {"layer": "gold", "name": "inscrits_par_pays", "level": 2, "version": 1},
        {"layer": "gold", "name": "pvt_par_pays_annee", "level": 4, "version": 1},
    ],
}


def build_dashboard(folder: Path) -> Path:
    rows = [{"review_id": "r1", "reviewed_at": NOW, "table": "silver/consular_register"}]
    indicators = compute_indicators(
        CATALOG,
        rows,
        schemas=PublishedSchemas(("pvt_par_pays_annee",)),
        open_data_eligible=["pvt_par_pays_annee"],
        study=PageStamp("index.html", NOW, {f"gold/{t['name']}": 1 for t in CATALOG["tables"]}),
        cloud=None,
        generated_at=NOW,
    )
    return render_dashboard(indicators, folder / "tableau-de-bord.html", links={"A13": "q.html"})


def build_reports_index(folder: Path) -> Path:
    (folder / "tableau-de-bord.html").write_text("<!DOCTYPE html><title>t</title>")
    entries = [
        ("Tableau de bord", "tableau-de-bord.html", "Les indicateurs de la feuille de route."),
        ("Revues de qualité des données", "quality/index.html", "Une page par domaine métier."),
        ("Étude d'opportunité", "etude/index.html", "Quels lacs pour quels usages."),
        ("Cadre d'usage du cloud", "cadre-cloud.html", "Hébergement admissible par jeu."),
        ("Lignage", "lignage.svg", "Schéma du lignage des données."),
    ]
    return render_reports_index(folder, entries, generated_at=NOW)


PAGES: list[tuple[str, Callable[[Path], Path]]] = [
    ("dashboard", build_dashboard),
    ("reports_index", build_reports_index),
]


@pytest.fixture(scope="module")
def chromium() -> str:
    return require_browser()


@pytest.fixture(scope="module")
def blank(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Png:
    """The screenshot of an empty page: what "nothing rendered" looks like."""
    folder = tmp_path_factory.mktemp("blank")
    page = folder / "vide.html"
    page.write_text("<!DOCTYPE html><html lang=fr><title>vide</title><body></body></html>")
    return screenshot(chromium, page, folder / "vide.png")


def test_an_empty_page_is_seen_as_blank(blank: Png) -> None:
    assert (blank.width, blank.height) == (WIDTH, HEIGHT)
    assert blank.distinct_rows <= 3


@pytest.mark.parametrize(("name", "build"), PAGES, ids=[name for name, _ in PAGES])
def test_page_renders_in_headless_chromium(
    chromium: str, blank: Png, tmp_path: Path, name: str, build: Callable[[Path], Path]
) -> None:
    page = build(tmp_path)
    shot = screenshot(chromium, page, tmp_path / f"{name}.png")
    assert (shot.width, shot.height) == (WIDTH, HEIGHT)
    assert shot.size > 5 * blank.size, f"{name}: {shot.size} bytes, blank is {blank.size}"
    assert shot.distinct_rows > 100, f"{name}: only {shot.distinct_rows} distinct rows"
