"""docker-compose.yml, the Dockerfiles and `make compose-env` agree with lake.toml (static checks).

The stack itself runs in tests/compose/test_compose_stack.py on a real engine; these checks are
fast and catch a drift between the compose file, the images and the settings first.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

from lake.minio_server import COMPOSE_PORTS, write_compose_env
from lake.settings import load_settings
from lake.toolchain import compose_binary

REPO = Path(__file__).resolve().parents[1]
LAKE_IMAGE_SERVICES = (
    "minio-init",
    "spark-master",
    "spark-worker-1",
    "spark-worker-2",
    "serve",
    "lake",
)
# the containers that run a Spark driver or read the lake: they get the catalog's login
CATALOG_CLIENTS = ("lake", "serve")
ROOT_KEYS = ("LAKE__STORAGE__ACCESS_KEY", "LAKE__STORAGE__SECRET_KEY")
SPARK_CLASS = "/opt/venv/lib/python3.11/site-packages/pyspark/bin/spark-class"
_VARIABLE = re.compile(r"\$\{(\w+)(?::?([-?])([^}]*))?\}")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def settings():
    return load_settings(REPO / "lake.toml", env={})


def _defaults(value: str, required: str = "x") -> str:
    """``value`` with each ``${VAR:-default}`` as its default, ``${VAR:?..}`` as ``required``."""
    return _VARIABLE.sub(lambda m: m.group(3) if m.group(2) == "-" else required, value)


def _lake_env(compose: dict, service: str = "lake") -> dict[str, str]:
    env = compose["services"][service]["environment"]
    return {k: str(v) for k, v in env.items()}


def test_services(compose: dict) -> None:
    services = compose["services"]
    assert set(services) >= {
        "minio",
        "minio-init",
        "metastore-db",
        "spark-master",
        "spark-worker-1",
        "spark-worker-2",
        "lake",
        "serve",
        "marquez",
        "marquez-db",
        "marquez-web",
    }
    # `lake serve` replaced the static file server (issue 20)
    assert "reports" not in services
    assert not any("nginx" in json.dumps(s) for s in services.values())
    # the runner spark-submits to the cluster, then builds the reports
    runner = services["lake"]
    assert runner["command"] == [
        "lake submit --master spark://spark-master:7077 pipeline && lake reports"
    ]
    assert "reports:/reports" in runner["volumes"]


def test_root_keys_serve_only_minio_init_and_every_other_container_runs_under_its_role(
    compose: dict,
) -> None:
    # least privilege (decision 0008): the root keys make the bucket and the roles, whose keys
    # go to the lake-secrets volume; the runner and the web application read theirs from it
    init = compose["services"]["minio-init"]
    assert init["command"] == ["lake init && lake access apply"]
    assert "lake-secrets:/opt/lake/var/secrets" in init["volumes"]
    for key in ROOT_KEYS:
        assert _lake_env(compose, "minio-init")[key].startswith("${LAKE_MINIO_")
    for name, service in compose["services"].items():
        if name != "minio-init":
            assert not set(ROOT_KEYS) & set(service.get("environment") or {}), name
    roles = {name: _lake_env(compose, name)["LAKE__STORAGE__ROLE"] for name in CATALOG_CLIENTS}
    assert roles == {"lake": "pipeline", "serve": "web"}
    for name in CATALOG_CLIENTS:
        assert "lake-secrets:/opt/lake/var/secrets:ro" in compose["services"][name]["volumes"]
        depends = compose["services"][name]["depends_on"]
        assert depends["minio-init"]["condition"] == "service_completed_successfully"


def test_the_web_role_reads_like_the_steward_and_writes_only_its_two_meta_tables() -> None:
    from lake.access import load_roles

    roles = load_roles(REPO / "policy" / "minio-roles.yaml")
    assert roles["web"].read == roles["steward"].read
    assert roles["web"].write == ("meta/review_decisions/", "meta/web_accounts/")


def test_the_catalog_database_is_postgresql_with_a_volume_and_a_healthcheck(
    compose: dict, settings
) -> None:
    db = compose["services"]["metastore-db"]
    assert db["build"]["dockerfile"] == "docker/metastore-db.Dockerfile"
    assert "metastore-db:/var/lib/postgresql/data" in db["volumes"]
    assert "metastore-db" in compose["volumes"]
    assert db["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    assert "ports" not in db  # reached by the containers only, never published on the host
    assert db["environment"]["METASTORE_DB_PASSWORD"] == (
        "${LAKE_METASTORE_DB_PASSWORD:?run `make compose-env` first}"
    )
    assert db["environment"]["METASTORE_DB_NAME"] == settings.catalog.database
    dockerfile = (REPO / "docker" / "metastore-db.Dockerfile").read_text()
    assert "apt-get install -y --no-install-recommends postgresql" in dockerfile
    assert "USER postgres" in dockerfile
    script = (REPO / "docker" / "metastore-db.sh").read_text()
    assert "--auth=scram-sha-256" in script and "trust" not in script.replace("never trust", "")


def test_every_spark_driver_gets_the_catalog_and_the_cluster_does_not_need_it(
    compose: dict,
) -> None:
    for name in CATALOG_CLIENTS:
        env = _lake_env(compose, name)
        assert env["LAKE__CATALOG__URL"] == "jdbc:postgresql://metastore-db:5432/metastore"
        assert (
            env["LAKE__CATALOG__USER"]
            == compose["services"]["metastore-db"]["environment"]["METASTORE_DB_USER"]
        )
        assert env["LAKE__CATALOG__PASSWORD"] == (
            "${LAKE_METASTORE_DB_PASSWORD:?run `make compose-env` first}"
        )
        assert env["LAKE__CATALOG__WAREHOUSE"].startswith("/opt/lake/var/")
        depends = compose["services"][name]["depends_on"]
        assert depends["metastore-db"]["condition"] == "service_healthy"
    for name in ("spark-master", "spark-worker-1", "spark-worker-2"):
        env = compose["services"][name].get("environment") or {}
        assert not [k for k in env if k.startswith("LAKE__CATALOG__")], name


def test_lake_serve_replaces_the_file_server(compose: dict) -> None:
    serve = compose["services"]["serve"]
    command = serve["command"][0]
    assert command.rstrip().endswith("exec lake serve --host 0.0.0.0 --port 8088")
    # the first account, from .env, made once: a password its owner changed is never reset
    assert "lake users add admin --level 1" in command
    assert "--password-stdin --if-absent" in command and "$$LAKE_SERVE_ADMIN_PASSWORD" in command
    assert serve["ports"] == ["127.0.0.1:${LAKE_REPORTS_PORT:-8088}:8088"]
    env = _lake_env(compose, "serve")
    assert env["LAKE_SERVE_SECRET"] == "${LAKE_SERVE_SECRET:?run `make compose-env` first}"
    assert env["LAKE_SERVE_ADMIN_PASSWORD"].startswith("${LAKE_SERVE_ADMIN_PASSWORD:?")
    assert env["LAKE__REPORTS__DIR"] == "/reports"
    # it reads the GX Data Docs the runner writes, and writes nothing there
    assert "reports:/reports:ro" in serve["volumes"]
    assert not (REPO / "docker" / "reports.Dockerfile").exists()
    assert not (REPO / "docker" / "reports-nginx.conf").exists()


def test_one_lake_image_serves_runner_master_and_both_workers(compose: dict) -> None:
    services = compose["services"]
    images = {services[name]["image"] for name in LAKE_IMAGE_SERVICES}
    assert images == {"meae-datalake/lake:${LAKE_IMAGE_TAG:-local}"}
    assert services["lake"]["build"]["dockerfile"] == "docker/lake.Dockerfile"
    # the image exists in no registry: built once by `lake`, never pulled by the others
    for name in LAKE_IMAGE_SERVICES[:-1]:
        assert "build" not in services[name] and services[name]["pull_policy"] == "never"
    assert services["spark-master"]["entrypoint"] == [SPARK_CLASS]
    for name in ("spark-worker-1", "spark-worker-2"):
        worker = services[name]
        assert worker["entrypoint"] == [SPARK_CLASS]
        assert worker["command"] == [
            "org.apache.spark.deploy.worker.Worker",
            "spark://spark-master:7077",
        ]
        # two workers fit on 2 cores: 1 core and 1 GB each
        assert worker["environment"]["SPARK_WORKER_CORES"] == "1"
        assert worker["environment"]["SPARK_WORKER_MEMORY"] == "1g"


def test_every_dockerfile_starts_from_debian_bookworm_slim() -> None:
    dockerfiles = sorted((REPO / "docker").glob("*.Dockerfile"))
    assert {d.name for d in dockerfiles} == {
        "lake.Dockerfile",
        "minio.Dockerfile",
        "metastore-db.Dockerfile",
    }
    for dockerfile in dockerfiles:
        froms = re.findall(r"^FROM\s+(\S+)", dockerfile.read_text(), flags=re.MULTILINE)
        # the last stage is the image; earlier ones only copy the cached artifacts in
        assert froms[-1] == "debian:bookworm-slim", dockerfile.name
        assert set(froms) <= {"debian:bookworm-slim", "${ARTIFACTS}"}, dockerfile.name


def test_lake_image_has_debian_python_java_the_constraints_and_reference() -> None:
    text = (REPO / "docker" / "lake.Dockerfile").read_text()
    assert "openjdk-17-jre-headless" in text and "python3-venv" in text
    assert "-c constraints.txt" in text
    assert "COPY reference ./reference" in text
    assert "COPY --from=artifacts /artifacts/jars /opt/lake/jars" in text
    assert "LAKE__SPARK__JARS_DIR=/opt/lake/jars" in text
    # the GX Data Docs assets are fetched at build time (npm, integrity-checked), never at run
    assert "from quality.data_docs_offline import ensure_assets" in text
    assert "ENV LAKE_CACHE_DIR=/opt/lake/cache" in text
    assert text.index("ensure_assets") < text.index("COPY app ./app")  # not with every code edit


def test_build_context_leaves_out_state_and_history() -> None:
    ignored = (REPO / ".dockerignore").read_text().split()
    assert {".git", ".venv", "var", "spark-warehouse", ".env"} <= set(ignored)


def test_minio_ports_healthcheck_and_version_match_settings(compose: dict, settings) -> None:
    minio = compose["services"]["minio"]
    ports = [_defaults(p) for p in minio["ports"]]
    assert f"127.0.0.1:{settings.minio.port}:9000" in ports
    assert f"127.0.0.1:{settings.minio.console_port}:9001" in ports
    assert "/minio/health/live" in " ".join(minio["healthcheck"]["test"])
    assert minio["build"]["args"]["MINIO_VERSION"] == settings.minio.version


def test_host_ports_are_variables_with_the_documented_defaults(compose: dict) -> None:
    published = [p for s in compose["services"].values() for p in s.get("ports", [])]
    assert published
    for port in published:
        name, default = re.match(r"127\.0\.0\.1:\$\{(\w+):-(\d+)\}:\d+$", port).groups()  # type: ignore[union-attr]
        assert COMPOSE_PORTS[name] == int(default), port


def test_bucket_is_created_before_jobs_run(compose: dict, settings) -> None:
    init = compose["services"]["minio-init"]
    assert init["command"][0].startswith("lake init && ")
    assert init["depends_on"]["minio"]["condition"] == "service_healthy"
    lake = compose["services"]["lake"]
    assert lake["depends_on"]["minio-init"]["condition"] == "service_completed_successfully"
    assert _lake_env(compose)["LAKE__STORAGE__BUCKET"] == settings.storage.bucket


def test_lake_environment_is_valid_settings(compose: dict) -> None:
    env = {k: _defaults(v, required="ab" * 16) for k, v in _lake_env(compose).items()}
    loaded = load_settings(REPO / "lake.toml", env=env)  # raises on any unknown key or type
    assert loaded.endpoint == "http://minio:9000"
    assert loaded.catalog.url == "jdbc:postgresql://metastore-db:5432/metastore"
    assert loaded.catalog.password == "ab" * 16
    assert loaded.spark.master == "spark://spark-master:7077"
    # without the lineage-ui profile the lake keeps its own durable transport, not Marquez
    assert loaded.lineage.transport == "file"


def test_every_lake_container_gets_the_same_pseudonymisation_key(compose: dict) -> None:
    for name in ("minio-init", "lake", "serve"):
        key = _lake_env(compose, name)["LAKE__SECURITY__PSEUDONYMISATION_KEY"]
        assert key == "${LAKE_PSEUDONYMISATION_KEY:?run `make compose-env` first}"


def test_marquez_is_an_optional_profile_nothing_depends_on(compose: dict) -> None:
    services = compose["services"]
    marquez = {"marquez", "marquez-db", "marquez-web"}
    for name in marquez:
        assert services[name]["profiles"] == ["lineage-ui"]
    for name, service in services.items():
        if name not in marquez:
            assert not marquez & set(service.get("depends_on", {})), name


def test_no_credential_is_written_in_the_file(compose: dict) -> None:
    minio_env = compose["services"]["minio"]["environment"]
    for key in ("MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD"):
        assert minio_env[key].startswith("${") and ":?" in minio_env[key]
    for key in ROOT_KEYS:
        assert _lake_env(compose, "minio-init")[key].startswith("${")
    for name, service in compose["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if re.search(r"PASSWORD|SECRET|_KEY$", key):
                assert str(value).startswith("${") and ":?" in str(value), (name, key)


def test_compose_env_keeps_its_key_and_takes_ports(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    write_compose_env(env, tmp_path / "credentials.json", ports={"LAKE_REPORTS_PORT": 18088})
    first = dict(line.split("=", 1) for line in env.read_text().splitlines())
    assert stat.S_IMODE(os.stat(env).st_mode) == 0o600
    assert len(bytes.fromhex(first["LAKE_PSEUDONYMISATION_KEY"])) == 32
    assert len(bytes.fromhex(first["LAKE_SERVE_SECRET"])) == 32  # lake serve wants >= 32 hex
    assert len(first["LAKE_METASTORE_DB_PASSWORD"]) >= 24
    assert len(first["LAKE_SERVE_ADMIN_PASSWORD"]) >= 20
    assert first["LAKE_REPORTS_PORT"] == "18088"
    assert "LAKE_MINIO_PORT" not in first  # the compose file's default
    write_compose_env(env, tmp_path / "credentials.json")
    second = dict(line.split("=", 1) for line in env.read_text().splitlines())
    # rewritten, nothing regenerated: a new key would give everybody new pseudonyms, a new
    # database password would lock the lake out of the catalog's volume
    assert second == first


def _compose_command() -> list[str]:
    """`docker compose` if the client has the plugin, else the binary `make compose-cli` built."""
    docker = shutil.which("docker")
    if docker:
        probe = subprocess.run([docker, "compose", "version"], capture_output=True, text=True)
        if probe.returncode == 0:
            return [docker, "compose"]
    built = compose_binary()
    if not built.is_file():
        pytest.fail("no docker compose here: run `make compose-cli` to build one", pytrace=False)
    return [str(built)]


def _config(env_file: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            *_compose_command(),
            "--env-file",
            str(env_file),
            "-f",
            str(REPO / "docker-compose.yml"),
            *args,
            "config",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
    )


def test_docker_compose_config_accepts_the_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "LAKE_MINIO_ACCESS_KEY=a-user\nLAKE_MINIO_SECRET_KEY=a-secret-value\n"
        f"LAKE_MARQUEZ_DB_PASSWORD=a-db-password\nLAKE_PSEUDONYMISATION_KEY={'ab' * 32}\n"
        f"LAKE_METASTORE_DB_PASSWORD=a-catalog-password\nLAKE_SERVE_SECRET={'cd' * 32}\n"
        "LAKE_SERVE_ADMIN_PASSWORD=an-admin-password\nLAKE_REPORTS_PORT=18088\n"
    )
    result = _config(env_file)
    assert result.returncode == 0, result.stderr
    resolved = json.loads(result.stdout)
    # Marquez is off by default
    assert not {"marquez", "marquez-db", "marquez-web"} & set(resolved["services"])
    # the credentials reach both MinIO and the lake driver, interpolated from the env file only
    assert resolved["services"]["minio"]["environment"]["MINIO_ROOT_PASSWORD"] == "a-secret-value"
    init_env = resolved["services"]["minio-init"]["environment"]
    assert init_env["LAKE__STORAGE__SECRET_KEY"] == "a-secret-value"
    lake_env = resolved["services"]["lake"]["environment"]
    assert "LAKE__STORAGE__SECRET_KEY" not in lake_env
    assert lake_env["LAKE__SECURITY__PSEUDONYMISATION_KEY"] == "ab" * 32
    assert lake_env["LAKE__LINEAGE__TRANSPORT"] == "file"
    # the catalog's password reaches its database and every driver, from the env file only
    db_env = resolved["services"]["metastore-db"]["environment"]
    assert db_env["METASTORE_DB_PASSWORD"] == "a-catalog-password"
    for name in ("lake", "serve"):
        env = resolved["services"][name]["environment"]
        assert env["LAKE__CATALOG__PASSWORD"] == "a-catalog-password"
    assert resolved["services"]["serve"]["environment"]["LAKE_SERVE_SECRET"] == "cd" * 32
    # a port from the env file, the documented default otherwise
    published = {p["target"]: p["published"] for p in resolved["services"]["serve"]["ports"]}
    assert published == {8088: "18088"}
    published = {p["target"]: p["published"] for p in resolved["services"]["minio"]["ports"]}
    assert published == {9000: "9000", 9001: "9001"}

    with_ui = _config(env_file, "--profile", "lineage-ui")
    assert with_ui.returncode == 0, with_ui.stderr
    services = json.loads(with_ui.stdout)["services"]
    assert services["marquez"]["environment"]["POSTGRES_PASSWORD"] == "a-db-password"
    assert services["marquez-db"]["environment"]["POSTGRES_PASSWORD"] == "a-db-password"


def test_docker_compose_refuses_to_start_without_credentials(tmp_path: Path) -> None:
    empty = tmp_path / ".env"
    empty.write_text("")
    result = _config(empty)
    assert result.returncode != 0
    assert "run `make compose-env` first" in result.stderr
