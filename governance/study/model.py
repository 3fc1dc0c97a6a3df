"""What the A15 opportunity study holds: plain frozen records, every figure computed.

:func:`governance.study.build.compute` fills them from the lake's metadata and the cost model;
:mod:`governance.study.render` writes them as French HTML and Markdown. ``Study.to_dict()``
gives the same content as JSON-ready data (``lake study --json``, tests).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from governance.study.cost import CostModel

__all__ = [
    "Activity",
    "CostLine",
    "Costs",
    "DomainRoles",
    "Governance",
    "GrowthPoint",
    "Hosting",
    "HostingShare",
    "InventoryGroup",
    "LevelCount",
    "Lineage",
    "Placement",
    "Quality",
    "Recommendation",
    "ReviewPoint",
    "Risk",
    "SourceUsage",
    "StaffCost",
    "Study",
    "TableQuality",
    "Use",
    "Volume",
    "YearCost",
]


@dataclass(frozen=True)
class Volume:
    """Tables, rows and bytes of a group of tables (rows unknown to the log count as 0)."""

    tables: int = 0
    rows: int = 0
    size_bytes: int = 0


@dataclass(frozen=True)
class InventoryGroup:
    """A business domain or a source: its owners, its total and its volume per layer."""

    name: str
    owners: tuple[str, ...]
    total: Volume
    layers: Mapping[str, Volume]


@dataclass(frozen=True)
class GrowthPoint:
    """One silver batch of the run log: what it added to the lake."""

    at: dt.datetime
    source: str
    batch_id: str
    rows_in: int
    rows_added: int
    rows_updated: int
    quarantined: int
    cumulative_added: int
    quality: str


@dataclass(frozen=True)
class SourceUsage:
    """Measured jobs of one run-log ``source`` (a gold job names its sources, comma-joined).

    Attributes:
        hours: Sum of the runs' ``duration_s`` / 3600, every layer and status.
        deliveries: Distinct batches (``batch_id``) the runs processed.
        hosting: Where the jobs must run: the most restrictive placement of the source's tables.
    """

    source: str
    runs: int
    deliveries: int
    hours: float
    hosting: str


@dataclass(frozen=True)
class Activity:
    """The run log: growth per delivery and measured compute."""

    growth: tuple[GrowthPoint, ...]
    added_per_delivery: Mapping[str, float]
    usage: tuple[SourceUsage, ...]
    runs: int
    failed: tuple[str, ...]
    blocked: tuple[str, ...]

    @property
    def measured_hours(self) -> float:
        """Every run's duration, in hours."""
        return sum(u.hours for u in self.usage)


@dataclass(frozen=True)
class ReviewPoint:
    """One quality review, and the lake's score just after it."""

    review_id: str
    at: dt.datetime
    table: str
    rows_reviewed: int
    rows_rejected: int
    score: float | None
    lake_score: float | None


@dataclass(frozen=True)
class TableQuality:
    """A table's latest score and how it moved since its previous review."""

    table: str
    score: float | None
    reviewed_at: dt.datetime
    reviews: int
    previous: float | None
    direction: str  # up, down, stable, none


@dataclass(frozen=True)
class Quality:
    """The A13 figures: number of reviews, trend, latest score per table, tables never reviewed."""

    reviews: int
    points: tuple[ReviewPoint, ...]
    tables: tuple[TableQuality, ...]
    lake_score: float | None
    unreviewed: tuple[str, ...]


@dataclass(frozen=True)
class LevelCount:
    """Tables and bytes at one exposure level (None: not classified)."""

    level: int | None
    label: str
    tables: int
    size_bytes: int


@dataclass(frozen=True)
class Sensitivity:
    """Tables per exposure level and personal data."""

    levels: tuple[LevelCount, ...]
    tables: int
    personal_tables: int
    personal_bytes: int


@dataclass(frozen=True)
class Lineage:
    """The lineage picture: counts, source -> gold pairs and the (checked) SVG drawing."""

    datasets: int
    column_edges: int
    pairs: tuple[tuple[str, str], ...]
    sources: tuple[str, ...]
    gold_tables: tuple[str, ...]
    svg: str | None


@dataclass(frozen=True)
class Use:
    """A gold table: a use the lake serves."""

    domain: str
    table: str
    description: str
    sources: tuple[str, ...]
    level: int | None
    personal: bool
    hosting: str


@dataclass(frozen=True)
class Placement:
    """A table's A09 decision and where the study places it (its most open admissible option)."""

    table: str
    layer: str
    domain: str
    size_bytes: int
    level: int | None
    personal: bool
    hostings: tuple[str, ...]
    hosting: str
    decided: bool
    rule_id: str
    explanation_fr: str


@dataclass(frozen=True)
class HostingShare:
    """Tables and bytes admissible on one hosting option, and those placed there."""

    hosting: str
    label: str
    admissible_tables: int
    admissible_bytes: int
    placed_tables: int
    placed_bytes: int


@dataclass(frozen=True)
class Hosting:
    """The hosting split of the lake, from the A09 cloud decisions."""

    shares: tuple[HostingShare, ...]
    placements: tuple[Placement, ...]
    undecided: tuple[str, ...]
    none_admissible: tuple[str, ...]


@dataclass(frozen=True)
class CostLine:
    """One scenario: the whole lake on one option, or each table on its most open option.

    Attributes:
        admissible: Every table is admissible there (always true for the split).
        stored_bytes: Bytes kept, replication included.
    """

    scenario: str
    label: str
    admissible: bool
    stored_bytes: float
    storage_eur_year: float
    compute_eur_year: float
    people_eur_year: float
    total_eur_year: float
    horizon_eur: float


@dataclass(frozen=True)
class YearCost:
    """One year of the split scenario over the horizon, with the volume grown by deliveries."""

    year: int
    size_bytes: float
    storage_eur: float
    compute_eur: float
    people_eur: float
    total_eur: float


@dataclass(frozen=True)
class StaffCost:
    """One role of the roadmap's table, the ETP the lake takes and their cost per year."""

    role: str
    etp: float
    lake_share: float
    lake_etp: float
    eur_year: float


@dataclass(frozen=True)
class Costs:
    """Everything the cost model drives: growth rate, hours per year, scenarios, horizon."""

    hours_per_year: float
    rows_added_per_year: float
    growth_rate: float
    scenarios: tuple[CostLine, ...]
    years: tuple[YearCost, ...]
    staff: tuple[StaffCost, ...]
    seed_etp: float
    lake_etp: float
    budget_eur: float | None
    infra_eur_year: float
    budget_share: float | None
    findings_fr: tuple[str, ...]

    def scenario(self, name: str) -> CostLine:
        """The scenario named ``name`` (a hosting option or ``split``)."""
        return next(c for c in self.scenarios if c.scenario == name)


@dataclass(frozen=True)
class DomainRoles:
    """Who answers for a business domain's data."""

    domain: str
    owners: tuple[str, ...]
    tables: int
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Governance:
    """Roles around the lake: the data administrator and the owning directions."""

    administrator: str
    administrator_source: str
    committee: str
    operator: str
    domains: tuple[DomainRoles, ...]


@dataclass(frozen=True)
class Recommendation:
    """A kind of lake and the uses it serves, chosen by a rule from the hosting split."""

    id: str
    kind: str
    hostings: tuple[str, ...]
    tables: int
    size_bytes: int
    domains: tuple[str, ...]
    uses: tuple[str, ...]
    text_fr: str


@dataclass(frozen=True)
class Risk:
    """A risk a rule found in the metadata, with the tables or sources concerned."""

    id: str
    severity: str  # élevé, moyen, faible
    count: int
    items: tuple[str, ...]
    text_fr: str


@dataclass(frozen=True)
class Study:
    """The generated A15 opportunity study."""

    generated_at: dt.datetime
    catalog_generated_at: str | None
    totals: Volume
    domains: tuple[InventoryGroup, ...]
    sources: tuple[InventoryGroup, ...]
    activity: Activity
    quality: Quality
    sensitivity: Sensitivity
    lineage: Lineage
    uses: tuple[Use, ...]
    hosting: Hosting
    costs: Costs
    governance: Governance
    recommendations: tuple[Recommendation, ...]
    risks: tuple[Risk, ...]
    notes: tuple[str, ...]
    cost_model: CostModel

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary: dates in ISO 8601, tuples as lists, keys as text."""
        data = {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}
        data["cost_model"] = self.cost_model.to_dict()
        data["activity"]["measured_hours"] = self.activity.measured_hours
        return data


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
