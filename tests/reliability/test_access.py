"""Least privilege on a real MinIO: every role's denials and allowances, and no leaked key.

A MinIO of its own (module scope) gets the roles of policy/minio-roles.yaml applied with
`lake access apply`'s function; objects are seeded in every prefix as admin, then each role tries
to read, list and write each of them with the MinIO client. One Spark/S3A read with a reader's keys
must fail with a lake error naming the table and the endpoint, not a Java trace. The slow test runs
bronze as `ingestion` and silver + gold as `transformation` (real `lake run` processes), then
greps the repository, the MinIO log, the jobs' output and the lineage events for every key.
"""

from __future__ import annotations

import io
import json
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import REPO, base_settings, lake_env, start_test_minio
from lake.access import (
    AccessError,
    Role,
    apply,
    credentials_file,
    iam_policy,
    load_roles,
    role_settings,
)
from lake.errors import StorageError
from lake.processes import stop_pid
from lake.settings import Settings, load_settings, read_credentials_file
from lake.storage import check_storage, ensure_bucket, object_client

pytestmark = [pytest.mark.minio, pytest.mark.reliability]
LAKE = str(Path(sys.executable).parent / "lake")
BUCKET = "lake-access"
ROLES = load_roles(REPO / "policy" / "minio-roles.yaml")
SEEDED = [
    "landing/adoptions/2026-01-15/adoptions.csv",
    "bronze/adoptions/part-0.parquet",
    "silver/adoptions/part-0.parquet",
    "gold/adoptions_par_pays/part-0.parquet",
    "quarantine/adoptions/part-0.parquet",
    "meta/runs/part-0.parquet",
    "archive/silver/adoptions/part-0.parquet",
    *(f"views/level-{n}/gold_adoptions_par_pays.csv" for n in (1, 2, 3, 4)),
]


@dataclass(frozen=True)
class AccessLake:
    admin: Settings
    secrets: Path
    minio_log: Path


@pytest.fixture(scope="module")
def access_lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AccessLake]:
    tmp = tmp_path_factory.mktemp("access")
    server = start_test_minio(tmp)
    try:
        admin = base_settings(tmp).with_overrides(
            {
                "storage": {
                    "endpoint": server.state.endpoint,
                    "access_key": server.access_key,
                    "secret_key": server.secret_key,
                    "bucket": BUCKET,
                }
            }
        )
        ensure_bucket(admin)
        client = object_client(admin)
        for key in SEEDED:
            client.put_object(BUCKET, key, io.BytesIO(b"seed"), 4)
        apply(admin, ROLES, directory=tmp / "secrets")
        yield AccessLake(admin, tmp / "secrets", tmp / "minio.log")
    finally:
        stop_pid(server.state.pid)


def as_role(lake: AccessLake, role: str) -> Settings:
    return role_settings(lake.admin, role, directory=lake.secrets)


def allowed(action: Callable[[], object]) -> bool:
    """True when MinIO lets the action through, False when it answers AccessDenied."""
    from minio.error import S3Error

    try:
        action()
    except S3Error as exc:
        if exc.code == "AccessDenied":
            return False
        raise
    return True


def can_read(settings: Settings, key: str) -> bool:
    client = object_client(settings)

    def read() -> None:
        response = client.get_object(BUCKET, key)
        response.read()
        response.close()
        response.release_conn()

    return allowed(read)


def can_list(settings: Settings, prefix: str) -> bool:
    client = object_client(settings)
    return allowed(lambda: list(client.list_objects(BUCKET, prefix=prefix, recursive=True)))


def can_write(settings: Settings, key: str) -> bool:
    client = object_client(settings)
    return allowed(lambda: client.put_object(BUCKET, key, io.BytesIO(b"new"), 3))


# --- the roles file ------------------------------------------------------------------------------


def test_the_roles_file_grants_each_layer_to_its_role_only() -> None:
    assert set(ROLES) == {
        "ingestion",
        "transformation",
        "pipeline",
        "lifecycle",
        "steward",
        "web",
        *(f"reader-level-{n}" for n in (1, 2, 3, 4)),
    }
    # the read-only commands' role: every layer and meta/ to read, nothing to write, no archive
    steward = ROLES["steward"]
    assert steward.write == ()
    assert {"bronze/", "silver/", "gold/", "quarantine/", "meta/"} <= set(steward.read)
    # only the DPO's lifecycle role reaches the cold archive; no reader writes anything
    assert [r for r in ROLES if "archive/" in ROLES[r].read] == ["lifecycle"]
    ingestion, transformation = ROLES["ingestion"], ROLES["transformation"]
    assert {"landing/", "bronze/", "quarantine/", "meta/"} <= set(ingestion.write)
    assert not {"silver/", "gold/", "views/"} & set(ingestion.read + ingestion.write)
    assert {"silver/", "gold/", "quarantine/", "meta/"} <= set(transformation.write)
    assert "bronze/" in transformation.read
    assert not {"landing/", "bronze/"} & set(transformation.write)
    # the whole-chain job's role is exactly the union of the two job roles, nothing more
    pipeline = ROLES["pipeline"]
    assert set(pipeline.read) == set(ingestion.read) | set(transformation.read)
    assert set(pipeline.write) == set(ingestion.write) | set(transformation.write)
    for n in (1, 2, 3, 4):
        reader = ROLES[f"reader-level-{n}"]
        assert reader.read == tuple(f"views/level-{m}/" for m in range(n, 5))
        assert reader.write == ()


def test_a_role_that_writes_what_it_cannot_read_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "roles.yaml"
    bad.write_text("roles:\n  x-role:\n    read: [bronze/]\n    write: [silver/]\n")
    with pytest.raises(AccessError) as err:
        load_roles(bad)
    assert "role x-role writes ['silver/'] but cannot read them" in err.value.message
    bad.write_text("roles:\n  x-role:\n    read: ['*']\n")
    with pytest.raises(AccessError, match="invalid prefixes"):
        load_roles(bad)


def test_the_policy_lists_and_reads_only_under_the_granted_prefixes() -> None:
    doc = iam_policy(Role("r", "", ("views/level-4/",), ()), "lake")
    by_sid = {s["Sid"]: s for s in doc["Statement"]}
    assert set(by_sid) == {"LakeBucket", "List", "Read"}  # no Write statement at all
    assert by_sid["List"]["Condition"] == {
        "StringLike": {"s3:prefix": ["views/level-4", "views/level-4/*"]}
    }
    assert by_sid["Read"]["Resource"] == [
        "arn:aws:s3:::lake/views/level-4/*",
        "arn:aws:s3:::lake/views/level-4",
    ]


def test_a_role_setting_selects_the_role_credentials_file(tmp_path: Path) -> None:
    (tmp_path / "lake.toml").write_text((REPO / "lake.toml").read_text())
    path = credentials_file(tmp_path / "var" / "secrets", "ingestion")
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"access_key": "lake-ingestion-x1", "secret_key": "s" * 40}))
    settings = load_settings(tmp_path / "lake.toml", env={"LAKE__STORAGE__ROLE": "ingestion"})
    assert settings.storage.role == "ingestion"
    assert (settings.storage.access_key, settings.storage.secret_key) == (
        "lake-ingestion-x1",
        "s" * 40,
    )
    missing = load_settings(tmp_path / "lake.toml", env={"LAKE__STORAGE__ROLE": "transformation"})
    with pytest.raises(StorageError) as err:
        object_client(missing)
    assert err.value.message.startswith("No credentials for the role 'transformation'")
    assert err.value.fix and "lake access apply" in err.value.fix


# --- apply ---------------------------------------------------------------------------------------


def test_apply_writes_private_key_files_and_keeps_them(access_lake: AccessLake) -> None:
    assert stat.S_IMODE(access_lake.secrets.stat().st_mode) == 0o700
    keys = {}
    for role in ROLES:
        path = credentials_file(access_lake.secrets, role)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        keys[role] = read_credentials_file(path)
        assert keys[role][0].startswith(f"lake-{role}-")
    again = apply(access_lake.admin, ROLES, directory=access_lake.secrets)  # idempotent
    assert [a.created for a in again] == [False] * len(ROLES)
    assert {
        r: read_credentials_file(credentials_file(access_lake.secrets, r)) for r in ROLES
    } == keys
    for role in ROLES:  # every role passes the lake's pre-flight check (HEAD bucket)
        check_storage(as_role(access_lake, role))


def test_a_role_cannot_administer_the_server(access_lake: AccessLake) -> None:
    with pytest.raises(AccessError, match="needs the root \\(admin\\) credentials"):
        apply(as_role(access_lake, "ingestion"), ROLES, directory=access_lake.secrets)


# --- denials and allowances ----------------------------------------------------------------------

# (role, key, may read, may write)
MATRIX = [
    ("ingestion", "landing/adoptions/2026-01-15/adoptions.csv", True, True),
    ("ingestion", "bronze/adoptions/part-0.parquet", True, True),
    ("ingestion", "quarantine/adoptions/part-0.parquet", True, True),
    ("ingestion", "meta/runs/part-0.parquet", True, True),
    ("ingestion", "silver/adoptions/part-0.parquet", False, False),
    ("ingestion", "gold/adoptions_par_pays/part-0.parquet", False, False),
    ("ingestion", "views/level-4/gold_adoptions_par_pays.csv", False, False),
    ("transformation", "landing/adoptions/2026-01-15/adoptions.csv", False, False),
    ("transformation", "bronze/adoptions/part-0.parquet", True, False),
    ("transformation", "silver/adoptions/part-0.parquet", True, True),
    ("transformation", "gold/adoptions_par_pays/part-0.parquet", True, True),
    ("transformation", "quarantine/adoptions/part-0.parquet", True, True),
    ("transformation", "meta/runs/part-0.parquet", True, True),
    ("transformation", "views/level-1/gold_adoptions_par_pays.csv", True, True),
    ("pipeline", "landing/adoptions/2026-01-15/adoptions.csv", True, True),
    ("pipeline", "bronze/adoptions/part-0.parquet", True, True),
    ("pipeline", "gold/adoptions_par_pays/part-0.parquet", True, True),
    ("pipeline", "views/level-1/gold_adoptions_par_pays.csv", True, True),
    ("pipeline", "archive/silver/adoptions/part-0.parquet", False, False),
    ("lifecycle", "landing/adoptions/2026-01-15/adoptions.csv", True, True),
    ("lifecycle", "silver/adoptions/part-0.parquet", True, True),
    ("lifecycle", "archive/silver/adoptions/part-0.parquet", True, True),
    ("lifecycle", "views/level-4/gold_adoptions_par_pays.csv", False, False),
    *(
        (f"reader-level-{n}", f"views/level-{m}/gold_adoptions_par_pays.csv", m >= n, False)
        for n in (1, 2, 3, 4)
        for m in (1, 2, 3, 4)
    ),
    *(
        (f"reader-level-{n}", key, False, False)
        for n in (1, 4)
        for key in SEEDED
        if not key.startswith("views/")
    ),
]


@pytest.mark.parametrize(("role", "key", "may_read", "may_write"), MATRIX)
def test_each_role_reads_and_writes_only_its_prefixes(
    access_lake: AccessLake, role: str, key: str, may_read: bool, may_write: bool
) -> None:
    settings = as_role(access_lake, role)
    prefix = key.rsplit("/", 1)[0] + "/"
    assert can_read(settings, key) is may_read
    assert can_list(settings, prefix) is may_read
    target = key.rsplit("/", 1)[0] + f"/written-by-{role}"
    assert can_write(settings, target) is may_write
    if may_write:  # and the object is really there, as written
        assert object_client(access_lake.admin).get_object(BUCKET, target).read() == b"new"


def test_no_role_lists_the_whole_bucket_or_deletes_outside_its_prefixes(
    access_lake: AccessLake,
) -> None:
    for role in ROLES:
        settings = as_role(access_lake, role)
        assert can_list(settings, "") is False
    ingestion = object_client(as_role(access_lake, "ingestion"))
    errors = list(
        ingestion.remove_objects(BUCKET, iter([_delete("silver/adoptions/part-0.parquet")]))
    )
    assert [e.code for e in errors] == ["AccessDenied"]
    assert can_read(access_lake.admin, "silver/adoptions/part-0.parquet")


def _delete(key: str) -> object:
    from minio.deleteobjects import DeleteObject

    return DeleteObject(key)


def test_anonymous_requests_are_denied(access_lake: AccessLake) -> None:
    from minio import Minio

    netloc = access_lake.admin.endpoint.removeprefix("http://")
    anonymous = Minio(netloc, secure=False, region=access_lake.admin.storage.region)
    for key in SEEDED:
        assert allowed(lambda k=key: anonymous.get_object(BUCKET, k).read()) is False
    assert allowed(lambda: list(anonymous.list_objects(BUCKET, recursive=True))) is False
    assert allowed(lambda: anonymous.put_object(BUCKET, "landing/x", io.BytesIO(b"x"), 1)) is False


# --- the same rules through delta-rs and Spark ---------------------------------------------------


def _delta_table(lake: AccessLake, role: str, uri: str) -> None:
    import pyarrow as pa
    from deltalake import write_deltalake

    from lake.delta_reader import storage_options

    options = storage_options(as_role(lake, role)) | {"aws_conditional_put": "etag"}
    data = pa.table({"pays_iso3": ["FRA", "DEU"], "adoptions": [12, 14]})
    write_deltalake(uri, data, mode="append", storage_options=options)


def test_delta_writers_are_held_to_their_layers(access_lake: AccessLake) -> None:
    _delta_table(access_lake, "transformation", f"s3://{BUCKET}/gold/access_check")
    with pytest.raises(OSError, match=r"(?i)access ?denied|403"):
        _delta_table(access_lake, "ingestion", f"s3://{BUCKET}/gold/access_check_2")
    from deltalake import DeltaTable

    from lake.delta_reader import storage_options

    table = DeltaTable(
        f"s3://{BUCKET}/gold/access_check",
        storage_options=storage_options(as_role(access_lake, "transformation")),
    )
    assert table.to_pyarrow_table().num_rows == 2


@pytest.mark.spark
def test_a_spark_read_refused_by_minio_is_one_lake_error(spark, access_lake: AccessLake) -> None:
    from lake import delta_io

    _delta_table(access_lake, "transformation", f"s3://{BUCKET}/gold/spark_denied")
    reader = as_role(access_lake, "reader-level-4")
    hadoop = spark.sparkContext._jsc.hadoopConfiguration()
    # Per-bucket S3A settings: only this bucket goes to the access test's MinIO, as the reader.
    conf = {
        f"fs.s3a.bucket.{BUCKET}.endpoint": reader.endpoint,
        f"fs.s3a.bucket.{BUCKET}.access.key": reader.storage.access_key,
        f"fs.s3a.bucket.{BUCKET}.secret.key": reader.storage.secret_key,
    }
    for key, value in conf.items():
        hadoop.set(key, value)
    uri = f"s3a://{BUCKET}/gold/spark_denied"
    try:
        with pytest.raises(StorageError) as err:
            delta_io.read_table(spark, uri).count()
    finally:
        for key in conf:
            hadoop.unset(key)
    assert err.value.endpoint == reader.endpoint
    assert uri in err.value.message
    assert "denied access" in err.value.message  # a policy refusal, not a bad key
    assert "LAKE__STORAGE__ROLE" in err.value.fix
    assert "at org.apache" not in str(err.value) and "Traceback" not in str(err.value)


# --- no key anywhere -----------------------------------------------------------------------------


def _role_env(lake: AccessLake, role: str, tmp: Path) -> dict[str, str]:
    settings = as_role(lake, role)
    return lake_env(
        settings,
        LAKE__STORAGE__ROLE=role,
        LAKE__LINEAGE__FILE=str(tmp / "lineage" / "events.jsonl"),
        LAKE__REPORTS__DIR=str(tmp / "reports"),
        LAKE__INGESTION__INBOX=str(REPO / "samples"),
        LAKE__SECURITY__PSEUDONYMISATION_KEY_FILE=str(tmp / "pseudonymisation.key"),
        LAKE__MINIO__STATE_FILE=str(tmp / "no-state.json"),
    )


@pytest.mark.slow
@pytest.mark.spark
def test_a_pipeline_run_under_the_roles_leaks_no_key(access_lake: AccessLake, tmp_path) -> None:
    outputs = []
    for role, layer in (
        ("ingestion", "bronze"),
        ("transformation", "silver"),
        ("transformation", "gold"),
    ):
        done = subprocess.run(
            [LAKE, "run", "--source", "adoptions", "--layer", layer],
            env=_role_env(access_lake, role, tmp_path),
            capture_output=True,
            text=True,
            timeout=1500,  # minutes on 2 busy cores; about 2 minutes on a quiet machine
            cwd=REPO,
        )
        outputs.append(done.stdout + done.stderr)
        assert done.returncode == 0, f"{layer} as {role} failed: {done.stderr[-2000:]}"
        assert "succeeded" in done.stdout
    # transformation publishes the level-2 view of a gold table; readers 1-2 see it, 3-4 do not
    published = subprocess.run(
        [LAKE, "access", "publish", "gold/adoptions_par_pays_annee_age", "--audience", "2"],
        env=_role_env(access_lake, "transformation", tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    outputs.append(published.stdout + published.stderr)
    assert published.returncode == 0, published.stderr[-2000:]
    view = "views/level-2/gold_adoptions_par_pays_annee_age.csv"
    assert f"s3a://{BUCKET}/{view}" in published.stdout
    for n in (1, 2, 3, 4):
        assert can_read(as_role(access_lake, f"reader-level-{n}"), view) is (n <= 2)
    header = object_client(access_lake.admin).get_object(BUCKET, view).read().splitlines()[0]
    assert b"adoptions" in header.split(b",")
    keys = [read_credentials_file(credentials_file(access_lake.secrets, r)) for r in ROLES]
    keys.append((access_lake.admin.storage.access_key, access_lake.admin.storage.secret_key))
    values = [v for pair in keys for v in pair]

    texts: dict[str, str] = {f"output of job {i}": out for i, out in enumerate(outputs)}
    texts["minio log"] = access_lake.minio_log.read_text(errors="replace")
    lineage = sorted((tmp_path / "lineage").glob("*.jsonl"))
    assert lineage, "the run wrote no lineage events"
    texts |= {str(p): p.read_text(errors="replace") for p in lineage}
    for path in _repository_files():
        texts[str(path)] = path.read_text(errors="replace")
    leaks = [(where, v[:6] + "...") for where, text in texts.items() for v in values if v in text]
    assert leaks == []


def _repository_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")
    return [REPO / p for p in listed if p and (REPO / p).is_file()]


def test_a_layer_job_takes_its_role_only_when_nothing_explicit_says_otherwise(
    tmp_path: Path,
) -> None:
    from lake.access import job_settings

    (tmp_path / "lake.toml").write_text((REPO / "lake.toml").read_text())
    root = tmp_path / "var" / "minio" / "credentials.json"  # what `lake up` writes
    root.parent.mkdir(parents=True)
    root.write_text(json.dumps({"access_key": "root-admin", "secret_key": "r" * 40}))
    secrets = tmp_path / "var" / "secrets"
    for role in ("ingestion", "transformation", "pipeline"):
        path = credentials_file(secrets, role)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"access_key": f"lake-{role}-k", "secret_key": "s" * 40}))

    def keys(layers: list[str], env: dict[str, str] | None = None) -> tuple[str, str | None]:
        settings, role = job_settings(load_settings(tmp_path / "lake.toml", env=env or {}), layers)
        return settings.storage.access_key, role

    assert keys(["bronze"]) == ("lake-ingestion-k", "ingestion")
    assert keys(["silver"]) == ("lake-transformation-k", "transformation")
    assert keys(["silver", "gold"]) == ("lake-transformation-k", "transformation")
    # the whole chain needs both job roles: it takes their union, the pipeline role
    assert keys(["bronze", "silver", "gold"]) == ("lake-pipeline-k", "pipeline")
    assert keys(["bronze", "gold"]) == ("lake-pipeline-k", "pipeline")
    assert keys(["bronze", "unknown"]) == ("root-admin", None)
    # anything explicit wins
    explicit = {"LAKE__STORAGE__ACCESS_KEY": "me", "LAKE__STORAGE__SECRET_KEY": "m" * 40}
    assert keys(["bronze"], explicit) == ("me", None)
    assert keys(["bronze"], {"LAKE__STORAGE__ROLE": "transformation"}) == (
        "lake-transformation-k",
        None,
    )
    assert keys(["bronze"], {"LAKE__STORAGE__JOB_ROLES": "false"}) == ("root-admin", None)
    # before `lake access apply`: nothing to switch to
    credentials_file(secrets, "ingestion").unlink()
    assert keys(["bronze"]) == ("root-admin", None)
    credentials_file(secrets, "pipeline").unlink()
    assert keys(["bronze", "silver", "gold"]) == ("root-admin", None)
