"""Shared fixtures: one real MinIO server and one SparkSession for the whole test run.

The MinIO fixture starts the binary built by `make minio` on a free 127.0.0.1 port with a
temporary data directory and freshly generated credentials; the kernel stops it if pytest dies
(PR_SET_PDEATHSIG), and the fixture stops it at the end of the run, pass or fail. Spark starts
once (`local[2]`, UI off) with the project's real jars and configuration.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from lake.minio_server import ServerState, start, stop_pid
from lake.settings import Settings, load_settings
from lake.storage import ensure_bucket
from lake.toolchain import minio_binary

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class RunningMinio:
    """A running MinIO for the tests."""

    state: ServerState
    access_key: str
    secret_key: str


def base_settings(tmp: Path) -> Settings:
    """The repository's settings with nothing from the developer's environment or var/."""
    return load_settings(
        REPO / "lake.toml",
        env={},
        overrides={
            "storage": {"credentials_file": str(tmp / "no-credentials.json")},
            "minio": {"state_file": str(tmp / "no-state.json")},
            "lineage": {"file": str(tmp / "lineage" / "events.jsonl")},
            "reports": {"dir": str(tmp / "reports")},
        },
    )


def start_test_minio(tmp: Path) -> RunningMinio:
    """Start a throw-away MinIO server (real process) under ``tmp``."""
    binary = minio_binary(base_settings(tmp))
    if not binary.is_file():
        pytest.fail(f"MinIO binary missing at {binary}: run `make minio` first", pytrace=False)
    access_key, secret_key = "test-" + secrets.token_hex(6), secrets.token_urlsafe(24)
    state = start(
        binary,
        data_dir=tmp / "data",
        host="127.0.0.1",
        port=0,
        console_port=0,
        access_key=access_key,
        secret_key=secret_key,
        log_file=tmp / "minio.log",
        die_with_parent=True,
    )
    return RunningMinio(state=state, access_key=access_key, secret_key=secret_key)


@pytest.fixture(scope="session")
def minio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningMinio]:
    server = start_test_minio(tmp_path_factory.mktemp("minio"))
    try:
        yield server
    finally:
        stop_pid(server.state.pid)


@pytest.fixture(scope="session")
def lake_settings(minio: RunningMinio, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings pointing at the test MinIO, with its bucket created."""
    tmp = tmp_path_factory.mktemp("lake")
    settings = base_settings(tmp).with_overrides(
        {
            "storage": {
                "endpoint": minio.state.endpoint,
                "access_key": minio.access_key,
                "secret_key": minio.secret_key,
                "bucket": "lake-test",
            },
            "spark": {"shuffle_partitions": 2, "ui_enabled": False},
        }
    )
    ensure_bucket(settings)
    return settings


@pytest.fixture(scope="session")
def spark(lake_settings: Settings) -> Iterator[SparkSession]:
    """The one SparkSession of the run, built by the project's own builder."""
    from lake.spark import build_session

    session = build_session(lake_settings, app_name="lake-tests")
    try:
        yield session
    finally:
        session.stop()


@pytest.fixture
def fresh_table(lake_settings: Settings, request: pytest.FixtureRequest) -> str:
    """A table URI no other test uses (Delta on S3 allows one writer per table)."""
    from lake.storage import table_uri

    name = request.node.name.lower().replace("[", "_").replace("]", "").replace("-", "_")
    return table_uri(lake_settings, "bronze", f"{name[:40]}_{secrets.token_hex(3)}")
