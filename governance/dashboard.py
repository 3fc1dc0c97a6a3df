"""The roadmap dashboard (actions A03 and A06): the lake's own indicators against their targets.

A03 asks for "un tableau de bord de suivi des chantiers de la feuille de route" and A06 for
"une sélection courte d'indicateurs" that the strategic committee can act on. This module turns
plain inputs (the catalogue as `Catalog.to_dict` gives it, the rows of ``meta/quality_results``,
the schemas found where the open-data export publishes them and the stamps of the study and cloud
pages, see :mod:`governance.evidence`) into `Indicator` records, then into one static French page:
a card per indicator with its value, the target of annex 4 of the roadmap, a small progress bar
(inline SVG with a text alternative) and how the value is computed.

Every indicator can fail: a schema counts only when published beside its data and valid; the
study and the cloud framework count only while no table has changed since they were generated;
the datasets exposed are those created in the dashboard's calendar year, as the target is yearly.

Targets are those the roadmap states (annex 4, "Synthèse des indicateurs de performance par
action"): 4 business domains covered by a catalogue (A08, A11), +10 datasets exposed per year
(A08), 1 published data schema and 1 quality review (A13), the opportunity study done (A15), the
cloud-usage concept done (A09). The roadmap states no target for open-data eligibility.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal

from governance.errors import GovernanceError
from governance.evidence import Freshness, PageStamp, PublishedSchemas, freshness
from governance.pages import environment
from lake.contracts import EXPOSURE_LEVELS
from lake.pages.french import NNBSP, as_utc, format_count_fr, format_date_fr
from lake.pages.templates import safe_link
from lake.review_decisions import overdue

__all__ = ["STATUSES", "Indicator", "Status", "compute_indicators", "render_dashboard"]

Status = Literal["ok", "en cours", "à faire"]
STATUSES: tuple[Status, ...] = ("ok", "en cours", "à faire")
_STATUS_WORDS: Mapping[str, tuple[str, str]] = {  # CSS class, words
    "ok": ("ok", "Cible atteinte"),
    "en cours": ("en-cours", "En cours"),
    "à faire": ("a-faire", "À faire"),
}
_PLURALS: Mapping[str, str] = {"jeu de données": "jeux de données"}
_BAR_WIDTH = 240


@dataclass(frozen=True)
class Indicator:
    """One roadmap indicator, measured on the lake.

    Attributes:
        code: The roadmap action, e.g. ``"A13"``.
        label_fr: What is measured, in French.
        value: The measure: a count, or whether a deliverable exists.
        target: The roadmap's target (annex 4); None when the roadmap states none.
        unit: The counted thing, singular (``"revue"``); empty for a deliverable.
        status: ``ok`` (target reached), ``en cours`` (started, below the target or without
            one) or ``à faire`` (nothing yet).
        source_fr: How the value is computed, in French, for the reader who checks it.
        key: Stable identifier (``quality_reviews``...), used for links and tests.
        target_fr: The roadmap's wording of the indicator and its target.
        details: Extra lines shown under the value (names, breakdowns).
        as_of: When the value was measured.
    """

    code: str
    label_fr: str
    value: int | bool
    target: int | bool | None
    unit: str
    status: Status
    source_fr: str
    key: str = ""
    target_fr: str = ""
    details: tuple[str, ...] = ()
    as_of: dt.datetime | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise GovernanceError(
                f"Indicator {self.key or self.code}: status must be one of "
                f"{', '.join(map(repr, STATUSES))}; found {self.status!r}."
            )

    @property
    def progress(self) -> float | None:
        """Share of the target reached, from 0 to 1; None when there is no target."""
        if self.target is None:
            return None
        if isinstance(self.value, bool) or isinstance(self.target, bool):
            return 1.0 if self.value else 0.0
        return 1.0 if self.target <= 0 else max(0.0, min(1.0, self.value / self.target))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary with stable keys."""
        data = asdict(self)
        data["details"] = list(self.details)
        data["as_of"] = self.as_of.isoformat() if self.as_of else None
        return data


def compute_indicators(
    catalog: Mapping[str, Any],
    quality_rows: Sequence[Mapping[str, Any]],
    *,
    schemas: PublishedSchemas,
    open_data_eligible: Sequence[str],
    study: PageStamp | None,
    cloud: PageStamp | None,
    generated_at: dt.datetime,
    decisions: Sequence[Mapping[str, Any]] | None = None,
) -> list[Indicator]:
    """The dashboard's indicators, in the order the page shows them.

    Args:
        catalog: The catalogue as `governance.catalog.entries.Catalog.to_dict` gives it; reads
            ``summary.domains``, ``summary.tables_per_layer`` and each table's ``layer``,
            ``name``, ``level``, ``version``, ``updated_at`` and ``created_at``.
        quality_rows: Rows of ``meta/quality_results`` (one per expectation per review); reads
            ``review_id``, ``reviewed_at`` and ``table``; with ``decisions``, also ``owner``,
            ``rule_id`` and ``success``.
        schemas: The Table Schemas where the open-data export publishes them
            (`governance.evidence.published_schemas`); only the valid ones count (A13).
        open_data_eligible: Names of the datasets eligible for open data (level 4, no personal
            data), as the caller decided them; duplicates count once.
        study: The stamp of the A15 opportunity study (`governance.evidence.read_stamp`); it
            counts only when it describes the catalogue's tables at their current versions.
        cloud: The stamp of the A09 cloud-usage framework, counted the same way.
        generated_at: When the indicators are measured; reviews dated after it are not counted,
            and its calendar year is the one whose datasets exposed are counted.
        decisions: Rows of ``meta/review_decisions`` (`lake.meta_tables.REVIEW_DECISIONS`),
            the directions' answers to their reviews (``lake serve``). None when the caller did
            not read them: the two indicators built from them are then left out rather than
            shown as zero.

    Returns:
        Seven indicators (nine with ``decisions``: the reviews held by their direction and the
        requests past due follow the reviews run): quality reviews and published schemas (A13),
        business domains
        covered (A08/A11), datasets exposed (A08), datasets eligible for open data (A11),
        opportunity study (A15), cloud-usage framework (A09).

    Raises:
        GovernanceError: The catalogue has no ``summary`` mapping.
    """
    summary = catalog.get("summary")
    if not isinstance(summary, Mapping):
        found = ", ".join(sorted(map(str, catalog))) or "none"
        raise GovernanceError(
            f"The catalogue has no 'summary' mapping; found keys: {found}.",
            fix="Pass Catalog.to_dict() (the JSON of `lake catalog --json`).",
        )
    indicators = [
        _reviews(quality_rows, generated_at),
        *(
            ()
            if decisions is None
            else (
                _held(quality_rows, decisions, generated_at),
                _overdue(quality_rows, decisions, generated_at),
            )
        ),
        _counted(
            "schemas_published",
            "A13",
            "Schémas de données publiés",
            len(schemas.valid),
            target=1,
            unit="schéma",
            source_fr="nombre de Table Schema (format schema.data.gouv.fr) publiés avec les "
            "données ouvertes (« lake export opendata » : <nom>.schema.json à côté de <nom>.csv), "
            "valides et décrivant l'en-tête du CSV publié",
            target_fr="Publier ou contribuer à un schéma de données : 1",
            details=(*schemas.valid, *(f"Non compté : {r}" for r in schemas.refused)),
        ),
        _domains(summary),
        _exposed(catalog, summary, as_utc(generated_at).year),
        _open_data(open_data_eligible),
        _done(
            "opportunity_study",
            "A15",
            "Étude d'opportunité du lac de données",
            freshness(study, catalog),
            source_fr="l'étude d'opportunité générée à partir des métadonnées du lac (« lake "
            "study » ou « lake reports »), comptée tant qu'aucune table n'a changé depuis sa "
            "génération (versions Delta notées à côté de la page)",
            target_fr="Etude d'opportunité réalisée.",
        ),
        _done(
            "cloud_framework",
            "A09",
            "Cadre d'usage du cloud pour les données",
            freshness(cloud, catalog),
            source_fr="le cadre d'usage du cloud (hébergement admissible par jeu de données, "
            "« lake cloud » ou « lake reports »), compté tant qu'aucune table n'a changé depuis "
            "sa génération (versions Delta notées à côté de la page)",
            target_fr="Elaboration d'un concept d'emploi représentatif de l'ensemble des "
            "positions des parties prenantes.",
        ),
    ]
    return [_measured(i, generated_at) for i in indicators]


def render_dashboard(
    indicators: Sequence[Indicator], out: Path, *, links: Mapping[str, str]
) -> Path:
    """Write the dashboard as one static French page.

    Args:
        indicators: As `compute_indicators` returns them, in the order to show.
        out: The page to write (its folder is created; an existing page is overwritten).
        links: Address of the report behind an indicator, by indicator ``key`` or, failing
            that, by roadmap ``code`` (e.g. ``{"A13": "quality/index.html"}``). Only web, file
            and relative addresses become links; others are shown as text.

    Returns:
        ``out``.
    """
    as_of = [i.as_of for i in indicators if i.as_of is not None]
    cards = [_card(i, links) for i in indicators]
    html = (
        environment()
        .get_template("dashboard.html")
        .render(
            cards=cards,
            generated=format_date_fr(max(as_of) if as_of else dt.datetime.now(dt.UTC), time=True),
            reached=sum(i.status == "ok" for i in indicators),
            total=len(indicators),
        )
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    return out


def _reviews(rows: Sequence[Mapping[str, Any]], cutoff: dt.datetime) -> Indicator:
    limit = as_utc(cutoff)
    kept = [
        r
        for r in rows
        if r.get("review_id") not in (None, "")
        and ((when := _when(r.get("reviewed_at"))) is None or when <= limit)
    ]
    reviews = {str(r["review_id"]) for r in kept}
    tables = {str(r["table"]) for r in kept if r.get("table")}
    times = [w for r in kept if (w := _when(r.get("reviewed_at"))) is not None]
    details = [f"Tables revues : {len(tables)}"] if reviews else []
    if times:
        details.append(f"Dernière revue : {format_date_fr(max(times), time=True)}")
    return _counted(
        "quality_reviews",
        "A13",
        "Revues de qualité des données réalisées",
        len(reviews),
        target=1,
        unit="revue",
        source_fr="nombre de review_id distincts dans meta/quality_results (revues datées "
        "après la date du tableau de bord exclues)",
        target_fr="Nombre de revues de qualité des données : 1",
        details=tuple(details),
    )


def _held(
    rows: Sequence[Mapping[str, Any]], decisions: Sequence[Mapping[str, Any]], cutoff: dt.datetime
) -> Indicator:
    """Reviews answered by the direction that owns them, in the dashboard's calendar year.

    A decision counts only when its direction is the owner the review recorded (a decision by
    another direction, or on an unknown review, is not a review held); a review answered twice
    counts once, in the month of its first answer.
    """
    limit = as_utc(cutoff)
    owner = {str(r["review_id"]): str(r.get("owner") or "") for r in rows if r.get("review_id")}
    first: dict[str, tuple[dt.datetime, str]] = {}
    refused = 0
    for d in decisions:
        review, when = str(d.get("review_id") or ""), _when(d.get("decided_at"))
        if when is None or when > limit:
            continue
        if review not in owner or not owner[review] or d.get("direction") != owner[review]:
            refused += 1
            continue
        if review not in first or when < first[review][0]:
            first[review] = (when, str(d.get("decision") or ""))
    this_year = {r: v for r, v in first.items() if v[0].year == limit.year}
    per_month = Counter(f"{w.year}-{w.month:02d}" for w, _ in this_year.values())
    details = [f"{m} : {format_count_fr(n, 'revue')}" for m, n in sorted(per_month.items())]
    accepted = sum(kind == "accepted" for _, kind in this_year.values())
    if this_year:
        details.append(
            f"Validées : {accepted} ; à corriger à la source : {len(this_year) - accepted}"
        )
    if refused:
        details.append(
            f"Non comptées : {format_count_fr(refused, 'décision')} prise(s) par une autre "
            "direction que la propriétaire, ou sur une revue inconnue"
        )
    return _counted(
        "quality_reviews_held",
        "A13",
        f"Revues de qualité tenues par leur direction en {limit.year}",
        len(this_year),
        target=1,
        unit="revue",
        source_fr="nombre de revues (meta/quality_results) auxquelles la direction propriétaire "
        "a répondu dans « lake serve » (validée, ou à corriger à la source), d'après "
        "meta/review_decisions, par mois de la première réponse",
        target_fr="Nombre de revues de qualité des données : 1",
        details=tuple(details),
    )


def _overdue(
    rows: Sequence[Mapping[str, Any]], decisions: Sequence[Mapping[str, Any]], cutoff: dt.datetime
) -> Indicator:
    """Requests to fix at the source, still failing in the latest review, past their date."""
    limit = as_utc(cutoff)
    known = [d for d in decisions if (w := _when(d.get("decided_at"))) is not None and w <= limit]
    late = overdue(known, rows, limit)
    details = tuple(
        f"{d.get('table')} ({d.get('direction')}) : échéance "
        f"{format_date_fr(_when(d.get('due_date')) or limit)}, règles "
        f"{', '.join(d.get('rules') or ()) or 'toutes'}"
        for d in late
    )
    return Indicator(
        code="A13",
        label_fr="Demandes de correction à la source en retard",
        value=len(late),
        target=None,
        unit="demande",
        status="ok" if not late else "en cours",
        source_fr="demandes « à corriger à la source » (meta/review_decisions) dont l'échéance "
        "est passée et dont une règle échoue encore, ou n'a pas été revue, dans la dernière "
        "revue de la table",
        key="quality_requests_overdue",
        target_fr="Aucune demande en retard",
        details=details,
    )


def _domains(summary: Mapping[str, Any]) -> Indicator:
    domains = sorted({str(d) for d in summary.get("domains") or () if d})
    count = len(domains) if domains else int(summary.get("domain_count") or 0)
    return _counted(
        "domains_covered",
        "A08/A11",
        "Domaines métiers couverts par le catalogue",
        count,
        target=4,
        unit="domaine",
        source_fr="nombre de domaines métiers distincts des tables du catalogue du lac "
        "(summary.domains du catalogue)",
        target_fr="Nombre de domaines métiers couverts par un catalogue de données : 4",
        details=tuple(domains),
    )


def _exposed(catalog: Mapping[str, Any], summary: Mapping[str, Any], year: int) -> Indicator:
    """Gold tables created in ``year``: the roadmap's target is "+10 a year", not a total."""
    tables = catalog.get("tables")
    details: list[str] = []
    if isinstance(tables, Sequence):
        gold = [t for t in tables if isinstance(t, Mapping) and t.get("layer") == "gold"]
        created = [_when(t.get("created_at")) for t in gold]
        per_year = Counter(w.year for w in created if w is not None)
        count = per_year.get(year, 0)
        details += [
            f"Créées en {y} : {format_count_fr(n, 'table')}" for y, n in sorted(per_year.items())
        ]
        if created.count(None):
            unknown = format_count_fr(created.count(None), "table")
            details.append(f"Date de création inconnue : {unknown}")
        levels = [t.get("level") for t in gold]
    else:  # a summary-only catalogue: the total is known, not the year of each table
        total = int((summary.get("tables_per_layer") or {}).get("gold") or 0)
        count, levels = 0, []
        details.append(
            f"Année de création inconnue : le catalogue ne donne que le total "
            f"({format_count_fr(total, 'table')} gold)."
        )
    details += [
        f"Niveau {n} ({EXPOSURE_LEVELS[n]}) : {format_count_fr(levels.count(n), 'table')}"
        for n in sorted(EXPOSURE_LEVELS)
        if levels.count(n)
    ]
    if levels.count(None):
        details.append(f"Non classées : {format_count_fr(levels.count(None), 'table')}")
    return _counted(
        "datasets_exposed",
        "A08",
        f"Jeux de données exposés en {year} (tables gold créées dans l'année)",
        count,
        target=10,
        unit="jeu de données",
        source_fr="nombre de tables de la couche gold créées pendant l'année civile du tableau "
        "de bord (date de création inscrite dans leur journal Delta) ; le détail donne chaque "
        "année et toutes les tables gold par niveau d'exposition (le plus restrictif de leurs "
        "colonnes)",
        target_fr="Nombre de jeux de données exposés : +10 par an",
        details=tuple(details),
    )


def _open_data(names: Sequence[str]) -> Indicator:
    unique = sorted({str(n) for n in names if n})
    return _counted(
        "open_data_eligible",
        "A11",
        "Jeux de données éligibles à l'ouverture (open data)",
        len(unique),
        target=None,
        unit="jeu de données",
        source_fr="jeux de données de niveau 4 (ouvert à tous) sans donnée personnelle ni "
        "champ d'exclusion, d'après la sensibilité propagée le long du lignage",
        target_fr="Déterminer pour ces données le niveau de sensibilité de l'information et en "
        "déduire le niveau d'ouverture possible des données",
        details=tuple(unique),
    )


def _counted(
    key: str,
    code: str,
    label_fr: str,
    value: int,
    *,
    target: int | None,
    unit: str,
    source_fr: str,
    target_fr: str,
    details: tuple[str, ...] = (),
) -> Indicator:
    # Without a target nothing can be declared reached: a non-zero count is work in progress.
    status: Status = "à faire" if value <= 0 else "ok"
    if value > 0 and (target is None or value < target):
        status = "en cours"
    return Indicator(
        code=code,
        label_fr=label_fr,
        value=value,
        target=target,
        unit=unit,
        status=status,
        source_fr=source_fr,
        key=key,
        target_fr=target_fr,
        details=details,
    )


def _done(
    key: str, code: str, label_fr: str, done: Freshness, *, source_fr: str, target_fr: str
) -> Indicator:
    return Indicator(
        code=code,
        label_fr=label_fr,
        value=done.current,
        target=True,
        unit="",
        status="ok" if done.current else "à faire",
        source_fr=source_fr,
        key=key,
        target_fr=target_fr,
        details=done.details,
    )


def _measured(indicator: Indicator, when: dt.datetime) -> Indicator:
    return replace(indicator, as_of=as_utc(when))


def _card(indicator: Indicator, links: Mapping[str, str]) -> dict[str, Any]:
    """What the template needs for one indicator, every text already in French."""
    singular, plural = indicator.unit, _PLURALS.get(indicator.unit)
    target: str | None
    if isinstance(indicator.value, bool):
        value = "document à jour des données" if indicator.value else "document absent ou périmé"
        target = "document à jour des données"
    else:
        value = format_count_fr(indicator.value, singular, plural).strip()
        target = (
            None
            if indicator.target is None
            else format_count_fr(int(indicator.target), singular, plural).strip()
        )
    progress = indicator.progress
    href = links.get(indicator.key) or links.get(indicator.code)
    return {
        "key": indicator.key,
        "code": indicator.code,
        "label": indicator.label_fr,
        "value": value,
        "target": target,
        "target_fr": indicator.target_fr,
        "status": _STATUS_WORDS[indicator.status][0],
        "status_words": _STATUS_WORDS[indicator.status][1],
        "source": indicator.source_fr,
        "details": indicator.details,
        "href": safe_link(href),
        "href_text": href or "",
        "bar": None
        if progress is None
        else {
            "width": _BAR_WIDTH,
            "filled": round(progress * _BAR_WIDTH),
            "percent": f"{round(progress * 100)}{NNBSP}%",
            "alt": f"{indicator.label_fr} : {value} sur une cible de {target} "
            f"({round(progress * 100)}{NNBSP}% de la cible)",
        },
    }


def _when(value: Any) -> dt.datetime | None:
    """A review time as aware UTC; None when missing or unreadable."""
    if isinstance(value, dt.datetime):
        return as_utc(value)
    if isinstance(value, str) and value:
        try:
            return as_utc(dt.datetime.fromisoformat(value))
        except ValueError:
            return None
    return None
