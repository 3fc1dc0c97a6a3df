"""Failures on the Spark side come back as one readable LakeError, not a Java trace."""

from __future__ import annotations

import pytest

from conftest import start_test_minio
from lake import delta_io
from lake.errors import StorageError
from lake.processes import stop_pid

pytestmark = [pytest.mark.spark, pytest.mark.minio]


def _per_bucket(spark, bucket: str, **conf: str) -> None:
    """S3A per-bucket settings let one session reach a second, broken, 'server'."""
    hadoop = spark.sparkContext._jsc.hadoopConfiguration()
    for key, value in conf.items():
        hadoop.set(f"fs.s3a.bucket.{bucket}.{key.replace('_', '.')}", value)


def test_unreachable_server_during_a_job(spark, tmp_path) -> None:
    server = start_test_minio(tmp_path)
    stop_pid(server.state.pid)
    # No retries for this bucket only: the lake's own retry budget is meant for real jobs.
    _per_bucket(
        spark, "gone", endpoint=server.state.endpoint, retry_limit="0", attempts_maximum="1"
    )
    with pytest.raises(StorageError) as err:
        delta_io.write_table(spark.range(3), "s3a://gone/bronze/t", mode="append")
    assert err.value.message == (
        f"Could not write table s3a://gone/bronze/t: the object store at "
        f"{server.state.endpoint} is not reachable."
    )
    assert err.value.endpoint == server.state.endpoint
    assert err.value.fix == "run `lake status` / `lake up`, then `lake doctor`"


def test_refused_credentials_during_a_job(spark, lake_settings) -> None:
    # Same server, wrong secret: set only for this bucket name, so the session's other
    # tables keep working.
    _per_bucket(
        spark,
        "lake-wrongkey",
        endpoint=lake_settings.endpoint,
        access_key=lake_settings.storage.access_key,
        secret_key="wrong-secret-xyz",
    )
    with pytest.raises(StorageError) as err:
        delta_io.write_table(spark.range(3), "s3a://lake-wrongkey/bronze/t", mode="append")
    assert err.value.message == (
        "Could not write table s3a://lake-wrongkey/bronze/t: the object store at "
        f"{lake_settings.endpoint} refused the credentials."
    )
