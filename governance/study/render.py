"""The A15 opportunity study as French pages: static HTML and Markdown.

Both come from the governance templates (``study.html``, ``study.md.j2``) and from one view of
the study in which every number is already written the French way
(:mod:`governance.study.format`). The HTML page extends the lake's shared page skeleton
(:mod:`lake.pages`): it escapes every value (autoescape), embeds its CSS, draws its charts as
inline SVG (bars for the inventory per domain and the cost per hosting option, a line for the
quality trend), each followed by a table with the same figures, and forbids scripts with a
Content-Security-Policy: it can be mailed or opened offline. In the Markdown, every value is
escaped for Markdown (`lake.pages.markdown_escape`: ``<`` and ``>`` as entities, punctuation that
Markdown reads with a backslash, line breaks as spaces) so that data never becomes markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from governance.pages import environment
from governance.study.build import LEVEL_WORDS
from governance.study.cost import HOSTING_LABELS, HOSTINGS
from governance.study.estimate import SPLIT
from governance.study.format import (
    NBSP,
    NNBSP,
    format_count_fr,
    format_date_fr,
    format_decimal_fr,
    format_eur_fr,
    format_hours_fr,
    format_int_fr,
    format_keur_fr,
    format_percent_fr,
    format_size_fr,
)
from governance.study.model import InventoryGroup, Study, Volume
from lake.pages.charts import Bar, LinePoint, bar_chart, line_chart
from lake.pages.french import format_date_short_fr

__all__ = ["render_html", "render_markdown"]

_DIRECTION = {"up": "en hausse", "down": "en baisse", "stable": "stable", "none": "une seule revue"}
_DECISION = {
    "promoted": "promue",
    "promoted_with_warnings": "promue avec avertissements",
    "blocked": "retenue",
    "": "sans revue",
}
_RISK_TONE = {"élevé": "blocking", "moyen": "warning", "faible": "ok"}  # lake.pages CSS tones


def render_html(study: Study, out: Path) -> Path:
    """Write the study as one self-contained French HTML page; returns ``out``.

    The folder of ``out`` is created if needed; an existing file is overwritten.
    """
    return _write(environment().get_template("study.html"), _view(study, charts=True), out)


def render_markdown(study: Study, out: Path) -> Path:
    """Write the study as French Markdown (same content, tables instead of charts); returns ``out``.

    The folder of ``out`` is created if needed; an existing file is overwritten.
    """
    template = environment(output="markdown").get_template("study.md.j2")
    return _write(template, _view(study), out)


def _write(template: jinja2.Template, view: dict[str, Any], out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(template.render(s=view), encoding="utf-8")
    return out


def _price(value: float) -> str:
    return f"{format_decimal_fr(value, 4)}{NBSP}€"


def _volume(v: Volume) -> dict[str, str]:
    return {
        "tables": format_int_fr(v.tables),
        "rows": format_int_fr(v.rows),
        "size": format_size_fr(v.size_bytes),
    }


def _group(g: InventoryGroup) -> dict[str, Any]:
    return {
        "name": g.name,
        "owners": ", ".join(g.owners) or "non renseignée",
        **_volume(g.total),
        "layers": "; ".join(
            f"{layer} : {format_count_fr(v.tables, 'table')}, {format_int_fr(v.rows)} lignes, "
            f"{format_size_fr(v.size_bytes)}"
            for layer, v in g.layers.items()
        ),
    }


def _score(value: float | None) -> str:
    return "non calculable" if value is None else format_percent_fr(value)


def _view(study: Study, *, charts: bool = False) -> dict[str, Any]:
    """Everything the templates print, already formatted; charts only for HTML."""
    q, c, model = study.quality, study.costs, study.cost_model
    split = c.scenario(SPLIT)
    view: dict[str, Any] = {
        "generated": format_date_fr(study.generated_at, time=True),
        "totals": _volume(study.totals),
        "domain_count": format_int_fr(len(study.domains)),
        "domains": [_group(g) for g in study.domains],
        "sources": [_group(g) for g in study.sources],
        "growth": [
            {
                "date": format_date_fr(p.at, time=True),
                "source": p.source,
                "batch": p.batch_id,
                "rows_in": format_int_fr(p.rows_in),
                "added": format_int_fr(p.rows_added),
                "updated": format_int_fr(p.rows_updated),
                "quarantined": format_int_fr(p.quarantined),
                "cumulative": format_int_fr(p.cumulative_added),
                "quality": _DECISION.get(p.quality, p.quality),
            }
            for p in study.activity.growth
        ],
        "usage": [
            {
                "source": u.source,
                "runs": format_int_fr(u.runs),
                "deliveries": format_int_fr(u.deliveries),
                "hours": format_hours_fr(u.hours),
                "hosting": HOSTING_LABELS[u.hosting],
            }
            for u in study.activity.usage
        ],
        "runs": format_count_fr(study.activity.runs, "traitement"),
        "measured_hours": format_hours_fr(study.activity.measured_hours),
        "reviews": format_count_fr(q.reviews, "revue"),
        "lake_score": _score(q.lake_score),
        "review_points": [
            {
                "date": format_date_fr(p.at, time=True),
                "table": p.table,
                "score": _score(p.score),
                "lake_score": _score(p.lake_score),
            }
            for p in q.points
        ],
        "quality_tables": [
            {
                "table": t.table,
                "score": _score(t.score),
                "date": format_date_fr(t.reviewed_at),
                "reviews": format_int_fr(t.reviews),
                "direction": _DIRECTION[t.direction],
            }
            for t in q.tables
        ],
        "unreviewed": list(q.unreviewed),
        "levels": [
            {
                "label": lv.label,
                "tables": format_int_fr(lv.tables),
                "size": format_size_fr(lv.size_bytes),
            }
            for lv in study.sensitivity.levels
        ],
        "personal": (
            f"{format_count_fr(study.sensitivity.personal_tables, 'table')} sur "
            f"{format_int_fr(study.sensitivity.tables)}, "
            f"{format_size_fr(study.sensitivity.personal_bytes)}"
        ),
        "lineage": {
            "datasets": format_int_fr(study.lineage.datasets),
            "column_edges": format_int_fr(study.lineage.column_edges),
            "sources": format_int_fr(len(study.lineage.sources)),
            "gold": format_int_fr(len(study.lineage.gold_tables)),
            "pairs": [{"source": s, "gold": g} for s, g in study.lineage.pairs],
        },
        "uses": _uses(study),
        "shares": [
            {
                "label": s.label,
                "admissible": f"{format_count_fr(s.admissible_tables, 'table')}, "
                f"{format_size_fr(s.admissible_bytes)}",
                "placed": f"{format_count_fr(s.placed_tables, 'table')}, "
                f"{format_size_fr(s.placed_bytes)}",
            }
            for s in study.hosting.shares
        ],
        "placements": [
            {
                "table": p.table,
                "level": LEVEL_WORDS.get(p.level, str(p.level)),
                "personal": "oui" if p.personal else "non",
                "hostings": ", ".join(HOSTING_LABELS[h] for h in p.hostings) or "aucun",
                "hosting": HOSTING_LABELS[p.hosting],
                "why": p.explanation_fr or ("aucune décision A09" if not p.decided else ""),
            }
            for p in study.hosting.placements
        ],
        "prices": [
            {
                "label": HOSTING_LABELS[h],
                "storage": f"{_price(model.hosting[h].storage_eur_per_tb_month)} par To-mois",
                "vcpu": f"{_price(model.hosting[h].vcpu_eur_per_hour)} par vCPU-heure",
                "replication": format_decimal_fr(model.hosting[h].replication_factor, 2),
            }
            for h in HOSTINGS
        ],
        "params": {
            "source": model.source,
            "vcpus": format_int_fr(model.vcpus),
            "deliveries": format_decimal_fr(model.deliveries_per_year, 1),
            "horizon": format_count_fr(model.horizon_years, "an"),
            "daily_cost": format_eur_fr(model.daily_cost_eur),
            "days": format_decimal_fr(model.days_per_year, 1),
            "hours_per_year": format_hours_fr(c.hours_per_year),
            "rows_per_year": format_decimal_fr(c.rows_added_per_year, 1),
            # Not format_percent_fr: a growth rate may exceed 100 %.
            "growth_rate": f"{format_decimal_fr(100 * c.growth_rate, 1)}{NNBSP}%",
        },
        "scenarios": [
            {
                "label": s.label if s.scenario != SPLIT else "Répartition par table",
                "split": s.scenario == SPLIT,
                "admissible": "oui" if s.admissible else "non",
                "stored": format_size_fr(s.stored_bytes),
                "storage": format_eur_fr(s.storage_eur_year),
                "compute": format_eur_fr(s.compute_eur_year),
                "people": format_eur_fr(s.people_eur_year),
                "total": format_eur_fr(s.total_eur_year),
                "horizon": format_eur_fr(s.horizon_eur),
            }
            for s in c.scenarios
        ],
        "split_total": format_eur_fr(split.total_eur_year),
        "split_horizon": format_eur_fr(split.horizon_eur),
        "years": [
            {
                "year": f"année {y.year}",
                "size": format_size_fr(y.size_bytes),
                "storage": format_eur_fr(y.storage_eur),
                "compute": format_eur_fr(y.compute_eur),
                "people": format_eur_fr(y.people_eur),
                "total": format_eur_fr(y.total_eur),
            }
            for y in c.years
        ],
        "staff": [
            {
                "role": s.role,
                "etp": format_decimal_fr(s.etp, 2),
                "share": format_percent_fr(100 * s.lake_share),
                "lake_etp": format_decimal_fr(s.lake_etp, 2),
                "cost": format_eur_fr(s.eur_year),
            }
            for s in c.staff
        ],
        "staff_source": model.staff_source,
        "seed_etp": format_decimal_fr(c.seed_etp, 2),
        "lake_etp": format_decimal_fr(c.lake_etp, 2),
        "responsibilities": [
            {
                "role": r.role,
                "count": format_int_fr(r.count),
                "target": format_int_fr(r.target_2023),
            }
            for r in model.responsibilities
        ],
        "budget": [
            {
                "period": b.period,
                "amount": format_keur_fr(b.k_eur) + (" par an" if b.per_year else ""),
                "note": b.note,
            }
            for b in model.budget
        ],
        "budget_source": model.budget_source,
        "findings": list(c.findings_fr),
        "governance": study.governance,
        "owners": [
            {
                "domain": d.domain,
                "owners": ", ".join(d.owners) or "non renseignée",
                "tables": format_int_fr(d.tables),
                "sources": ", ".join(d.sources) or "aucune",
            }
            for d in study.governance.domains
        ],
        "recommendations": [
            {
                "kind": r.kind,
                "text": r.text_fr,
                "hostings": ", ".join(HOSTING_LABELS[h] for h in r.hostings) or "aucun",
            }
            for r in study.recommendations
        ],
        "risks": [
            {"severity": r.severity, "css": _RISK_TONE[r.severity], "text": r.text_fr}
            for r in study.risks
        ],
        "notes": list(study.notes),
    }
    if charts:
        view["inventory_svg"] = bar_chart(
            [
                Bar(
                    g.name,
                    g.total.size_bytes,
                    f"{format_size_fr(g.total.size_bytes)}, "
                    f"{format_count_fr(g.total.tables, 'table')}",
                )
                for g in study.domains
            ],
            title="Volume du lac par domaine métier",
            chart_id="inventaire",
        )
        view["quality_svg"] = _quality_svg(study)
        view["cost_svg"] = bar_chart(
            [
                Bar(
                    "Répartition par table" if s.scenario == SPLIT else s.label,
                    s.storage_eur_year + s.compute_eur_year,
                    format_eur_fr(s.storage_eur_year + s.compute_eur_year) + " par an",
                )
                for s in c.scenarios
            ],
            title="Coût annuel de l'infrastructure (stockage et calcul) par option d'hébergement",
            chart_id="couts",
        )
        view["lineage_svg"] = Markup(study.lineage.svg) if study.lineage.svg else None
    return view


def _uses(study: Study) -> list[dict[str, Any]]:
    domains: dict[str, list[dict[str, str]]] = {}
    for u in study.uses:
        domains.setdefault(u.domain, []).append(
            {
                "table": u.table,
                "description": u.description or "(sans description)",
                "sources": ", ".join(u.sources) or "non renseignées",
                "level": LEVEL_WORDS.get(u.level, str(u.level)),
                "personal": "oui" if u.personal else "non",
                "hosting": HOSTING_LABELS[u.hosting],
            }
        )
    return [{"domain": d, "tables": tables} for d, tables in domains.items()]


def _quality_svg(study: Study) -> Markup:
    points: Sequence[LinePoint] = [
        LinePoint(
            date=format_date_short_fr(p.at),
            value=p.lake_score,
            text=format_percent_fr(p.lake_score),
            label=f"{format_date_fr(p.at, time=True)}, {p.table} : "
            f"{format_percent_fr(p.lake_score)}",
        )
        for p in study.quality.points
        if p.lake_score is not None
    ]
    desc = "Aucune revue de qualité pour l'instant."
    if points:
        low, high = min(p.value for p in points), max(p.value for p in points)
        desc = (
            f"Score du lac après la dernière revue : {points[-1].text}. Sur "
            f"{format_count_fr(len(points), 'revue')}, il a varié entre "
            f"{format_percent_fr(low)} et {format_percent_fr(high)}."
        )
    return line_chart(
        points, title="Évolution du score de qualité du lac", desc=desc, chart_id="qualite"
    )
