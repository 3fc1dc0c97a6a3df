"""Which Great Expectations expectation each rule becomes, and whether GX's counts agree with the
lake's own SQL.

GX is the authority on every count of a review (unexpected rows per rule, rows reviewed, rows
rejected); the lake's SQL condition of each row rule names the rows that go to quarantine. The
review no longer compares the two at run time: that they agree is a property of the rules, checked
here on every bundled delivery with its planted defects (docs/extracts.md, samples/MANIFEST.json).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections import Counter
from pathlib import Path

import pytest

from conftest import DEMO_CONTRACT, REPO
from lake.contracts import load_contract, load_contracts
from quality.gate import count_mismatches, flagged_counts, gx_counts, mark_failures
from quality.rules import Rule, failing_condition, suite_rules
from quality.rules.business import as_column_expectation
from quality.validation import Outcome, to_expectation, validate

MANIFEST = json.loads((REPO / "samples" / "MANIFEST.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def demo_rules(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Rule]:
    root = Path(tmp_path_factory.mktemp("root"))
    (root / "contracts" / "rules").mkdir(parents=True)
    (root / "contracts" / "demo.yaml").write_text(DEMO_CONTRACT)
    (root / "contracts" / "rules" / "demo.yaml").write_text(
        "rules:\n"
        "  - {id: later, expectation: unexpected_rows_expectation, column: day,\n"
        "     where: 'day > n', severity: blocking, message: sont en retard}\n"
    )
    contract = load_contract(root / "contracts" / "demo.yaml")
    return {r.id: r for r in suite_rules(contract, root)}


def _gx(rule: Rule) -> tuple[str, dict]:
    expectation = to_expectation(rule)
    kwargs = {
        k: v
        for k, v in expectation.configuration.kwargs.items()
        if k not in ("result_format", "catch_exceptions")
    }
    return type(expectation).__name__, kwargs


def test_column_rules_are_column_expectations(demo_rules) -> None:
    """Type, required, allowed and range checks are column expectations GX evaluates in one
    aggregate pass, never a query of their own."""
    assert _gx(demo_rules["demo.amount.type"]) == (
        "ExpectColumnValuesToBeNull",
        {"column": "__unread_amount"},
    )
    assert _gx(demo_rules["demo.id.required"]) == (
        "ExpectColumnValuesToNotBeNull",
        {"column": "__raw_id"},
    )
    assert _gx(demo_rules["demo.colour.allowed"]) == (
        "ExpectColumnValuesToBeInSet",
        {"column": "__raw_colour", "value_set": ["vert", "rouge"]},
    )
    assert _gx(demo_rules["demo.amount.range"]) == (
        "ExpectColumnValuesToBeBetween",
        {"column": "amount", "min_value": 0.0},
    )
    assert _gx(demo_rules["demo.batch.rejected_share"]) == (
        "ExpectColumnValuesToBeBetween",
        {"column": "_failure_count", "min_value": 0, "max_value": 0, "mostly": 0.5},
    )
    queries = [r.id for r in demo_rules.values() if r.expectation == "unexpected_rows_expectation"]
    assert queries == ["demo.later"]  # only what no column expectation states


def test_a_type_rule_reads_the_text_typing_could_not_read(demo_rules) -> None:
    """Null semantics unchanged: an empty delivered value is not unreadable, a value the typing
    could not read is; the column GX checks is null exactly when the row passes."""
    rule = demo_rules["demo.day.type"]
    assert rule.scope == "row" and rule.column == "day"
    assert rule.adds == (("__unread_day", "CASE WHEN `day` IS NULL THEN `__raw_day` END"),)
    assert failing_condition(rule) == "(`__unread_day` IS NOT NULL)"


def test_a_business_query_stays_a_query(demo_rules) -> None:
    name, kwargs = _gx(demo_rules["demo.later"])
    assert name == "UnexpectedRowsExpectation"
    assert kwargs["unexpected_rows_query"] == "SELECT * FROM {batch} WHERE day > n"


def _query(where: str) -> Rule:
    return Rule("s.r", "unexpected_rows_expectation", {}, "blocking", "d", "m", where=where)


@pytest.mark.parametrize(
    ("where", "kwargs"),
    [
        ("d > DATE'2026-01-31'", {"column": "d", "max_value": "2026-01-31"}),
        ("d >= DATE'2026-01-31'", {"column": "d", "max_value": "2026-01-31", "strict_max": True}),
        ("d < DATE'1900-01-01'", {"column": "d", "min_value": "1900-01-01"}),
        ("d <= DATE'1900-01-01'", {"column": "d", "min_value": "1900-01-01", "strict_min": True}),
        (
            "d < DATE'1900-01-01' OR d > DATE'2026-01-31'",
            {"column": "d", "min_value": "1900-01-01", "max_value": "2026-01-31"},
        ),
    ],
)
def test_a_query_bounding_a_date_column_becomes_a_column_expectation(where, kwargs) -> None:
    rule = as_column_expectation(_query(where), columns={"d"})
    assert (rule.expectation, dict(rule.kwargs), rule.where) == (
        "expect_column_values_to_be_between",
        kwargs,
        None,
    )
    assert rule.scope == "row"
    # GX reads the bounds as dates: compared as dates with the date column
    as_dates = {
        k: dt.date.fromisoformat(v) if k.endswith("_value") else v for k, v in kwargs.items()
    }
    assert _gx(rule) == ("ExpectColumnValuesToBeBetween", as_dates)


@pytest.mark.parametrize(
    "where",
    [
        "year(d) < y",  # a function of a column
        "d > date_add(DATE'2026-01-31', 30)",  # a computed bound
        "d > DATE'2026-01-31' OR e < DATE'1900-01-01'",  # two columns
        "d > DATE'2026-01-31' OR d >= DATE'2027-01-01'",  # two upper bounds
        "d > DATE'2026-01-31' AND d < DATE'2027-01-01'",  # a conjunction
        "x > DATE'2026-01-31'",  # not a date column of the contract
    ],
)
def test_any_other_query_stays_a_query(where) -> None:
    rule = _query(where)
    assert as_column_expectation(rule, columns={"d", "e"}) is rule


@pytest.mark.spark
def test_a_translated_query_counts_the_same_rows(spark, tmp_path: Path) -> None:
    """Nulls and bounds alike: the between expectation fails exactly the rows the query did."""
    where = "d < DATE'1900-01-01' OR d > DATE'2026-01-31'"
    df = spark.createDataFrame(
        [(dt.date(y, m, d),) for y, m, d in [(1899, 12, 31), (1900, 1, 1), (2026, 1, 31)]]
        + [(dt.date(2026, 2, 1),), (None,)],
        "d date",
    )
    query = _query(where)
    column = as_column_expectation(query, columns={"d"})
    both = [query, dataclasses.replace(column, id="s.c")]
    outcomes = validate(df, both, suite_name="silver.s", reports_dir=tmp_path, data_docs=False)
    assert [o.unexpected_count for o in outcomes] == [2, 2]
    assert df.filter(failing_condition(column)).count() == 2


def _outcome(rule: Rule, unexpected: int | None, observed: str | None = None) -> Outcome:
    return Outcome(rule, unexpected == 0, 10, unexpected, None, observed)


def test_gx_counts_and_their_mismatches_are_named(demo_rules) -> None:
    outcomes = [
        _outcome(demo_rules["demo.batch.not_empty"], None, "10"),
        _outcome(demo_rules["demo.batch.rejected_share"], 3),
        _outcome(demo_rules["demo.amount.type"], 2),
    ]
    assert gx_counts(outcomes) == (10, 3)
    assert count_mismatches(outcomes, 10, 3, {"demo.amount.type": 2}) == []
    assert count_mismatches(outcomes, 11, 2, {"demo.amount.type": 1}) == [
        "rows: Great Expectations counted 10, the lake 11",
        "rejected rows: Great Expectations counted 3, the lake 2",
        "rule demo.amount.type: Great Expectations counted 2 unexpected rows, the lake's "
        "condition flags 1 ((`__unread_amount` IS NOT NULL))",
    ]


def _bronze(spark, contract, path: Path):
    """A delivered file as bronze holds it: string columns, line numbers, provenance."""
    from pyspark.sql import functions as F

    from ingestion.readers import read_extract

    layout, chunks = read_extract(contract, path)
    records = [(line, *values) for chunk in chunks for line, values in chunk.records]
    schema = "_line long, " + ", ".join(f"`{c}` string" for c in layout.columns)
    return spark.createDataFrame(records, schema).withColumns(
        {
            "_source": F.lit(contract.source),
            "_batch_id": F.lit(path.name),
            "_file_uri": F.lit(str(path)),
            "_delivered_at": F.current_timestamp(),
        }
    )


@pytest.mark.spark
def test_gx_counts_what_the_lake_flags_on_every_planted_defect(spark, tmp_path: Path) -> None:
    """Every bundled delivery reviewed: GX's counts (rows, rejected rows, unexpected rows of
    each row rule) equal the lake's SQL, and each rule counts exactly its planted defects."""
    from ingestion.conform import conform
    from ingestion.silver import country_lookup

    planted = Counter(
        (d["file"], d["rule"])
        for entry in MANIFEST["deliveries"]
        for d in entry["defects"]
        if d.get("rule") and not d["rule"].endswith(".line.readable")  # bronze, not a GX rule
    )
    counted: Counter = Counter()
    contracts = load_contracts(REPO)
    for entry in MANIFEST["deliveries"]:
        contract = contracts[entry["source"]]
        bronze = _bronze(spark, contract, REPO / "samples" / entry["path"])
        typed = conform(bronze, contract, country_lookup(spark, bronze, contract), b"k" * 32)
        rules = suite_rules(contract, REPO)
        marked = mark_failures(typed, rules).persist()
        try:
            outcomes = validate(
                marked,
                rules,
                suite_name=f"silver.{contract.source}",
                reports_dir=tmp_path,
                data_docs=False,
            )
            rows, rejected, flagged = flagged_counts(marked, rules)
        finally:
            marked.unpersist()
        assert count_mismatches(outcomes, rows, rejected, flagged) == [], entry["file"]
        assert gx_counts(outcomes) == (rows, rejected)
        for o in outcomes:
            if o.rule.scope == "row" and o.unexpected_count:
                counted[(entry["file"], o.rule.id)] += o.unexpected_count
    assert counted == planted
