"""The A09 cloud-usage policy as data: hosting options, conditions over a dataset's facts, rules,
notes, and the decision they make.

A condition (`Condition`) is a mapping over `DatasetFacts` whose keys must all hold; the keys and
what they mean are listed in :mod:`governance.cloud.policy`, which reads and validates the policy
file. The first rule whose condition holds decides the admissible hostings (`Policy.decide`);
every note whose condition holds adds its text (`Policy.notes_for`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from governance.catalog.render import format_int_fr, format_size_fr
from lake.layers import DATA_LAYERS

__all__ = [
    "BOOL_KEYS",
    "CONDITION_KEYS",
    "COUNT_KEYS",
    "HOSTINGS",
    "LAYERS",
    "LEVEL_KEYS",
    "Condition",
    "DatasetFacts",
    "Hosting",
    "Note",
    "Policy",
    "Rule",
]

HOSTINGS: tuple[str, ...] = ("on_premises", "secnumcloud", "public_cloud")
LAYERS: tuple[str, ...] = DATA_LAYERS
BOOL_KEYS = ("classified", "personal", "legal_secret", "exclusion")
LEVEL_KEYS = ("level_min", "level_max")
COUNT_KEYS = ("volume_bytes_min", "volume_bytes_max", "rows_min", "rows_max")
CONDITION_KEYS: tuple[str, ...] = tuple(
    sorted((*BOOL_KEYS, *LEVEL_KEYS, *COUNT_KEYS, "layer", "tables"))
)
_BOOL_FR = {
    ("classified", True): "jeu classé",
    ("classified", False): "jeu non classé (niveau d'exposition inconnu)",
    ("personal", True): "données personnelles (RGPD)",
    ("personal", False): "sans donnée personnelle",
    ("legal_secret", True): "secret protégé par la loi",
    ("legal_secret", False): "sans secret légal",
    ("exclusion", True): "champs d'exclusion",
    ("exclusion", False): "sans champ d'exclusion",
}


@dataclass(frozen=True)
class DatasetFacts:
    """What the rules may look at for one table (from the catalogue and the contracts)."""

    layer: str
    name: str
    level: int | None
    personal: bool
    legal_secret: bool
    exclusion: bool
    size_bytes: int
    rows: int | None


@dataclass(frozen=True)
class Condition:
    """A validated condition: ``(key, value)`` pairs that must all hold, in file order."""

    items: tuple[tuple[str, Any], ...] = ()

    def matches(self, facts: DatasetFacts) -> bool:
        """True when every key holds for ``facts`` (always true when empty)."""
        return all(_holds(key, value, facts) for key, value in self.items)

    def describe_fr(self) -> str:
        """The condition in plain French (``niveau d'exposition 1 ou 2 et champs d'exclusion``)."""
        if not self.items:
            return "tous les jeux (règle par défaut)"
        given = dict(self.items)
        parts = []
        if "level_min" in given or "level_max" in given:
            low, high = given.get("level_min", 1), given.get("level_max", 4)
            if low > high:
                parts.append("aucun niveau d'exposition")
            elif low == high:
                parts.append(f"niveau d'exposition {low}")
            else:
                sep = " ou " if high == low + 1 else " à "
                parts.append(f"niveau d'exposition {low}{sep}{high}")
        for key, value in self.items:
            if key in BOOL_KEYS:
                parts.append(_BOOL_FR[key, value])
            elif key == "layer":
                parts.append("couche " + " ou ".join(value))
            elif key == "tables":
                parts.append("table " + " ou ".join(value))
            elif key.startswith("volume_bytes"):
                sign = "≥" if key.endswith("min") else "≤"
                parts.append(f"volume {sign} {format_size_fr(value)}")
            elif key.startswith("rows"):
                sign = "≥" if key.endswith("min") else "≤"
                parts.append(f"nombre de lignes {sign} {format_int_fr(value)}")
        return " et ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """The condition as written in the policy file."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self.items}


def _holds(key: str, value: Any, facts: DatasetFacts) -> bool:
    if key == "classified":
        return (facts.level is not None) is value
    if key in ("personal", "legal_secret", "exclusion"):
        return bool(getattr(facts, key)) is value
    if key in LEVEL_KEYS:
        if facts.level is None:
            return False
        return facts.level >= value if key == "level_min" else facts.level <= value
    if key == "layer":
        return facts.layer in value
    if key == "tables":
        return f"{facts.layer}/{facts.name}" in value
    count = facts.size_bytes if key.startswith("volume_bytes") else facts.rows
    if count is None:
        return False
    return count >= value if key.endswith("_min") else count <= value


@dataclass(frozen=True)
class Hosting:
    """One hosting option: its id (`HOSTINGS`), French label and the uses it opens."""

    id: str
    label: str
    uses: tuple[str, ...]


@dataclass(frozen=True)
class Rule:
    """One rule: if ``when`` holds, ``hostings`` are admissible, for the French reason given."""

    id: str
    title: str
    when: Condition
    hostings: tuple[str, ...]
    explanation: str


@dataclass(frozen=True)
class Note:
    """An advisory: when ``when`` holds, ``text`` is added to the explanation (no restriction)."""

    id: str
    title: str
    when: Condition
    text: str


@dataclass(frozen=True)
class Policy:
    """A validated cloud policy: hosting options, ordered rules (last = default), notes."""

    path: Path
    title: str
    doctrine: tuple[str, ...]
    hostings: tuple[Hosting, ...]
    rules: tuple[Rule, ...]
    notes: tuple[Note, ...] = ()

    def hosting(self, hosting_id: str) -> Hosting:
        """The hosting option called ``hosting_id`` (KeyError if none)."""
        for h in self.hostings:
            if h.id == hosting_id:
                return h
        raise KeyError(hosting_id)

    def decide(self, facts: DatasetFacts) -> Rule:
        """The first rule whose condition holds (the default rule when no other does)."""
        return next(rule for rule in self.rules if rule.when.matches(facts))

    def notes_for(self, facts: DatasetFacts) -> tuple[Note, ...]:
        """Every note whose condition holds, in file order."""
        return tuple(n for n in self.notes if n.when.matches(facts))
