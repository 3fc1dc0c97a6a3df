"""docker-compose.yml agrees with lake.toml and the pinned versions (it cannot run here)."""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from lake.settings import load_settings
from lake.toolchain import compose_binary

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def settings():
    return load_settings(REPO / "lake.toml", env={})


def _lake_env(compose: dict) -> dict[str, str]:
    env = compose["services"]["lake"]["environment"]
    return {k: str(v) for k, v in env.items()}


def test_services(compose: dict) -> None:
    assert set(compose["services"]) >= {
        "minio",
        "minio-init",
        "spark-master",
        "spark-worker",
        "lake",
        "marquez",
        "marquez-db",
        "marquez-web",
        "reports",
    }
    # the runner spark-submits to the cluster, then builds the reports the web server shows
    runner = compose["services"]["lake"]
    assert "--master spark://spark-master:7077 pipeline" in runner["command"][0]
    assert runner["command"][0].endswith("lake reports")
    # least privilege (decision 0008): the root keys install the roles, then are dropped before
    # any job; the chain and the reports run under the role `pipeline`
    steps = [step.strip() for step in runner["command"][0].split("&&")]
    assert steps[:3] == [
        "lake access apply",
        "unset LAKE__STORAGE__ACCESS_KEY LAKE__STORAGE__SECRET_KEY",
        "export LAKE__STORAGE__ROLE=pipeline",
    ]
    assert "reports:/reports" in runner["volumes"]
    assert "reports:/usr/share/nginx/html:ro" in compose["services"]["reports"]["volumes"]


def test_minio_ports_healthcheck_and_version_match_settings(compose: dict, settings) -> None:
    minio = compose["services"]["minio"]
    assert f"127.0.0.1:{settings.minio.port}:9000" in minio["ports"]
    assert f"127.0.0.1:{settings.minio.console_port}:9001" in minio["ports"]
    assert "/minio/health/live" in " ".join(minio["healthcheck"]["test"])
    assert minio["build"]["args"]["MINIO_VERSION"] == settings.minio.version


def test_bucket_is_created_before_jobs_run(compose: dict, settings) -> None:
    init = compose["services"]["minio-init"]
    assert init["command"] == ["init"]
    assert init["depends_on"]["minio"]["condition"] == "service_healthy"
    lake = compose["services"]["lake"]
    assert lake["depends_on"]["minio-init"]["condition"] == "service_completed_successfully"
    assert _lake_env(compose)["LAKE__STORAGE__BUCKET"] == settings.storage.bucket


def test_lake_environment_is_valid_settings(compose: dict, tmp_path: Path) -> None:
    env = {k: ("x" if "${" in v else v) for k, v in _lake_env(compose).items()}
    loaded = load_settings(REPO / "lake.toml", env=env)  # raises on any unknown key or type
    assert loaded.endpoint == "http://minio:9000"
    assert loaded.spark.master == "spark://spark-master:7077"


def test_no_credential_is_written_in_the_file(compose: dict) -> None:
    minio_env = compose["services"]["minio"]["environment"]
    for key in ("MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD"):
        assert minio_env[key].startswith("${") and ":?" in minio_env[key]
    for key in ("LAKE__STORAGE__ACCESS_KEY", "LAKE__STORAGE__SECRET_KEY"):
        assert _lake_env(compose)[key].startswith("${")


def test_spark_image_matches_pyspark(compose: dict) -> None:
    version = importlib.metadata.version("pyspark")
    for name in ("spark-master", "spark-worker"):
        assert compose["services"][name]["image"].startswith(f"apache/spark:{version}-scala2.13")


def _compose_command() -> list[str] | None:
    """`docker compose` if the client has the plugin, else the binary `make compose-cli` built."""
    docker = shutil.which("docker")
    if docker:
        probe = subprocess.run([docker, "compose", "version"], capture_output=True, text=True)
        if probe.returncode == 0:
            return [docker, "compose"]
    built = compose_binary()
    return [str(built)] if built.is_file() else None


def test_docker_compose_config_accepts_the_file(tmp_path: Path) -> None:
    command = _compose_command()
    if command is None:
        pytest.skip("no docker compose here: run `make compose-cli` to build one")
    env_file = tmp_path / ".env"
    env_file.write_text(
        "LAKE_MINIO_ACCESS_KEY=a-user\nLAKE_MINIO_SECRET_KEY=a-secret-value\n"
        "LAKE_MARQUEZ_DB_PASSWORD=a-db-password\n"
    )
    result = subprocess.run(
        [
            *command,
            "--env-file",
            str(env_file),
            "-f",
            str(REPO / "docker-compose.yml"),
            "config",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    resolved = json.loads(result.stdout)
    # the credentials reach both MinIO and the lake driver, interpolated from the env file only
    assert resolved["services"]["minio"]["environment"]["MINIO_ROOT_PASSWORD"] == "a-secret-value"
    lake_env = resolved["services"]["lake"]["environment"]
    assert lake_env["LAKE__STORAGE__SECRET_KEY"] == "a-secret-value"
    # lineage goes to Marquez over HTTP; Marquez and its database share the generated password
    assert lake_env["LAKE__LINEAGE__URL"] == "http://marquez:5000"
    marquez = resolved["services"]["marquez"]["environment"]
    assert marquez["POSTGRES_PASSWORD"] == "a-db-password"
    assert resolved["services"]["marquez-db"]["environment"]["POSTGRES_PASSWORD"] == "a-db-password"


def test_docker_compose_refuses_to_start_without_credentials(tmp_path: Path) -> None:
    command = _compose_command()
    if command is None:
        pytest.skip("no docker compose here: run `make compose-cli` to build one")
    empty = tmp_path / ".env"
    empty.write_text("")
    result = subprocess.run(
        [*command, "--env-file", str(empty), "-f", str(REPO / "docker-compose.yml"), "config"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode != 0
    assert "run `make compose-env` first" in result.stderr
