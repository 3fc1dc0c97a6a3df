"""A bronze job killed (SIGKILL, whole process group) mid-write, then rerun: nothing lost or
duplicated, and the killed job's table lease does not block the rerun (its holder is dead on
this host). Uses a real spark-submit process against the test MinIO; the silver and gold kills
and the store faults are in tests/reliability/test_crash_layers.py."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.compose import quality_gates
from conftest import lake_env
from ingestion.generator import generate_delivery
from ingestion.pipeline import run
from lake import delta_io
from lake.processes import kill_group
from lake.storage import ensure_bucket, object_client, table_uri

pytestmark = [pytest.mark.spark, pytest.mark.minio, pytest.mark.reliability, pytest.mark.slow]
LAKE = str(Path(sys.executable).parent / "lake")


def test_killed_bronze_job_rerun_loses_and_duplicates_nothing(spark, lake_settings, tmp_path):
    settings = lake_settings.with_overrides(
        {
            "storage": {"bucket": "lake-crash"},
            "ingestion": {"inbox": str(tmp_path / "inbox")},
            "security": {"pseudonymisation_key_file": str(tmp_path / "key")},
        }
    )
    ensure_bucket(settings)
    target = tmp_path / "inbox" / "development_aid"
    target.mkdir(parents=True)
    generate_delivery("development_aid", 1, 150_000, target, seed=7)

    job = subprocess.Popen(
        [LAKE, "submit", "bronze", "--source", "development_aid"],
        # 1 MiB data files: the delivery is written as many files before its one commit
        env=lake_env(
            settings, LAKE__LINEAGE__TRANSPORT="none", LAKE__INGESTION__BRONZE_FILE_MIB="1"
        ),
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "job.log").open("wb"),  # a full pipe must not stall the job
        start_new_session=True,
    )
    client = object_client(settings)
    killed_while = None
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and job.poll() is None:
        names = [o.object_name or "" for o in client.list_objects("lake-crash", recursive=True)]
        # Parquet files under the table but the job not done: the delivery is being written.
        if any(n.startswith("bronze/development_aid/") and n.endswith(".parquet") for n in names):
            killed_while = "writing bronze data files"
            break
        time.sleep(0.05)
    # every process of the job (its lease holder included) gone before the rerun judges it
    assert kill_group(job.pid), "the killed job's processes outlived SIGKILL"
    job.wait(timeout=60)
    assert killed_while is not None, "the job finished before it could be killed"

    said: list[str] = []
    summary = run(
        spark,
        settings,
        gates=quality_gates(settings),
        sources=["development_aid"],
        layers=["bronze"],
        progress=said.append,
    )
    assert any("taking over the dead lease" in line for line in said), said
    record = summary.records[-1]
    # "succeeded", not "skipped": the killed job never finished its batch
    assert record.status == "succeeded", record
    uri = table_uri(settings, "bronze", "development_aid")
    bronze = delta_io.read_table(spark, uri).filter(f"_batch_id = '{record.batch_id}'")
    lines = bronze.count()
    assert lines == record.rows_out
    assert bronze.select("_line").distinct().count() == lines  # no duplicate
    assert record.lines_read == lines + record.quarantined  # no missing row
    again = run(
        spark,
        settings,
        gates=quality_gates(settings),
        sources=["development_aid"],
        layers=["bronze"],
    )
    assert [r.status for r in again.records] == ["skipped"]
    assert record.lines_read == 150_000  # every data line of the file was read
