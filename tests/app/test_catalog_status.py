"""`lake status` and `lake doctor` report the catalog: where it is, whether it answers, how many
tables it holds, never its password (issue 19, compose and local alike).

A throw-away PostgreSQL (Debian's, a real process on a free port, as the `metastore` fixture
runs it) stands for the metastore database; the rows of the metastore's own ``DBS`` / ``TBLS``
tables are the few columns the count reads (the real schema, made by Spark's Hive client, is
read in tests/compose/test_compose_stack.py through `lake status` in the runner container).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.catalog_status import (
    CatalogStatus,
    catalog_status,
    parse_jdbc_url,
    query,
    redact_url,
)
from app.doctor import check_catalog
from app.errors import PostgresError
from conftest import REPO, RunningMetastore, base_settings, running_metastore
from lake.processes import free_port
from lake.settings import Settings

LAKE = str(Path(sys.executable).parent / "lake")
# a real PostgreSQL process: the integration tier, with the MinIO-backed tests (`make test`
# installs Debian's postgresql; `make test-fast` runs only the pure tests below)
server = pytest.mark.minio


def run_lake(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("LAKE")}
    if "LAKE_CACHE_DIR" in os.environ:
        base["LAKE_CACHE_DIR"] = os.environ["LAKE_CACHE_DIR"]
    return subprocess.run(
        [LAKE, *args], env={**base, **env}, capture_output=True, text=True, timeout=120, cwd=cwd
    )


@pytest.fixture(scope="module")
def database() -> Iterator[RunningMetastore]:
    """A PostgreSQL of its own: Spark's session catalog never registers tables in it."""
    with running_metastore("lake-catalog-status-") as server:
        yield server


def _settings(tmp: Path, url: str, user: str, password: str) -> Settings:
    return base_settings(tmp).with_overrides(
        {"catalog": {"url": url, "user": user, "password": password}}
    )


def _sql(db: RunningMetastore, sql: str, database: str = "metastore") -> list[tuple]:
    return query(db.state.host, db.state.port, db.user, db.password, database, sql)


def test_jdbc_urls_are_parsed_and_never_shown_with_a_password() -> None:
    assert parse_jdbc_url("jdbc:postgresql://metastore-db:5432/metastore") == (
        "metastore-db",
        5432,
        "metastore",
    )
    assert parse_jdbc_url("jdbc:postgresql://db/meta?ssl=true") == ("db", 5432, "meta")
    assert redact_url("jdbc:postgresql://db/m?user=a&password=s3cret&x=1") == (
        "jdbc:postgresql://db/m?user=a&password=***&x=1"
    )
    with pytest.raises(ValueError, match="not a jdbc:postgresql://host:port/database URL"):
        parse_jdbc_url("jdbc:derby:metastore_db")


@server
def test_a_fresh_database_is_reachable_with_no_table(database, tmp_path: Path) -> None:
    _sql(database, "CREATE DATABASE fresh", "postgres")
    url = f"jdbc:postgresql://127.0.0.1:{database.state.port}/fresh"
    status = catalog_status(_settings(tmp_path, url, database.user, database.password))
    # no Spark session has used it yet: no metastore schema, which is zero tables, not an error
    assert status == CatalogStatus(enabled=True, url=url, reachable=True, tables=0)
    assert status.line() == f"{url}: 0 table(s) registered"


@server
def test_registered_tables_are_counted_per_database(database, tmp_path: Path) -> None:
    _sql(database, "CREATE DATABASE counted", "postgres")
    port = database.state.port
    for statement in (
        'CREATE TABLE "DBS" ("DB_ID" bigint PRIMARY KEY, "NAME" varchar(128))',
        'CREATE TABLE "TBLS" ("TBL_ID" bigint PRIMARY KEY, "DB_ID" bigint)',
        "INSERT INTO \"DBS\" VALUES (1, 'default'), (2, 'silver'), (3, 'gold'), (4, 'bronze')",
        'INSERT INTO "TBLS" VALUES (10, 2), (11, 2), (12, 2), (13, 3)',
    ):
        query("127.0.0.1", port, database.user, database.password, "counted", statement)
    url = f"jdbc:postgresql://127.0.0.1:{port}/counted"
    settings = _settings(tmp_path, url, database.user, database.password)
    status = catalog_status(settings)
    assert (status.reachable, status.tables) == (True, 4)
    assert status.databases == {"bronze": 0, "default": 0, "gold": 1, "silver": 3}
    assert status.line() == f"{url}: 4 table(s) registered (bronze 0, gold 1, silver 3)"
    check = check_catalog(settings)
    assert (check.ok, check.detail) == (True, status.line())

    # the same through the command line, as a user reads it, and never the password
    env = {
        "LAKE_HOME": str(tmp_path),
        "LAKE__STORAGE__ENDPOINT": "http://127.0.0.1:9",
        "LAKE__CATALOG__URL": url,
        "LAKE__CATALOG__USER": database.user,
        "LAKE__CATALOG__PASSWORD": database.password,
    }
    shutil.copy(REPO / "lake.toml", tmp_path / "lake.toml")
    shown = run_lake("status", env=env, cwd=tmp_path)
    assert shown.returncode == 3  # MinIO is not running: status says so, the catalog still shown
    assert f"catalog   {url}: 4 table(s) registered (bronze 0, gold 1, silver 3)" in shown.stdout
    as_json = json.loads(run_lake("status", "--json", env=env, cwd=tmp_path).stdout)
    assert as_json["catalog"]["tables"] == 4 and as_json["catalog"]["reachable"] is True
    doctor = run_lake("doctor", env=env, cwd=tmp_path)
    assert "[ok  ] catalog        " + status.line() in doctor.stdout
    for output in (shown.stdout, doctor.stdout, json.dumps(as_json)):
        assert database.password not in output


@server
def test_a_wrong_password_is_refused_and_said_with_its_fix(database, tmp_path: Path) -> None:
    url = f"jdbc:postgresql://127.0.0.1:{database.state.port}/metastore"
    status = catalog_status(_settings(tmp_path, url, database.user, "not-the-password"))
    assert (status.reachable, status.tables) == (False, None)
    assert status.error is not None and "password authentication failed" in status.error
    check = check_catalog(_settings(tmp_path, url, database.user, "not-the-password"))
    assert not check.ok
    assert check.fix.startswith("check LAKE__CATALOG__USER / LAKE__CATALOG__PASSWORD")
    with pytest.raises(PostgresError, match="password authentication failed"):
        query("127.0.0.1", database.state.port, database.user, "nope", "metastore", "SELECT 1")


def test_a_database_that_does_not_answer_fails_the_doctor(tmp_path: Path) -> None:
    url = f"jdbc:postgresql://127.0.0.1:{free_port()}/metastore"
    settings = _settings(tmp_path, url, "lake_metastore", "a-password")
    status = catalog_status(settings, timeout_s=2)
    assert not status.reachable
    assert status.line().startswith(f"{url} NOT reachable: ConnectionRefusedError")
    check = check_catalog(settings)
    assert not check.ok and "metastore-db" in check.fix


def test_no_catalog_known_is_not_a_failure(tmp_path: Path) -> None:
    settings = base_settings(tmp_path)  # no catalog.url, `lake up` never ran here
    status = catalog_status(settings)
    assert (status.url, status.reachable) == (None, False)
    check = check_catalog(settings)
    assert check.ok and check.detail == "not started: tables by path only until `lake up`"
    off = check_catalog(settings.with_overrides({"catalog": {"enabled": False}}))
    assert off.ok and off.detail.startswith("disabled")
