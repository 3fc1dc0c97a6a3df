"""Declared column lineage is checked against Spark's analysed plan at every gold run."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from ingestion.errors import LineageMismatchError
from ingestion.indicators import INDICATORS, Indicator
from ingestion.lineage_plan import check_observed, check_silver, silver_step
from ingestion.runlog import RunRecord
from lake.contracts import get_contract
from lake.settings import Settings

pytestmark = pytest.mark.spark

PVT = next(i for i in INDICATORS if i.name == "pvt_par_pays_annee")
FIX = "update Indicator.lineage in ingestion/indicators.py, or the transform"


def _visas_by_year(silver, _settings):
    """Sums the year instead of the visas, keeping every output name: the declaration lies."""
    from pyspark.sql import functions as F

    return (
        silver["pvt_visas"]
        .groupBy(
            F.col("partner_country").alias("pays_iso3"),
            F.col("partner_country_label").alias("pays"),
            F.col("year").alias("annee"),
        )
        .agg(F.sum("year").alias("visas_delivres"))
    )


WRONG = replace(PVT, name="pvt_faux", build=_visas_by_year)


def _empty_silver(spark, settings: Settings, source: str):
    """An empty DataFrame with the schema silver has for ``source`` (from the lineage plan)."""
    contract = get_contract(settings.root, source)
    record = RunRecord("r", "b", source, "silver", "succeeded", dt.datetime.now(dt.UTC))
    _, (silver, _) = silver_step(settings, contract, record)
    return spark.createDataFrame([], ", ".join(f"`{n}` {t}" for n, t in silver.columns))


def _check(spark, settings: Settings, indicator: Indicator) -> None:
    first = get_contract(settings.root, indicator.sources[0])
    silver = {s: _empty_silver(spark, settings, s) for s in indicator.sources}
    check_observed(
        indicator.lineage,
        indicator.build(silver, settings),
        silver,
        dataset=first.source,
        key=first.primary_key,
        uri=f"s3a://lake/gold/{indicator.name}",
        layer="gold",
        fix=FIX,
    )


@pytest.mark.parametrize("indicator", INDICATORS, ids=lambda i: i.name)
def test_every_shipped_indicator_declares_what_its_plan_reads(spark, lake_settings, indicator):
    _check(spark, lake_settings, indicator)


def test_a_transform_reading_another_column_fails_with_both_versions(spark, lake_settings):
    with pytest.raises(LineageMismatchError) as caught:
        _check(spark, lake_settings, WRONG)
    err = caught.value
    assert err.columns == ["visas_delivres"]
    assert err.table == "s3a://lake/gold/pvt_faux"
    assert err.declared["visas_delivres"] == (
        ("partner_country", "INDIRECT/GROUP_BY"),
        ("visas_issued", "DIRECT/AGGREGATION"),
        ("year", "INDIRECT/GROUP_BY"),
    )
    assert ("year", "DIRECT/AGGREGATION") in err.observed["visas_delivres"]
    assert str(err) == (
        "Gold table s3a://lake/gold/pvt_faux: its declared column lineage disagrees with Spark's "
        "analysed plan (input pvt_visas) on 1 column(s): visas_delivres: declared "
        "[partner_country INDIRECT/GROUP_BY, visas_issued DIRECT/AGGREGATION, "
        "year INDIRECT/GROUP_BY], observed [partner_country INDIRECT/GROUP_BY, "
        "partner_country_label INDIRECT/GROUP_BY, year DIRECT/AGGREGATION, "
        "year INDIRECT/GROUP_BY] (direct inputs differ; observed but not declared: "
        "year (DIRECT/AGGREGATION); declared but not observed: visas_issued "
        "(DIRECT/AGGREGATION)). Fix: " + FIX
    )


@pytest.mark.minio
def test_build_gold_fails_the_step_and_writes_nothing_on_a_wrong_declaration(
    spark, lake_settings, monkeypatch
) -> None:
    import ingestion.gold as gold
    from lake import delta_io
    from lake.gates import Verdict
    from lake.storage import ensure_bucket, table_uri

    settings = lake_settings.with_overrides({"storage": {"bucket": "lake-observed-lineage"}})
    ensure_bucket(settings)
    silver = _empty_silver(spark, settings, "pvt_visas").schema
    rows = [
        {f.name: None for f in silver.fields}
        | {"partner_country": "CAN", "partner_country_label": "Canada", "year": 2024}
        | {"visas_issued": 7, "_row_hash": "h"}
    ]
    delta_io.write_table(
        spark.createDataFrame(rows, silver), table_uri(settings, "silver", "pvt_visas")
    )
    reviewed: list[str] = []

    def gate(table, *, name, **_):
        reviewed.append(name)
        return Verdict(decision="promoted", review_id="test")

    monkeypatch.setattr(gold, "INDICATORS", (WRONG,))
    with pytest.raises(LineageMismatchError, match="visas_delivres: declared") as caught:
        gold.build_gold(spark, settings, run_id="r1", gate=gate)
    assert caught.value.layer == "gold"
    assert caught.value.batch_id == "gold-pvt_faux-r1"
    assert reviewed == []  # failed before the review
    assert not delta_io.table_exists(spark, table_uri(settings, "gold", "pvt_faux"))

    # the shipped declaration of the same indicator passes and is written
    monkeypatch.setattr(gold, "INDICATORS", (PVT,))
    [record] = gold.build_gold(spark, settings, run_id="r2", gate=gate)
    assert record.status == "succeeded"
    assert record.rows_out == 1


# -- silver -------------------------------------------------------------------------------------

SOURCES = (
    "adoptions",
    "civil_status",
    "consular_register",
    "development_aid",
    "hr_agents",
    "pvt_visas",
    "travel_advice",
)


def _bronze(spark, settings: Settings, source: str, rows=()):
    from ingestion.bronze import PROVENANCE

    types = {"_line": "bigint", "_delivered_at": "timestamp", "_ingested_at": "timestamp"}
    contract = get_contract(settings.root, source)
    columns = [f"`{c.name}` string" for c in contract.columns]
    columns += [f"`{p}` {types.get(p, 'string')}" for p in PROVENANCE]
    return spark.createDataFrame(list(rows), ", ".join(columns))


def _typed(spark, settings: Settings, source: str):
    """What silver merges for a batch: the typed rows without the gate's working columns."""
    from ingestion.conform import conform

    lookup = spark.createDataFrame(
        [], "raw string, iso3 string, label_fr string, status string, reason_fr string"
    )
    bronze = _bronze(spark, settings, source)
    typed = conform(bronze, get_contract(settings.root, source), lookup, b"k" * 32)
    return bronze, typed.drop(*[c for c in typed.columns if c.startswith("__")])


def _record(source: str) -> RunRecord:
    return RunRecord("r", "b-1", source, "silver", "failed", dt.datetime.now(dt.UTC))


@pytest.mark.parametrize("source", SOURCES)
def test_every_contract_typing_reads_what_the_silver_step_declares(spark, lake_settings, source):
    bronze, rows = _typed(spark, lake_settings, source)
    contract = get_contract(lake_settings.root, source)
    check_silver(lake_settings, contract, _record(source), bronze, rows)


def test_a_typing_reading_another_bronze_column_fails_the_batch(spark, lake_settings) -> None:
    from pyspark.sql import functions as F

    bronze, rows = _typed(spark, lake_settings, "pvt_visas")
    contract = get_contract(lake_settings.root, "pvt_visas")
    wrong = rows.withColumn("visas_issued", F.col("year") * 2)
    with pytest.raises(LineageMismatchError) as caught:
        check_silver(lake_settings, contract, _record("pvt_visas"), bronze, wrong)
    err = caught.value
    assert (err.layer, err.batch_id, err.columns) == ("silver", "b-1", ["visas_issued"])
    assert err.declared["visas_issued"] == (("visas_issued", "DIRECT/TRANSFORMATION"),)
    # the year, typed; the country lookup's (left) join key as its only other edge
    assert err.observed["visas_issued"] == (
        ("partner_country", "INDIRECT/JOIN"),
        ("year", "DIRECT/TRANSFORMATION"),
    )
    assert "visas_issued: declared [visas_issued DIRECT/TRANSFORMATION], observed " in str(err)
    assert str(err).endswith(
        "Fix: update silver_step in ingestion/lineage_plan.py, or the typing "
        "(ingestion/conform.py), so that both say which bronze columns feed each silver column"
    )


@pytest.mark.minio
def test_process_batch_fails_before_the_merge_on_a_wrong_typing(
    spark, lake_settings, monkeypatch
) -> None:
    from pyspark.sql import functions as F

    import ingestion.silver as silver
    from lake import delta_io
    from lake.gates import FAILURE_COUNT, FAILURES, Verdict
    from lake.storage import ensure_bucket, table_uri

    settings = lake_settings.with_overrides({"storage": {"bucket": "lake-observed-silver"}})
    ensure_bucket(settings)
    contract = get_contract(settings.root, "pvt_visas")
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    row = {"partner_country": "Canada", "year": "2024", "visas_issued": "7"}
    row |= {"_source": "pvt_visas", "_batch_id": "b-1", "_file_uri": "f", "_file_sha256": "s"}
    row |= {"_line": 1, "_delivered_at": now, "_ingested_at": now}
    bronze = _bronze(spark, settings, "pvt_visas", [row])
    delta_io.write_table(bronze, table_uri(settings, "bronze", "pvt_visas"))

    def gate(typed, contract, *, batch_id, run_id):
        none = "array<struct<column:string,value:string,reason:string,rule:string,severity:string>>"
        marked = typed.withColumn(FAILURES, F.array().cast(none))
        return Verdict("promoted", "t", marked=marked.withColumn(FAILURE_COUNT, F.lit(0)))

    real = silver.conform
    monkeypatch.setattr(
        silver,
        "conform",
        lambda *a: real(*a).withColumn("visas_issued", F.col("year").cast("bigint")),
    )
    with pytest.raises(LineageMismatchError, match="visas_issued: declared") as caught:
        silver.process_batch(spark, settings, contract, "b-1", run_id="r1", gate=gate)
    assert caught.value.table == table_uri(settings, "silver", "pvt_visas")
    assert not delta_io.table_exists(spark, table_uri(settings, "silver", "pvt_visas"))

    monkeypatch.setattr(silver, "conform", real)  # the shipped typing merges
    record = silver.process_batch(spark, settings, contract, "b-1", run_id="r2", gate=gate)
    assert (record.status, record.rows_out) == ("succeeded", 1)
