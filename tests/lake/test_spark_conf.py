"""The Spark configuration and the spark-submit command built from it (no JVM needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lake.settings import load_settings
from lake.spark import spark_conf, spark_events_file, submit_command

REPO = Path(__file__).resolve().parents[2]
JOB = REPO / "app/jobs/smoke.py"


@pytest.fixture
def settings():
    env = {
        "LAKE__STORAGE__ENDPOINT": "http://127.0.0.1:9555",
        "LAKE__STORAGE__ACCESS_KEY": "user-abc",
        "LAKE__STORAGE__SECRET_KEY": "very-secret-value",
    }
    return load_settings(REPO / "lake.toml", env=env)


def test_s3a_and_delta_configuration(settings) -> None:
    conf = spark_conf(settings)
    assert conf["spark.sql.extensions"] == "io.delta.sql.DeltaSparkSessionExtension"
    assert conf["spark.hadoop.fs.s3a.endpoint"] == "http://127.0.0.1:9555"
    assert conf["spark.hadoop.fs.s3a.path.style.access"] == "true"
    assert conf["spark.hadoop.fs.s3a.connection.ssl.enabled"] == "false"
    assert conf["spark.hadoop.fs.s3a.endpoint.region"] == "us-east-1"
    assert conf["spark.driver.host"] == "127.0.0.1"  # local runs stay on loopback
    assert "hadoop-aws-3.4.1.jar" in conf["spark.jars"]


def test_credentials_never_appear_in_conf_or_command(settings) -> None:
    conf = spark_conf(settings)
    command = submit_command(settings, JOB)
    for text in (repr(conf), " ".join(command)):
        assert "very-secret-value" not in text
        assert "user-abc" not in text


def test_submit_uses_local_jars_or_packages(settings) -> None:
    command = submit_command(settings, JOB, ["--rows", "5"], master="spark://127.0.0.1:7077")
    assert command[command.index("--master") + 1] == "spark://127.0.0.1:7077"
    assert "--jars" in command and "--packages" not in command
    assert command[-3:] == [str(JOB), "--rows", "5"]
    with_packages = submit_command(settings, JOB, use_packages=True)
    packages = with_packages[with_packages.index("--packages") + 1].split(",")
    assert "org.apache.hadoop:hadoop-aws:3.4.1" in packages
    assert "io.delta:delta-spark_2.13:4.0.1" in packages
    assert "--jars" not in with_packages


def test_session_conf_and_submit_conf_agree(settings) -> None:
    conf = spark_conf(settings, include_jars=False)
    command = submit_command(settings, JOB)
    passed = {c.split("=", 1)[0] for c in command[1:] if "=" in c and c.startswith("spark.")}
    assert passed == set(conf) - {"spark.app.name", "spark.driver.memory"}


def test_local_backend_has_no_s3a(settings, tmp_path: Path) -> None:
    local = settings.with_overrides({"storage": {"backend": "local", "local_root": str(tmp_path)}})
    assert not any(key.startswith("spark.hadoop.fs.s3a") for key in spark_conf(local))


def test_lineage_listener_follows_settings(settings) -> None:
    conf = spark_conf(settings)
    assert conf["spark.extraListeners"] == "io.openlineage.spark.agent.OpenLineageSparkListener"
    assert conf["spark.openlineage.transport.type"] == "file"
    assert conf["spark.openlineage.transport.location"] == str(spark_events_file(settings))
    # with a lineage server, the listener still writes the journal's spool (composite transport)
    http = spark_conf(
        settings.with_overrides({"lineage": {"transport": "http", "url": "http://127.0.0.1:5000"}})
    )
    transports = "spark.openlineage.transport.transports"
    assert http["spark.openlineage.transport.type"] == "composite"
    assert http[f"{transports}.journal.location"] == str(spark_events_file(settings))
    assert http[f"{transports}.server.url"] == "http://127.0.0.1:5000"
    off = settings.with_overrides({"lineage": {"transport": "none"}})
    assert "spark.extraListeners" not in spark_conf(off)
