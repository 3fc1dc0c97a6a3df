"""Column lineage read from Spark's analysed plan, and its comparison with a declaration."""

from __future__ import annotations

import pytest

from lake.plan_lineage import (
    AGGREGATION,
    IDENTITY,
    ROWS,
    TRANSFORMATION,
    Edge,
    describe,
    disagreements,
    observed_lineage,
)


def _edges(*pairs: tuple[str, str], dataset: str = "") -> frozenset[Edge]:
    return frozenset(Edge(dataset, c, k) for c, k in pairs)


def _plain(observed: dict[str, frozenset[Edge]]) -> dict[str, set[tuple[str, str]]]:
    return {col: {(e.column, e.kind) for e in edges} for col, edges in observed.items()}


# -- agreement (pure) ------------------------------------------------------------------------

OBSERVED = {
    "pays": _edges(("country", IDENTITY), ("country", "INDIRECT/GROUP_BY"), dataset="s"),
    "n": _edges((ROWS, AGGREGATION), ("country", "INDIRECT/GROUP_BY"), dataset="s"),
    "total": _edges(("amount", AGGREGATION), ("country", "INDIRECT/GROUP_BY"), dataset="s"),
}


def test_a_count_of_rows_agrees_with_a_declaration_on_the_key() -> None:
    declared = {
        "pays": [("country", IDENTITY)],
        "n": [("id", AGGREGATION), ("country", "INDIRECT/GROUP_BY")],
        "total": [("amount", AGGREGATION)],  # observed indirect edges need not be declared
    }
    assert disagreements(declared, OBSERVED, dataset="s", key=["id"]) == []


def test_another_direct_input_is_a_disagreement_showing_both_versions() -> None:
    declared = {
        "pays": [("country", IDENTITY)],
        "n": [("id", AGGREGATION)],
        "total": [("price", AGGREGATION)],
    }
    [found] = disagreements(declared, OBSERVED, dataset="s", key=["id"])
    assert found.column == "total"
    assert describe(found) == (
        "total: declared [price DIRECT/AGGREGATION], observed [amount DIRECT/AGGREGATION, "
        "country INDIRECT/GROUP_BY] (direct inputs differ; observed but not declared: "
        "amount (DIRECT/AGGREGATION); declared but not observed: price (DIRECT/AGGREGATION))"
    )


def test_the_subtype_of_a_direct_edge_counts() -> None:
    declared = {"pays": [("country", TRANSFORMATION)], "n": [("id", AGGREGATION)]}
    declared["total"] = [("amount", AGGREGATION)]
    [found] = disagreements(declared, OBSERVED, dataset="s", key=["id"])
    assert found.column == "pays"


def test_a_count_declared_on_a_column_outside_the_key_disagrees() -> None:
    declared = {"pays": [("country", IDENTITY)], "n": [("country", AGGREGATION)]}
    declared["total"] = [("amount", AGGREGATION)]
    [found] = disagreements(declared, OBSERVED, dataset="s", key=["id"])
    assert found.column == "n"
    assert "observed but not declared: * (DIRECT/AGGREGATION)" in found.reason


def test_a_declared_indirect_edge_missing_from_the_plan_is_wrong() -> None:
    declared = {
        "pays": [("country", IDENTITY)],
        "n": [("id", AGGREGATION), ("year", "INDIRECT/GROUP_BY")],
        "total": [("amount", AGGREGATION)],
    }
    [found] = disagreements(declared, OBSERVED, dataset="s", key=["id"])
    assert found.reason == "declared indirect inputs not in the plan: year (INDIRECT/GROUP_BY)"


def test_an_undeclared_or_unproduced_column_disagrees() -> None:
    declared = {"pays": [("country", IDENTITY)], "ghost": [("x", IDENTITY)]}
    found = {d.column for d in disagreements(declared, OBSERVED, dataset="s", key=["id"])}
    assert found == {"ghost", "n", "total"}


def test_an_edge_from_another_input_cannot_be_declared() -> None:
    observed = {"x": frozenset({Edge("other", "y", IDENTITY)})}
    [found] = disagreements({"x": [("y", IDENTITY)]}, observed, dataset="s")
    assert found.reason == "it reads other.y, which the declaration cannot name"
    assert found.observed == (("other.y", IDENTITY),)


# -- observation (Spark: analysed plans only, no job) -----------------------------------------


@pytest.mark.spark
def test_an_aggregate_shows_identity_transformation_aggregation_and_group_by(spark) -> None:
    from pyspark.sql import functions as F

    src = spark.createDataFrame([], "id string, country string, day date, amount int")
    out = src.groupBy(F.col("country").alias("pays"), F.year("day").alias("annee")).agg(
        F.count("*").alias("n"), F.sum("amount").alias("total")
    )
    group = {("country", "INDIRECT/GROUP_BY"), ("day", "INDIRECT/GROUP_BY")}
    assert _plain(observed_lineage(out, {"s": src})) == {
        "pays": {("country", IDENTITY)} | group,
        "annee": {("day", TRANSFORMATION)} | group,
        "n": {(ROWS, AGGREGATION)} | group,
        "total": {("amount", AGGREGATION)} | group,
    }


@pytest.mark.spark
def test_a_filter_feeds_every_column_and_a_derived_column_keeps_the_strongest_subtype(
    spark,
) -> None:
    from pyspark.sql import functions as F

    src = spark.createDataFrame([], "id string, colour string, day date, n int")
    out = (
        src.filter(F.col("day") <= F.current_date())
        .groupBy("id")
        .agg(F.max("n").alias("m"))
        .withColumn("big", F.when(F.col("m") > 3, F.lit("oui")).otherwise(F.col("id")))
    )
    seen = _plain(observed_lineage(out, {"s": src}))
    keys = {("day", "INDIRECT/FILTER"), ("id", "INDIRECT/GROUP_BY")}
    assert seen == {
        "id": {("id", IDENTITY)} | keys,
        "m": {("n", AGGREGATION)} | keys,
        "big": {("n", AGGREGATION), ("id", TRANSFORMATION)} | keys,
    }


@pytest.mark.spark
def test_window_keys_become_row_deciding_through_a_filter_on_the_window(spark) -> None:
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    src = spark.createDataFrame([], "k string, v string, at date")
    latest = Window.partitionBy("k").orderBy(F.col("at").desc())
    out = src.withColumn("r", F.row_number().over(latest)).filter("r = 1").select("v")
    assert _plain(observed_lineage(out, {"s": src})) == {
        "v": {("v", IDENTITY), ("k", "INDIRECT/WINDOW"), ("at", "INDIRECT/WINDOW")}
    }


@pytest.mark.spark
def test_a_lookup_joined_from_memory_depends_on_the_join_key(spark) -> None:
    from pyspark.sql import functions as F

    src = spark.createDataFrame([], "id string, country string")
    referential = spark.createDataFrame([], "raw string, label string")
    out = src.join(referential, F.upper(src["country"]) == referential["raw"], "left").select(
        "id", F.col("label").alias("country_label")
    )
    assert _plain(observed_lineage(out, {"s": src})) == {
        "id": {("id", IDENTITY), ("country", "INDIRECT/JOIN")},
        "country_label": {("country", TRANSFORMATION), ("country", "INDIRECT/JOIN")},
    }


@pytest.mark.spark
def test_an_input_is_taken_as_it_is_given_and_unions_merge_by_position(spark) -> None:
    from pyspark.sql import functions as F

    raw = spark.createDataFrame([], "batch string, a string, b string")
    given = raw.filter(F.col("batch") == "x")  # the input's own filter is not the step's
    out = given.select("a").unionByName(given.select(F.col("b").alias("a")))
    assert _plain(observed_lineage(out, {"s": given})) == {"a": {("a", IDENTITY), ("b", IDENTITY)}}
    # without inputs, every leaf is an input, named ""
    assert observed_lineage(given.select("a")) == {
        "a": frozenset({Edge("", "a", IDENTITY), Edge("", "batch", "INDIRECT/FILTER")})
    }
