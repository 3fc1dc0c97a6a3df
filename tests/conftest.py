"""Shared fixtures: one real MinIO server and one SparkSession for the whole test run.

The MinIO fixture starts the binary built by `make minio` on a free 127.0.0.1 port with a
temporary data directory and freshly generated credentials; the kernel stops it if pytest dies
(PR_SET_PDEATHSIG), and the fixture stops it at the end of the run, pass or fail. Spark starts
once (`local[2]`, UI off) with the project's real jars and configuration.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from lake.metastore import MetastoreState
from lake.metastore import start as start_metastore
from lake.metastore import stop as stop_metastore
from lake.minio_server import ServerState, start
from lake.processes import stop_pid
from lake.settings import Settings, load_settings
from lake.storage import ensure_bucket
from lake.toolchain import minio_binary

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

REPO = Path(__file__).resolve().parents[1]
# A small contract with every column type, used by the typing and rule tests.
DEMO_CONTRACT = """
source: demo
title: Démo
domain: test
owner: DGM
description: Test.
format: csv
decimal: ","
thousands: "."
null_markers: ["", "NC", "X", "N/A"]
date_formats: ["dd/MM/yyyy", "yyyy-MM-dd"]
primary_key: [id]
exposure_level: 2
retention: {years: 5, end: purge}
columns:
  - {name: id, type: string, description: Identifiant, nullable: false}
  - {name: amount, type: decimal, description: Montant, minimum: 0}
  - {name: n, type: integer, description: Nombre}
  - {name: day, type: date, description: Jour}
  - {name: ok, type: boolean, description: Validé}
  - {name: colour, type: string, description: Couleur, allowed: [vert, rouge]}
  - {name: name, type: string, description: Nom, pseudonymise: true,
     sensitivity: {level: 1, personal: true}}
"""


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
            # No catalog unless the `metastore` fixture gives one (never the developer's).
            "catalog": {
                "state_file": str(tmp / "no-metastore.json"),
                "credentials_file": str(tmp / "no-metastore-credentials.json"),
                "warehouse": str(tmp / "warehouse"),
            },
        },
    )


def lake_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment of a `lake` subprocess that must use ``settings``' object store.

    The parent's LAKE* variables are dropped (only the cache location is kept) so a developer's
    own settings never leak into a test.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKE")}
    if "LAKE_CACHE_DIR" in os.environ:
        env["LAKE_CACHE_DIR"] = os.environ["LAKE_CACHE_DIR"]
    env.update(
        {
            "LAKE__STORAGE__ENDPOINT": settings.endpoint,
            "LAKE__STORAGE__ACCESS_KEY": settings.storage.access_key,
            "LAKE__STORAGE__SECRET_KEY": settings.storage.secret_key,
            "LAKE__STORAGE__BUCKET": settings.storage.bucket,
            "LAKE__LINEAGE__FILE": str(settings.lineage.file),
            "LAKE__INGESTION__INBOX": str(settings.ingestion.inbox),
            "LAKE__SECURITY__PSEUDONYMISATION_KEY_FILE": str(
                settings.security.pseudonymisation_key_file
            ),
        }
    )
    catalog = settings.catalog
    if catalog.url:  # the run's metastore, never the developer's (var/metastore)
        env.update(
            {
                "LAKE__CATALOG__URL": catalog.url,
                "LAKE__CATALOG__USER": catalog.user,
                "LAKE__CATALOG__PASSWORD": catalog.password,
                "LAKE__CATALOG__WAREHOUSE": str(catalog.warehouse),
                "LAKE__CATALOG__REGISTER": str(catalog.register).lower(),
            }
        )
    else:
        env["LAKE__CATALOG__ENABLED"] = "false"
    env.update(extra)
    return env


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


@dataclass(frozen=True)
class RunningMetastore:
    """The run's PostgreSQL holding the Hive metastore (the catalog)."""

    state: MetastoreState
    user: str
    password: str


def start_test_metastore(tmp: Path) -> RunningMetastore:
    """Start a throw-away PostgreSQL cluster (real process) under ``tmp``, on a free port.

    ``tmp`` must be reachable by the account PostgreSQL runs as (``postgres`` under root).
    """
    user, password = "lake_metastore", secrets.token_urlsafe(18)
    state = start_metastore(
        data_dir=tmp / "pgdata",
        host="127.0.0.1",
        port=0,
        database="metastore",
        user=user,
        password=password,
        log_file=tmp / "postgres.log",
        die_with_parent=True,
    )
    return RunningMetastore(state=state, user=user, password=password)


@contextlib.contextmanager
def running_metastore(prefix: str) -> Iterator[RunningMetastore]:
    """A throw-away PostgreSQL in a temporary directory, stopped and removed at the end."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    if os.geteuid() == 0:  # PostgreSQL runs as 'postgres' and must reach its directory
        shutil.chown(tmp, user="postgres")
    server = start_test_metastore(tmp)
    try:
        yield server
    finally:
        stop_metastore(server.state.pid)
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def metastore() -> Iterator[RunningMetastore]:
    """One PostgreSQL for the run's catalog, started before Spark (its session needs it)."""
    with running_metastore("lake-metastore-") as server:
        yield server


@pytest.fixture(scope="session")
def lake_settings(
    minio: RunningMinio, metastore: RunningMetastore, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    """Settings pointing at the test MinIO and metastore, with the bucket created."""
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
            "catalog": {
                "url": metastore.state.url,
                "user": metastore.user,
                "password": metastore.password,
                "warehouse": str(tmp / "warehouse"),
                # Every session has the catalog; only the catalog tests register tables (each
                # first registration is two Delta commits: the suite would pay them per run).
                "register": False,
            },
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
