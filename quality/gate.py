"""The quality gates: review a batch before it enters silver, and a gold table before it is written.

A batch review, over the persisted batch:

1. every blocking row-level rule marks its failing rows in ``_failures`` (rule, column, value —
   masked when the column is sensitive —, French reason, severity); those rows go to quarantine;
2. Great Expectations validates the whole suite (row and table rules) on the same DataFrame, its
   column rules in one aggregate pass; GX is the authority on every count: the unexpected rows
   of each rule, the rows reviewed (the row-count rule) and the rows rejected (the unexpected
   rows of the rejected-share rule, which reads ``_failure_count``);
3. a blocking table-level failure (e.g. more than half the rows rejected) blocks the batch.

That the lake's SQL conditions (which name the quarantined rows) flag exactly the rows GX counts
is a property of the rules, checked by ``tests/quality/test_gx_counts.py`` on the bundled samples
and their planted defects (:func:`flagged_counts`, :func:`count_mismatches`), not at every review.

The decision and every outcome are appended to the quality history with the version of the table
the batch went into.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lake.contracts import Contract
from lake.gates import FAILURE_COUNT, FAILURE_TYPE, FAILURES, Decision, Verdict
from lake.settings import Settings
from quality import history
from quality.rules import (
    Rule,
    failing_condition,
    suite_rules,
    value_column,
)
from quality.validation import Outcome, data_docs_index, validate

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

MASK = "<masqué>"


def new_review_id() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]


def with_rule_columns(df: DataFrame, rules: Sequence[Rule]) -> DataFrame:
    """Add the columns the rules read that the batch does not carry (:attr:`Rule.adds`)."""
    from pyspark.sql import functions as F

    added = {name: F.expr(expr) for r in rules for name, expr in r.adds if name not in df.columns}
    return df.withColumns(added) if added else df


def mark_failures(df: DataFrame, rules: Sequence[Rule]) -> DataFrame:
    """Add the rules' own columns, ``_failures`` (blocking row-level failures of each row) and
    ``_failure_count``."""
    from pyspark.sql import functions as F

    df = with_rule_columns(df, rules)
    structs: list[Column] = []
    for rule in rules:
        if rule.scope != "row" or rule.severity != "blocking":
            continue
        shown_col = value_column(rule)
        if shown_col is None or shown_col not in df.columns:
            shown_col = rule.column if rule.column in df.columns else None
        shown: Column
        if rule.sensitive:
            shown = F.lit(MASK)
        elif shown_col is not None:
            shown = F.col(f"`{shown_col}`").cast("string")
        else:
            shown = F.lit(None).cast("string")
        structs.append(
            F.when(
                F.expr(failing_condition(rule)),
                F.struct(
                    F.lit(rule.column).cast("string").alias("column"),
                    shown.alias("value"),
                    F.lit(rule.message).alias("reason"),
                    F.lit(rule.id).alias("rule"),
                    F.lit(rule.severity).alias("severity"),
                ),
            )
        )
    failures = (
        F.filter(F.array(*structs), lambda f: f.isNotNull()).cast(FAILURE_TYPE)
        if structs
        else F.array().cast(FAILURE_TYPE)
    )
    return df.withColumn(FAILURES, failures).withColumn(FAILURE_COUNT, F.size(FAILURES))


def flagged_counts(df: DataFrame, rules: Sequence[Rule]) -> tuple[int, int, dict[str, int]]:
    """(rows, rows with a blocking failure, rows flagged per row-level rule) in one pass of the
    lake's own SQL over a marked batch: what the cross-check of GX's counts compares with."""
    from pyspark.sql import functions as F

    row_rules = [r for r in rules if r.scope == "row"]
    aggs = [F.count(F.lit(1)).alias("__rows"), F.count_if(F.col(FAILURE_COUNT) > 0).alias("__rej")]
    aggs += [
        F.count_if(F.expr(failing_condition(r))).alias(f"__r{i}") for i, r in enumerate(row_rules)
    ]
    row = df.agg(*aggs).collect()[0]
    return (
        int(row["__rows"]),
        int(row["__rej"]),
        {r.id: int(row[f"__r{i}"]) for i, r in enumerate(row_rules)},
    )


@dataclass
class _Review:
    review_id: str
    table: str
    layer: str
    source: str
    domain: str
    owner: str
    batch_id: str | None
    outcomes: list[Outcome]
    rows: int
    rejected: int
    decision: Decision
    data_docs: str | None

    def rows_for_history(
        self, run_id: str, version: int | None, reviewed_at: dt.datetime
    ) -> list[dict[str, Any]]:
        return [
            {
                "review_id": self.review_id,
                "run_id": run_id,
                "reviewed_at": reviewed_at,
                "source": self.source,
                "domain": self.domain,
                "owner": self.owner,
                "table": self.table,
                "layer": self.layer,
                "batch_id": self.batch_id,
                "table_version": version,
                "rule_id": o.rule.id,
                "expectation": o.rule.expectation,
                "column": o.rule.column,
                "severity": o.rule.severity,
                "scope": o.rule.scope,
                "success": o.success,
                "element_count": o.element_count,
                "unexpected_count": o.unexpected_count,
                "unexpected_percent": o.unexpected_percent,
                "observed_value": o.observed_value,
                "message": o.rule.message,
                "fix": o.rule.fix,
                "decision": self.decision,
                "rows_reviewed": self.rows,
                "rows_rejected": self.rejected,
                "data_docs": self.data_docs,
            }
            for o in self.outcomes
        ]


def assertions(outcomes: Sequence[Outcome]) -> list[dict[str, Any]]:
    """The review as OpenLineage data-quality assertions (plain data)."""
    return [
        {
            "assertion": o.rule.expectation,
            "success": o.success,
            "column": o.rule.column,
            "severity": o.rule.severity,
            "name": o.rule.id,
            "description": o.rule.message,
            "actual": None if o.unexpected_count is None else str(o.unexpected_count),
        }
        for o in outcomes
    ]


def decide(outcomes: Sequence[Outcome], rejected: int) -> tuple[Decision, list[str]]:
    """Blocked on a failed blocking table-level rule; with warnings on any other failure."""
    blocking = [
        o.rule.message
        for o in outcomes
        if not o.success and o.rule.scope == "table" and o.rule.severity == "blocking"
    ]
    if blocking:
        return "blocked", blocking
    if rejected or any(not o.success for o in outcomes):
        return "promoted_with_warnings", []
    return "promoted", []


def count_mismatches(
    outcomes: Sequence[Outcome], rows: int, rejected: int, flagged: Mapping[str, int]
) -> list[str]:
    """Where GX's counts and the lake's SQL disagree, one line each ([] when they agree).

    ``rows``, ``rejected`` and ``flagged`` come from :func:`flagged_counts` on the same marked
    batch; GX's side is :func:`gx_counts` and each row rule's unexpected count.
    """
    found = []
    gx_rows, gx_rejected = gx_counts(outcomes)
    if gx_rows != rows:
        found.append(f"rows: Great Expectations counted {gx_rows}, the lake {rows}")
    if gx_rejected != rejected:
        found.append(
            f"rejected rows: Great Expectations counted {gx_rejected}, the lake {rejected}"
        )
    for o in outcomes:
        if o.rule.id in flagged and (o.unexpected_count or 0) != flagged[o.rule.id]:
            found.append(
                f"rule {o.rule.id}: Great Expectations counted {o.unexpected_count} unexpected "
                f"rows, the lake's condition flags {flagged[o.rule.id]} "
                f"({failing_condition(o.rule)})"
            )
    return found


def gx_counts(outcomes: Sequence[Outcome]) -> tuple[int | None, int | None]:
    """(rows reviewed, rows rejected) as Great Expectations counted them: the row count of the
    ``batch.not_empty`` rule and the unexpected rows of ``batch.rejected_share`` (rows with a
    blocking failure); None when the suite has no such rule."""
    rows = rejected = None
    for o in outcomes:
        if o.rule.id.endswith(".batch.not_empty") and o.observed_value is not None:
            rows = int(json.loads(o.observed_value))
        elif o.rule.id.endswith(".batch.rejected_share"):
            rejected = o.unexpected_count or 0
    return rows, rejected


class SilverGate:
    """The bronze -> silver gate (a :class:`lake.gates.BatchGate`)."""

    def __init__(self, settings: Settings, *, data_docs: bool = True) -> None:
        self.settings = settings
        self.data_docs = data_docs

    def __call__(
        self, conformed: DataFrame, contract: Contract, *, batch_id: str, run_id: str
    ) -> Verdict:
        rules = suite_rules(contract, self.settings.root)
        marked = mark_failures(conformed, rules).persist()
        outcomes = validate(
            marked,
            rules,
            suite_name=f"silver.{contract.source}",
            reports_dir=self.settings.reports.dir,
            data_docs=self.data_docs,
        )
        rows, rejected = gx_counts(outcomes)
        if rows is None or rejected is None:  # a suite without the batch-level rules
            rows, rejected, _flagged = flagged_counts(marked, rules)
        decision, reasons = decide(outcomes, rejected)
        review = _Review(
            review_id=new_review_id(),
            table=f"silver/{contract.source}",
            layer="silver",
            source=contract.source,
            domain=contract.domain,
            owner=contract.owner,
            batch_id=batch_id,
            outcomes=outcomes,
            rows=rows,
            rejected=rows if decision == "blocked" else rejected,
            decision=decision,
            data_docs=str(data_docs_index(self.settings.reports.dir)) if self.data_docs else None,
        )
        failed = sum(not o.success for o in outcomes)
        return Verdict(
            decision=decision,
            review_id=review.review_id,
            marked=marked,
            reasons=reasons,
            summary=(
                f"review {review.review_id}: {len(outcomes) - failed}/{len(outcomes)} checks "
                f"passed, {rejected} row(s) rejected -> {decision}"
            ),
            record=lambda version: history.append(
                self.settings, review.rows_for_history(run_id, version, history.now())
            ),
            assertions=assertions(outcomes),
            rows=rows,
            rejected=rows if decision == "blocked" else rejected,
        )


def gold_rules(
    name: str,
    grain: Sequence[str],
    count_columns: Sequence[str],
    *,
    secret: bool,
    min_cell_count: int,
) -> list[Rule]:
    """The review of a gold indicator table."""
    rules = [
        Rule(
            id=f"gold.{name}.not_empty",
            expectation="expect_table_row_count_to_be_between",
            kwargs={"min_value": 1},
            severity="warning",
            column=None,
            message="L'indicateur ne contient aucune ligne",
            fix="Vérifier que les tables silver sources ont été alimentées.",
        ),
        Rule(
            id=f"gold.{name}.grain.unique",
            expectation=(
                "expect_compound_columns_to_be_unique"
                if len(grain) > 1
                else "expect_column_values_to_be_unique"
            ),
            kwargs={"column_list": list(grain)} if len(grain) > 1 else {"column": grain[0]},
            severity="blocking",
            column=None,
            message=f"Plusieurs lignes de l'indicateur ont la même maille ({', '.join(grain)})",
            fix="Corriger le calcul de l'indicateur (regroupement).",
        ),
    ]
    for col in count_columns:
        rules.append(
            Rule(
                id=f"gold.{name}.{col}.non_negative",
                expectation="expect_column_values_to_be_between",
                kwargs={"column": col, "min_value": 0},
                severity="blocking",
                column=col,
                message=f"ont un effectif « {col} » négatif",
                fix="Corriger le calcul de l'indicateur.",
            )
        )
        if secret:
            rules.append(
                Rule(
                    id=f"gold.{name}.{col}.statistical_secret",
                    expectation="expect_column_values_to_be_between",
                    kwargs={"column": col, "min_value": min_cell_count},
                    severity="blocking",
                    column=col,
                    message=(
                        f"ont un effectif « {col} » inférieur à {min_cell_count} qui n'est pas "
                        "masqué (secret statistique)"
                    ),
                    fix="Appliquer le secret statistique avant publication.",
                )
            )
    return rules


class GoldGate:
    """The gold gate (a :class:`lake.gates.TableGate`): a blocked indicator is not written."""

    def __init__(self, settings: Settings, *, data_docs: bool = True) -> None:
        self.settings = settings
        self.data_docs = data_docs

    def __call__(
        self,
        table: DataFrame,
        *,
        name: str,
        domain: str,
        grain: tuple[str, ...],
        count_columns: tuple[str, ...],
        secret: bool,
        run_id: str,
    ) -> Verdict:
        rules = gold_rules(
            name,
            grain,
            count_columns,
            secret=secret,
            min_cell_count=self.settings.security.min_cell_count,
        )
        table = table.withColumn(FAILURE_COUNT, _zero())
        outcomes = validate(
            table,
            rules,
            suite_name=f"gold.{name}",
            reports_dir=self.settings.reports.dir,
            data_docs=self.data_docs,
        )
        rows = next(
            (int(o.observed_value or 0) for o in outcomes if o.rule.id.endswith(".not_empty")), 0
        )
        # On gold every rule is a table check: a failed blocking rule blocks the table.
        blocking = [
            o.rule.message for o in outcomes if not o.success and o.rule.severity == "blocking"
        ]
        decision: Decision = (
            "blocked"
            if blocking
            else ("promoted_with_warnings" if any(not o.success for o in outcomes) else "promoted")
        )
        review = _Review(
            review_id=new_review_id(),
            table=f"gold/{name}",
            layer="gold",
            source=name,
            domain=domain,
            owner="",
            batch_id=None,
            outcomes=outcomes,
            rows=rows,
            rejected=rows if decision == "blocked" else 0,
            decision=decision,
            data_docs=str(data_docs_index(self.settings.reports.dir)) if self.data_docs else None,
        )
        return Verdict(
            decision=decision,
            review_id=review.review_id,
            reasons=blocking,
            summary=f"review {review.review_id}: {decision}",
            record=lambda version: history.append(
                self.settings, review.rows_for_history(run_id, version, history.now())
            ),
            assertions=assertions(outcomes),
        )


def _zero() -> Column:
    from pyspark.sql import functions as F

    return F.lit(0)
