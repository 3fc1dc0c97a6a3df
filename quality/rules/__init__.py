"""Quality rules: what a review checks, derived from contracts plus per-source business rules.

`model` holds the rule (a GX expectation with its severity, French wording and the SQL condition
of a failing row), `contract` the rules a contract states by itself, `business` the rules of
``contracts/rules/<source>.yaml`` and the review's full list (:func:`suite_rules`).

Rules validate the *conformed* batch: typed columns, plus ``__raw_<col>`` (the cleaned text as
delivered) for every contract column, and ``<col>_status`` for country columns; the gate adds the
columns a rule declares (``Rule.adds``: ``__unread_<col>``, the text typing could not read).
"""

from __future__ import annotations

from quality.rules.business import business_rules, rules_dir, suite_rules
from quality.rules.contract import MAX_REJECTED_SHARE, anchored, contract_rules
from quality.rules.model import (
    ROW_EXPECTATIONS,
    SEVERITIES,
    TABLE_EXPECTATIONS,
    Rule,
    Scope,
    Severity,
    failing_condition,
    row_rules,
    value_column,
)

__all__ = [
    "MAX_REJECTED_SHARE",
    "ROW_EXPECTATIONS",
    "SEVERITIES",
    "TABLE_EXPECTATIONS",
    "Rule",
    "Scope",
    "Severity",
    "anchored",
    "business_rules",
    "contract_rules",
    "failing_condition",
    "row_rules",
    "rules_dir",
    "suite_rules",
    "value_column",
]
