"""Bronze commits a source's delivery together (decision 0015), on the real MinIO.

One delta-rs append for all the files of a delivery, one per batch transaction id in it; the
tables read the same through Spark and delta-rs; a crash between the commit and the run log is
recovered without writing a batch twice; a file that cannot be read holds back its delivery.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest

from app.compose import lineage_sink, quality_gates
from conftest import REPO
from ingestion import runlog
from ingestion.bronze import commit_delivery, land_file
from ingestion.errors import ExtractError
from ingestion.pipeline import run
from lake import delta_io
from lake.contracts import get_contract
from lake.delta_append import committed_transactions
from lake.delta_reader import open_if_exists, open_table
from lake.storage import ensure_bucket, table_uri

pytestmark = [pytest.mark.spark, pytest.mark.minio]
SOURCE = "consular_register"
SAMPLES = sorted((REPO / "samples" / SOURCE).glob("delivery-*/*.csv"))


@pytest.fixture
def lake(lake_settings, tmp_path):
    """A fresh bucket and an inbox holding both bundled deliveries of the consular register."""
    inbox = tmp_path / "inbox"
    (inbox / SOURCE).mkdir(parents=True)
    for sample in SAMPLES:
        shutil.copy2(sample, inbox / SOURCE / sample.name)
    settings = lake_settings.with_overrides(
        {
            "storage": {"bucket": f"lake-delivery-{uuid.uuid4().hex[:8]}"},
            "ingestion": {"inbox": str(inbox)},
            "security": {"pseudonymisation_key_file": str(tmp_path / "key")},
        }
    )
    ensure_bucket(settings)
    return settings, inbox / SOURCE


def _bronze(spark, settings):
    return delta_io.read_table(spark, table_uri(settings, "bronze", SOURCE))


def _run_bronze(spark, settings):
    return run(
        spark,
        settings,
        sources=[SOURCE],
        layers=["bronze"],
        gates=quality_gates(settings),
        lineage=lineage_sink(settings),
    )


def _lines(path: Path) -> int:
    """Non-blank physical lines after the header."""
    text = path.read_text(encoding="utf-8-sig")
    return sum(1 for line in text.splitlines()[1:] if line.strip())


def test_a_delivery_of_two_files_is_one_bronze_commit(spark, lake) -> None:
    settings, _ = lake
    summary = _run_bronze(spark, settings)

    records = [r for r in summary.records if r.layer == "bronze"]
    assert [r.status for r in records] == ["succeeded", "succeeded"]
    bronze = open_table(settings, table_uri(settings, "bronze", SOURCE))
    writes = [c for c in bronze.history() if c.get("operation") == "WRITE"]
    assert len(writes) == 1  # both files, one commit
    assert {r.table_version for r in records} == {bronze.version()}
    for record, sample in zip(records, SAMPLES, strict=True):
        assert record.lines_read == _lines(sample)
        assert record.lines_read == record.rows_out + record.quarantined
    # Spark and delta-rs see the same rows, per batch
    by_batch = {
        r["_batch_id"]: r["count"]
        for r in _bronze(spark, settings).groupBy("_batch_id").count().collect()
    }
    assert by_batch == {r.batch_id: r.rows_out for r in records}
    assert bronze.to_pyarrow_table().num_rows == sum(by_batch.values())
    # each batch has its own transaction id, as Spark's idempotent writes had
    ids = [f"bronze:{r.batch_id}" for r in records]
    assert committed_transactions(
        open_if_exists(settings, table_uri(settings, "bronze", SOURCE)), ids
    ) == set(ids)
    # provenance is typed as before: the line a long, the times timestamps
    types = dict(_bronze(spark, settings).dtypes)
    assert (types["_line"], types["_delivered_at"], types["_ingested_at"]) == (
        "bigint",
        "timestamp",
        "timestamp",
    )


def test_a_rerun_after_a_crash_between_commit_and_run_log_writes_nothing_twice(spark, lake) -> None:
    settings, inbox = lake
    contract = get_contract(settings.root, SOURCE)
    # what a run does before it dies: the delivery committed, the run log never written
    delivery = [
        land_file(settings, contract, p, run_id="R-dead", done=set(), seen=set())
        for p in sorted(inbox.iterdir())
    ]
    commit_delivery(settings, contract, delivery, run_id="R-dead")
    rows = _bronze(spark, settings).count()
    assert not runlog.succeeded_batches(settings, SOURCE, "bronze")

    summary = _run_bronze(spark, settings)

    assert _bronze(spark, settings).count() == rows  # nothing appended twice
    records = [r for r in summary.records if r.layer == "bronze"]
    assert [r.status for r in records] == ["succeeded", "succeeded"]
    assert all(r.lines_read == r.rows_out + r.quarantined for r in records)
    assert sorted(runlog.succeeded_batches(settings, SOURCE, "bronze")) == sorted(
        d.batch for d in delivery
    )
    quarantine = delta_io.read_table(spark, table_uri(settings, "quarantine", SOURCE))
    assert quarantine.count() == sum(r.quarantined for r in records)


def test_an_unreadable_file_holds_back_its_whole_delivery(spark, lake) -> None:
    settings, inbox = lake
    bad = inbox / "consular_register_2026-03-01.csv"
    good = SAMPLES[0].read_bytes()
    bad.write_bytes(good + "RFE-9;Nom;Pr\u00e9nom".encode() + b"\xff\xfe;x\n")

    with pytest.raises(ExtractError) as err:
        _run_bronze(spark, settings)

    assert bad.name in str(err.value)
    bronze = table_uri(settings, "bronze", SOURCE)
    assert not delta_io.table_exists(spark, bronze)  # nothing of the delivery was committed
    rows = runlog.read_runs(settings, source=SOURCE)
    assert sorted(r["status"] for r in rows) == ["failed", "failed", "failed"]
    culprit = [r for r in rows if bad.name in (r["file_uri"] or "")]
    assert len(culprit) == 1 and "line" in culprit[0]["message"]
    others = [r for r in rows if r is not culprit[0]]
    assert all(r["message"].startswith("non ingéré") for r in others)

    bad.unlink()  # the silo withdraws the file: the delivery goes through
    summary = _run_bronze(spark, settings)
    assert [r.status for r in summary.records if r.layer == "bronze"] == ["succeeded"] * 2


def test_the_same_file_twice_in_a_delivery_is_one_batch(spark, lake) -> None:
    settings, inbox = lake
    shutil.copy2(SAMPLES[0], inbox / "copy-of-the-first.csv")
    summary = _run_bronze(spark, settings)

    records = [r for r in summary.records if r.layer == "bronze"]
    assert sorted(r.status for r in records) == ["skipped", "succeeded", "succeeded"]
    assert _bronze(spark, settings).select("_batch_id").distinct().count() == 2


def test_pending_batches_are_read_without_spark_oldest_delivery_first(spark, lake) -> None:
    from pyspark.sql import functions as F

    from ingestion.silver import pending_batches

    settings, _ = lake
    _run_bronze(spark, settings)
    contract = get_contract(settings.root, SOURCE)
    done = set(runlog.succeeded_batches(settings, SOURCE, "bronze"))
    assert len(done) == 2
    # what Spark says of the same table: each batch's first delivery time, oldest first
    expected = [
        r["_batch_id"]
        for r in _bronze(spark, settings)
        .groupBy("_batch_id")
        .agg(F.min("_delivered_at").alias("d"))
        .orderBy("d", "_batch_id")
        .collect()
    ]
    assert pending_batches(settings, contract, done, set()) == expected
    # silver already has the oldest: only the other is pending; a batch with no bronze row (a
    # header-only file) comes last, still pending
    header_only = f"{SOURCE}-0000000000000000"
    assert pending_batches(settings, contract, done | {header_only}, {expected[0]}) == [
        expected[1],
        header_only,
    ]
    assert pending_batches(settings, contract, done, done) == []
