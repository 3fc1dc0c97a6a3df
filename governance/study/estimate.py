"""The A15 cost estimate: scenarios per hosting option, the per-table split, the horizon.

Inputs are figures the study already computed (bytes, placements, measured jobs, rows added per
delivery) and the cost model. Formulas (amounts in euros excluding VAT, 1 TB = 10¹² bytes):

- ``hours_per_year = Σ_sources (hours_s / deliveries_s) × deliveries_per_year``: the measured
  hours of a run-log source (every layer and status) divided by its distinct batches, times the
  deliveries a source makes per year;
- scenario "everything on ``h``": storage ``bytes × replication[h] / 10¹² × price_tb_month[h] ×
  12``, compute ``hours_per_year × vcpus × price_vcpu_hour[h]``, people
  ``Σ etp × lake_share × days_per_year × daily_cost``; admissible only if every table admits ``h``;
- scenario "split": each table's bytes priced on its placement (most open admissible option),
  each source's hours priced where its most restricted table is placed;
- growth: ``rows_added_per_year = Σ_sources mean(rows added per silver batch) ×
  deliveries_per_year``, ``rate = rows_added_per_year / silver rows now`` (0 without silver
  rows); the volume of year ``y`` (1..horizon) is ``bytes × (1 + rate × y)`` (end of year), and
  so is its storage cost; compute and people stay constant;
- horizon of a scenario: ``storage × Σ_y (1 + rate × y) + horizon × (compute + people)``;
- budget share: ``(split storage + split compute) / (last budget line × 1000)``, when that line
  is an annual amount.
"""

from __future__ import annotations

import dataclasses

from governance.study.cost import (
    HOSTING_LABELS,
    HOSTINGS,
    CostModel,
    compute_eur_year,
    people_eur_year,
    storage_eur_year,
)
from governance.study.format import (
    format_count_fr,
    format_decimal_fr,
    format_eur_fr,
    format_keur_fr,
    format_percent_fr,
)
from governance.study.model import (
    Activity,
    CostLine,
    Costs,
    Hosting,
    StaffCost,
    YearCost,
)

__all__ = ["SPLIT", "estimate"]

SPLIT = "split"


def estimate(
    model: CostModel, size_bytes: int, hosting: Hosting, activity: Activity, silver_rows: int
) -> Costs:
    """Costs per year and over the horizon, per scenario, with the findings in French.

    Args:
        model: The cost model.
        size_bytes: Bytes of every catalogued table.
        hosting: Placements of the tables (most open admissible option).
        activity: Measured jobs and rows added per delivery, from the run log.
        silver_rows: Rows of the silver tables now (denominator of the growth rate).
    """
    per_year = model.deliveries_per_year
    yearly_hours = {u.source: u.hours / u.deliveries * per_year for u in activity.usage}
    hours_per_year = sum(yearly_hours.values())
    rows_added_per_year = sum(activity.added_per_delivery.values()) * per_year
    rate = rows_added_per_year / silver_rows if silver_rows else 0.0
    horizon = model.horizon_years
    growth_sum = horizon + rate * horizon * (horizon + 1) / 2  # Σ_{y=1..H} (1 + rate × y)
    people = people_eur_year(model)
    scenarios = []
    for h in HOSTINGS:
        price = model.hosting[h]
        storage = storage_eur_year(size_bytes, price)
        compute = compute_eur_year(hours_per_year, model.vcpus, price)
        scenarios.append(
            CostLine(
                scenario=h,
                label=HOSTING_LABELS[h],
                admissible=all(h in p.hostings for p in hosting.placements),
                stored_bytes=size_bytes * price.replication_factor,
                storage_eur_year=storage,
                compute_eur_year=compute,
                people_eur_year=people,
                total_eur_year=storage + compute + people,
                horizon_eur=storage * growth_sum + horizon * (compute + people),
            )
        )
    storage = sum(
        storage_eur_year(p.size_bytes, model.hosting[p.hosting]) for p in hosting.placements
    )
    compute = sum(
        compute_eur_year(yearly_hours[u.source], model.vcpus, model.hosting[u.hosting])
        for u in activity.usage
    )
    split = CostLine(
        scenario=SPLIT,
        label="chaque table sur son option la plus ouverte",
        admissible=True,
        stored_bytes=sum(
            p.size_bytes * model.hosting[p.hosting].replication_factor for p in hosting.placements
        ),
        storage_eur_year=storage,
        compute_eur_year=compute,
        people_eur_year=people,
        total_eur_year=storage + compute + people,
        horizon_eur=storage * growth_sum + horizon * (compute + people),
    )
    scenarios.append(split)
    years = tuple(
        YearCost(
            year=y,
            size_bytes=size_bytes * (1 + rate * y),
            storage_eur=storage * (1 + rate * y),
            compute_eur=compute,
            people_eur=people,
            total_eur=storage * (1 + rate * y) + compute + people,
        )
        for y in range(1, horizon + 1)
    )
    budget = model.reference_budget_eur
    infra = storage + compute
    staff = tuple(
        StaffCost(
            role=s.role,
            etp=s.etp,
            lake_share=s.lake_share,
            lake_etp=s.lake_etp,
            eur_year=s.lake_etp * model.days_per_year * model.daily_cost_eur,
        )
        for s in model.staff
    )
    costs = Costs(
        hours_per_year=hours_per_year,
        rows_added_per_year=rows_added_per_year,
        growth_rate=rate,
        scenarios=tuple(scenarios),
        years=years,
        staff=staff,
        seed_etp=sum(s.etp for s in model.staff),
        lake_etp=sum(s.lake_etp for s in model.staff),
        budget_eur=budget,
        infra_eur_year=infra,
        budget_share=infra / budget if budget else None,
        findings_fr=(),
    )
    return dataclasses.replace(costs, findings_fr=_findings(costs, model, hosting, activity))


def _findings(
    costs: Costs, model: CostModel, hosting: Hosting, activity: Activity
) -> tuple[str, ...]:
    """What the figures say, one French sentence per rule that applies."""
    split = costs.scenario(SPLIT)
    found = []
    if split.total_eur_year > 0:
        people_share = 100 * split.people_eur_year / split.total_eur_year
        sentence = (
            f"Les compétences mobilisées ({format_decimal_fr(costs.lake_etp, 2)} ETP) "
            f"représentent {format_percent_fr(people_share)} du coût annuel estimé "
            f"({format_eur_fr(split.total_eur_year)}) ; l'infrastructure (stockage et calcul) "
            f"en représente {format_percent_fr(100 - people_share)}"
        )
        found.append(
            sentence + " : le coût du lac tient d'abord aux personnes, l'hébergement pèse peu."
            if people_share >= 50
            else sentence + " : le choix de l'hébergement pèse sur le coût total."
        )
    if costs.budget_eur and costs.budget_share is not None:
        last = model.budget[-1]
        verb = "dépasse" if costs.budget_share > 1 else "représente"
        found.append(
            f"L'infrastructure coûte {format_eur_fr(costs.infra_eur_year)} par an au volume "
            f"actuel : elle {verb} {format_percent_fr(100 * costs.budget_share)} du budget "
            f"« data » annuel de la feuille de route ({format_keur_fr(last.k_eur)} par an, "
            f"{last.period})."
        )
    options = [c for c in costs.scenarios if c.scenario != SPLIT]
    cheapest = min(options, key=lambda c: c.total_eur_year)
    if not cheapest.admissible:
        refused = sum(cheapest.scenario not in p.hostings for p in hosting.placements)
        found.append(
            f"Tout héberger en {cheapest.label} coûterait le moins "
            f"({format_eur_fr(cheapest.total_eur_year)} par an), mais "
            f"{format_count_fr(refused, 'table')} n'y "
            f"{'est' if refused < 2 else 'sont'} pas admissible{'' if refused < 2 else 's'} : "
            "la répartition par table reste la référence."
        )
    elif cheapest.total_eur_year < split.total_eur_year:
        found.append(
            f"Tout héberger en {cheapest.label} serait admissible et coûterait "
            f"{format_eur_fr(split.total_eur_year - cheapest.total_eur_year)} de moins par an "
            "que la répartition par table."
        )
    if costs.growth_rate > 0:
        added = sum(activity.added_per_delivery.values())
        found.append(
            f"Au rythme mesuré ({format_decimal_fr(added, 1)} lignes ajoutées par livraison, "
            f"toutes sources, {format_decimal_fr(model.deliveries_per_year, 1)} livraisons par "
            f"an), le volume du lac serait multiplié par "
            f"{format_decimal_fr(1 + costs.growth_rate * model.horizon_years, 1)} en "
            f"{format_count_fr(model.horizon_years, 'an')}."
        )
    else:
        found.append(
            "Le journal des traitements ne montre encore aucune ligne ajoutée en silver : le "
            "volume est supposé constant sur l'horizon."
        )
    return tuple(found)
