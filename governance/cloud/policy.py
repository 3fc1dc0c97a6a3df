"""The A09 cloud-usage policy: hosting options and ordered rules, read from ``policy/cloud.yaml``.

The policy is data, not code. It names the three hosting options (`HOSTINGS`) with the uses each
one opens, an ordered list of rules and optional advisory notes. A rule's condition is a small
declarative mapping over a dataset's facts (`DatasetFacts`); every key must hold (logical AND),
and an empty mapping always holds:

==================================  ==========================================================
``classified: true|false``          the dataset has an exposure level (false: unclassified)
``level_min: N`` / ``level_max: N``  exposure level >= N / <= N (1 = named staff .. 4 = everyone);
                                    never true for an unclassified dataset
``personal``, ``legal_secret``,     the boolean fact equals the value
``exclusion: true|false``
``layer: gold`` or ``[..]``         the table's layer is one of these
``tables: [gold/x, ..]``            the table (``layer/name``) is one of these (targeted exceptions)
``volume_bytes_min|max: N``         size in bytes >= N / <= N
``rows_min|max: N``                 row count >= N / <= N; never true when the count is unknown
==================================  ==========================================================

The first rule whose condition holds decides the admissible hostings; the last rule must have an
empty condition (the default), so every dataset gets a decision. Notes are not decisions: every
note whose condition holds adds its text to the explanation (e.g. the ministry's capacity for
very large volumes) without changing the hostings. Loading validates everything and raises
`CloudPolicyError` naming the file, the rule and the field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from governance.catalog.render import format_int_fr, format_size_fr
from governance.errors import GovernanceError
from lake.layers import DATA_LAYERS

__all__ = [
    "CONDITION_KEYS",
    "HOSTINGS",
    "CloudPolicyError",
    "Condition",
    "DatasetFacts",
    "Hosting",
    "Note",
    "Policy",
    "Rule",
    "default_policy_path",
    "load_policy",
]

HOSTINGS: tuple[str, ...] = ("on_premises", "secnumcloud", "public_cloud")
LAYERS: tuple[str, ...] = DATA_LAYERS
_BOOL_KEYS = ("classified", "personal", "legal_secret", "exclusion")
_LEVEL_KEYS = ("level_min", "level_max")
_COUNT_KEYS = ("volume_bytes_min", "volume_bytes_max", "rows_min", "rows_max")
CONDITION_KEYS: tuple[str, ...] = tuple(
    sorted((*_BOOL_KEYS, *_LEVEL_KEYS, *_COUNT_KEYS, "layer", "tables"))
)
_ID = re.compile(r"^[a-z][a-z0-9-]*$")
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


class CloudPolicyError(GovernanceError):
    """The cloud policy file is unreadable or invalid.

    Attributes:
        path: The policy file.
        rule: The id of the rule or note involved (None for a top-level field).
        field: The offending field, relative to the rule when there is one (``when.colour``).
    """

    def __init__(
        self,
        path: Path,
        field: str,
        message: str,
        *,
        item: str | None = None,
        rule: str | None = None,
    ) -> None:
        self.path = path
        self.rule = rule
        self.field = field
        where = f", {item}" if item else ""
        super().__init__(f"Cloud policy {path}{where}, field {field}: {message}")


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
            if key in _BOOL_KEYS:
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
    if key in _LEVEL_KEYS:
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


def default_policy_path(root: Path) -> Path:
    """Where the project keeps its cloud policy: ``<root>/policy/cloud.yaml``."""
    return root / "policy" / "cloud.yaml"


def load_policy(path: Path) -> Policy:
    """Load and validate a cloud policy file.

    Args:
        path: The YAML file (`default_policy_path` for the project's own).

    Returns:
        The policy, hostings in the order of `HOSTINGS`, rules and notes in file order.

    Raises:
        CloudPolicyError: The file cannot be read or parsed, or a field is invalid; the message
            names the file, the rule and the field, and what is allowed.
    """
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CloudPolicyError(path, "(file)", f"cannot be read ({exc.strerror}).") from exc
    except yaml.YAMLError as exc:
        raise CloudPolicyError(path, "(file)", f"is not valid YAML ({exc}).") from exc
    return _Parser(path).policy(data)


class _Parser:
    """Reads the raw YAML mapping into a Policy, checking each field on the way."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.item: str | None = None  # "rule 'x' (rules[2])" while reading a rule
        self.rule: str | None = None

    def fail(self, field: str, message: str) -> CloudPolicyError:
        return CloudPolicyError(self.path, field, message, item=self.item, rule=self.rule)

    def get(self, data: Mapping[str, Any], key: str, kind: type, where: str = "") -> Any:
        value = data.get(key)
        if value is None:
            raise self.fail(f"{where}{key}", "is required.")
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.fail(f"{where}{key}", f"must be a {kind.__name__}; found {value!r}.")
        if kind in (str, list) and not value:
            raise self.fail(f"{where}{key}", "must not be empty.")
        return value

    def texts(self, data: Mapping[str, Any], key: str, where: str = "") -> tuple[str, ...]:
        values = self.get(data, key, list, where)
        for i, text in enumerate(values):
            if not isinstance(text, str) or not text.strip():
                raise self.fail(f"{where}{key}[{i}]", f"must be a non-empty text; found {text!r}.")
        return tuple(" ".join(t.split()) for t in values)

    def keys(self, data: Any, allowed: tuple[str, ...], where: str, what: str) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise self.fail(where or "(file)", f"must be a mapping ({', '.join(allowed)}).")
        extra = sorted(set(data) - set(allowed), key=str)
        if extra:
            raise self.fail(
                f"{where}.{extra[0]}".lstrip("."),
                f"unknown {what} {extra[0]!r}; allowed: {', '.join(allowed)}.",
            )
        return data

    def policy(self, raw: Any) -> Policy:
        top = ("version", "title", "doctrine", "hostings", "rules", "notes")
        data = self.keys(raw, top, "", "field")
        if data.get("version") != 1:
            raise self.fail("version", f"must be 1; found {data.get('version')!r}.")
        hostings_raw = self.keys(self.get(data, "hostings", dict), HOSTINGS, "hostings", "hosting")
        hostings = []
        for hid in HOSTINGS:
            if hid not in hostings_raw:
                raise self.fail(f"hostings.{hid}", "is required: describe every hosting option.")
            h = self.keys(hostings_raw[hid], ("label", "uses"), f"hostings.{hid}", "field")
            where = f"hostings.{hid}."
            hostings.append(
                Hosting(hid, self.get(h, "label", str, where), self.texts(h, "uses", where))
            )
        rules = tuple(self.rule_at(r, i) for i, r in enumerate(self.get(data, "rules", list)))
        notes_raw = self.get(data, "notes", list) if data.get("notes") is not None else []
        notes = tuple(self.note_at(n, i) for i, n in enumerate(notes_raw))
        self.item = self.rule = None
        self.check_order(rules, notes)
        return Policy(
            path=self.path,
            title=self.get(data, "title", str),
            doctrine=self.texts(data, "doctrine"),
            hostings=tuple(hostings),
            rules=rules,
            notes=notes,
        )

    def header(
        self, raw: Any, index: int, kind: str, fields: tuple[str, ...]
    ) -> tuple[dict[str, Any], str, str, Condition]:
        """Id, title and condition of a rule or note; later errors name it by its id."""
        self.item, self.rule = f"{kind} #{index + 1} ({kind}s[{index}])", None
        data = self.keys(raw, fields, "", "field")
        rid = self.get(data, "id", str)
        if not _ID.match(rid):
            raise self.fail("id", f"is {rid!r}; allowed: lower-case letters, digits and '-'.")
        self.item, self.rule = f"{kind} {rid!r} ({kind}s[{index}])", rid
        if "when" not in data:
            raise self.fail("when", "is required (write `when: {}` for the default rule).")
        when = self.condition(data["when"])
        return data, rid, self.get(data, "title", str), when

    def rule_at(self, raw: Any, index: int) -> Rule:
        fields = ("id", "title", "when", "hostings", "explanation")
        data, rid, title, when = self.header(raw, index, "rule", fields)
        hostings = self.get(data, "hostings", list)
        for i, h in enumerate(hostings):
            if h not in HOSTINGS:
                raise self.fail(
                    f"hostings[{i}]", f"unknown hosting {h!r}; allowed: {', '.join(HOSTINGS)}."
                )
        if len(set(hostings)) != len(hostings):
            raise self.fail("hostings", f"lists a hosting twice: {hostings!r}.")
        ordered = tuple(h for h in HOSTINGS if h in hostings)
        explanation = " ".join(self.get(data, "explanation", str).split())
        return Rule(rid, title, when, ordered, explanation)

    def note_at(self, raw: Any, index: int) -> Note:
        data, rid, title, when = self.header(raw, index, "note", ("id", "title", "when", "text"))
        if not when.items:
            raise self.fail("when", "must not be empty: a note applies to some datasets only.")
        return Note(rid, title, when, " ".join(self.get(data, "text", str).split()))

    def condition(self, raw: Any) -> Condition:
        data = self.keys(raw if raw is not None else {}, CONDITION_KEYS, "when", "condition key")
        items = []
        for key, value in data.items():
            where = f"when.{key}"
            if key in _BOOL_KEYS:
                if not isinstance(value, bool):
                    raise self.fail(where, f"must be true or false; found {value!r}.")
            elif key in _LEVEL_KEYS:
                if type(value) is not int or value not in (1, 2, 3, 4):
                    raise self.fail(
                        where, f"must be an exposure level 1, 2, 3 or 4; found {value!r}."
                    )
            elif key in _COUNT_KEYS:
                if type(value) is not int or value < 0:
                    raise self.fail(where, f"must be a whole number >= 0; found {value!r}.")
            else:
                value = self.names(key, value)
            items.append((key, value))
        return Condition(tuple(items))

    def names(self, key: str, value: Any) -> tuple[str, ...]:
        """The values of ``layer`` (layer names) or ``tables`` (``layer/name``), as a tuple."""
        where = f"when.{key}"
        value = [value] if isinstance(value, str) else value
        if not isinstance(value, list) or not value:
            raise self.fail(where, f"must be a name or a non-empty list; found {value!r}.")
        for v in value:
            if key == "layer" and v not in LAYERS:
                raise self.fail(where, f"unknown layer {v!r}; allowed: {', '.join(LAYERS)}.")
            parts = v.split("/") if isinstance(v, str) else []
            if key == "tables" and (len(parts) != 2 or parts[0] not in LAYERS or not parts[1]):
                raise self.fail(where, f"{v!r} is not a table; expected layer/name.")
        return tuple(value)

    def check_order(self, rules: tuple[Rule, ...], notes: tuple[Note, ...]) -> None:
        for i, rule in enumerate(rules[:-1]):
            if not rule.when.items:
                after = ", ".join(repr(r.id) for r in rules[i + 1 :])
                raise self.fail(
                    f"rules[{i}].when",
                    f"rule {rule.id!r} matches every dataset, so the rules after it ({after}) can "
                    "never apply; keep the rule with an empty condition last.",
                )
        if rules[-1].when.items:
            raise self.fail(
                "rules",
                f"no default rule: the last rule {rules[-1].id!r} has a condition; end the list "
                "with a rule whose condition is empty (when: {}) so that every dataset gets a "
                "decision.",
            )
        for field, ids in (("rules", [r.id for r in rules]), ("notes", [n.id for n in notes])):
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            if dupes:
                raise self.fail(field, f"id {dupes[0]!r} is used twice; ids must be unique.")
