"""Incremental gold (issue 18.3, decision 0013): equal to a full recompute, and really incremental.

One small lake (the consular register and development aid, the bundled deliveries plus a third
one of two lines) goes through a sequence of deliveries with inserts and updates, an RGPD erasure
and a retention purge. After each step every gold table of the two sources, read with delta-rs,
must hold exactly the rows a full recompute of its indicator gives from the same silver; the
gold commit says how many groups it recomputed (``groups_recomputed``), which must be fewer than
the table's groups when few silver rows changed. The fallbacks to a full recompute are checked
on the same lake and, where no table is needed, without Spark. The tests run in order.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from app.compose import lineage_sink, quality_gates
from ingestion import gold_incremental
from ingestion.gold import build_gold
from ingestion.indicators import INDICATORS, Indicator
from ingestion.pipeline import run
from lake import delta_io
from lake.delta_reader import open_table
from lake.storage import ensure_bucket, table_uri
from lifecycle.erasure import execute, plan_erasure
from lifecycle.retention import apply
from lifecycle.subjects import Subject

REPO = Path(__file__).resolve().parents[2]
SOURCES = ["consular_register", "development_aid"]
BUCKET = "lake-incremental-gold"
REGISTERED = "inscrits_par_pays_poste"
AID = "aide_par_pays_secteur_annee"
GOLD = [i for i in INDICATORS if set(i.sources) <= set(SOURCES)]
BY_NAME = {i.name: i for i in INDICATORS}

# A third delivery of the register: RFE-00000001 moves from Montréal to Brussels (an update:
# its old group and its new one change) and one new person registers in Brussels (an insert).
THIRD = (
    "\ufeffNuméro d'inscription;Nom;Prénom;Date de naissance;Courriel;Téléphone;Adresse;"
    "Pays de résidence;Poste consulaire;Date d'inscription\n"
    "RFE-00000001;Martin;Bérénice;24/07/1984;berenice.martin@example.net;+33 7 00 13 04 11;"
    "12 rue Haute, Bruxelles;Belgique;Consulat général de France à Bruxelles;06/11/2009\n"
    "RFE-09999991;Lambert;Odile;02/03/1990;odile.lambert@example.org;+33 7 00 99 99 91;"
    "3 avenue Louise, Bruxelles;Belgique;Consulat général de France à Bruxelles;01/03/2026\n"
)


@pytest.fixture(scope="module")
def lake(spark, lake_settings, tmp_path_factory) -> Iterator[Any]:
    tmp = tmp_path_factory.mktemp("incremental_gold")
    settings = lake_settings.with_overrides(
        {
            "storage": {"bucket": BUCKET},
            "ingestion": {"inbox": str(tmp / "inbox")},
            "security": {"pseudonymisation_key_file": str(tmp / "key")},
            "lineage": {"transport": "file", "file": str(tmp / "lineage" / "events.jsonl")},
            "reports": {"dir": str(tmp / "reports"), "data_docs": False},
        }
    )
    ensure_bucket(settings)
    yield settings


def _ports(settings) -> dict[str, Any]:
    return {"gates": quality_gates(settings, data_docs=False), "lineage": lineage_sink(settings)}


def _deliver(settings, delivery: int) -> None:
    inbox = settings.ingestion.inbox
    for source in SOURCES:
        folder = REPO / "samples" / source / f"delivery-{delivery}"
        shutil.copytree(folder, inbox / source / f"delivery-{delivery}")


def _run(spark, settings) -> dict[str, Any]:
    """One pipeline run of the two sources; the gold records by indicator name."""
    summary = run(spark, settings, sources=SOURCES, **_ports(settings))
    assert all(r.status in ("succeeded", "skipped") for r in summary.records), summary.records
    return {
        (r.file_uri or "").rstrip("/").split("/")[-1]: r
        for r in summary.records
        if r.layer == "gold"
    }


def _normal(rows: list[dict[str, Any]]) -> list[str]:
    return sorted(repr(sorted(r.items())) for r in rows)


def _full_recompute(spark, settings, indicator: Indicator) -> list[str]:
    silver = {
        s: delta_io.read_table(spark, table_uri(settings, "silver", s)) for s in indicator.sources
    }
    return _normal([r.asDict() for r in indicator.build(silver, settings).collect()])


def _stored(settings, indicator: Indicator) -> list[str]:
    """The gold table as delta-rs reads it (not Spark)."""
    uri = table_uri(settings, "gold", indicator.name)
    return _normal(open_table(settings, uri).to_pyarrow_table().to_pylist())


def _last_build(settings, indicator: Indicator) -> dict[str, Any]:
    """The metadata of the gold table's latest commit (delta-rs)."""
    commit = open_table(settings, table_uri(settings, "gold", indicator.name)).history(1)[0]
    return json.loads(commit.get("userMetadata") or "{}")


def _assert_equal_to_full(spark, settings) -> None:
    for indicator in GOLD:
        stored = _stored(settings, indicator)
        assert stored, indicator.name
        assert stored == _full_recompute(spark, settings, indicator), indicator.name


# --- without Spark: when the plan recomputes whole, and the predicate that replaces groups


def test_grain_reads_on_silver_from_the_lineage_or_its_declaration() -> None:
    assert BY_NAME[REGISTERED].grain_on("consular_register") == {
        "pays_iso3": "`country`",
        "poste_consulaire": "`consular_post`",
    }
    # annee is year(start_date): not in the lineage as an identity, so declared
    assert BY_NAME[AID].grain_on("development_aid") == {
        "pays_iso3": "`country`",
        "secteur_cad": "`dac_sector`",
        "annee": "year(`start_date`)",
    }
    assert BY_NAME[REGISTERED].grain_on("another_source") is None


@pytest.mark.parametrize(
    ("indicator", "built", "enabled", "reason"),
    [
        (REGISTERED, {"consular_register": 1}, False, "gold.incremental is false"),
        ("vigilance_actuelle_par_pays", {"travel_advice": 1}, True, "always recomputed whole"),
        (REGISTERED, None, True, "no earlier build recorded"),
        (REGISTERED, {"other": 1}, True, "no earlier build recorded"),
    ],
)
def test_plan_recomputes_whole_when_it_cannot_know_the_groups(
    indicator: str, built: dict[str, int] | None, enabled: bool, reason: str
) -> None:
    chosen = BY_NAME[indicator]
    uris = {s: f"s3a://x/silver/{s}" for s in chosen.sources}
    inputs = {s: 3 for s in chosen.sources}
    no_spark: Any = None  # the plan decides before it needs a table
    plan = gold_incremental.plan(no_spark, chosen, uris, built, inputs, enabled=enabled)
    assert not plan.incremental and plan.reason == reason and plan.raison


def test_plan_recomputes_whole_an_indicator_whose_grain_is_not_on_silver() -> None:
    aid = BY_NAME[AID]
    undeclared = replace(aid, grain_sources={})
    no_spark: Any = None  # the plan decides before it needs a table
    plan = gold_incremental.plan(
        no_spark,
        undeclared,
        {"development_aid": "s3a://x/silver/development_aid"},
        {"development_aid": 1},
        {"development_aid": 2},
    )
    assert plan.reason == "its grain is not a function of silver/development_aid's columns"


def test_replace_predicate_matches_null_grain_values_and_quotes_text() -> None:
    predicate = gold_incremental.replace_predicate(
        ("pays_iso3", "poste", "annee", "jour"),
        (("FRA", "Consulat d'Anvers", None, dt.date(2026, 1, 2)),),
    )
    assert predicate == (
        "(`pays_iso3` <=> 'FRA' AND `poste` <=> 'Consulat d\\'Anvers' AND `annee` <=> NULL "
        "AND `jour` <=> DATE'2026-01-02')"
    )
    many = tuple((str(i),) for i in range(gold_incremental.MAX_REPLACED_GROUPS + 1))
    assert gold_incremental.replace_predicate(("g",), many) is None
    assert gold_incremental.replace_predicate(("g",), ((1.5,),)) is None  # no float literal


# --- on the stack: a sequence of deliveries, an erasure, a retention purge


@pytest.mark.spark
@pytest.mark.minio
@pytest.mark.slow
def test_first_build_is_whole_and_silver_records_its_changes(spark, lake) -> None:
    _deliver(lake, 1)
    records = _run(spark, lake)
    for indicator in GOLD:
        message = records[indicator.name].message
        assert "recalcul complet : pas de calcul précédent connu" in message, message
        assert "groups_recomputed" not in _last_build(lake, indicator)
    for source in SOURCES:
        properties = delta_io.properties_of(spark, table_uri(lake, "silver", source))
        assert properties["delta.enableChangeDataFeed"] == "true"
    _assert_equal_to_full(spark, lake)


@pytest.mark.spark
@pytest.mark.minio
@pytest.mark.slow
def test_second_delivery_inserts_and_updates_by_group(spark, lake) -> None:
    _deliver(lake, 2)
    records = _run(spark, lake)
    for indicator in GOLD:
        message = records[indicator.name].message
        assert "calcul incrémental" in message, message
        assert _last_build(lake, indicator)["groups_recomputed"] > 0
    _assert_equal_to_full(spark, lake)


@pytest.mark.spark
@pytest.mark.minio
@pytest.mark.slow
def test_a_small_delivery_recomputes_only_its_groups(spark, lake) -> None:
    folder = lake.ingestion.inbox / "consular_register" / "delivery-3"
    folder.mkdir(parents=True)
    (folder / "consular_register_2026-03-16.csv").write_text(THIRD, encoding="utf-8")
    records = _run(spark, lake)
    registered = records[REGISTERED]
    built = _last_build(lake, BY_NAME[REGISTERED])
    # the person's old group (Montréal) and new one (Brussels, also the new person's)
    assert built["groups_recomputed"] == 2, registered.message
    assert registered.rows_out and registered.rows_out > 2
    assert f"2 groupe(s) modifié(s) recalculé(s) sur {registered.rows_out}" in registered.message
    silver = delta_io.read_table(spark, table_uri(lake, "silver", "consular_register"))
    moved = silver.filter("registration_id = 'RFE-00000001'").first()
    assert moved is not None and moved["country"] == "BEL"
    # the other indicator's silver did not change: skipped
    assert records[AID].status == "skipped"
    _assert_equal_to_full(spark, lake)


@pytest.mark.spark
@pytest.mark.minio
@pytest.mark.slow
def test_an_erasure_recomputes_the_person_s_group(spark, lake) -> None:
    silver = delta_io.read_table(spark, table_uri(lake, "silver", "consular_register"))
    person = silver.orderBy("registration_id").first()
    assert person is not None
    plan = plan_erasure(
        spark, lake, Subject.parse([f"registration_id={person['registration_id']}"])
    )
    execute(spark, lake, plan, **_ports(lake))
    assert _last_build(lake, BY_NAME[REGISTERED])["groups_recomputed"] == 1
    _assert_equal_to_full(spark, lake)


@pytest.mark.spark
@pytest.mark.minio
@pytest.mark.slow
def test_a_range_the_feed_no_longer_holds_is_recomputed_whole(spark, lake) -> None:
    # the erasure purged silver's history (log before its checkpoint removed, files vacuumed)
    indicator = BY_NAME[REGISTERED]
    uri = table_uri(lake, "silver", "consular_register")
    current = delta_io.table_version(spark, uri)
    plan = gold_incremental.plan(
        spark,
        indicator,
        {"consular_register": uri},
        {"consular_register": 0},
        {"consular_register": current},
    )
    assert not plan.incremental
    assert (
        plan.reason.startswith("silver/consular_register: versions 1..")
        and "no longer" in plan.reason
    )


@pytest.mark.spark
@pytest.mark.minio
@pytest.mark.slow
def test_a_retention_purge_recomputes_by_group(spark, lake) -> None:
    silver = delta_io.read_table(spark, table_uri(lake, "silver", "consular_register"))
    dates = sorted(r["registration_date"] for r in silver.select("registration_date").collect())
    middle = dates[len(dates) // 2]
    as_of = middle.replace(year=middle.year + 5)
    before = silver.count()
    apply(spark, lake, as_of=as_of, sources=["consular_register"], **_ports(lake))
    after = delta_io.read_table(spark, table_uri(lake, "silver", "consular_register")).count()
    assert 0 < after < before
    assert _last_build(lake, BY_NAME[REGISTERED])["groups_recomputed"] > 0
    _assert_equal_to_full(spark, lake)


@pytest.mark.spark
@pytest.mark.minio
@pytest.mark.slow
def test_a_silver_commit_that_changes_no_row_leaves_gold_as_it_is(spark, lake) -> None:
    uri = table_uri(lake, "silver", "consular_register")
    silver = delta_io.read_table(spark, uri)
    same = spark.createDataFrame(
        silver.orderBy("registration_id").limit(1).collect(), silver.schema
    )
    before = delta_io.table_version(spark, uri)
    merged = delta_io.merge_table(same, uri, keys=["registration_id"])
    assert merged.version == before + 1 and (merged.inserted, merged.updated) == (0, 0)
    gold = table_uri(lake, "gold", REGISTERED)
    gold_before = delta_io.table_version(spark, gold)
    gate = quality_gates(lake, data_docs=False).table
    records = build_gold(spark, lake, run_id="no-row", gate=gate, sources={"consular_register"})
    (record,) = records
    assert record.status == "skipped"
    assert record.message == "aucune ligne de silver modifiée depuis le dernier calcul"
    assert delta_io.table_version(spark, gold) == gold_before
    _assert_equal_to_full(spark, lake)


@pytest.mark.spark
@pytest.mark.minio
@pytest.mark.slow
def test_a_table_whose_feed_was_switched_on_late_or_overwritten_is_recomputed_whole(
    spark, lake
) -> None:
    uri = table_uri(lake, "silver", "feed_switched_on_late")
    rows = spark.createDataFrame([("a", "FRA", 1), ("b", None, 2)], "k string, g string, n int")
    delta_io.write_table(rows, uri, mode="error")  # an older lake's table: no change feed
    indicator = Indicator(
        "scratch",
        "test",
        "scratch",
        ("g",),
        ("feed_switched_on_late",),
        lambda silver, _: silver["feed_switched_on_late"].groupBy("g").count(),
        lineage={"g": (("g", "DIRECT/IDENTITY"),), "count": (("k", "DIRECT/AGGREGATION"),)},
    )
    uris = {"feed_switched_on_late": uri}
    update = spark.createDataFrame([("b", None, 3), ("c", "BEL", 1)], "k string, g string, n int")
    delta_io.merge_table(update, uri, keys=["k"], table_properties=delta_io.CHANGE_DATA_FEED)
    version = delta_io.table_version(spark, uri)
    assert version == 2  # the property's own commit, then the merge
    plan = gold_incremental.plan(
        spark, indicator, uris, {"feed_switched_on_late": 0}, {"feed_switched_on_late": version}
    )
    assert (
        plan.reason
        == "silver/feed_switched_on_late: version 1 is a SET TBLPROPERTIES, not a change by row"
    )
    # from the merge on, the feed holds the changes: the null group and BEL changed
    plan = gold_incremental.plan(
        spark, indicator, uris, {"feed_switched_on_late": 1}, {"feed_switched_on_late": 2}
    )
    assert plan.incremental and sorted(plan.values, key=repr) == [("BEL",), (None,)]
    delta_io.write_table(rows, uri, mode="overwrite")
    plan = gold_incremental.plan(
        spark, indicator, uris, {"feed_switched_on_late": 2}, {"feed_switched_on_late": 3}
    )
    assert (
        plan.reason
        == "silver/feed_switched_on_late: version 3 is a WRITE (Overwrite), not a change by row"
    )
