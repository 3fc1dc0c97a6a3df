"""The rule model: one Great Expectations expectation with its severity, French wording and, for a
row-level rule, the Spark SQL condition of a failing row.

A :class:`Rule` is one expectation (its type and kwargs) with what the lake needs around it: a
stable id, a severity (``blocking``: failing rows are quarantined, or for a table-level rule the
whole batch is held; ``warning``: promoted and reported), the column it is about, a French sentence
completing "N lignes (x %) ..." and what to fix at the source.

Row-level rules also carry the Spark SQL condition that is true for a failing row
(:func:`failing_condition`). The gate quarantines rows with it; Great Expectations stays the
authority on the numbers (unexpected counts, rows reviewed, rows rejected), and
``tests/quality/test_gx_counts.py`` checks on the bundled samples and their planted defects that
the two agree rule by rule.

Rules are column expectations wherever they can be, so GX evaluates them in its aggregate passes
(one Spark job for all the column rules of a batch); ``unexpected_rows_expectation`` (a SQL query
of its own, two jobs or more per rule) is kept for conditions no column expectation states. A rule
may declare columns it reads that the batch does not carry yet (``adds``: name and Spark SQL
expression), which the gate adds before the review, e.g. the text typing could not read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from lake.gates import RAW_PREFIX
from quality.errors import RulesError

Severity = Literal["blocking", "warning"]
Scope = Literal["row", "table"]
SEVERITIES: tuple[str, ...] = ("blocking", "warning")

# Expectations whose failing rows the lake can name (and so quarantine).
ROW_EXPECTATIONS: tuple[str, ...] = (
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_null",
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
        adds: Columns the rule reads that the gate adds to the batch before the review:
            ``(name, Spark SQL expression)`` pairs, names starting with ``__`` (never written).
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
    adds: tuple[tuple[str, str], ...] = ()

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


def sql_column(name: str) -> str:
    """A column name as a back-quoted Spark SQL identifier."""
    return "`" + name.replace("`", "``") + "`"


def failing_condition(rule: Rule) -> str:
    """Spark SQL condition true for the rows ``rule`` counts as unexpected.

    Mirrors GX semantics: column map expectations ignore nulls (except the not-null one), pair
    expectations here ignore a row where either value is missing.

    Raises:
        RulesError: The rule is table-level (no failing row to name).
    """
    if rule.scope != "row":
        raise RulesError(
            rule.id, f"{rule.expectation} is a table-level check; no row condition", rule=rule.id
        )
    k = rule.kwargs
    kind = rule.expectation
    if kind == "unexpected_rows_expectation":
        assert rule.where is not None
        return f"({rule.where})"
    if kind == "expect_column_pair_values_a_to_be_greater_than_b":
        a, b = sql_column(k["column_A"]), sql_column(k["column_B"])
        op = ">=" if k.get("or_equal") else ">"
        return f"({a} IS NOT NULL AND {b} IS NOT NULL AND NOT ({a} {op} {b}))"
    col = sql_column(k["column"])
    if kind == "expect_column_values_to_not_be_null":
        return f"({col} IS NULL)"
    if kind == "expect_column_values_to_be_null":
        return f"({col} IS NOT NULL)"
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
    raise RulesError(rule.id, f"no row condition for {kind}", rule=rule.id)


def value_column(rule: Rule) -> str | None:
    """The column whose value is shown for a failing row (the raw text when there is one)."""
    if rule.column is None:
        return None
    return f"{RAW_PREFIX}{rule.column}"


def row_rules(rules: Sequence[Rule]) -> list[Rule]:
    """The rules whose failing rows can be named and quarantined."""
    return [r for r in rules if r.scope == "row"]
