"""The rules of the A15 study: which kind of lake serves which uses, and which risks to watch.

Recommendations. Each table goes to one kind of lake, by the first rule that matches:

1. ``open_data``: a gold table of level 4 without personal data, admissible on the public cloud:
   the open-data layer, publishable on the public cloud and on data.gouv.fr;
2. ``partners``: a table of level 3 without personal data: the space shared with authenticated
   partners (API, DataPass), hosted where the A09 framework places it;
3. ``internal``: every other table (levels 1-2, personal data, unclassified, raw data before
   publication): the internal lake, on premises or on SecNumCloud as A09 places it.

Risks, each raised only when its count is not zero: personal data (high when at least
:data:`PERSONAL_HIGH_SHARE` % of the tables), unclassified tables, tables without an admissible
hosting, silver/gold tables never reviewed, latest scores under :data:`LOW_SCORE` (high under
:data:`VERY_LOW_SCORE`), blocked batches, failed runs, sources without an owner, sources resting on
a single owning direction, gold tables without lineage to their sources.

The French texts are built from the computed figures; nothing is typed by hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from governance.study.cost import HOSTING_LABELS, HOSTINGS
from governance.study.format import (
    format_count_fr,
    format_int_fr,
    format_percent_fr,
    format_size_fr,
)
from governance.study.model import (
    Activity,
    Hosting,
    InventoryGroup,
    Lineage,
    Placement,
    Quality,
    Recommendation,
    Risk,
    Use,
)

__all__ = ["LOW_SCORE", "PERSONAL_HIGH_SHARE", "VERY_LOW_SCORE", "lake_kind", "recommend", "risks"]

LOW_SCORE = 95.0
VERY_LOW_SCORE = 80.0
PERSONAL_HIGH_SHARE = 50.0
_SEVERITY = ("élevé", "moyen", "faible")
_KINDS = {
    "internal": "Lac interne",
    "partners": "Espace de partage avec les externes habilités",
    "open_data": "Couche de données ouvertes",
}


def lake_kind(p: Placement) -> str:
    """The kind of lake a table belongs to (first matching rule of the module docstring)."""
    if p.layer == "gold" and p.level == 4 and not p.personal and "public_cloud" in p.hostings:
        return "open_data"
    if p.level == 3 and not p.personal:
        return "partners"
    return "internal"


def _tables(n: int) -> str:
    return format_count_fr(n, "table")


def _list(items: Iterable[str], limit: int = 8) -> str:
    names = list(items)
    shown = ", ".join(names[:limit])
    more = len(names) - limit
    return shown + (f" et {format_count_fr(more, 'autre')}" if more > 0 else "")


def _where(members: Sequence[Placement]) -> str:
    """``3 tables (710 Go) en cloud public, 1 table (50 Go) en …``, most restrictive first."""
    parts = []
    for h in HOSTINGS:
        placed = [p for p in members if p.hosting == h]
        if placed:
            size = format_size_fr(sum(p.size_bytes for p in placed))
            parts.append(f"{_tables(len(placed))} ({size}) en {HOSTING_LABELS[h]}")
    return ", ".join(parts)


def recommend(hosting: Hosting, uses: Sequence[Use]) -> tuple[Recommendation, ...]:
    """One recommendation per kind of lake that holds tables (the open-data one always)."""
    total = sum(p.size_bytes for p in hosting.placements)
    described = {u.table: u for u in uses}
    found = []
    for kind, title in _KINDS.items():
        members = [p for p in hosting.placements if lake_kind(p) == kind]
        if not members and kind != "open_data":
            continue
        size = sum(p.size_bytes for p in members)
        served = tuple(p.table for p in members if p.table in described)
        domains = tuple(sorted({p.domain for p in members}))
        if kind == "internal":
            share = 100 * size / total if total else 0.0
            text = (
                f"Un lac interne pour {_tables(len(members))} ({format_size_fr(size)}), dont "
                f"{format_int_fr(sum(p.personal for p in members))} avec des données "
                f"personnelles et {format_int_fr(sum(p.level in (1, 2) for p in members))} de "
                f"niveau 1 ou 2, hébergées ainsi : {_where(members)}. Il porte "
                f"{format_percent_fr(share)} du volume du lac"
                + (" : le lac du ministère est d'abord un lac interne." if share >= 50 else ".")
                + f" Il rassemble les domaines {_list(domains)}"
                + (f" et sert les usages internes : {_list(served)}." if served else ".")
            )
        elif kind == "partners":
            text = (
                f"Un espace de partage pour les externes habilités (API, DataPass) : "
                f"{_tables(len(members))} de niveau 3 sans donnée personnelle "
                f"({format_size_fr(size)}), hébergées ainsi : {_where(members)}."
            )
        elif members:
            text = (
                f"Une couche de données ouvertes, publiable sur le cloud public et sur "
                f"data.gouv.fr : {_tables(len(members))} gold de niveau 4 sans donnée "
                f"personnelle ({format_size_fr(size)}) : {_list(served)}."
            )
        else:
            text = (
                "Pas encore de couche de données ouvertes : aucune table gold de niveau 4 sans "
                "donnée personnelle n'est admissible sur le cloud public."
            )
        found.append(
            Recommendation(
                id=kind,
                kind=title,
                hostings=tuple(h for h in HOSTINGS if any(p.hosting == h for p in members)),
                tables=len(members),
                size_bytes=size,
                domains=domains,
                uses=served,
                text_fr=text,
            )
        )
    return tuple(found)


def risks(
    tables: Sequence[Mapping[str, Any]],
    quality: Quality,
    activity: Activity,
    hosting: Hosting,
    lineage: Lineage,
    sources: Sequence[InventoryGroup],
) -> tuple[Risk, ...]:
    """The risks the metadata show, most severe first."""
    found: list[Risk] = []

    def add(rid: str, severity: str, items: Sequence[str], text: str) -> None:
        if items:
            found.append(Risk(rid, severity, len(items), tuple(items), text))

    total = len(tables)
    personal = [f"{t['layer']}/{t['name']}" for t in tables if t.get("personal")]
    share = 100 * len(personal) / total if total else 0.0
    add(
        "personal_data",
        "élevé" if share >= PERSONAL_HIGH_SHARE else "moyen",
        personal,
        f"{_tables(len(personal))} sur {format_int_fr(total)} ({format_percent_fr(share)}) "
        "contiennent des données personnelles (RGPD) : elles restent dans le lac interne ; "
        "registre des traitements, durées de conservation (A12) et pseudonymisation à tenir "
        "à jour.",
    )
    unclassified = [f"{t['layer']}/{t['name']}" for t in tables if t.get("level") is None]
    add(
        "unclassified",
        "élevé",
        unclassified,
        f"{_tables(len(unclassified))} sans niveau d'exposition : leur hébergement ne peut pas "
        f"être décidé, elles restent sur site par prudence ({_list(unclassified)}).",
    )
    homeless = [*hosting.undecided, *hosting.none_admissible]
    add(
        "hosting",
        "moyen",
        homeless,
        f"{_tables(len(homeless))} sans hébergement admissible selon le cadre d'usage du cloud "
        f"(A09), placées sur site par prudence : {_list(homeless)}.",
    )
    add(
        "unreviewed",
        "moyen",
        quality.unreviewed,
        f"{_tables(len(quality.unreviewed))} silver ou gold sans revue de qualité (A13) : leur "
        f"qualité n'est pas connue ({_list(quality.unreviewed)}).",
    )
    low = [q for q in quality.tables if q.score is not None and q.score < LOW_SCORE]
    if low:
        worst = min(low, key=lambda q: q.score or 0.0)
        add(
            "low_quality",
            "élevé" if (worst.score or 0.0) < VERY_LOW_SCORE else "moyen",
            [q.table for q in low],
            f"{_tables(len(low))} sous {format_percent_fr(LOW_SCORE)} de lignes conformes lors "
            f"de la dernière revue ; la plus basse : {worst.table} "
            f"({format_percent_fr(worst.score or 0.0)}).",
        )
    add(
        "blocked",
        "moyen",
        activity.blocked,
        f"{format_count_fr(len(activity.blocked), 'livraison retenue', 'livraisons retenues')} "
        f"par la revue de qualité : {_list(activity.blocked)}. Les corrections se font à la "
        "source.",
    )
    add(
        "failed_runs",
        "moyen",
        activity.failed,
        f"{format_count_fr(len(activity.failed), 'traitement')} en échec dans le journal : "
        f"{_list(activity.failed)}.",
    )
    orphans = [s.name for s in sources if not s.owners]
    add(
        "no_owner",
        "élevé",
        orphans,
        f"{format_count_fr(len(orphans), 'source')} sans direction responsable : {_list(orphans)}.",
    )
    single = [s.name for s in sources if len(s.owners) == 1]
    add(
        "single_owner",
        "faible",
        single,
        f"{format_count_fr(len(single), 'source')} sur {format_int_fr(len(sources))} "
        f"{'repose' if len(single) < 2 else 'reposent'} sur une seule direction responsable, "
        "et le réseau des administrateurs de données n'est pas encore constitué (feuille de "
        "route, section 4.1) : désigner un suppléant par source.",
    )
    traced = {g.rsplit("/", 1)[-1] for g in lineage.gold_tables}
    untraced = [
        f"gold/{t['name']}" for t in tables if t["layer"] == "gold" and t["name"] not in traced
    ]
    add(
        "lineage",
        "moyen",
        untraced,
        f"{_tables(len(untraced))} gold sans lignage jusqu'à leurs sources : l'origine de leurs "
        f"chiffres ne peut pas être retrouvée ({_list(untraced)}).",
    )
    return tuple(sorted(found, key=lambda r: _SEVERITY.index(r.severity)))
