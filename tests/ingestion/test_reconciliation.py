"""Silver reconciliation counts every term on its own (issue 17, point 3), on the real stack.

A fault injected inside the MERGE (one row of its source dropped on the way into
``delta_io.merge_table``) must fail the run with a ``ReconciliationError`` naming the batch; when
duplicates were inferred as ``valid rows - rows merged``, the lost row passed as a "duplicate".
"""

from __future__ import annotations

import shutil

import pytest

from app.compose import quality_gates
from conftest import REPO
from ingestion import runlog
from ingestion.errors import ReconciliationError
from ingestion.pipeline import run
from ingestion.runlog import RunRecord
from ingestion.silver import reconciliation
from lake import delta_io
from lake.delta_io import MergeResult
from lake.storage import ensure_bucket, table_uri


def _record(rows_in: int, rows_out: int, quarantined: int, duplicates: int) -> RunRecord:
    return RunRecord(
        run_id="R",
        batch_id="demo-1",
        source="demo",
        layer="silver",
        status="failed",
        started_at=runlog.now(),
        rows_in=rows_in,
        rows_out=rows_out,
        quarantined=quarantined,
        duplicates_resolved=duplicates,
    )


def test_each_silver_equation_fails_on_its_own_term() -> None:
    merged = MergeResult(version=3, inserted=5, updated=2, source_rows=8, rows_before=10)
    ok = _record(12, 8, 3, 1)
    counted = MergeResult(**{**merged.__dict__, "rows_after": 15})
    assert [holds for holds, _ in reconciliation(ok, counted)] == [True, True, True]
    assert counted.unchanged == 1
    # a row lost between deduplication and the MERGE: the duplicates are counted, not inferred
    [(holds, equation), *_] = reconciliation(_record(12, 7, 3, 1), counted)
    assert not holds
    assert equation == (
        "bronze rows 12 != rows merged 7 (MERGE source) + quarantined 3 + duplicates 1 "
        "(dropped by deduplication)"
    )
    # a row the commit lost: the table grew by less than the rows the MERGE says it inserted
    lost = MergeResult(**{**merged.__dict__, "rows_after": 14})
    assert reconciliation(ok, lost)[1] == (
        False,
        "silver rows after 14 - before 10 != inserted 5 - deleted 0 (MERGE metrics)",
    )
    invented = MergeResult(version=3, inserted=6, updated=3, source_rows=8)
    assert reconciliation(ok, invented)[-1] == (False, "inserted 6 + updated 3 > rows merged 8")


@pytest.mark.spark
@pytest.mark.minio
def test_a_row_dropped_inside_the_merge_fails_the_run_naming_the_batch(
    spark, lake_settings, tmp_path, monkeypatch
) -> None:
    inbox = tmp_path / "inbox" / "adoptions"
    inbox.mkdir(parents=True)
    shutil.copy(REPO / "samples/adoptions/delivery-1/adoptions_2026-01-15.csv", inbox)
    settings = lake_settings.with_overrides(
        {
            "storage": {"bucket": "lake-reconcile"},
            "ingestion": {"inbox": str(tmp_path / "inbox")},
            "security": {"pseudonymisation_key_file": str(tmp_path / "key")},
            "lineage": {"transport": "none"},
        }
    )
    ensure_bucket(settings)
    layers = ["bronze", "silver"]
    run(spark, settings, sources=["adoptions"], layers=layers, gates=quality_gates(settings))

    real_merge = delta_io.merge_table
    dropped: list[str] = []

    def lossy_merge(source, uri, **kwargs) -> MergeResult:
        """The fault: the MERGE loses one new row of its source (a real MERGE, one row short)."""
        known = delta_io.read_table(spark, uri).select("adoption_id")
        new_keys = source.select("adoption_id").join(known, "adoption_id", "left_anti")
        key = new_keys.orderBy("adoption_id").first()[0]
        dropped.append(key)
        return real_merge(source.filter(source["adoption_id"] != key), uri, **kwargs)

    monkeypatch.setattr(delta_io, "merge_table", lossy_merge)
    shutil.copy(REPO / "samples/adoptions/delivery-2/adoptions_2026-02-16.csv", inbox)
    with pytest.raises(ReconciliationError) as failed:
        run(spark, settings, sources=["adoptions"], layers=layers, gates=quality_gates(settings))

    batch = failed.value.batch_id
    assert batch and batch.startswith("adoptions-") and len(dropped) == 1
    assert (failed.value.layer, failed.value.source) == ("silver", "adoptions")
    message = str(failed.value)
    assert message.startswith(f"Batch {batch} (adoptions, silver) does not reconcile: bronze rows ")
    assert "(MERGE source)" in message and "(dropped by deduplication)" in message
    rows = runlog.read_runs(settings, source="adoptions", limit=None)
    [logged] = [r for r in rows if r["layer"] == "silver" and r["status"] == "failed"]
    assert logged["batch_id"] == batch and "does not reconcile" in logged["message"]

    # without the fault, the same batch is merged again: the lost row comes in, counts add up
    monkeypatch.setattr(delta_io, "merge_table", real_merge)
    summary = run(
        spark, settings, sources=["adoptions"], layers=layers, gates=quality_gates(settings)
    )
    [again] = [r for r in summary.records if r.layer == "silver"]
    assert (again.batch_id, again.status, again.inserted) == (batch, "succeeded", 1)
    silver = delta_io.read_table(spark, table_uri(settings, "silver", "adoptions"))
    assert silver.filter(silver["adoption_id"] == dropped[0]).count() == 1
