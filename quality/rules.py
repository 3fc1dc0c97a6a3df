"""Quality rules: what a review checks, derived from contracts plus per-source business rules.

A :class:`Rule` is one Great Expectations expectation (its type and kwargs) with what the lake
needs around it: a stable id, a severity (``blocking``: failing rows are quarantined, or for a
table-level rule the whole batch is held; ``warning``: promoted and reported), the column it is
about, a French sentence completing "N lignes (x %) ..." and what to fix at the source.

Row-level rules also carry the Spark SQL condition that is true for a failing row
(:func:`failing_condition`). The gate quarantines rows with it and checks, at every review, that it
flags exactly as many rows as Great Expectations counted: GX stays the authority on the numbers.

Rules validate the *conformed* batch: typed columns, plus ``__raw_<col>`` (the cleaned text as
delivered) for every contract column, and ``<col>_status`` for country columns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from lake.contracts import Column, Contract
from lake.gates import FAILURE_COUNT, RAW_PREFIX
from quality.errors import RulesError

Severity = Literal["blocking", "warning"]
Scope = Literal["row", "table"]
SEVERITIES: tuple[str, ...] = ("blocking", "warning")

MAX_REJECTED_SHARE = 0.5

# Expectations whose failing rows the lake can name (and so quarantine).
ROW_EXPECTATIONS: tuple[str, ...] = (
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_in_set",
    "expect_column_values_to_not_be_in_set",
    "expect_column_values_to_be_between",
    "expect_column_values_to_match_regex",
    "expect_column_value_lengths_to_be_between",
    "expect_column_pair_values_a_to_be_greater_than_b",
    "unexpected_rows_expectation",
)
TABLE_EXPECTATIONS: tuple[str, ...] = (
    "expect_table_row_count_to_be_between",
    "expect_compound_columns_to_be_unique",
    "expect_column_values_to_be_unique",
    "expect_column_max_to_be_between",
    "expect_column_min_to_be_between",
)


@dataclass(frozen=True)
class Rule:
    """One expectation of a review, with its severity and its French wording.

    Attributes:
        id: Stable id, ``<source>.<column>.<check>`` for contract rules.
        expectation: GX expectation type in snake case (``expect_column_values_to_not_be_null``).
        kwargs: GX kwargs (``column``, ``value_set``, ``min_value``...), JSON-serialisable.
        severity: ``blocking`` or ``warning``.
        column: The business column the rule is about (None for whole-table rules).
        message: French predicate completing "N lignes (x %) ...", e.g. "ont une date de naissance
            postérieure à la date d'inscription".
        fix: What the producing service should correct at the source (French).
        origin: ``contract``, ``business`` or ``table_schema``.
        where: For ``unexpected_rows_expectation``: the SQL condition of a failing row.
        sensitive: Failing values are masked wherever they are shown.
    """

    id: str
    expectation: str
    kwargs: Mapping[str, Any]
    severity: Severity
    column: str | None
    message: str
    fix: str = ""
    origin: str = "contract"
    where: str | None = None
    sensitive: bool = False
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def scope(self) -> Scope:
        """``row`` when failing rows can be named and quarantined, else ``table``."""
        if self.expectation in ROW_EXPECTATIONS and "mostly" not in self.kwargs:
            return "row"
        return "table"


def _quote(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def _ident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def failing_condition(rule: Rule) -> str:
    """Spark SQL condition true for the rows ``rule`` counts as unexpected.

    Mirrors GX semantics: column map expectations ignore nulls (except the not-null one), pair
    expectations here ignore a row where either value is missing.

    Raises:
        RulesError: The rule is table-level (no failing row to name).
    """
    if rule.scope != "row":
        raise RulesError(rule.id, f"{rule.expectation} is a table-level check; no row condition")
    k = rule.kwargs
    kind = rule.expectation
    if kind == "unexpected_rows_expectation":
        assert rule.where is not None
        return f"({rule.where})"
    if kind == "expect_column_pair_values_a_to_be_greater_than_b":
        a, b = _ident(k["column_A"]), _ident(k["column_B"])
        op = ">=" if k.get("or_equal") else ">"
        return f"({a} IS NOT NULL AND {b} IS NOT NULL AND NOT ({a} {op} {b}))"
    col = _ident(k["column"])
    if kind == "expect_column_values_to_not_be_null":
        return f"({col} IS NULL)"
    if kind in ("expect_column_values_to_be_in_set", "expect_column_values_to_not_be_in_set"):
        values = ", ".join(_quote(v) for v in k["value_set"])
        negate = "NOT " if kind == "expect_column_values_to_be_in_set" else ""
        return f"({col} IS NOT NULL AND {negate}({col} IN ({values})))"
    if kind in ("expect_column_values_to_be_between", "expect_column_value_lengths_to_be_between"):
        value = col if kind == "expect_column_values_to_be_between" else f"char_length({col})"
        parts = []
        if k.get("min_value") is not None:
            op = "<=" if k.get("strict_min") else "<"
            parts.append(f"{value} {op} {_quote(k['min_value'])}")
        if k.get("max_value") is not None:
            op = ">=" if k.get("strict_max") else ">"
            parts.append(f"{value} {op} {_quote(k['max_value'])}")
        return f"({col} IS NOT NULL AND ({' OR '.join(parts) or 'false'}))"
    if kind == "expect_column_values_to_match_regex":
        return f"({col} IS NOT NULL AND NOT ({col} RLIKE {_quote(k['regex'])}))"
    raise RulesError(rule.id, f"no row condition for {kind}")


def value_column(rule: Rule) -> str | None:
    """The column whose value is shown for a failing row (the raw text when there is one)."""
    if rule.column is None:
        return None
    return f"{RAW_PREFIX}{rule.column}"


def _sensitive(col: Column) -> bool:
    return col.sensitivity.personal or col.sensitivity.level == 1


def _fmt(value: float) -> str:
    return f"{value:g}".replace(".", ",")


def anchored(pattern: str) -> str:
    """A pattern that must match the whole value (Table Schema and contract semantics)."""
    return f"^(?:{pattern})$"


def contract_rules(contract: Contract) -> list[Rule]:
    """The rules a contract states by itself: types, required, allowed, ranges, patterns,
    lengths, reference membership, key and column uniqueness, plus the batch-level guards."""
    rules: list[Rule] = []
    src = contract.source
    for col in contract.columns:
        raw = f"{RAW_PREFIX}{col.name}"
        base = {"column": col.name, "sensitive": _sensitive(col), "origin": "contract"}
        label = f"« {col.source_name} »"
        if col.type in ("integer", "decimal", "date", "boolean"):
            what = {
                "integer": "un nombre entier",
                "decimal": f"un nombre (séparateur décimal « {contract.decimal} »)",
                "date": "une date au format " + " ou ".join(_formats_fr(contract)),
                "boolean": "oui ou non",
            }[col.type]
            rules.append(
                Rule(
                    id=f"{src}.{col.name}.type",
                    expectation="unexpected_rows_expectation",
                    kwargs={},
                    where=f"{_ident(raw)} IS NOT NULL AND {_ident(col.name)} IS NULL",
                    severity="blocking",
                    message=f"ont une valeur illisible dans {label} (attendu : {what})",
                    fix=f"Saisir dans {label} {what}.",
                    **base,  # type: ignore[arg-type]
                )
            )
        if not col.nullable:
            rules.append(
                Rule(
                    id=f"{src}.{col.name}.required",
                    expectation="expect_column_values_to_not_be_null",
                    kwargs={"column": raw},
                    severity="blocking",
                    message=f"n'ont pas de valeur dans {label}, qui est obligatoire",
                    fix=f"Renseigner {label} pour chaque ligne avant l'export.",
                    **base,  # type: ignore[arg-type]
                )
            )
        if col.allowed:
            rules.append(
                Rule(
                    id=f"{src}.{col.name}.allowed",
                    expectation="expect_column_values_to_be_in_set",
                    kwargs={"column": raw, "value_set": list(col.allowed)},
                    severity="blocking",
                    message=(
                        f"ont dans {label} une valeur hors de la liste autorisée "
                        f"({', '.join(col.allowed)})"
                    ),
                    fix=f"Choisir {label} dans la liste : {', '.join(col.allowed)}.",
                    **base,  # type: ignore[arg-type]
                )
            )
        if col.type in ("integer", "decimal") and (
            col.minimum is not None or col.maximum is not None
        ):
            bounds = []
            if col.minimum is not None:
                bounds.append(f"au moins {_fmt(col.minimum)}")
            if col.maximum is not None:
                bounds.append(f"au plus {_fmt(col.maximum)}")
            rules.append(
                Rule(
                    id=f"{src}.{col.name}.range",
                    expectation="expect_column_values_to_be_between",
                    kwargs={
                        "column": col.name,
                        "min_value": col.minimum,
                        "max_value": col.maximum,
                    },
                    severity="blocking",
                    message=f"ont dans {label} une valeur hors des bornes ({' et '.join(bounds)})",
                    fix=f"Vérifier {label} : la valeur doit être {' et '.join(bounds)}.",
                    **base,  # type: ignore[arg-type]
                )
            )
        if col.pattern is not None:
            rules.append(
                Rule(
                    id=f"{src}.{col.name}.pattern",
                    expectation="expect_column_values_to_match_regex",
                    kwargs={"column": raw, "regex": anchored(col.pattern)},
                    severity="blocking",
                    message=f"ont dans {label} une valeur qui ne respecte pas le format attendu",
                    fix=f"Respecter le format de {label} (motif {col.pattern}).",
                    **base,  # type: ignore[arg-type]
                )
            )
        if col.min_length is not None or col.max_length is not None:
            rules.append(
                Rule(
                    id=f"{src}.{col.name}.length",
                    expectation="expect_column_value_lengths_to_be_between",
                    kwargs={
                        "column": raw,
                        "min_value": col.min_length,
                        "max_value": col.max_length,
                    },
                    severity="blocking",
                    message=f"ont dans {label} une valeur trop courte ou trop longue",
                    fix=f"Vérifier la longueur de {label}.",
                    **base,  # type: ignore[arg-type]
                )
            )
        if col.type == "country":
            rules.append(
                Rule(
                    id=f"{src}.{col.name}.reference",
                    expectation="expect_column_values_to_not_be_in_set",
                    kwargs={"column": f"{col.name}_status", "value_set": ["unknown", "ambiguous"]},
                    severity="blocking",
                    message=(
                        f"ont dans {label} un pays absent du référentiel "
                        "(ISO 3166 et code officiel géographique de l'Insee)"
                    ),
                    fix=f"Saisir dans {label} le nom officiel du pays ou son code ISO.",
                    **base,  # type: ignore[arg-type]
                )
            )
        if col.unique:
            rules.append(
                Rule(
                    id=f"{src}.{col.name}.unique",
                    expectation="expect_column_values_to_be_unique",
                    kwargs={"column": col.name},
                    severity="warning",
                    message=f"partagent leur valeur de {label} avec une autre ligne",
                    fix=f"Chaque valeur de {label} doit être unique dans l'extraction.",
                    **base,  # type: ignore[arg-type]
                )
            )
    key = list(contract.primary_key)
    key_label = ", ".join(f"« {contract.column(k).source_name} »" for k in key)
    rules.append(
        Rule(
            id=f"{src}.primary_key.unique",
            # GX wants two columns at least for the compound form
            expectation=(
                "expect_compound_columns_to_be_unique"
                if len(key) > 1
                else "expect_column_values_to_be_unique"
            ),
            kwargs={"column_list": key} if len(key) > 1 else {"column": key[0]},
            severity="warning",
            column=None,
            message=(
                f"partagent leur identifiant ({key_label}) avec une autre ligne de la livraison "
                "(le lac ne garde que la plus récente)"
            ),
            fix="Supprimer les doublons de l'extraction ou vérifier les identifiants attribués.",
        )
    )
    rules.append(
        Rule(
            id=f"{src}.batch.not_empty",
            expectation="expect_table_row_count_to_be_between",
            kwargs={"min_value": 1},
            severity="warning",
            column=None,
            message="La livraison ne contient aucune ligne de données",
            fix="Vérifier l'extraction : le fichier ne contient que l'en-tête.",
        )
    )
    rules.append(
        Rule(
            id=f"{src}.batch.rejected_share",
            expectation="expect_column_values_to_be_between",
            kwargs={
                "column": FAILURE_COUNT,
                "min_value": 0,
                "max_value": 0,
                "mostly": round(1 - MAX_REJECTED_SHARE, 4),
            },
            severity="blocking",
            column=None,
            message=(
                f"Plus de {int(MAX_REJECTED_SHARE * 100)} % des lignes sont rejetées : "
                "la livraison entière est retenue"
            ),
            fix="Vérifier le format de l'extraction (colonnes, séparateur, encodage).",
        )
    )
    return rules


def _formats_fr(contract: Contract) -> list[str]:
    return [
        f.replace("dd", "jj").replace("yyyy", "aaaa").replace("MM", "mm")
        for f in contract.date_formats
    ]


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
        where = f"{path}: rules[{i}]"
        if not isinstance(raw, dict):
            raise RulesError(where, "must be a mapping (id, expectation, severity, message...)")
        extra = sorted(set(raw) - _BUSINESS_KEYS)
        if extra:
            raise RulesError(
                where,
                f"{extra[0]!r} is not a rule field; allowed: {', '.join(sorted(_BUSINESS_KEYS))}",
            )
        for needed in ("id", "expectation", "severity", "message"):
            if needed not in raw:
                raise RulesError(where, f"{needed!r} is required")
        expectation = raw["expectation"]
        if expectation not in ROW_EXPECTATIONS + TABLE_EXPECTATIONS:
            raise RulesError(
                where,
                f"expectation {expectation!r} is not supported; allowed: "
                f"{', '.join(ROW_EXPECTATIONS + TABLE_EXPECTATIONS)}",
            )
        if raw["severity"] not in SEVERITIES:
            raise RulesError(where, f"severity {raw['severity']!r}; allowed: blocking, warning")
        column = raw.get("column")
        if column is not None and column not in names:
            raise RulesError(where, f"column {column!r} is not in the contract")
        if expectation == "unexpected_rows_expectation" and not raw.get("where"):
            raise RulesError(where, "unexpected_rows_expectation needs 'where' (SQL condition)")
        kwargs = _substitute(raw.get("kwargs") or {}, today)
        found.append(
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
                sensitive=column is not None and _sensitive(contract.column(column)),
            )
        )
    return found


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
        raise RulesError(contract.source, f"rule id {dupes[0]!r} is declared twice")
    return rules


def row_rules(rules: Sequence[Rule]) -> list[Rule]:
    return [r for r in rules if r.scope == "row"]
