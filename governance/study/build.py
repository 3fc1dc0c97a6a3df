"""The A15 data-lake opportunity study, generated from the lake's own metadata.

Roadmap action A15 asks "quels types de data lake pour servir quels usages", which governance, and
what the lake costs in people and money to build and run. :func:`compute` answers from plain
inputs (:class:`StudyInputs`): the catalogue (``Catalog.to_dict()``), the run log rows, the
quality-result rows, a lineage summary and the A09 cloud decisions, plus the editable cost model
(``policy/cost_model.yaml``, :func:`load_cost_model`). Every figure is computed; none is typed.

Definitions:

- inventory: tables, rows and bytes per business domain and per source, each split by layer;
- growth, measured compute and quality: see :mod:`governance.study.history` (a review scores
  ``100 × (1 − rows_rejected / rows_reviewed)``; the number of reviews is the number of distinct
  ``review_id``, the A13 indicator);
- sensitivity: tables and bytes per exposure level (1-4, unclassified), personal tables;
- uses: the gold tables, per business domain, with their description;
- placement: each table goes to its most open admissible hosting option (public cloud, then
  SecNumCloud, then on premises); a table without decision or with no admissible option stays on
  premises; a source's jobs run where its most restricted table is placed;
- costs: see :mod:`governance.study.estimate`; recommendations and risks: see
  :mod:`governance.study.rules`.

Governance does not import the quality or ingestion packages: rows arrive as plain mappings.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from governance.study.cost import HOSTING_LABELS, HOSTINGS, CostModel, load_cost_model
from governance.study.estimate import estimate
from governance.study.history import as_utc, review_quality, run_activity, table_key, to_int
from governance.study.model import (
    DomainRoles,
    Governance,
    Hosting,
    HostingShare,
    InventoryGroup,
    LevelCount,
    Lineage,
    Placement,
    Sensitivity,
    Study,
    Use,
    Volume,
)
from governance.study.rules import recommend, risks
from governance.study.svg import checked_svg
from lake.layers import DATA_LAYERS

__all__ = ["LAYERS", "LEVEL_WORDS", "NO_DOMAIN", "StudyInputs", "compute", "load_cost_model"]

LAYERS: tuple[str, ...] = DATA_LAYERS
NO_DOMAIN = "Domaine non renseigné"
LEVEL_WORDS: Mapping[int | None, str] = {
    1: "niveau 1 : accès habilités internes au MEAE",
    2: "niveau 2 : ouvert à tout interne du MEAE",
    3: "niveau 3 : ouvert aux externes habilités",
    4: "niveau 4 : ouvert à tous",
    None: "non classé",
}
_ADMINISTRATOR = (
    "L'administrateur ministériel des données (AMD), le directeur du numérique du ministère, "
    "pilote la feuille de route des données et porte le lac."
)
_ADMINISTRATOR_SOURCE = (
    "Feuille de route des données du MEAE 2021-2023, section 4.1 « S'appuyer sur le pilotage "
    "par l'Administrateur ministériel des données »"
)
_COMMITTEE = (
    "Le comité stratégique du système d'information diplomatique (COSSID) arbitre les sujets "
    "« données » (section 4.3)."
)
_OPERATOR = (
    "La direction du numérique (DNUM) conduit l'action A15, avec les directions métiers comme "
    "contributrices (annexe 1)."
)


@dataclass(frozen=True)
class StudyInputs:
    """What the study reads, as plain data.

    Attributes:
        catalog: ``Catalog.to_dict()`` (``tables`` with layer, name, domain, owner, description,
            sources, rows, size_bytes, level, personal...).
        runs: Run-log rows (run_id, batch_id, source, layer, status, started_at, finished_at,
            duration_s, rows_in, rows_out, quarantined, inserted, updated, quality...).
        quality: Quality-result rows (review_id, reviewed_at, table, rows_reviewed,
            rows_rejected); one row per rule per review is fine.
        lineage: ``datasets`` (int), ``column_edges`` (int), ``sources_to_gold`` (pairs of
            source and gold table), ``svg`` (a drawing, or None).
        cloud: One A09 decision per table: table, layer, level, personal, hostings (list),
            rule_id, explanation_fr.
        generated_at: Time printed on the study; UTC now when None.
    """

    catalog: Mapping[str, Any]
    runs: Sequence[Mapping[str, Any]] = ()
    quality: Sequence[Mapping[str, Any]] = ()
    lineage: Mapping[str, Any] = field(default_factory=dict)
    cloud: Sequence[Mapping[str, Any]] = ()
    generated_at: dt.datetime | None = None


def compute(inputs: StudyInputs, cost: CostModel) -> Study:
    """Compute the opportunity study.

    Args:
        inputs: The lake's metadata as plain data.
        cost: The validated cost model.

    Returns:
        The study; ``notes`` lists what the inputs left unclear (unknown hostings, decisions
        for tables not in the catalogue, inconsistent totals, a refused drawing).
    """
    notes: list[str] = [str(w) for w in inputs.catalog.get("warnings") or []]
    tables = [dict(t) for t in inputs.catalog.get("tables") or []]
    totals = Volume(len(tables), sum(to_int(t.get("rows")) for t in tables), _bytes(tables))
    _check_totals(inputs.catalog.get("summary") or {}, totals, notes)
    unknown_rows = sum(t.get("rows") is None for t in tables)
    if unknown_rows:
        notes.append(f"{unknown_rows} table(s) sans nombre de lignes connu, comptées pour 0.")
    placements = _placements(tables, inputs.cloud, notes)
    placed = {p.table: p.hosting for p in placements}
    activity = run_activity(inputs.runs, tables, placed)
    quality = review_quality(inputs.quality, tables)
    sensitivity = _sensitivity(tables)
    lineage = _lineage(inputs.lineage, notes)
    uses = tuple(
        Use(
            domain=t.get("domain") or NO_DOMAIN,
            table=table_key(t),
            description=str(t.get("description") or ""),
            sources=tuple(str(s) for s in t.get("sources") or ()),
            level=t.get("level"),
            personal=bool(t.get("personal")),
            hosting=placed[table_key(t)],
        )
        for t in sorted(tables, key=lambda t: (t.get("domain") or NO_DOMAIN, t["name"]))
        if t["layer"] == "gold"
    )
    hosting = Hosting(
        shares=tuple(
            HostingShare(
                hosting=h,
                label=HOSTING_LABELS[h],
                admissible_tables=sum(h in p.hostings for p in placements),
                admissible_bytes=sum(p.size_bytes for p in placements if h in p.hostings),
                placed_tables=sum(p.hosting == h for p in placements),
                placed_bytes=sum(p.size_bytes for p in placements if p.hosting == h),
            )
            for h in HOSTINGS
        ),
        placements=placements,
        undecided=tuple(p.table for p in placements if not p.decided),
        none_admissible=tuple(p.table for p in placements if p.decided and not p.hostings),
    )
    silver_rows = sum(to_int(t.get("rows")) for t in tables if t["layer"] == "silver")
    domains = _groups(tables, lambda t: t.get("domain") or NO_DOMAIN)
    sources = _groups([t for t in tables if t["layer"] != "gold"], lambda t: str(t["name"]))
    return Study(
        generated_at=as_utc(inputs.generated_at) or dt.datetime.now(dt.UTC),
        catalog_generated_at=inputs.catalog.get("generated_at"),
        totals=totals,
        domains=domains,
        sources=sources,
        activity=activity,
        quality=quality,
        sensitivity=sensitivity,
        lineage=lineage,
        uses=uses,
        hosting=hosting,
        costs=estimate(cost, totals.size_bytes, hosting, activity, silver_rows),
        governance=Governance(
            administrator=_ADMINISTRATOR,
            administrator_source=_ADMINISTRATOR_SOURCE,
            committee=_COMMITTEE,
            operator=_OPERATOR,
            domains=tuple(
                DomainRoles(
                    domain=d.name,
                    owners=d.owners,
                    tables=d.total.tables,
                    sources=_domain_sources(tables, d.name),
                )
                for d in domains
            ),
        ),
        recommendations=recommend(hosting, uses),
        risks=risks(tables, quality, activity, hosting, lineage, sources),
        notes=tuple(notes),
        cost_model=cost,
    )


def _domain_sources(tables: Sequence[Mapping[str, Any]], domain: str) -> tuple[str, ...]:
    """The sources (bronze, silver, quarantine tables' names) of one business domain."""
    return tuple(
        sorted(
            {
                str(t["name"])
                for t in tables
                if t["layer"] != "gold" and (t.get("domain") or NO_DOMAIN) == domain
            }
        )
    )


def _bytes(tables: Sequence[Mapping[str, Any]]) -> int:
    return sum(to_int(t.get("size_bytes")) for t in tables)


def _owners(tables: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    names = (o.strip() for t in tables for o in str(t.get("owner") or "").split(","))
    return tuple(sorted({n for n in names if n}))


def _layer_order(layer: str) -> tuple[int, str]:
    return (LAYERS.index(layer) if layer in LAYERS else len(LAYERS), layer)


def _groups(tables: Sequence[Mapping[str, Any]], key: Any) -> tuple[InventoryGroup, ...]:
    """Tables grouped by ``key(table)``: owners, total, and volume per layer (layer order)."""
    grouped: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for table in tables:
        grouped[key(table)].append(table)
    groups = []
    for name in sorted(grouped):
        members = grouped[name]
        layers = sorted({str(t["layer"]) for t in members}, key=_layer_order)
        groups.append(
            InventoryGroup(
                name=name,
                owners=_owners(members),
                total=_volume(members),
                layers={lay: _volume([t for t in members if t["layer"] == lay]) for lay in layers},
            )
        )
    return tuple(groups)


def _volume(tables: Sequence[Mapping[str, Any]]) -> Volume:
    return Volume(len(tables), sum(to_int(t.get("rows")) for t in tables), _bytes(tables))


def _check_totals(summary: Mapping[str, Any], totals: Volume, notes: list[str]) -> None:
    for name, value in (
        ("tables", totals.tables),
        ("rows", totals.rows),
        ("size_bytes", totals.size_bytes),
    ):
        if name in summary and summary[name] != value:
            notes.append(
                f"Le résumé du catalogue indique {name} = {summary[name]}, "
                f"la somme de ses tables donne {value}."
            )


def _placements(
    tables: Sequence[Mapping[str, Any]], cloud: Sequence[Mapping[str, Any]], notes: list[str]
) -> tuple[Placement, ...]:
    decisions: dict[str, Mapping[str, Any]] = {}
    for d in cloud:
        name = str(d.get("table") or "")
        decisions[name if "/" in name else f"{d.get('layer')}/{name}"] = d
    keys = {table_key(t) for t in tables}
    for extra in sorted(set(decisions) - keys):
        notes.append(f"Décision d'hébergement pour {extra}, table absente du catalogue : ignorée.")
    placements = []
    for t in tables:
        decision = decisions.get(table_key(t))
        hostings: tuple[str, ...] = ()
        if decision is not None:
            given = [str(h) for h in decision.get("hostings") or ()]
            for h in given:
                if h not in HOSTINGS:
                    notes.append(
                        f"{table_key(t)} : hébergement inconnu {h!r} ignoré "
                        f"(options connues : {', '.join(HOSTINGS)})."
                    )
            hostings = tuple(h for h in HOSTINGS if h in given)
        placements.append(
            Placement(
                table=table_key(t),
                layer=str(t["layer"]),
                domain=str(t.get("domain") or NO_DOMAIN),
                size_bytes=to_int(t.get("size_bytes")),
                level=t.get("level"),
                personal=bool(t.get("personal")),
                hostings=hostings,
                hosting=hostings[-1] if hostings else HOSTINGS[0],
                decided=decision is not None,
                rule_id=str((decision or {}).get("rule_id") or ""),
                explanation_fr=str((decision or {}).get("explanation_fr") or ""),
            )
        )
    return tuple(placements)


def _sensitivity(tables: Sequence[Mapping[str, Any]]) -> Sensitivity:
    levels = []
    for level in (1, 2, 3, 4, None):
        members = [t for t in tables if t.get("level") == level]
        levels.append(LevelCount(level, LEVEL_WORDS[level], len(members), _bytes(members)))
    personal = [t for t in tables if t.get("personal")]
    return Sensitivity(tuple(levels), len(tables), len(personal), _bytes(personal))


def _lineage(lineage: Mapping[str, Any], notes: list[str]) -> Lineage:
    pairs = sorted({(str(p[0]), str(p[1])) for p in lineage.get("sources_to_gold") or ()})
    svg, problem = checked_svg(lineage.get("svg"))
    if problem:
        notes.append(f"Schéma de lignage non intégré : {problem}")
    return Lineage(
        datasets=to_int(lineage.get("datasets")),
        column_edges=to_int(lineage.get("column_edges")),
        pairs=tuple(pairs),
        sources=tuple(sorted({s for s, _ in pairs})),
        gold_tables=tuple(sorted({g for _, g in pairs})),
        svg=svg,
    )
