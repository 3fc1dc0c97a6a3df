"""A bronze job killed (SIGKILL, whole process group) mid-write, then rerun: nothing lost or
duplicated. Uses a real spark-submit process against the test MinIO."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ingestion.generator import generate_delivery
from ingestion.pipeline import run
from lake import delta_io
from lake.storage import ensure_bucket, object_client, table_uri

pytestmark = [pytest.mark.spark, pytest.mark.minio, pytest.mark.slow]
LAKE = str(Path(sys.executable).parent / "lake")


def _env(settings, inbox: Path, key_file: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKE")}
    if "LAKE_CACHE_DIR" in os.environ:
        env["LAKE_CACHE_DIR"] = os.environ["LAKE_CACHE_DIR"]
    env.update(
        {
            "LAKE__STORAGE__ENDPOINT": settings.endpoint,
            "LAKE__STORAGE__ACCESS_KEY": settings.storage.access_key,
            "LAKE__STORAGE__SECRET_KEY": settings.storage.secret_key,
            "LAKE__STORAGE__BUCKET": settings.storage.bucket,
            "LAKE__INGESTION__INBOX": str(inbox),
            "LAKE__LINEAGE__TRANSPORT": "none",
            "LAKE__SECURITY__PSEUDONYMISATION_KEY_FILE": str(key_file),
        }
    )
    return env


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
        env=_env(settings, tmp_path / "inbox", tmp_path / "key"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    client = object_client(settings)
    killed_while = None
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and job.poll() is None:
        names = [o.object_name or "" for o in client.list_objects("lake-crash", recursive=True)]
        if any(n.startswith("bronze/development_aid/") and n.endswith(".parquet") for n in names):
            killed_while = "writing bronze data files"
        elif any(n.startswith("_staging/") for n in names):
            killed_while = killed_while or None
        if killed_while:
            break
        time.sleep(0.05)
    os.killpg(job.pid, signal.SIGKILL)
    job.wait(timeout=60)
    assert killed_while is not None, "the job finished before it could be killed"

    summary = run(spark, settings, sources=["development_aid"], layers=["bronze"])
    record = summary.records[-1]
    assert record.status == "succeeded", record
    uri = table_uri(settings, "bronze", "development_aid")
    bronze = delta_io.read_table(spark, uri).filter(f"_batch_id = '{record.batch_id}'")
    lines = bronze.count()
    assert lines == record.rows_out
    assert bronze.select("_line").distinct().count() == lines  # no duplicate
    assert record.lines_read == lines + record.quarantined  # no missing row
    again = run(spark, settings, sources=["development_aid"], layers=["bronze"])
    assert [r.status for r in again.records] == ["skipped"]
    assert json.loads(json.dumps(record.as_dict(), default=str))["lines_read"] > 150_000 * 0.9
