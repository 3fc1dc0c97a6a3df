"""The A15 cost model: editable prices and people, and the three cost formulas of the study.

The parameters live in ``policy/cost_model.yaml`` (French comments give each one's source or say
it is an assumption). :func:`load_cost_model` validates the file; every error names the file and
the dotted field, says what was expected and what was found.

Formulas (amounts in euros excluding VAT, 1 TB = 10¹² bytes):

- storage, per year, for ``size_bytes`` on hosting option ``h``:
  ``size_bytes × replication_factor[h] / 10¹² × storage_eur_per_tb_month[h] × 12``;
- compute, per year: ``hours_per_year × vcpus × vcpu_eur_per_hour[h]``, where ``hours_per_year``
  is measured from the run log and scaled to ``deliveries_per_year`` (see
  :func:`governance.study.build.compute`);
- people, per year: ``Σ_roles etp × lake_share × days_per_year × daily_cost_eur``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from governance.cloud.policy import HOSTINGS
from governance.errors import CostModelError

__all__ = [
    "HOSTINGS",
    "HOSTING_LABELS",
    "TB",
    "BudgetLine",
    "CostModel",
    "CostModelError",
    "HostingPrice",
    "Responsibility",
    "StaffLine",
    "compute_eur_year",
    "load_cost_model",
    "people_eur_year",
    "storage_eur_year",
]

TB = 10**12
# The A09 hosting options, most restrictive first: "most open admissible" is the last one allowed.
HOSTING_LABELS: Mapping[str, str] = {
    "on_premises": "hébergement interne (sur site)",
    "secnumcloud": "cloud qualifié SecNumCloud",
    "public_cloud": "cloud public",
}
_TOP_KEYS = ("version", "hosting", "compute", "growth", "horizon_years", "people", "budget")


@dataclass(frozen=True)
class HostingPrice:
    """Prices of one hosting option (assumptions to edit)."""

    storage_eur_per_tb_month: float
    vcpu_eur_per_hour: float
    replication_factor: float


@dataclass(frozen=True)
class StaffLine:
    """One row of the roadmap's human-resources table and the share of it the lake takes."""

    role: str
    etp: float
    lake_share: float

    @property
    def lake_etp(self) -> float:
        """ETP the lake mobilises: ``etp × lake_share``."""
        return self.etp * self.lake_share


@dataclass(frozen=True)
class Responsibility:
    """A data responsibility of the roadmap (head count, not ETP), for context only."""

    role: str
    count: int
    target_2023: int


@dataclass(frozen=True)
class BudgetLine:
    """One line of the roadmap's "data" budget, in thousands of euros."""

    period: str
    k_eur: float
    per_year: bool
    note: str = ""


@dataclass(frozen=True)
class CostModel:
    """Every parameter of the cost computation, as loaded from ``policy/cost_model.yaml``."""

    source: str  # the file as the study shows it: relative to the project, never absolute
    hosting: Mapping[str, HostingPrice]
    vcpus: int
    deliveries_per_year: float
    horizon_years: int
    daily_cost_eur: float
    days_per_year: float
    staff: tuple[StaffLine, ...]
    staff_source: str
    responsibilities: tuple[Responsibility, ...] = ()
    budget: tuple[BudgetLine, ...] = ()
    budget_source: str = ""

    @property
    def reference_budget_eur(self) -> float | None:
        """The last budget line, in euros per year, when it is an annual amount."""
        last = self.budget[-1] if self.budget else None
        return last.k_eur * 1000 if last is not None and last.per_year else None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary with stable keys."""
        return {
            "source": self.source,
            "hosting": {
                h: {
                    "storage_eur_per_tb_month": p.storage_eur_per_tb_month,
                    "vcpu_eur_per_hour": p.vcpu_eur_per_hour,
                    "replication_factor": p.replication_factor,
                }
                for h, p in self.hosting.items()
            },
            "vcpus": self.vcpus,
            "deliveries_per_year": self.deliveries_per_year,
            "horizon_years": self.horizon_years,
            "daily_cost_eur": self.daily_cost_eur,
            "days_per_year": self.days_per_year,
            "staff": [
                {"role": s.role, "etp": s.etp, "lake_share": s.lake_share} for s in self.staff
            ],
            "staff_source": self.staff_source,
            "responsibilities": [
                {"role": r.role, "count": r.count, "target_2023": r.target_2023}
                for r in self.responsibilities
            ],
            "budget": [
                {"period": b.period, "k_eur": b.k_eur, "per_year": b.per_year, "note": b.note}
                for b in self.budget
            ],
            "budget_source": self.budget_source,
        }


def storage_eur_year(size_bytes: float, price: HostingPrice) -> float:
    """``size_bytes × replication_factor / 10¹² × storage_eur_per_tb_month × 12``."""
    return size_bytes * price.replication_factor / TB * price.storage_eur_per_tb_month * 12


def compute_eur_year(hours_per_year: float, vcpus: int, price: HostingPrice) -> float:
    """``hours_per_year × vcpus × vcpu_eur_per_hour``."""
    return hours_per_year * vcpus * price.vcpu_eur_per_hour


def people_eur_year(model: CostModel) -> float:
    """``Σ etp × lake_share × days_per_year × daily_cost_eur`` over the roadmap's roles."""
    return sum(s.lake_etp for s in model.staff) * model.days_per_year * model.daily_cost_eur


def load_cost_model(path: Path, *, root: Path | None = None) -> CostModel:
    """Load and validate the cost model.

    Args:
        path: The YAML file (``policy/cost_model.yaml``).
        root: The project folder. The model's ``source``, which the study prints, is the file's
            path relative to it (``policy/cost_model.yaml``), or the bare file name when the file
            lies elsewhere or no root is given: never an absolute path of the machine that ran it.

    Returns:
        The validated parameters.

    Raises:
        CostModelError: (a `GovernanceError`) the file cannot be read or parsed, a field is
            missing, unknown, of the wrong type or out of range; the message names the file and
            the field.
    """
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CostModelError(path, "(file)", f"cannot be read ({exc.strerror}).") from exc
    except yaml.YAMLError as exc:
        raise CostModelError(path, "(file)", f"is not valid YAML ({exc}).") from exc
    return _Parser(path).model(data, source=_shown_path(path, root))


def _shown_path(path: Path, root: Path | None) -> str:
    """``path`` as a reader of the study may see it: relative to ``root``, else its name."""
    if root is not None:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return path.name


class _Parser:
    """Reads the raw YAML into a CostModel, checking each field on the way."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: str, message: str) -> CostModelError:
        return CostModelError(self.path, where, message)

    def mapping(self, value: Any, where: str, keys: tuple[str, ...]) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(where, f"expected a mapping, found {type(value).__name__}.")
        unknown = sorted(str(k) for k in value if k not in keys)
        if unknown:
            raise self.fail(
                f"{where}.{unknown[0]}" if where != "(file)" else unknown[0],
                f"unknown field; valid fields are: {', '.join(keys)}.",
            )
        return value

    def number(
        self,
        data: Mapping[str, Any],
        key: str,
        where: str,
        *,
        low: float = 0.0,
        high: float | None = None,
    ) -> float:
        field = f"{where}.{key}" if where else key
        if key not in data:
            raise self.fail(field, "is missing; expected a number.")
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(field, f"expected a number, found {value!r}.")
        if value < low or (high is not None and value > high):
            bound = f"between {low:g} and {high:g}" if high is not None else f">= {low:g}"
            raise self.fail(field, f"expected a number {bound}, found {value!r}.")
        return float(value)

    def integer(self, data: Mapping[str, Any], key: str, where: str, *, low: int = 1) -> int:
        field = f"{where}.{key}" if where else key
        value = data.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise self.fail(field, f"expected a whole number >= {low}, found {value!r}.")
        return value

    def text(self, data: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> str:
        value = data.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or (required and not value.strip()):
            raise self.fail(f"{where}.{key}", f"expected a non-empty text, found {value!r}.")
        return re.sub(r"[ \t\r\n]+", " ", value).strip()

    def items(self, data: Mapping[str, Any], key: str, where: str) -> list[Any]:
        value = data.get(key)
        if not isinstance(value, list) or not value:
            raise self.fail(f"{where}.{key}", f"expected a non-empty list, found {value!r}.")
        return value

    def model(self, data: Any, *, source: str) -> CostModel:
        top = self.mapping(data, "(file)", _TOP_KEYS)
        if top.get("version") != 1:
            raise self.fail("version", f"expected 1, found {top.get('version')!r}.")
        hosting_raw = self.mapping(top.get("hosting"), "hosting", HOSTINGS)
        hosting = {}
        for h in HOSTINGS:
            if h not in hosting_raw:
                raise self.fail(f"hosting.{h}", f"is missing; every option is needed: {HOSTINGS}.")
            where = f"hosting.{h}"
            raw = self.mapping(hosting_raw[h], where, tuple(HostingPrice.__dataclass_fields__))
            hosting[h] = HostingPrice(
                storage_eur_per_tb_month=self.number(raw, "storage_eur_per_tb_month", where),
                vcpu_eur_per_hour=self.number(raw, "vcpu_eur_per_hour", where),
                replication_factor=self.number(raw, "replication_factor", where, low=1.0),
            )
        compute = self.mapping(top.get("compute"), "compute", ("vcpus",))
        growth = self.mapping(top.get("growth"), "growth", ("deliveries_per_year",))
        deliveries = self.number(growth, "deliveries_per_year", "growth")
        if deliveries <= 0:
            raise self.fail("growth.deliveries_per_year", f"expected > 0, found {deliveries:g}.")
        people = self.mapping(
            top.get("people"),
            "people",
            ("source", "daily_cost_eur", "days_per_year", "roles", "responsibilities"),
        )
        budget = self.mapping(top.get("budget", {"lines": []}), "budget", ("source", "lines"))
        return CostModel(
            source=source,
            hosting=hosting,
            vcpus=self.integer(compute, "vcpus", "compute"),
            deliveries_per_year=deliveries,
            horizon_years=self.integer(top, "horizon_years", ""),
            daily_cost_eur=self.number(people, "daily_cost_eur", "people"),
            days_per_year=self.number(people, "days_per_year", "people", high=366),
            staff=tuple(
                self.staff(row, f"people.roles[{i}]")
                for i, row in enumerate(self.items(people, "roles", "people"))
            ),
            staff_source=self.text(people, "source", "people"),
            responsibilities=tuple(
                self.responsibility(row, f"people.responsibilities[{i}]")
                for i, row in enumerate(people.get("responsibilities") or [])
            ),
            budget=tuple(
                self.budget_line(row, f"budget.lines[{i}]")
                for i, row in enumerate(budget.get("lines") or [])
            ),
            budget_source=self.text(budget, "source", "budget", required=False),
        )

    def staff(self, row: Any, where: str) -> StaffLine:
        raw = self.mapping(row, where, ("role", "etp", "lake_share"))
        return StaffLine(
            role=self.text(raw, "role", where),
            etp=self.number(raw, "etp", where),
            lake_share=self.number(raw, "lake_share", where, high=1.0),
        )

    def responsibility(self, row: Any, where: str) -> Responsibility:
        raw = self.mapping(row, where, ("role", "count", "target_2023"))
        return Responsibility(
            role=self.text(raw, "role", where),
            count=self.integer(raw, "count", where, low=0),
            target_2023=self.integer(raw, "target_2023", where, low=0),
        )

    def budget_line(self, row: Any, where: str) -> BudgetLine:
        raw = self.mapping(row, where, ("period", "k_eur", "per_year", "note"))
        per_year = raw.get("per_year", False)
        if not isinstance(per_year, bool):
            raise self.fail(f"{where}.per_year", f"expected true or false, found {per_year!r}.")
        period = raw.get("period")
        if not isinstance(period, str | int) or isinstance(period, bool):
            raise self.fail(f"{where}.period", f"expected a text like '2022', found {period!r}.")
        return BudgetLine(
            period=str(period),
            k_eur=self.number(raw, "k_eur", where),
            per_year=per_year,
            note=self.text(raw, "note", where, required=False),
        )
