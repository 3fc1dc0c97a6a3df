"""The A09 cloud-usage policy file, ``policy/cloud.yaml``: its format, loading and validation.

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

The objects it loads into (`Policy`, `Rule`, `Condition`...) live in
:mod:`governance.cloud.model` and are re-exported here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from governance.cloud.model import (
    BOOL_KEYS,
    CONDITION_KEYS,
    COUNT_KEYS,
    HOSTINGS,
    LAYERS,
    LEVEL_KEYS,
    Condition,
    DatasetFacts,
    Hosting,
    Note,
    Policy,
    Rule,
)
from governance.errors import GovernanceError

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

_ID = re.compile(r"^[a-z][a-z0-9-]*$")


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
        self.item = item
        where = f", {item}" if item else ""
        super().__init__(
            f"Cloud policy {path}{where}, field {field}: {message}",
            fix=f"correct {path} (the comments at the top of policy/cloud.yaml describe every "
            "field), then rerun `lake cloud`",
        )


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
            if key in BOOL_KEYS:
                if not isinstance(value, bool):
                    raise self.fail(where, f"must be true or false; found {value!r}.")
            elif key in LEVEL_KEYS:
                if type(value) is not int or value not in (1, 2, 3, 4):
                    raise self.fail(
                        where, f"must be an exposure level 1, 2, 3 or 4; found {value!r}."
                    )
            elif key in COUNT_KEYS:
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
