"""Deterministic extracts of the seven business silos, with their defects planted on purpose.

The lake has no real silo data, so this module writes realistic exports the way each silo delivers
them (CSV in Latin-1, cp1252 or UTF-8 with or without BOM, ``;`` or ``,``, decimal commas, no-break
spaces, an Excel sheet with a title row, JSON lines) and plants every defect class the ingestion
must handle at fixed positions, so that each one exists for any ``rows >= 30``:

- each source has an ordered list of plants; with ``n`` plants, plant ``j`` replaces data line
  ``(j + 1) * rows // (n + 1)``; a duplicate copies the nearest earlier data line left clean;
- every other line is *clean*: it follows its source contract exactly (INSEE country names,
  declared date formats, allowed values, no null in a required column, unique key), so the only
  rows that end in quarantine, flagged or dropped are the ones in the manifest;
- delivery 2 repeats a third of the clean rows of delivery 1 (three of them changed, so the MERGE
  has updates) and then adds new rows; ``adoptions`` and ``development_aid`` also add a column
  and rename one (the contract lists the new header in ``aliases``).

Clean rows come from one ``random.Random`` stream per (seed, source), read in the same order by
both deliveries, so delivery 2 can repeat rows of delivery 1 without holding a file in memory.
:func:`planted_defects` runs the very code of :func:`generate_delivery` with writing switched off
(and stops after the last planted line). Personal data is fake but realistic: common French names,
e-mails on the reserved ``example.*`` domains, phones in ``+33 6 00`` / ``+33 7 00``.

``python -m ingestion.generator samples --rows 60`` rebuilds the bundled samples and their
``MANIFEST.json``.
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
import sys
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import count
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

SOURCES: tuple[str, ...] = (
    "consular_register",
    "adoptions",
    "pvt_visas",
    "civil_status",
    "travel_advice",
    "development_aid",
    "hr_agents",
)
_MIN_ROWS = 30
_DELIVERY_DATES: dict[int, date] = {1: date(2026, 1, 15), 2: date(2026, 2, 16)}
_NBSP = "\u00a0"
_NNBSP = "\u202f"

Row = dict[str, Any]
_NO_VALUE: Any = object()

# --- vocabulary --------------------------------------------------------------------------------


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_LAST = tuple(
    n.replace("_", " ")
    for n in _words(
        "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent "
        "Lefèvre Michel Garcia David Bertrand Roux Vincent Fournier Morel Girard André Mercier "
        "Dupont Lambert Bonnet François Legrand Garnier Faure Rousseau Blanc Guérin Muller Henry "
        "Perrin Morin Mathieu Clément Gauthier Dumont Lopez Fontaine Chevalier Robin Masson Gérard "
        "Nguyen Boyer Lemaire Duval Joly Noël Meyer Lucas Meunier Pérez Marchand Dufour Blanchard "
        "Barbier Brunet Diallo Benali Le_Goff Traoré Haddad Da_Silva"
    )
)
_FIRST = _words(
    "Jean Marie Camille Léa Chloé Manon Inès Jade Louise Emma Lucas Hugo Théo Nathan Louis Gabriel "
    "Arthur Raphaël Jules Adam Nicolas Julien Sébastien Céline Isabelle Nathalie Sophie Hélène "
    "Françoise Stéphane Philippe Anne-Sophie Jean-Baptiste Élodie Gaëlle Maëlys Noémie Zoé Benoît "
    "Hervé Loïc Aurélien Mathilde Pauline Thibault Amélie Bérénice Joël Aïcha Karim"
)
# (post, INSEE name of the country, city, a street there, weight): real posts, clean INSEE names.
_CONSULAR_POSTS = (
    ("Consulat général de France à Londres", "Royaume-Uni", "Londres", "Cromwell Road", 14),
    ("Consulat général de France à Genève", "Suisse", "Genève", "rue de Carouge", 13),
    ("Consulat général de France à Bruxelles", "Belgique", "Bruxelles", "chaussée d'Ixelles", 11),
    ("Consulat général de France à Montréal", "Canada", "Montréal", "rue Saint-Denis", 9),
    ("Consulat général de France à Québec", "Canada", "Québec", "Grande Allée Est", 3),
    ("Consulat général de France à New York", "États-Unis", "New York", "Lexington Avenue", 6),
    ("Consulat général de France à San Francisco", "États-Unis", "San Francisco",
     "Valencia Street", 4),
    ("Consulat général de France à Munich", "Allemagne", "Munich", "Leopoldstraße", 5),
    ("Consulat général de France à Barcelone", "Espagne", "Barcelone", "Carrer de Mallorca", 5),
    ("Ambassade de France au Luxembourg", "Luxembourg", "Luxembourg", "avenue de la Liberté", 4),
    ("Consulat général de France à Casablanca", "Maroc", "Casablanca", "boulevard Zerktouni", 5),
    ("Consulat général de France à Tunis", "Tunisie", "Tunis", "rue de Marseille", 3),
    ("Consulat général de France à Alger", "Algérie", "Alger", "rue Didouche-Mourad", 3),
    ("Consulat général de France à Dakar", "Sénégal", "Dakar", "route de la Corniche Ouest", 2),
    ("Consulat général de France à Abidjan", "Côte d’Ivoire", "Abidjan", "boulevard Latrille", 2),
    ("Consulat général de France à Beyrouth", "Liban", "Beyrouth", "rue Monot", 3),
    ("Consulat général de France à Dubaï", "Émirats arabes unis", "Dubaï", "Al Wasl Road", 3),
    ("Consulat général de France à Shanghai", "Chine", "Shanghai", "Huaihai Road", 2),
    ("Ambassade de France au Japon", "Japon", "Tokyo", "Omotesando", 2),
    ("Consulat général de France à Sydney", "Australie", "Sydney", "George Street", 2),
    ("Consulat général de France à São Paulo", "Brésil", "São Paulo", "Rua Augusta", 2),
    ("Consulat général de France à Pondichéry", "Inde", "Pondichéry", "rue Suffren", 1),
    ("Ambassade de France au Mali", "Mali", "Bamako", "avenue de l'Indépendance", 1),
)  # fmt: skip
# Latin-1 only (the adoptions file): no "Côte d’Ivoire" with its typographic apostrophe here.
_ADOPTION_COUNTRIES = (
    ("Colombie", 9), ("Vietnam", 9), ("Haïti", 8), ("Thaïlande", 5), ("Madagascar", 5),
    ("Burkina", 5), ("Bulgarie", 4), ("Chine", 4), ("Russie", 5), ("Éthiopie", 6), ("Inde", 3),
    ("Philippines", 3), ("Corée du Sud", 2), ("Mali", 3), ("Togo", 2), ("Bénin", 2),
    ("Pérou", 3), ("Brésil", 3), ("Congo", 2), ("Cambodge", 3), ("Lettonie", 1), ("Chili", 2),
)  # fmt: skip
_AGE_BANDS = (("0-2 ans", 30), ("3-5 ans", 35), ("6-10 ans", 25), ("11 ans et plus", 10))
_PROCEDURES = (("OAA", 55), ("individuelle", 25), ("AFA", 20))
# Real working-holiday partners and a rough yearly volume; Hong Kong (a territory) and
# Nouvelle-Zélande only appear on planted lines, so their keys never collide with clean ones.
_PVT_PARTNERS = (
    ("Argentine", 1400), ("Australie", 2600), ("Brésil", 450), ("Canada", 6500), ("Chili", 700),
    ("Colombie", 900), ("Corée du Sud", 650), ("Équateur", 120), ("Japon", 1500),
    ("Mexique", 800), ("Pérou", 300), ("Russie", 150), ("Taïwan", 550), ("Uruguay", 90),
)  # fmt: skip
_ACT_TYPES = (
    ("transcription", 40), ("naissance", 25), ("mariage", 20), ("décès", 8),
    ("reconnaissance", 7),
)  # fmt: skip
# Posts whose civil-status software exports ISO dates (yyyy-MM-dd, the contract's 2nd format).
_ISO_DATE_POSTS = frozenset(
    {"Consulat général de France à Montréal", "Consulat général de France à Québec"}
)
_COLOURS = ("vert", "jaune", "orange", "rouge")
# (INSEE name, usual colour for the whole country). CIV, GBR, Kosovo and Groenland only appear on
# planted lines.
_TRAVEL_COUNTRIES = (
    ("Mali", 3), ("Niger", 3), ("Burkina", 3), ("Afghanistan", 3), ("Syrie", 3), ("Yémen", 3),
    ("Somalie", 3), ("Soudan", 3), ("Libye", 3), ("Iran", 3), ("Ukraine", 3), ("Russie", 3),
    ("Haïti", 3), ("Irak", 2), ("Liban", 2), ("Israël", 2), ("Vénézuéla", 2), ("Cameroun", 2),
    ("Nigéria", 2), ("Tchad", 2), ("Pakistan", 2), ("Arménie", 2), ("Azerbaïdjan", 2),
    ("Éthiopie", 2), ("Mozambique", 2), ("Colombie", 1), ("Mexique", 1), ("Brésil", 1),
    ("Maroc", 1), ("Tunisie", 1), ("Algérie", 1), ("Égypte", 1), ("Sénégal", 1), ("Kenya", 1),
    ("Madagascar", 1), ("Inde", 1), ("Thaïlande", 1), ("Chine", 1), ("Turquie", 1),
    ("Géorgie", 1), ("Philippines", 1), ("Indonésie", 1), ("Pérou", 1), ("Bolivie", 1),
    ("Équateur", 1), ("Sri Lanka", 1), ("Népal", 1), ("Cuba", 1), ("Jordanie", 1),
    ("Arabie saoudite", 1), ("Vietnam", 0), ("Japon", 0), ("Canada", 0), ("États-Unis", 0),
    ("Allemagne", 0), ("Espagne", 0), ("Italie", 0), ("Suisse", 0), ("Australie", 0),
    ("Nouvelle-Zélande", 0), ("Argentine", 0), ("Chili", 0), ("Émirats arabes unis", 0),
    ("Belgique", 0), ("Portugal", 0), ("Grèce", 0),
)  # fmt: skip
_ZONES = (
    "Ensemble du pays", "Capitale et agglomération", "Zones frontalières", "Nord du pays",
    "Sud du pays", "Zones côtières", "Zones rurales et isolées",
)  # fmt: skip
# (theme, OECD-DAC CRS purpose code).
_AID_THEMES = (
    ("Appui à la scolarisation des filles", "11220"),
    ("Formation professionnelle des jeunes", "11330"),
    ("Enseignement supérieur et recherche", "11420"),
    ("Santé maternelle et infantile", "12220"),
    ("Lutte contre la malnutrition", "12240"),
    ("Accès à l'eau potable en milieu rural", "14030"),
    ("Assainissement urbain", "14022"),
    ("Modernisation de l'état civil", "15110"),
    ("Gouvernance locale et décentralisation", "15112"),
    ("Droits des femmes et égalité", "15170"),
    ("Consolidation de la paix", "15220"),
    ("Protection sociale", "16010"),
    ("Culture et patrimoine", "16061"),
    ("Soutien à l'agriculture familiale", "31120"),
    ("Appui aux petites et moyennes entreprises", "32130"),
    ("Électrification rurale solaire", "23230"),
    ("Adaptation au changement climatique", "41010"),
    ("Protection de la biodiversité", "41030"),
    ("Réponse humanitaire d'urgence", "72010"),
    ("Aide alimentaire d'urgence", "72040"),
)
_AID_COUNTRIES = (
    ("Sénégal", 8), ("Mali", 5), ("Niger", 6), ("Burkina", 5), ("Côte d’Ivoire", 6),
    ("Madagascar", 5), ("Haïti", 4), ("Bénin", 4), ("Togo", 3), ("Guinée", 4), ("Tchad", 4),
    ("Cameroun", 4), ("Maroc", 3), ("Tunisie", 3), ("Liban", 3), ("Jordanie", 2),
    ("Cambodge", 2), ("Vietnam", 2), ("Colombie", 2), ("Mauritanie", 3), ("Comores", 2),
    ("Djibouti", 2), ("Centrafrique", 2), ("Congo", 2), ("Éthiopie", 2),
)  # fmt: skip
# (grade, weight, monthly gross pay range in EUR, grade after a promotion).
_GRADES = (
    ("Adjoint administratif", 22, (2000, 2650), "Secrétaire de chancellerie"),
    ("Secrétaire de chancellerie", 20, (2400, 3300), "Secrétaire des affaires étrangères"),
    ("Secrétaire des affaires étrangères", 18, (2900, 4200), "Conseiller des affaires étrangères"),
    ("Attaché d'administration de l'État", 12, (2800, 4000), "Conseiller des affaires étrangères"),
    ("Attaché des systèmes d'information et de communication", 8, (2700, 3800),
     "Conseiller des affaires étrangères"),
    ("Conseiller des affaires étrangères", 14, (4200, 6500), "Ministre plénipotentiaire"),
    ("Ministre plénipotentiaire", 6, (6500, 9500), "Ministre plénipotentiaire hors classe"),
)  # fmt: skip
_PROMOTION = {g: nxt for g, _, _, nxt in _GRADES}
_PAY = {g: rng for g, _, rng, _ in _GRADES}
_POSTINGS = (
    ("Administration centrale (Paris)", "France", 30),
    ("Administration centrale (Nantes)", "France", 12),
    ("Ambassade de France à Dakar", "Sénégal", 3), ("Ambassade de France à Rabat", "Maroc", 3),
    ("Ambassade de France à Tokyo", "Japon", 2), ("Ambassade de France à Berlin", "Allemagne", 3),
    ("Ambassade de France à Madrid", "Espagne", 2), ("Ambassade de France à Ottawa", "Canada", 2),
    ("Ambassade de France à Pékin", "Chine", 3), ("Ambassade de France à Brasilia", "Brésil", 2),
    ("Ambassade de France à Bamako", "Mali", 2), ("Ambassade de France à Tunis", "Tunisie", 2),
    ("Ambassade de France à Beyrouth", "Liban", 2),
    ("Consulat général de France à Montréal", "Canada", 2),
    ("Consulat général de France à Genève", "Suisse", 2),
    ("Représentation permanente de la France auprès de l'Union européenne", "Belgique", 3),
    ("Mission permanente de la France auprès des Nations unies à New York", "États-Unis", 2),
)  # fmt: skip
_COMMENTS = {
    "adoptions": ("", "", "Dossier suivi par l'OAA", "", "Pièces complémentaires reçues", ""),
    "development_aid": ("", "Projet en cours", "", "Rapport final attendu", "", "Avenant signé"),
}
_UPDATE_COMMENT = {
    "adoptions": "Date du jugement rectifiée",
    "development_aid": "Montant révisé après avenant",
}


def _table(pairs: tuple[tuple[Any, ...], ...], weight: int = -1) -> tuple[Any, ...]:
    """Each item repeated by its weight: ``table[int(random() * len(table))]`` is a weighted draw.

    Only ``Random.random`` is called in the row loops (randint/choices cost ten times more, and a
    million rows must take seconds).
    """
    return tuple(p for p in pairs for _ in range(p[weight]))


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z-]", "", folded.lower())


_EMAIL_PART = {name: _ascii(name) for name in (*_FIRST, *_LAST)}


def _ordinal(day: date) -> int:
    return day.toordinal()


# --- clean rows: one infinite stream per source, typed values (date, int, float, str) ------------


def _consular_rows(rng: random.Random) -> Iterator[Row]:
    r, posts = rng.random, _table(_CONSULAR_POSTS)
    domains = ("example.org", "example.fr", "example.com", "example.net")
    birth0, birth_span = _ordinal(date(1940, 1, 1)), 68 * 365
    reg0, reg_span = (
        _ordinal(date(2008, 1, 1)),
        _ordinal(date(2025, 6, 30)) - _ordinal(date(2008, 1, 1)),
    )
    for i in count():
        post, country, city, street, _ = posts[int(r() * len(posts))]
        first, last = _FIRST[int(r() * len(_FIRST))], _LAST[int(r() * len(_LAST))]
        suffix = str(1 + int(r() * 99)) if r() < 0.4 else ""
        flat = f"Appartement {1 + int(r() * 40)}, " if r() < 0.25 else ""
        yield {
            "registration_id": f"RFE-{i + 1:08d}",
            "last_name": last.upper() if r() < 0.3 else last,
            "first_name": first,
            "birth_date": date.fromordinal(birth0 + int(r() * birth_span)),
            "email": f"{_EMAIL_PART[first]}.{_EMAIL_PART[last]}{suffix}@{domains[int(r() * 4)]}",
            "phone": f"+33 {6 + int(r() * 2)} 00 {int(r() * 100):02d} {int(r() * 100):02d} "
            f"{int(r() * 100):02d}",
            "address": f"{flat}{1 + int(r() * 250)} {street}, {city}",
            "country": country,
            "consular_post": post,
            "registration_date": date.fromordinal(reg0 + int(r() * reg_span)),
        }


def _adoption_rows(rng: random.Random) -> Iterator[Row]:
    r = rng.random
    countries, ages, procs = _table(_ADOPTION_COUNTRIES), _table(_AGE_BANDS), _table(_PROCEDURES)
    years = _table(tuple((y, 2030 - y) for y in range(2008, 2026)))  # fewer every year
    for i in count():
        year = years[int(r() * len(years))][0]
        start = _ordinal(date(year - 1, 3, 1))
        yield {
            "adoption_id": f"MAI-{year}-{i + 1:06d}",
            "country_of_origin": countries[int(r() * len(countries))][0],
            "year": year,
            "age_band": ages[int(r() * len(ages))][0],
            "procedure": procs[int(r() * len(procs))][0],
            "judgment_date": date.fromordinal(start + int(r() * 600)),
        }


def _pvt_rows(rng: random.Random) -> Iterator[Row]:
    # Key (country, year) unique by construction: each block of partners is one year earlier.
    r, n = rng.random, len(_PVT_PARTNERS)
    for i in count():
        country, volume = _PVT_PARTNERS[i % n]
        yield {
            "partner_country": country,
            "year": 2025 - i // n,
            "visas_issued": int(volume * (0.8 + 0.4 * r())),
        }


def _civil_rows(rng: random.Random) -> Iterator[Row]:
    r, posts, acts = rng.random, _table(_CONSULAR_POSTS), _table(_ACT_TYPES)
    for i in count():
        year = 2016 + int(r() * 10)
        yield {
            "act_id": f"SCEC-{year}-{i + 1:08d}",
            "consular_post": posts[int(r() * len(posts))][0],
            "act_type": acts[int(r() * len(acts))][0],
            "year": year,
            "registered_on": date.fromordinal(_ordinal(date(year, 1, 1)) + int(r() * 365)),
        }


def _travel_rows(rng: random.Random) -> Iterator[Row]:
    # Key (country, zone, effective_date) unique by construction: within a block every
    # (country, zone) pair appears once, and each block is dated a week later.
    r, nc, nz = rng.random, len(_TRAVEL_COUNTRIES), len(_ZONES)
    countries = list(_TRAVEL_COUNTRIES)
    rng.shuffle(countries)  # the order in which the site lists them changes with the seed
    monday = date(2025, 1, 6)
    for i in count():
        c = i % nc
        country, level = countries[c]
        zone = _ZONES[(i // nc) % nz]
        if zone != _ZONES[0] or r() < 0.2:
            level = min(3, max(0, level + (-1, 0, 0, 1)[int(r() * 4)]))
        yield {
            "country": country,
            "zone": zone,
            "colour": _COLOURS[level],
            "effective_date": monday + timedelta(days=7 * (i // (nc * nz)) + c % 5),
        }


def _aid_rows(rng: random.Random) -> Iterator[Row]:
    r, countries = rng.random, _table(_AID_COUNTRIES)
    start0, span = (
        _ordinal(date(2018, 1, 1)),
        _ordinal(date(2025, 9, 30)) - _ordinal(date(2018, 1, 1)),
    )
    for i in count():
        theme, dac = _AID_THEMES[int(r() * len(_AID_THEMES))]
        country = countries[int(r() * len(countries))][0]
        start = date.fromordinal(start0 + int(r() * span))
        roll = r()
        title = f"{theme} – {country}"
        if roll < 0.08:
            title = f"{theme} ; phase {2 + int(r() * 3)}"  # the delimiter: the field is quoted
        elif roll < 0.14:
            title = f'Programme "{theme}"'  # quotes inside, doubled by the exporter
        amount = (3 + int(r() * 97)) * 10_000 if roll < 0.5 else (10 + int(r() * 2990)) * 1_000
        cents = (1 + int(r() * 99)) / 100 if r() < 0.3 else 0.0
        yield {
            "project_id": f"FSPI-{start.year}-{i + 1:06d}",
            "title": title,
            "country": country,
            "dac_sector": dac,
            "amount_eur": round(amount + cents, 2),
            "start_date": start,
            "end_date": start + timedelta(days=30 * (12 + int(r() * 49))),
        }


def _hr_rows(rng: random.Random) -> Iterator[Row]:
    r, grades, postings = rng.random, _table(_GRADES, 1), _table(_POSTINGS)
    start0, span = (
        _ordinal(date(1992, 9, 1)),
        _ordinal(date(2025, 9, 1)) - _ordinal(date(1992, 9, 1)),
    )
    for i in count():
        grade = grades[int(r() * len(grades))][0]
        posting, country, _ = postings[int(r() * len(postings))]
        low, high = _PAY[grade]
        yield {
            "agent_id": f"AG{i + 1:07d}",
            "last_name": _LAST[int(r() * len(_LAST))],
            "first_name": _FIRST[int(r() * len(_FIRST))],
            "grade": grade,
            "posting": posting,
            "posting_country": country,
            "monthly_pay_eur": (low * 100 + int(r() * (high - low) * 100)) / 100,
            "start_date": date.fromordinal(start0 + int(r() * span)),
        }


# --- updates: how a repeated row changes (duplicate key inside a file, MERGE update across) -----


def _shift_date(column: str, days: int, cap: date | None = None) -> Callable[[Row], Row]:
    def update(row: Row) -> Row:
        new = row[column] + timedelta(days=days)
        return {**row, column: min(new, cap) if cap else new}

    return update


def _update_pvt(row: Row) -> Row:
    return {**row, "visas_issued": row["visas_issued"] + max(1, row["visas_issued"] // 20)}


def _update_travel(row: Row) -> Row:
    level = _COLOURS.index(row["colour"])
    return {**row, "colour": _COLOURS[level + 1 if level < 3 else 2]}


def _update_aid(row: Row) -> Row:
    return {**row, "amount_eur": round(row["amount_eur"] * 1.1, 2)}


def _update_hr(row: Row) -> Row:
    return {**row, "grade": _PROMOTION[row["grade"]]}


# --- plants and source specifications -----------------------------------------------------------

# The quality rule that catches each kind of quarantined defect (quality.rules ids, without the
# source prefix); business-rule plants name theirs.
_RULE_OF_KIND: dict[str, str] = {
    "bad_date": "{column}.type",
    "bad_number": "{column}.type",
    "null_in_required": "{column}.required",
    "not_allowed": "{column}.allowed",
    "unknown_country": "{column}.reference",
    "malformed_field_count": "line.readable",
    "unterminated_quote": "line.readable",
    "invalid_json": "line.readable",
}


@dataclass(frozen=True)
class _Plant:
    """One planted defect. ``shape`` says how the line is built:

    ``row`` (overwrite values), ``split`` / ``open_quote`` (write the value of ``set`` raw, with an
    unquoted delimiter or an opening quote that never closes), ``cut_json`` (drop the closing
    brace), ``copy`` (repeat an earlier line), ``rekey`` (an earlier key with a changed value).
    """

    kind: str
    column: str | None
    expected: str
    set: dict[str, str] = field(default_factory=dict)
    expected_value: Any = _NO_VALUE
    shape: str = "row"
    # The quality rule (``<source>.<rule>`` in results) that must catch a business-rule defect.
    rule: str | None = None


def _p(kind: str, column: str | None, expected: str, value: str | None = None, **kw: Any) -> _Plant:
    """A plant writing ``value`` in ``column`` (plus any ``also`` columns)."""
    values = dict(kw.pop("also", {}))
    if value is not None and column is not None:
        values[column] = value
    return _Plant(kind, column, expected, values, **kw)


def _copy() -> _Plant:
    return _Plant("exact_duplicate", None, "dropped_duplicate", shape="copy")


def _rekey(column: str) -> _Plant:
    return _Plant("duplicate_key", column, "typed", shape="rekey")


@dataclass(frozen=True)
class _Spec:
    """How one silo delivers its extract (mirrors its contract) and what is planted in it."""

    source: str
    fmt: str  # csv | xlsx | json
    encoding: str
    columns: tuple[str, ...]
    headers: tuple[str, ...]
    rows: Callable[[random.Random], Iterator[Row]]
    update: Callable[[Row], Row]
    updated_column: str
    plants: tuple[_Plant, ...]
    delimiter: str = ";"
    newline: str = "\n"
    iso_dates: bool = False
    renamed: tuple[str, str] | None = None  # (column, its header in delivery 2)
    added: str | None = None  # header added in delivery 2
    title: str | None = None  # xlsx: the title row above the header
    sheet: str = "Feuil1"

    @property
    def ext(self) -> str:
        return {"csv": "csv", "xlsx": "xlsx", "json": "jsonl"}[self.fmt]

    @property
    def first_line(self) -> int:
        """Line (CSV, JSONL) or row (XLSX) number of the first data record."""
        return {"csv": 2, "xlsx": 3, "json": 1}[self.fmt]


_CONSULAR = _Spec(
    source="consular_register",
    fmt="csv",
    encoding="utf-8-sig",
    columns=("registration_id", "last_name", "first_name", "birth_date", "email", "phone",
             "address", "country", "consular_post", "registration_date"),
    headers=("Numéro d'inscription", "Nom", "Prénom", "Date de naissance", "Courriel",
             "Téléphone", "Adresse", "Pays de résidence", "Poste consulaire",
             "Date d'inscription"),
    rows=_consular_rows,
    update=_shift_date("registration_date", 1096, cap=date(2025, 12, 31)),
    updated_column="registration_date",
    plants=(
        _p("country_variant", "country", "typed", "COTE D IVOIRE", expected_value="CIV",
           also={"consular_post": "Consulat général de France à Abidjan",
                 "address": "Rue des Jardins, Cocody, Abidjan"}),
        _p("null_marker", "email", "typed", "", expected_value=None),
        _p("country_without_iso", "country", "flagged", "Kosovo",
           also={"consular_post": "Ambassade de France au Kosovo",
                 "address": "12 rue Ismail Qemali, Pristina"}),
        _p("bad_date", "birth_date", "quarantine", "04/23/1987"),
        _p("malformed_field_count", None, "quarantine", shape="split",
           also={"address": "Appartement 12; Résidence du Parc"}),
        _p("territory", "country", "flagged", "Hong Kong",
           also={"consular_post": "Consulat général de France à Hong Kong et Macao",
                 "address": "88 Queen's Road East, Wan Chai, Hong Kong"}),
        _copy(),
        _p("country_variant", "country", "typed", "Etats-Unis", expected_value="USA",
           also={"consular_post": "Consulat général de France à New York",
                 "address": "310 West 86th Street, New York"}),
        _p("unknown_country", "country", "quarantine", "Atlantide"),
        _p("unterminated_quote", None, "quarantine", shape="open_quote",
           also={"address": '"Résidence Les Pins, bâtiment C'}),
        _p("null_in_required", "last_name", "quarantine", ""),
        _p("business_rule", "birth_date", "quarantine", "14/02/2015",
           also={"registration_date": "03/01/2010"}, rule="registration_after_birth"),
        _p("business_rule", "birth_date", "quarantine", "02/03/1850", rule="birth_date_plausible"),
        _rekey("registration_date"),
    ),
)  # fmt: skip

_ADOPTIONS = _Spec(
    source="adoptions",
    fmt="csv",
    encoding="latin-1",
    columns=("adoption_id", "country_of_origin", "year", "age_band", "procedure", "judgment_date"),
    headers=("N° dossier", "Pays d'origine", "Année", "Tranche d'âge", "Procédure",
             "Date du jugement"),
    rows=_adoption_rows,
    update=_shift_date("judgment_date", 45),
    updated_column="judgment_date",
    plants=(
        _p("null_marker", "judgment_date", "typed", "NC", expected_value=None),
        _p("country_variant", "country_of_origin", "typed", "Cote-d'Ivoire",
           expected_value="CIV"),
        _p("null_marker", "age_band", "typed", "X", expected_value=None),
        _p("bad_number", "year", "quarantine", "2O19"),
        _copy(),
        _p("null_marker", "procedure", "typed", "N/A", expected_value=None),
        _p("not_allowed", "age_band", "quarantine", "18 mois"),
        _p("null_in_required", "country_of_origin", "quarantine", "NC"),
        _p("bad_date", "judgment_date", "quarantine", "15/13/2019"),
        _p("business_rule", "year", "quarantine", "2099", rule="year_not_future"),
        _p("null_marker", "judgment_date", "typed", "", expected_value=None),
        _rekey("judgment_date"),
    ),
    renamed=("country_of_origin", "Pays de naissance de l'enfant"),
    added="Commentaire",
)  # fmt: skip

_PVT = _Spec(
    source="pvt_visas",
    fmt="xlsx",
    encoding="utf-8",
    columns=("partner_country", "year", "visas_issued"),
    headers=("Pays partenaire", "Année", "Visas délivrés"),
    rows=_pvt_rows,
    update=_update_pvt,
    updated_column="visas_issued",
    plants=(
        _p("thousands_separator", "visas_issued", "typed", f"1{_NBSP}250", expected_value=1250),
        _p("territory", "partner_country", "flagged", "Hong Kong"),
        _p("thousands_separator", "visas_issued", "typed", f"2{_NNBSP}100", expected_value=2100),
        _p("bad_number", "visas_issued", "quarantine", "env. 300"),
        _p("country_variant", "partner_country", "typed", "NOUVELLE ZELANDE",
           expected_value="NZL"),
        _p("thousands_separator", "visas_issued", "typed", "1 020", expected_value=1020),
        _p("business_rule", "year", "quarantine", "2099", rule="year_not_future"),
        _rekey("visas_issued"),
    ),
    title="Programmes vacances-travail (PVT) – visas délivrés par pays partenaire et par année",
    sheet="PVT",
)  # fmt: skip

_CIVIL = _Spec(
    source="civil_status",
    fmt="csv",
    encoding="cp1252",
    columns=("act_id", "consular_post", "act_type", "year", "registered_on"),
    headers=("Identifiant acte", "Poste", "Type d’acte", "Année", "Date d’enregistrement"),
    rows=_civil_rows,
    update=_shift_date("registered_on", 14),
    updated_column="registered_on",
    plants=(
        _p("not_allowed", "act_type", "quarantine", "divorce"),
        _p("malformed_field_count", None, "quarantine", shape="split",
           also={"consular_post": "Ambassade de France au Bénin, section consulaire"}),
        _copy(),
        _p("bad_date", "registered_on", "quarantine", "2021-13-02"),
        _p("null_in_required", "consular_post", "quarantine", ""),
        _p("business_rule", "year", "quarantine", "2024", also={"registered_on": "2019-05-02"},
           rule="registered_after_event_year"),
        _p("unterminated_quote", None, "quarantine", shape="open_quote",
           also={"consular_post": '"Consulat général de France à Genève'}),
        _rekey("registered_on"),
    ),
    delimiter=",",
    newline="\r\n",
    iso_dates=True,
)  # fmt: skip

_TRAVEL = _Spec(
    source="travel_advice",
    fmt="json",
    encoding="utf-8",
    columns=("country", "zone", "colour", "effective_date"),
    headers=("pays", "zone", "couleur", "date_effet"),
    rows=_travel_rows,
    update=_update_travel,
    updated_column="colour",
    plants=(
        _p("country_variant", "country", "typed", "Côte d'Ivoire", expected_value="CIV",
           also={"zone": "Nord et frontières avec le Mali et le Burkina"}),
        _Plant("invalid_json", None, "quarantine", shape="cut_json"),
        _p("markup_text", "zone", "typed", "<b>Zones frontalières</b>",
           expected_value="<b>Zones frontalières</b>"),
        _p("not_allowed", "colour", "quarantine", "orange foncé"),
        _copy(),
        _p("territory", "country", "flagged", "Groenland", also={"zone": "Ensemble du territoire"}),
        _p("bad_date", "effective_date", "quarantine", "15/03/2025"),
        _p("country_variant", "country", "typed", "United Kingdom", expected_value="GBR",
           also={"zone": "Irlande du Nord"}),
        _p("null_in_required", "zone", "quarantine", ""),
        _p("business_rule", "effective_date", "typed", "2099-01-01",
           expected_value="2099-01-01", rule="effective_not_far_future"),
        _rekey("colour"),
    ),
)  # fmt: skip

_AID = _Spec(
    source="development_aid",
    fmt="csv",
    encoding="utf-8",
    columns=("project_id", "title", "country", "dac_sector", "amount_eur", "start_date",
             "end_date"),
    headers=("Identifiant projet", "Intitulé", "Pays bénéficiaire", "Code secteur CAD",
             "Montant (EUR)", "Date de début", "Date de fin"),
    rows=_aid_rows,
    update=_update_aid,
    updated_column="amount_eur",
    plants=(
        _p("decimal_comma", "amount_eur", "typed", "12500,75", expected_value=12500.75),
        _p("formula_text", "title", "typed", "=SUM(A1)", expected_value="=SUM(A1)"),
        _p("thousands_separator", "amount_eur", "typed", "1 250 000,00",
           expected_value=1250000.0),
        _p("unknown_country", "country", "quarantine", "Afrique de l'Ouest (régional)"),
        _copy(),
        _p("thousands_separator", "amount_eur", "typed", f"87{_NBSP}500,50",
           expected_value=87500.5),
        _p("bad_number", "amount_eur", "quarantine", "45 000 €"),
        _p("country_variant", "country", "typed", "Senegal", expected_value="SEN"),
        _p("markup_text", "title", "typed", "<b>Appui</b> à la santé maternelle",
           expected_value="<b>Appui</b> à la santé maternelle"),
        _p("bad_date", "end_date", "quarantine", "2024-09-15"),
        _p("thousands_separator", "amount_eur", "typed", f"3{_NNBSP}400{_NNBSP}000",
           expected_value=3400000.0),
        _p("null_in_required", "amount_eur", "quarantine", ""),
        _p("business_rule", "end_date", "quarantine", "01/01/2023",
           also={"start_date": "01/06/2024"}, rule="end_after_start"),
        _p("business_rule", "amount_eur", "typed", "750 000 000,00", expected_value=750000000.0,
           rule="amount_plausible"),
        _rekey("amount_eur"),
    ),
    renamed=("amount_eur", "Montant engagé (EUR)"),
    added="Commentaire",
)  # fmt: skip

_HR = _Spec(
    source="hr_agents",
    fmt="csv",
    encoding="utf-8",
    columns=("agent_id", "last_name", "first_name", "grade", "posting", "posting_country",
             "monthly_pay_eur", "start_date"),
    headers=("Matricule", "Nom", "Prénom", "Grade", "Affectation", "Pays d'affectation",
             "Rémunération mensuelle brute (EUR)", "Date de prise de poste"),
    rows=_hr_rows,
    update=_update_hr,
    updated_column="grade",
    plants=(
        _p("decimal_comma", "monthly_pay_eur", "typed", "3412,57", expected_value=3412.57),
        _p("country_variant", "posting_country", "typed", "USA", expected_value="USA",
           also={"posting": "Ambassade de France à Washington"}),
        _p("thousands_separator", "monthly_pay_eur", "typed", f"4{_NBSP}125,30",
           expected_value=4125.3),
        _p("bad_number", "monthly_pay_eur", "quarantine", "3.412,57"),
        _p("country_without_iso", "posting_country", "flagged", "Kosovo",
           also={"posting": "Ambassade de France à Pristina"}),
        _copy(),
        _p("bad_date", "start_date", "quarantine", "1er septembre 2019"),
        _p("country_variant", "posting_country", "typed", "ROYAUME UNI", expected_value="GBR",
           also={"posting": "Ambassade de France à Londres"}),
        _p("null_in_required", "grade", "quarantine", ""),
        _p("business_rule", "start_date", "quarantine", "01/09/2099", rule="start_not_future"),
        _rekey("grade"),
    ),
)  # fmt: skip

_SPECS: dict[str, _Spec] = {
    s.source: s for s in (_CONSULAR, _ADOPTIONS, _PVT, _CIVIL, _TRAVEL, _AID, _HR)
}


# --- rendering ----------------------------------------------------------------------------------

_RAW = "@@RAW@@"  # placeholder for a value written as is (no quoting), e.g. an unquoted delimiter


_FR_DATES: dict[date, str] = {}  # strftime is slow; a million rows share a few thousand dates


def _cells(spec: _Spec, row: Row) -> list[Any]:
    """The delivered values of a row, in column order, formatted the way the silo exports them."""
    out: list[Any] = []
    for column in spec.columns:
        value = row[column]
        kind = type(value)
        if kind is str:
            out.append(value)
        elif kind is date:
            if spec.fmt == "json" or (
                spec.iso_dates and row.get("consular_post") in _ISO_DATE_POSTS
            ):
                out.append(value.isoformat())
            else:
                text = _FR_DATES.get(value)
                if text is None:
                    text = _FR_DATES[value] = value.strftime("%d/%m/%Y")
                out.append(text)
        elif kind is float:
            out.append(f"{value:.2f}".replace(".", ","))
        elif kind is int:
            out.append(value if spec.fmt == "xlsx" else str(value))
        else:
            out.append(None if spec.fmt == "xlsx" else "")
    return out


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


class _TextSink:
    """CSV or JSON lines, streamed to ``path``; with ``path=None`` it only renders (manifest)."""

    def __init__(self, spec: _Spec, headers: list[str], path: Path | None) -> None:
        self.spec = spec
        self.headers = headers
        self.file = path.open("w", encoding=spec.encoding, newline="") if path else None
        self.buffer = io.StringIO()
        self.renderer = csv.writer(self.buffer, delimiter=spec.delimiter, lineterminator="")
        if self.file is not None and spec.fmt == "csv":
            self.writer = csv.writer(
                self.file, delimiter=spec.delimiter, lineterminator=spec.newline
            )
            self.writer.writerow(headers)

    def render(self, cells: list[Any]) -> str:
        if self.spec.fmt == "json":
            return json.dumps(dict(zip(self.headers, cells, strict=True)), ensure_ascii=False)
        self.buffer.seek(0)
        self.buffer.truncate()
        self.renderer.writerow(cells)
        return self.buffer.getvalue()

    def row(self, cells: list[Any]) -> None:
        if self.file is None:
            return
        if self.spec.fmt == "csv":
            self.writer.writerow(cells)
        else:
            self.file.write(self.render(cells) + self.spec.newline)

    def raw(self, text: str) -> None:
        if self.file is not None:
            self.file.write(text + self.spec.newline)

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


_NS = "http://schemas.openxmlformats.org"
_XLSX_PARTS = {
    "[Content_Types].xml": f'''<Types xmlns="{_NS}/package/2006/content-types">\
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
<Default Extension="xml" ContentType="application/xml"/>\
<Override PartName="/xl/workbook.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>\
<Override PartName="/xl/worksheets/sheet1.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>\
<Override PartName="/xl/styles.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>\
<Override PartName="/docProps/core.xml" \
ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>\
<Override PartName="/docProps/app.xml" \
ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/></Types>''',
    "_rels/.rels": f'''<Relationships xmlns="{_NS}/package/2006/relationships">\
<Relationship Id="rId1" Type="{_NS}/officeDocument/2006/relationships/officeDocument" \
Target="xl/workbook.xml"/>\
<Relationship Id="rId2" Type="{_NS}/package/2006/relationships/metadata/core-properties" \
Target="docProps/core.xml"/>\
<Relationship Id="rId3" Type="{_NS}/officeDocument/2006/relationships/extended-properties" \
Target="docProps/app.xml"/></Relationships>''',
    "docProps/app.xml": f'''<Properties xmlns="{_NS}/officeDocument/2006/extended-properties">\
<Application>Microsoft Excel</Application></Properties>''',
    "docProps/core.xml": f'''<cp:coreProperties \
xmlns:cp="{_NS}/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" \
xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\
<dc:creator>{{creator}}</dc:creator>\
<dcterms:created xsi:type="dcterms:W3CDTF">{{stamp}}</dcterms:created>\
<dcterms:modified xsi:type="dcterms:W3CDTF">{{stamp}}</dcterms:modified></cp:coreProperties>''',
    "xl/workbook.xml": f'''<workbook xmlns="{_NS}/spreadsheetml/2006/main" \
xmlns:r="{_NS}/officeDocument/2006/relationships"><sheets>\
<sheet name="{{sheet}}" sheetId="1" r:id="rId1"/></sheets></workbook>''',
    "xl/_rels/workbook.xml.rels": f'''<Relationships xmlns="{_NS}/package/2006/relationships">\
<Relationship Id="rId1" Type="{_NS}/officeDocument/2006/relationships/worksheet" \
Target="worksheets/sheet1.xml"/>\
<Relationship Id="rId2" Type="{_NS}/officeDocument/2006/relationships/styles" \
Target="styles.xml"/></Relationships>''',
    "xl/styles.xml": f'''<styleSheet xmlns="{_NS}/spreadsheetml/2006/main">\
<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>\
<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>\
<fills count="2"><fill><patternFill patternType="none"/></fill>\
<fill><patternFill patternType="gray125"/></fill></fills>\
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>\
<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>\
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>\
</styleSheet>''',
}
_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


class _XlsxSink:
    """An Excel workbook streamed as SpreadsheetML: a bold title row (merged over the columns),
    the bold header row, then the data rows.

    Written by hand rather than with openpyxl: a million rows take seconds instead of minutes,
    and no save time ends up in the file (same seed, same bytes). Strings are inline strings,
    integers numbers; openpyxl and Excel read both.
    """

    def __init__(
        self, spec: _Spec, headers: list[str], path: Path | None, stamp: date, rows: int
    ) -> None:
        self.path = path
        if path is None:
            return
        self.moment = (stamp.year, stamp.month, stamp.day, 8, 0, 0)
        self.zip = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED)
        fields = {"{creator}": "DGM", "{stamp}": f"{stamp.isoformat()}T08:00:00Z",
                  "{sheet}": escape(spec.sheet)}  # fmt: skip
        for name, text in _XLSX_PARTS.items():
            for placeholder, value in fields.items():
                text = text.replace(placeholder, value)
            info = zipfile.ZipInfo(name, date_time=self.moment)
            info.compress_type = zipfile.ZIP_DEFLATED
            self.zip.writestr(info, _XML_HEAD + text)
        info = zipfile.ZipInfo("xl/worksheets/sheet1.xml", date_time=self.moment)
        info.compress_type = zipfile.ZIP_DEFLATED
        self.sheet = self.zip.open(info, "w", force_zip64=True)
        self.letters = [_column_letter(i) for i in range(len(headers))]
        self.last = self.letters[-1]
        self.pending: list[str] = [
            _XML_HEAD,
            f'<worksheet xmlns="{_NS}/spreadsheetml/2006/main">'
            f'<dimension ref="A1:{self.last}{rows + 2}"/><sheetData>',
        ]
        self.number = 0
        self._append([spec.title], style=' s="1"')
        self._append(headers, style=' s="1"')

    def _append(self, cells: list[Any], style: str = "") -> None:
        self.number += 1
        n = self.number
        parts = [f'<row r="{n}">']
        for letter, value in zip(self.letters, cells, strict=False):
            if value is None:
                continue
            if type(value) is int:
                parts.append(f'<c r="{letter}{n}"{style}><v>{value}</v></c>')
            else:
                parts.append(
                    f'<c r="{letter}{n}" t="inlineStr"{style}><is><t xml:space="preserve">'
                    f"{escape(value)}</t></is></c>"
                )
        parts.append("</row>")
        self.pending.append("".join(parts))
        if len(self.pending) >= 5000:
            self.sheet.write("".join(self.pending).encode())
            self.pending.clear()

    def render(self, cells: list[Any]) -> str:
        raise NotImplementedError("an xlsx row has no text line")

    def raw(self, text: str) -> None:
        raise NotImplementedError("an xlsx row has no text line")

    def row(self, cells: list[Any]) -> None:
        if self.path is not None:
            self._append(cells)

    def close(self) -> None:
        if self.path is None:
            return
        self.pending.append(
            f'</sheetData><mergeCells count="1"><mergeCell ref="A1:{self.last}1"/></mergeCells>'
            "</worksheet>"
        )
        self.sheet.write("".join(self.pending).encode())
        self.sheet.close()
        self.zip.close()


# --- layout and emission ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Layout:
    """Where the plants of delivery 1 sit, and what delivery 2 repeats and changes."""

    plants: dict[int, tuple[_Plant, int | None]]  # data index -> (plant, index it copies)
    refs: frozenset[int]
    repeats: tuple[int, ...]  # delivery-1 indices repeated at the top of delivery 2
    updates: frozenset[int]  # positions in ``repeats`` that are changed


def _layout(spec: _Spec, rows: int) -> _Layout:
    n = len(spec.plants)
    positions = [(j + 1) * rows // (n + 1) for j in range(n)]
    taken = set(positions)
    plants: dict[int, tuple[_Plant, int | None]] = {}
    refs: set[int] = set()
    for position, plant in zip(positions, spec.plants, strict=True):
        ref = None
        if plant.shape in ("copy", "rekey"):
            ref = next(i for i in range(position - 1, -1, -1) if i not in taken | refs)
            refs.add(ref)
        plants[position] = (plant, ref)
    blocked = taken | refs
    free = (i for i in range(rows) if i not in blocked)
    repeats = tuple(next(free) for _ in range(min(rows // 3, rows - len(blocked))))
    h = len(repeats)
    return _Layout(plants, frozenset(refs), repeats, frozenset({h // 4, h // 2, 3 * h // 4}))


def _pick(
    stream: Iterator[Row], wanted: Iterator[int], keep: frozenset[int], kept: dict[int, Row]
) -> Iterator[tuple[int, Row]]:
    """The clean rows at the increasing indices ``wanted``, keeping those in ``keep``."""
    current, row = -1, {}
    for index in wanted:
        while current < index:
            row = next(stream)
            current += 1
            if current in keep:
                kept[current] = row
        yield index, row


def _file_name(source: str, delivery: int) -> str:
    """The name a silo gives its delivery, e.g. ``adoptions_2026-01-15.csv``."""
    spec = _spec(source)
    return f"{source}_{_DELIVERY_DATES[delivery].isoformat()}.{spec.ext}"


def _emit(spec: _Spec, delivery: int, rows: int, seed: int, path: Path | None) -> list[dict]:
    """Write one delivery to ``path`` (or nothing when None) and return its defect manifest."""
    layout = _layout(spec, rows)
    name = _file_name(spec.source, delivery)
    first = spec.first_line
    entries: list[dict[str, Any]] = []

    def note(
        line: int,
        column: str | None,
        plant_kind: str,
        value: Any,
        expected: str,
        expected_value: Any = _NO_VALUE,
        duplicate_of: int | None = None,
        rule: str | None = None,
    ) -> None:
        entry = {
            "source": spec.source,
            "delivery": delivery,
            "file": name,
            "line": line,
            "column": column,
            "kind": plant_kind,
            "value": value,
            "expected": expected,
        }
        if expected_value is not _NO_VALUE:
            entry["expected_value"] = expected_value
        if duplicate_of is not None:
            entry["duplicate_of"] = {"delivery": 1, "line": duplicate_of}
        caught_by = rule or _RULE_OF_KIND.get(plant_kind)
        if caught_by is not None:
            entry["rule"] = f"{spec.source}.{caught_by.format(column=column)}"
        entries.append(entry)

    headers = list(spec.headers)
    if spec.title:
        note(1, None, "title_row", spec.title, "reported")
    if delivery == 2 and spec.renamed:
        column, header = spec.renamed
        headers[spec.columns.index(column)] = header
        note(first - 1, column, "renamed_column", header, "reported")
    if delivery == 2 and spec.added:
        headers.append(spec.added)
        note(first - 1, None, "added_column", spec.added, "reported")

    sink: _TextSink | _XlsxSink
    if spec.fmt == "xlsx":
        sink = _XlsxSink(spec, headers, path, _DELIVERY_DATES[delivery], rows)
    else:
        sink = _TextSink(spec, headers, path)
    stream = spec.rows(random.Random(f"{seed}:{spec.source}"))
    kept: dict[int, Row] = {}
    try:
        if delivery == 1:
            last = rows - 1 if path else max(layout.plants)
            for index, row in _pick(stream, iter(range(last + 1)), layout.refs, kept):
                hit = layout.plants.get(index)
                if hit is None:
                    sink.row(_cells(spec, row))
                    continue
                plant, ref = hit
                line = first + index
                if plant.shape == "row":
                    sink.row(_cells(spec, {**row, **plant.set}))
                    assert plant.column is not None
                    value = plant.set[plant.column]
                    note(line, plant.column, plant.kind, value, plant.expected,
                         plant.expected_value, rule=plant.rule)  # fmt: skip
                elif plant.shape == "cut_json":  # the closing brace is lost
                    text = sink.render(_cells(spec, row))[:-1]
                    sink.raw(text)
                    note(line, None, plant.kind, text, plant.expected)
                elif plant.shape in ("split", "open_quote"):  # the value goes in unquoted
                    ((target, raw),) = plant.set.items()
                    text = sink.render(_cells(spec, {**row, target: _RAW})).replace(_RAW, raw)
                    sink.raw(text)
                    note(line, None, plant.kind, text, plant.expected)
                elif plant.shape == "copy":
                    assert ref is not None
                    text = sink.render(_cells(spec, kept[ref]))
                    sink.raw(text)
                    note(line, None, plant.kind, text, plant.expected, duplicate_of=first + ref)
                else:  # rekey: an earlier key, another value; the later line wins
                    assert ref is not None and plant.column is not None
                    new = spec.update(kept[ref])
                    cells = _cells(spec, new)
                    sink.row(cells)
                    value = str(cells[spec.columns.index(plant.column)])
                    note(line, plant.column, plant.kind, value, plant.expected,
                         _jsonable(new[plant.column]), duplicate_of=first + ref)  # fmt: skip
        else:
            h = len(layout.repeats)
            stop = rows if path else max(layout.updates) + 1
            wanted = iter((*layout.repeats, *range(rows, 2 * rows - h))[:stop])
            comments = _COMMENTS.get(spec.source, ("",))
            for position, (index, row) in enumerate(_pick(stream, wanted, frozenset(), kept)):
                comment = comments[position % len(comments)]
                if position in layout.updates:
                    row = spec.update(row)
                    column = spec.updated_column
                    value = str(_cells(spec, row)[spec.columns.index(column)])
                    note(first + position, column, "duplicate_key", value, "typed",
                         _jsonable(row[column]), duplicate_of=first + index)  # fmt: skip
                    comment = _UPDATE_COMMENT.get(spec.source, "")
                cells = _cells(spec, row)
                sink.row([*cells, comment] if spec.added else cells)
    finally:
        sink.close()
    return entries


def _composition(spec: _Spec, delivery: int, rows: int) -> dict[str, int]:
    if delivery == 1:
        return {"data_lines": rows, "repeated_from_delivery_1": 0, "updated": 0, "new": rows}
    h = len(_layout(spec, rows).repeats)
    return {"data_lines": rows, "repeated_from_delivery_1": h - 3, "updated": 3, "new": rows - h}


# --- public API ---------------------------------------------------------------------------------


def _spec(source: str) -> _Spec:
    try:
        return _SPECS[source]
    except KeyError:
        raise ValueError(
            f"unknown source {source!r}; valid sources: {', '.join(SOURCES)}"
        ) from None


def _check(delivery: int, rows: int) -> None:
    if delivery not in _DELIVERY_DATES:
        raise ValueError(f"delivery must be 1 or 2; got {delivery!r}")
    if rows < _MIN_ROWS:
        raise ValueError(
            f"rows must be >= {_MIN_ROWS} so that every planted defect has a line of its own; "
            f"got {rows}"
        )


def generate_delivery(
    source: str, delivery: int, rows: int, out_dir: Path, *, seed: int = 2021
) -> list[Path]:
    """Write the files of one delivery of a silo.

    Args:
        source: One of :data:`SOURCES`.
        delivery: 1 (first extract) or 2 (later extract: repeats, updates, new rows, and for
            ``adoptions`` / ``development_aid`` an added and a renamed column).
        rows: Number of data lines (>= 30; the header and an xlsx title row are not counted).
        out_dir: Directory to write into (created if missing).
        seed: Same seed and rows give byte-identical files.

    Returns:
        The paths written (one file per delivery), named ``<source>_<delivery date>.<ext>``.

    Raises:
        ValueError: Unknown source (the message lists the valid ones), delivery or rows.
    """
    spec = _spec(source)
    _check(delivery, rows)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / _file_name(source, delivery)
    partial = path.with_name(path.name + ".part")  # never leave a half-written extract behind
    try:
        _emit(spec, delivery, rows, seed, partial)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return [path]


def generate_all(out_dir: Path, *, rows: int = 100, seed: int = 2021) -> dict[str, list[Path]]:
    """Write both deliveries of every source under ``out_dir/<source>/delivery-<n>/``.

    Args:
        out_dir: Root directory (created if missing).
        rows: Data lines per file (>= 30).
        seed: Seed of every source's stream.

    Returns:
        Source id -> its files, delivery 1 first.
    """
    return {
        source: [
            path
            for delivery in (1, 2)
            for path in generate_delivery(
                source, delivery, rows, out_dir / source / f"delivery-{delivery}", seed=seed
            )
        ]
        for source in SOURCES
    }


def planted_defects(source: str, delivery: int, rows: int, *, seed: int = 2021) -> list[dict]:
    """The manifest of the defects planted in one delivery, from the code that writes it.

    Each entry has ``source``, ``delivery``, ``file``, ``line`` (1-based physical line for CSV
    and JSON lines, row number for xlsx), ``column`` (contract column, None for a whole-line
    defect), ``kind``, ``value`` (the raw text planted; the whole line for whole-line defects)
    and ``expected`` (``quarantine``, ``typed`` with ``expected_value``, ``flagged``,
    ``dropped_duplicate`` or ``reported``). Duplicates add ``duplicate_of``: the delivery and
    line of the row they repeat.

    Raises:
        ValueError: Unknown source, delivery or rows, as :func:`generate_delivery`.
    """
    spec = _spec(source)
    _check(delivery, rows)
    return _emit(spec, delivery, rows, seed, None)


def _manifest(rows: int, seed: int) -> dict[str, Any]:
    """The document written as ``MANIFEST.json`` next to the generated deliveries."""
    deliveries: list[dict[str, Any]] = []
    kinds: Counter[str] = Counter()
    for source in SOURCES:
        for delivery in (1, 2):
            defects = planted_defects(source, delivery, rows, seed=seed)
            kinds.update(d["kind"] for d in defects)
            name = _file_name(source, delivery)
            deliveries.append(
                {
                    "source": source,
                    "delivery": delivery,
                    "file": name,
                    "path": f"{source}/delivery-{delivery}/{name}",
                    **_composition(_SPECS[source], delivery, rows),
                    "expected": dict(sorted(Counter(d["expected"] for d in defects).items())),
                    "defects": defects,
                }
            )
    return {
        "generator": "ingestion.generator",
        "seed": seed,
        "rows": rows,
        "delivery_dates": {str(k): d.isoformat() for k, d in _DELIVERY_DATES.items()},
        "kinds": dict(sorted(kinds.items())),
        "deliveries": deliveries,
    }


def _main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m ingestion.generator",
        description="Write both deliveries of every silo extract and MANIFEST.json.",
    )
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--rows", type=int, default=100)
    parser.add_argument("--seed", type=int, default=2021)
    args = parser.parse_args(argv)
    written = generate_all(args.out_dir, rows=args.rows, seed=args.seed)
    manifest = json.dumps(_manifest(args.rows, args.seed), ensure_ascii=False, indent=2)
    (args.out_dir / "MANIFEST.json").write_text(manifest + "\n", encoding="utf-8")
    for paths in written.values():
        for path in paths:
            print(f"{path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
