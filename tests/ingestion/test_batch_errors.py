"""A failed batch is logged with its real batch id (issue 15, point 4), without Spark.

The run log's failed row takes the batch from the error: bronze names it once the file is landed,
the pipeline names it for a silver batch, and any lake error raised inside carries it, whatever
its class. The run log here is the real one (delta-rs, ``storage.backend = "local"``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import DEMO_CONTRACT, base_settings
from ingestion import runlog
from ingestion.errors import ExtractError, IngestionError, LandingError, in_batch
from ingestion.pipeline import RunSummary, _logged
from ingestion.runlog import ReconciliationError, RunRecord
from lake.contracts import Contract, load_contract
from lake.errors import LakeError, TableError
from lake.lineage import NoLineage
from lake.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return base_settings(tmp_path).with_overrides(
        {"storage": {"backend": "local", "local_root": str(tmp_path / "lake")}}
    )


@pytest.fixture
def contract(tmp_path: Path) -> Contract:
    path = tmp_path / "demo.yaml"
    path.write_text(DEMO_CONTRACT, encoding="utf-8")
    return load_contract(path)


def _fail_step(
    settings: Settings, contract: Contract, layer: str, exc: Exception, **kwargs: str
) -> RunSummary:
    """Run ``_logged`` on a step raising ``exc``; the summary holds the failed row."""
    summary = RunSummary(run_id="R-test")

    def step() -> RunRecord:
        raise exc

    with pytest.raises(type(exc)) as raised:
        _logged(
            settings,
            summary,
            contract,
            layer,  # type: ignore[arg-type]
            NoLineage(),
            lambda _record: ([], []),
            step,
            **kwargs,
        )
    assert raised.value is exc
    return summary


def test_in_batch_names_the_batch_on_any_lake_error() -> None:
    with pytest.raises(TableError) as err, in_batch("demo-0123456789abcdef"):
        raise TableError("No Delta table at file:///x.", table="file:///x", fix="run bronze")
    assert err.value.batch_id == "demo-0123456789abcdef"
    assert str(err.value) == "No Delta table at file:///x. Fix: run bronze"
    assert err.value.table == "file:///x"


def test_in_batch_keeps_the_batch_an_error_already_names() -> None:
    with pytest.raises(IngestionError) as err, in_batch("outer"), in_batch("inner"):
        raise IngestionError("x.", fix="y", batch_id="own")
    assert err.value.batch_id == "own"


def test_in_batch_leaves_other_exceptions_alone() -> None:
    with pytest.raises(KeyError) as err, in_batch("demo-1"):
        raise KeyError("k")
    assert not hasattr(err.value, "batch_id")


def test_an_error_outside_a_batch_names_none() -> None:
    assert LakeError("x.").batch_id is None
    assert TableError("x.", table="t").batch_id is None


def test_a_failed_silver_batch_is_logged_with_its_batch(
    settings: Settings, contract: Contract
) -> None:
    error = TableError("Could not merge table t: boom", table="t", fix="rerun")
    summary = _fail_step(settings, contract, "silver", error, batch_id="demo-00aa11bb22cc33dd")

    assert error.batch_id == "demo-00aa11bb22cc33dd"
    [failed] = summary.records
    assert (failed.batch_id, failed.status, failed.layer, failed.source) == (
        "demo-00aa11bb22cc33dd",
        "failed",
        "silver",
        "demo",
    )
    assert failed.message == "Could not merge table t: boom Fix: rerun"
    [row] = runlog.read_runs(settings, source="demo")
    assert (row["batch_id"], row["status"], row["run_id"]) == (
        "demo-00aa11bb22cc33dd",
        "failed",
        "R-test",
    )


def test_a_bronze_error_raised_once_the_batch_is_known_logs_that_batch(
    settings: Settings, contract: Contract, tmp_path: Path
) -> None:
    # what ingest_file does after landing the file: the rest runs inside in_batch(batch)
    error = ExtractError(tmp_path / "demo.csv", "no header at line 1.", fix="check header_row")
    summary = _fail_step(settings, contract, "bronze", _raised_in_batch(error, "demo-ffee"))

    assert [r.batch_id for r in summary.records] == ["demo-ffee"]
    assert [r["batch_id"] for r in runlog.read_runs(settings, source="demo")] == ["demo-ffee"]


def test_a_file_that_cannot_be_landed_has_no_batch_yet(
    settings: Settings, contract: Contract
) -> None:
    error = LandingError("a\x00b.csv", "the path holds a NUL byte.", fix="rename it")
    summary = _fail_step(settings, contract, "bronze", error)

    assert [r.batch_id for r in summary.records] == ["(batch)"]


def test_a_reconciliation_error_carries_its_record() -> None:
    record = RunRecord(
        run_id="R1",
        batch_id="demo-42",
        source="demo",
        layer="silver",
        status="failed",
        started_at=runlog.now(),
    )
    with pytest.raises(ReconciliationError) as err:
        runlog.check(False, record, "bronze rows 3 != silver rows 2")
    assert (err.value.batch_id, err.value.source, err.value.layer) == ("demo-42", "demo", "silver")
    assert err.value.message == (
        "Batch demo-42 (demo, silver) does not reconcile: bronze rows 3 != silver rows 2."
    )


def _raised_in_batch(error: LakeError, batch: str) -> LakeError:
    with pytest.raises(LakeError) as err, in_batch(batch):
        raise error
    return err.value
