"""The jobs run the same on a Spark standalone cluster (spark://) as in local mode."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.compose import quality_gates
from conftest import REPO, lake_env
from ingestion.pipeline import run
from lake import spark_cluster
from lake.delta_reader import open_table
from lake.storage import ensure_bucket, table_uri

pytestmark = [pytest.mark.spark, pytest.mark.minio, pytest.mark.slow]
LAKE = str(Path(sys.executable).parent / "lake")


def test_pipeline_job_on_a_standalone_cluster_matches_local(spark, lake_settings, tmp_path):
    key = tmp_path / "pseudonymisation.key"
    key.write_text("ab" * 32)
    cluster_settings = lake_settings.with_overrides(
        {
            "storage": {"bucket": "lake-cluster"},
            "ingestion": {"inbox": str(REPO / "samples")},
            "security": {"pseudonymisation_key_file": str(key)},
        }
    )
    local_settings = cluster_settings.with_overrides({"storage": {"bucket": "lake-local"}})
    for s in (cluster_settings, local_settings):
        ensure_bucket(s)

    cluster = spark_cluster.start(tmp_path / "spark", cores=1, memory="1g", die_with_parent=True)
    try:
        env = lake_env(
            cluster_settings, LAKE__LINEAGE__TRANSPORT="none", LAKE__SPARK__DRIVER_MEMORY="1g"
        )
        result = subprocess.run(
            [LAKE, "submit", "--master", cluster.master_url, "pipeline", "--source", "adoptions"],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        spark_cluster.stop(cluster)
    assert result.returncode == 0, result.stderr[-3000:]
    records = json.loads(result.stdout.strip().splitlines()[-1])
    assert {r["layer"] for r in records} == {"bronze", "silver", "gold"}
    # the application really ran on the cluster (its executors registered with the master)
    master_log = (tmp_path / "spark" / "master.log").read_text()
    worker_log = (tmp_path / "spark" / "worker.log").read_text()
    assert "Registering app " in master_log
    assert "Asked to launch executor" in worker_log

    run(spark, local_settings, gates=quality_gates(local_settings), sources=["adoptions"])
    for layer, name in (("silver", "adoptions"), ("gold", "adoptions_par_pays_annee_age")):

        def content(settings, layer=layer, name=name):
            rows = open_table(settings, table_uri(settings, layer, name)).to_pyarrow_table()
            keep = [c for c in rows.column_names if c not in ("_file_uri", "_ingested_at")]
            return sorted(
                json.dumps(r, sort_keys=True, default=str) for r in rows.select(keep).to_pylist()
            )

        assert content(cluster_settings) == content(local_settings), f"{layer}/{name}"
