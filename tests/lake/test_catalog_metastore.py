"""Tables by name through a real catalog: the Hive metastore on a real PostgreSQL (issue 19.4).

The run's PostgreSQL (``metastore`` fixture in conftest, started before Spark) holds the
metastore of the one SparkSession. A module fixture runs the real chain for one source, with
registration on, into its own bucket; the tests then read the tables by name from Spark and
compare with delta-rs, read the comments and properties back from the Delta log (Spark and
delta-rs) and from PostgreSQL itself, and run real ``lake sql`` and ``spark-sql`` processes:
another JVM finds the same tables, and a reader role is refused a level-1 table by name in one
line, as by path.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from app.compose import lineage_sink, quality_gates
from conftest import REPO, base_settings, lake_env
from ingestion.catalog_entries import entries, register_tables
from ingestion.pipeline import run
from lake.access import apply, load_roles
from lake.catalog_registry import TableEntry, register, registered_tables
from lake.contracts import get_contract, load_contracts
from lake.delta_reader import open_table
from lake.metastore import ensure_credentials, postgres_bindir
from lake.settings import read_credentials_file
from lake.spark import catalog_conf, catalog_secret_conf, spark_conf
from lake.storage import ensure_bucket, table_uri

LAKE = str(Path(sys.executable).parent / "lake")
SOURCE = "adoptions"
GOLD = "adoptions_par_pays_annee_age"
BUCKET = "lake-catalog"
TABLES = [f"bronze.{SOURCE}", f"gold.{GOLD}", f"quarantine.{SOURCE}", f"silver.{SOURCE}"]


# --- without the stack -----------------------------------------------------------------------


def test_the_metastore_login_is_generated_once_with_mode_600(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "metastore.json"
    user, password = ensure_credentials(path)
    assert (user, len(password) >= 24) == ("lake_metastore", True)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ensure_credentials(path) == (user, password)


def test_no_metastore_means_the_in_memory_catalog_and_no_password_on_a_command_line(
    tmp_path: Path,
) -> None:
    settings = base_settings(tmp_path)
    assert catalog_conf(settings) == {}
    shared = settings.with_overrides(
        {
            "catalog": {
                "url": "jdbc:postgresql://127.0.0.1:1/metastore",
                "user": "u",
                "password": "p",
            }
        }
    )
    conf = spark_conf(shared, include_jars=False)
    assert conf["spark.sql.catalogImplementation"] == "hive"
    assert conf["spark.hadoop.javax.jdo.option.ConnectionURL"].endswith(":1/metastore")
    assert "p" not in conf.values()
    assert catalog_secret_conf(shared) == {"spark.hadoop.javax.jdo.option.ConnectionPassword": "p"}


def test_a_catalog_turned_off_keeps_the_in_memory_catalog(tmp_path: Path) -> None:
    settings = base_settings(tmp_path).with_overrides(
        {
            "catalog": {
                "enabled": False,
                "url": "jdbc:postgresql://h:1/m",
                "user": "u",
                "password": "p",
            }
        }
    )
    assert catalog_conf(settings) == {}


# --- on the real stack -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def lake(spark, lake_settings, tmp_path_factory):
    """One source through bronze, silver and gold, registered by the chain itself."""
    settings = lake_settings.with_overrides(
        {
            "storage": {"bucket": BUCKET},
            "ingestion": {"inbox": str(REPO / "samples")},
            "security": {"pseudonymisation_key_file": str(tmp_path_factory.mktemp("k") / "key")},
            "catalog": {"register": True},
        }
    )
    ensure_bucket(settings)
    lines: list[str] = []
    run(
        spark,
        settings,
        sources=[SOURCE],
        gates=quality_gates(settings),
        lineage=lineage_sink(settings),
        progress=lines.append,
    )
    return settings, lines


def _psql(lake_settings, sql: str) -> str:
    catalog = lake_settings.catalog
    host_port = catalog.url.split("//")[1].split("/")[0]
    host, port = host_port.split(":")
    psql = [str(postgres_bindir() / "psql"), "-h", host, "-p", port, "-U", catalog.user, "-X"]
    result = subprocess.run(
        [*psql, "-d", "metastore", "-tA", "-F", "|", "-c", sql],
        env=dict(os.environ, PGPASSWORD=catalog.password),
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


@pytest.mark.spark
@pytest.mark.minio
def test_the_chain_registers_its_tables_and_spark_reads_them_by_name(spark, lake) -> None:
    settings, lines = lake
    assert set(TABLES) <= set(registered_tables(spark))
    assert any(f"catalog: registered silver.{SOURCE}" in line for line in lines), lines
    for name in TABLES:
        layer, table = name.split(".")
        by_rs = open_table(settings, table_uri(settings, layer, table)).to_pyarrow_table()
        assert spark.table(name).count() == by_rs.num_rows > 0, name
    assert spark.sql(f"SELECT count(*) AS n FROM silver.{SOURCE}").first()["n"] > 0


@pytest.mark.spark
@pytest.mark.minio
def test_comments_and_properties_come_from_the_contract(spark, lake) -> None:
    settings, _ = lake
    contract = get_contract(REPO, SOURCE)
    detail = spark.sql(f"DESCRIBE DETAIL silver.{SOURCE}").first()
    assert detail["description"].startswith(f"{contract.title} : données typées")
    props = dict(spark.sql(f"SHOW TBLPROPERTIES silver.{SOURCE}").collect())
    assert props["lake.owner"] == contract.owner
    strictest = min([contract.exposure_level, *(c.sensitivity.level for c in contract.columns)])
    assert props["lake.exposure_level"] == str(strictest)
    assert props["lake.personal_data"] == str(contract.personal).lower()
    first = contract.columns[0]
    comments = {f.name: f.metadata.get("comment") for f in spark.table(f"silver.{SOURCE}").schema}
    assert comments[first.name].startswith(first.description)
    assert comments["_batch_id"].startswith("Lot d'ingestion")
    gold = spark.sql(f"DESCRIBE DETAIL gold.{GOLD}").first()
    assert gold["description"] and "adoption" in gold["description"].lower()
    # The same metadata is in the Delta log, so delta-rs (any other engine) reads it too.
    seen = open_table(settings, table_uri(settings, "silver", SOURCE)).metadata()
    assert seen.description == detail["description"]
    assert seen.configuration["lake.owner"] == contract.owner
    # registration keeps the gold writer's own properties readable: the published Table Schema
    # of the indicator still has its grain as primary key (`lake reports`, open data)
    from app.cli.quality import table_schema
    from ingestion.indicators import INDICATORS

    (indicator,) = [i for i in INDICATORS if i.name == GOLD]
    assert table_schema(settings, f"gold/{GOLD}")["primaryKey"] == list(indicator.grain)


@pytest.mark.spark
@pytest.mark.minio
def test_the_catalog_is_in_postgresql_and_every_table_is_external(lake, lake_settings) -> None:
    rows = _psql(
        lake_settings,
        'SELECT d."NAME", t."TBL_NAME", t."TBL_TYPE" FROM "TBLS" t JOIN "DBS" d USING ("DB_ID")',
    )
    found = {tuple(line.split("|")) for line in rows.splitlines()}
    for name in TABLES:
        layer, table = name.split(".")
        assert (layer, table, "EXTERNAL_TABLE") in found
    # Spark keeps a data source table's location in its storage parameters.
    paths = _psql(
        lake_settings, 'SELECT "PARAM_VALUE" FROM "SERDE_PARAMS" WHERE "PARAM_KEY" = \'path\''
    )
    assert f"s3a://{BUCKET}/silver/{SOURCE}" in paths.splitlines()


@pytest.mark.spark
@pytest.mark.minio
def test_registering_again_writes_nothing_and_a_moved_table_is_repointed(spark, lake) -> None:
    settings, _ = lake
    uris = [table_uri(settings, *name.split(".")) for name in TABLES]
    before = [open_table(settings, u).version() for u in uris]
    assert register_tables(spark, settings, load_contracts(REPO).values()) == len(TABLES)
    assert [open_table(settings, u).version() for u in uris] == before
    # The catalog commits carry the run, like the run's own (lake audit attributes them).
    history = open_table(settings, uris[3]).history()
    catalog_commits = [h for h in history if h.get("operation") == "CHANGE COLUMNS"]
    assert catalog_commits and "run_id" in json.loads(catalog_commits[0]["userMetadata"])
    # An entry pointing elsewhere (the bucket moved) is re-pointed; external: no data lost.
    silver = [e for e in entries(settings, [get_contract(REPO, SOURCE)]) if e.layer == "silver"]
    elsewhere = TableEntry("silver", SOURCE, table_uri(settings, "quarantine", SOURCE))
    assert [r.created for r in register(spark, [elsewhere])] == [True]
    assert spark.table(f"silver.{SOURCE}").count() == spark.table(f"quarantine.{SOURCE}").count()
    assert [(r.created, r.metadata_updated) for r in register(spark, silver)] == [(True, False)]
    location = spark.sql(f"DESCRIBE DETAIL silver.{SOURCE}").first()["location"]
    assert location == f"s3a://{BUCKET}/silver/{SOURCE}"
    assert [open_table(settings, u).version() for u in uris] == before


@pytest.mark.spark
@pytest.mark.minio
def test_another_process_finds_the_tables_by_name_with_lake_sql(lake, spark) -> None:
    settings, _ = lake
    env = lake_env(settings)
    query = f"SELECT count(*) AS n FROM silver.{SOURCE}"
    result = subprocess.run(
        [LAKE, "sql", query, "--json"], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    printed = json.loads(result.stdout[result.stdout.index("{") :])
    assert printed == {"columns": ["n"], "rows": [{"n": spark.table(f"silver.{SOURCE}").count()}]}


@pytest.mark.spark
@pytest.mark.minio
def test_a_reader_role_is_refused_a_level_1_table_by_name_in_one_line(lake, tmp_path) -> None:
    settings, _ = lake
    apply(settings, load_roles(REPO / "policy" / "minio-roles.yaml"), directory=tmp_path)
    access_key, secret_key = read_credentials_file(tmp_path / "minio-reader-level-2.json")
    env = lake_env(
        settings,
        LAKE__STORAGE__ACCESS_KEY=access_key,
        LAKE__STORAGE__SECRET_KEY=secret_key,
        LAKE__STORAGE__ROLE="reader-level-2",
    )
    result = subprocess.run(
        [LAKE, "sql", f"SELECT * FROM silver.{SOURCE}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1, result.stdout[-2000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("lake sql: error")]
    assert errors == [
        f"lake sql: error: Reading silver.{SOURCE} was refused: the object store does not let "
        "the role 'reader-level-2' read its files (by name as by path). Fix: run under a role "
        "allowed to read it (LAKE__STORAGE__ROLE, policy/minio-roles.yaml), or read a view "
        "published for your level (`lake access publish`)"
    ]
    assert "\tat org." not in result.stderr, result.stderr[-3000:]


@pytest.mark.spark
@pytest.mark.minio
def test_spark_sql_runs_with_the_lake_configuration(lake, spark, tmp_path) -> None:
    settings, _ = lake
    conf = tmp_path / "spark-sql.conf"
    env = lake_env(settings)
    made = subprocess.run(
        [LAKE, "sql", "--spark-conf", str(conf)], env=env, capture_output=True, text=True
    )
    assert made.returncode == 0, made.stderr
    assert stat.S_IMODE(conf.stat().st_mode) == 0o600
    command = made.stdout.split()
    assert command[0].endswith("bin/spark-sql") and command[1:3] == ["--properties-file", str(conf)]
    result = subprocess.run(
        [command[0], "--properties-file", str(conf), "-e", f"SELECT count(*) FROM gold.{GOLD}"],
        env=dict(env, SPARK_LOCAL_IP="127.0.0.1", PYSPARK_PYTHON=sys.executable),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == [str(spark.table(f"gold.{GOLD}").count())]
