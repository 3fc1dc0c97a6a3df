"""Business rules and the review's full rule list.

Per-source rules the contract cannot state (a birth date after the registration date, a year in
the future...) live in ``contracts/rules/<source>.yaml``; :func:`suite_rules` puts them after the
contract's own rules and checks that every rule id is unique.

A query rule (``unexpected_rows_expectation``) whose condition only bounds one column by dates
(``judgment_date > DATE'{today}'``, ``d < DATE'1900-01-01' OR d > DATE'{today}'``) is loaded as
the column expectation it states (:func:`as_column_expectation`), which GX evaluates in its
aggregate pass with the other column rules instead of a query of its own.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lake.contracts import Contract
from quality.errors import RulesError
from quality.rules.contract import contract_rules, is_sensitive
from quality.rules.model import ROW_EXPECTATIONS, SEVERITIES, TABLE_EXPECTATIONS, Rule


def rules_dir(root: Path) -> Path:
    """Where per-source business rules live (``contracts/rules/<source>.yaml``)."""
    return root / "contracts" / "rules"


_BUSINESS_KEYS = {"id", "expectation", "kwargs", "where", "severity", "column", "message", "fix"}


def business_rules(contract: Contract, root: Path, *, today: dt.date | None = None) -> list[Rule]:
    """Per-source rules the contract cannot state (``contracts/rules/<source>.yaml``).

    Values may use ``{today}`` and ``{current_year}`` (substituted at load), so "not in the
    future" stays true over time.

    Raises:
        RulesError: Naming the file, the rule and what is allowed.
    """
    import yaml

    path = rules_dir(root) / f"{contract.source}.yaml"
    if not path.is_file():
        return []
    today = today or dt.date.today()
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    names = {c.name for c in contract.columns}
    found: list[Rule] = []
    for i, raw in enumerate(data.get("rules", [])):
        if not isinstance(raw, dict):
            raise _refused(
                path,
                i,
                raw,
                contract.source,
                "must be a mapping (id, expectation, severity, message...)",
                "write the rule as a mapping with id, expectation, severity and message",
            )
        extra = sorted(set(raw) - _BUSINESS_KEYS)
        if extra:
            raise _refused(
                path,
                i,
                raw,
                contract.source,
                f"{extra[0]!r} is not a rule field; allowed: {', '.join(sorted(_BUSINESS_KEYS))}",
                f"remove {extra[0]!r} or rename it to an allowed field",
            )
        for needed in ("id", "expectation", "severity", "message"):
            if needed not in raw:
                raise _refused(
                    path, i, raw, contract.source, f"{needed!r} is required", f"add {needed}:"
                )
        expectation = raw["expectation"]
        if expectation not in ROW_EXPECTATIONS + TABLE_EXPECTATIONS:
            raise _refused(
                path,
                i,
                raw,
                contract.source,
                f"expectation {expectation!r} is not supported; allowed: "
                f"{', '.join(ROW_EXPECTATIONS + TABLE_EXPECTATIONS)}",
                "use a supported expectation",
            )
        if raw["severity"] not in SEVERITIES:
            raise _refused(
                path,
                i,
                raw,
                contract.source,
                f"severity {raw['severity']!r}; allowed: blocking, warning",
                "set severity: blocking or warning",
            )
        column = raw.get("column")
        if column is not None and column not in names:
            raise _refused(
                path,
                i,
                raw,
                contract.source,
                f"column {column!r} is not in the contract",
                f"name a column of {contract.path.name}",
            )
        if expectation == "unexpected_rows_expectation" and not raw.get("where"):
            raise _refused(
                path,
                i,
                raw,
                contract.source,
                "unexpected_rows_expectation needs 'where' (SQL condition)",
                "add where: with the SQL condition the unexpected rows meet",
            )
        kwargs = _substitute(raw.get("kwargs") or {}, today)
        found.append(
            as_column_expectation(
                Rule(
                    id=f"{contract.source}.{raw['id']}",
                    expectation=expectation,
                    kwargs=kwargs,
                    where=_substitute(raw.get("where"), today),
                    severity=raw["severity"],
                    column=column,
                    message=raw["message"],
                    fix=raw.get("fix", ""),
                    origin="business",
                    sensitive=column is not None and is_sensitive(contract.column(column)),
                ),
                columns={c.name for c in contract.columns if c.type == "date"},
            )
        )
    return found


_DATE_BOUND = re.compile(
    r"^\s*(?P<col>[A-Za-z_][A-Za-z0-9_]*)\s*(?P<op><=|>=|<|>)\s*"
    r"DATE\s*'(?P<date>\d{4}-\d{2}-\d{2})'\s*$",
    re.IGNORECASE,
)
# failing condition -> (bound of the passing range, strict)
_BOUNDS = {"<": ("min_value", False), "<=": ("min_value", True)}
_BOUNDS |= {">": ("max_value", False), ">=": ("max_value", True)}


def as_column_expectation(rule: Rule, *, columns: set[str] | None = None) -> Rule:
    """The rule as ``expect_column_values_to_be_between`` when its query only bounds one column
    (of ``columns``, the contract's date columns, when given) by dates; any other rule unchanged.

    Same rows either way: a null value fails neither the SQL comparison nor the column
    expectation (GX ignores nulls), ``col > DATE'd'`` fails exactly the values above
    ``max_value: d``, ``col >= DATE'd'`` those of ``max_value: d, strict_max: true`` (and the
    same below ``min_value``).
    """
    if rule.expectation != "unexpected_rows_expectation" or not rule.where:
        return rule
    terms = [_DATE_BOUND.match(t) for t in re.split(r"\s+OR\s+", rule.where, flags=re.I)]
    if not all(terms) or len(terms) > 2:
        return rule
    found = [t for t in terms if t is not None]
    column = found[0]["col"]
    if any(t["col"] != column for t in found) or (columns is not None and column not in columns):
        return rule
    kwargs: dict[str, Any] = {"column": column}
    for t in found:
        bound, strict = _BOUNDS[t["op"]]
        if bound in kwargs:  # two lower (or two upper) bounds: leave the query as written
            return rule
        kwargs[bound] = t["date"]
        if strict:
            kwargs["strict_min" if bound == "min_value" else "strict_max"] = True
    return dataclasses.replace(
        rule, expectation="expect_column_values_to_be_between", kwargs=kwargs, where=None
    )


def _refused(
    path: Path, index: int, raw: object, source: str, message: str, fix: str
) -> RulesError:
    """A business rule refused: the file and the rule, and what to write instead."""
    rule_id = raw.get("id") if isinstance(raw, dict) else None
    return RulesError(
        f"{path}: rules[{index}]",
        message,
        fix=f"{fix} in rules[{index}] of {path.name}",
        path=path,
        source=source,
        rule=f"{source}.{rule_id}" if rule_id else None,
    )


def _substitute(value: Any, today: dt.date) -> Any:
    if value == "{current_year}":
        return today.year
    if isinstance(value, str):
        return value.replace("{today}", today.isoformat()).replace(
            "{current_year}", str(today.year)
        )
    if isinstance(value, Mapping):
        return {k: _substitute(v, today) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, today) for v in value]
    return value


def suite_rules(contract: Contract, root: Path, *, today: dt.date | None = None) -> list[Rule]:
    """Every rule of a source's review: the contract's, then its business rules."""
    rules = contract_rules(contract) + business_rules(contract, root, today=today)
    ids = [r.id for r in rules]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise RulesError(
            contract.source,
            f"rule id {dupes[0]!r} is declared twice",
            fix=f"rename one of them (in {contract.path.name} or "
            f"contracts/rules/{contract.source}.yaml)",
            source=contract.source,
            rule=dupes[0],
        )
    return rules
