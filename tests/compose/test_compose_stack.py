"""The docker-compose demo, run for real on a Docker engine (issues 16, 19 and 20).

On a machine without an engine the module starts a private one (state in the user cache,
``lake.docker_engine``), builds the images (cached: a warm run builds nothing), writes an env
file like ``make compose-env`` with free host ports in a temporary directory and runs
``docker compose up`` under a unique project name. While the runner works, the same deliveries
are ingested locally (the session MinIO and SparkSession) with the same pseudonymisation key, but
only when a selected test compares with that local run (``-k`` on the other tests skips it).
Then, from the host: executors ran on both worker containers, silver and gold on the compose
MinIO equal the local run (delta-rs), every batch reconciles, tables are found by name in the
shared catalog from a container that did not write them (``lake sql``, ``spark.table``) with the
counts delta-rs reads on the host, ``lake status`` in a container reports the catalog, the web
application (``lake serve``) signs the first account in and shows quality pages whose figures
are the lake's, the dashboard, the study and the offline GX Data Docs, every gold table is
classified from the lineage stored in the lake, a redelivery run in a new container updates no
row, and ``docker compose down -v`` leaves nothing behind. Whatever the outcome, everything the
module started is stopped. It never skips: no engine means a failure that says why.

``LAKE_COMPOSE_PROJECT=<name> LAKE_COMPOSE_ENV_FILE=<.env>`` runs the tests against a project
already up (built and started by hand, e.g. while changing a test); the module then neither
builds nor starts it, and only the last test takes it down.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from conftest import REPO, base_settings, lake_env
from lake import docker_engine
from lake.errors import LakeError
from lake.layers import Layer
from lake.minio_server import COMPOSE_PORTS, write_compose_env
from lake.processes import free_port
from lake.settings import Settings

pytestmark = [pytest.mark.compose, pytest.mark.slow, pytest.mark.spark, pytest.mark.minio]

LAKE = str(Path(sys.executable).parent / "lake")
RUNNER_TIMEOUT_S = 2400
WORKERS = ("spark-worker-1", "spark-worker-2")
# columns that say when a row was handled, not what it holds: they differ between any two runs
VOLATILE = {"_ingested_at", "_quarantined_at", "_file_uri", "_delivered_at"}


@dataclass
class Stack:
    """A compose project on the engine: how to run ``docker compose`` for it, and its ports."""

    project: str
    env: dict[str, str]
    env_file: Path
    ports: dict[str, int]
    values: dict[str, str]
    timings: dict[str, float] = field(default_factory=dict)

    def compose(self, *args: str, timeout: float = 600, check: bool = True) -> str:
        docker = shutil.which("docker") or "docker"
        command = [docker, "compose", "-f", str(REPO / "docker-compose.yml")]
        command += ["--env-file", str(self.env_file), "-p", self.project, *args]
        result = subprocess.run(
            command, env=self.env, capture_output=True, text=True, timeout=timeout, check=False
        )
        if check and result.returncode != 0:
            pytest.fail(
                f"`docker compose {' '.join(args)}` exited {result.returncode}:\n"
                f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}",
                pytrace=False,
            )
        return result.stdout

    def docker(self, *args: str) -> str:
        docker = shutil.which("docker") or "docker"
        result = subprocess.run(
            [docker, *args], env=self.env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    def leftovers(self) -> dict[str, list[str]]:
        """Containers, networks and volumes still labelled with this project."""
        label = f"label=com.docker.compose.project={self.project}"
        listings = {
            "containers": ("ps", "-a", "--format", "{{.Names}}"),
            "networks": ("network", "ls", "--format", "{{.Name}}"),
            "volumes": ("volume", "ls", "--format", "{{.Name}}"),
        }
        return {
            kind: self.docker(*cmd, "--filter", label).split() for kind, cmd in listings.items()
        }

    def settings(self, tmp: Path) -> Settings:
        """Settings reaching the compose MinIO from the host, as its root user."""
        return base_settings(tmp).with_overrides(
            {
                "storage": {
                    "endpoint": f"http://127.0.0.1:{self.ports['LAKE_MINIO_PORT']}",
                    "access_key": self.values["LAKE_MINIO_ACCESS_KEY"],
                    "secret_key": self.values["LAKE_MINIO_SECRET_KEY"],
                    "bucket": "lake",
                },
                "security": {"pseudonymisation_key": self.values["LAKE_PSEUDONYMISATION_KEY"]},
            }
        )


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The compose project up (runner started, not waited for); downed and engine stopped after."""
    tmp = tmp_path_factory.mktemp("compose")
    started = time.monotonic()
    try:
        engine, env = docker_engine.prepare(base_settings(tmp), progress=print)
    except LakeError as exc:
        pytest.fail(f"No Docker engine for the compose test: {exc}", pytrace=False)
    reused = os.environ.get("LAKE_COMPOSE_PROJECT")
    if reused:  # a project brought up by hand: use it as it is
        env_file = Path(os.environ["LAKE_COMPOSE_ENV_FILE"])
        values = dict(
            line.split("=", 1) for line in env_file.read_text(encoding="utf-8").splitlines()
        )
        ports = {name: int(values[name]) for name in COMPOSE_PORTS if name in values}
        ports = {name: ports.get(name, default) for name, default in COMPOSE_PORTS.items()}
        try:
            yield Stack(reused, env, env_file, ports, values)
        finally:
            docker_engine.stop_engine(engine)
        return
    ports = {name: free_port() for name in ("LAKE_MINIO_PORT", "LAKE_MINIO_CONSOLE_PORT")}
    ports |= {name: free_port() for name in ("LAKE_SPARK_UI_PORT", "LAKE_REPORTS_PORT")}
    env_file = write_compose_env(tmp / ".env", tmp / "credentials.json", ports=ports)
    values = dict(line.split("=", 1) for line in env_file.read_text(encoding="utf-8").splitlines())
    stack = Stack(f"lake-e2e-{secrets.token_hex(4)}", env, env_file, ports, values)
    stack.timings["engine_and_base_s"] = time.monotonic() - started
    try:
        begin = time.monotonic()
        stack.compose("build", timeout=3600)
        stack.docker("image", "prune", "--force")  # earlier builds' images, now untagged
        stack.timings["build_s"] = time.monotonic() - begin
        begin = time.monotonic()
        stack.compose("up", "-d", timeout=900)
        stack.timings["up_s"] = time.monotonic() - begin
        yield stack
    finally:
        try:
            stack.compose("down", "-v", "--remove-orphans", timeout=300, check=False)
        finally:
            docker_engine.stop_engine(engine)
            print("compose timings:", {k: round(v, 1) for k, v in stack.timings.items()})


@pytest.fixture(scope="module")
def local_lake(spark, lake_settings, stack: Stack, tmp_path_factory) -> Settings:
    """The same deliveries ingested by the session Spark, with the compose stack's key.

    Requested after ``stack``: it runs while the compose runner works.
    """
    from app.compose import quality_gates
    from ingestion.pipeline import run
    from lake.storage import ensure_bucket

    settings = lake_settings.with_overrides(
        {
            "storage": {"bucket": "lake-compose-local"},
            "ingestion": {"inbox": str(REPO / "samples")},
            "security": {"pseudonymisation_key": stack.values["LAKE_PSEUDONYMISATION_KEY"]},
            "reports": {"dir": str(tmp_path_factory.mktemp("local-reports"))},
        }
    )
    ensure_bucket(settings)
    run(spark, settings, gates=quality_gates(settings))
    return settings


@pytest.fixture(scope="module")
def compose_lake(stack: Stack, request: pytest.FixtureRequest, tmp_path_factory) -> Settings:
    """The compose lake once its runner has finished (its logs in the failure otherwise).

    The local comparison run (``local_lake``) is started first, so that it works while the
    runner does, but only when a selected test needs it: a narrowed run (``-k``) pays for
    neither the session's Spark nor a second pipeline.
    """
    if any("local_lake" in item.fixturenames for item in request.session.items):
        request.getfixturevalue("local_lake")
    begin = time.monotonic()
    deadline = begin + RUNNER_TIMEOUT_S
    state: dict[str, Any] = {}
    while time.monotonic() < deadline:
        out = stack.compose("ps", "-a", "--format", "json", "lake")
        rows = [json.loads(line) for line in out.splitlines() if line.strip().startswith("{")]
        state = rows[0] if rows else {}
        if state.get("State") == "exited":
            break
        time.sleep(5)
    stack.timings["runner_after_local_s"] = time.monotonic() - begin
    logs = stack.compose("logs", "--no-color", "lake", check=False)
    if state.get("State") != "exited":
        pytest.fail(f"the runner did not finish in {RUNNER_TIMEOUT_S}s: {logs[-4000:]}")
    assert state.get("ExitCode") == 0, logs[-6000:]
    return stack.settings(tmp_path_factory.mktemp("compose-host"))


def test_the_application_ran_on_both_worker_containers(stack: Stack, compose_lake) -> None:
    port = stack.ports["LAKE_SPARK_UI_PORT"]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json", timeout=10) as resp:
        master = json.load(resp)
    alive = [w for w in master["workers"] if w["state"] == "ALIVE"]
    assert len(alive) == 2, master["workers"]
    assert {w["cores"] for w in alive} == {1}
    assert [a["name"] for a in master["completedapps"]], master
    for worker in WORKERS:
        logs = stack.compose("logs", "--no-color", worker)
        assert "Asked to launch executor app-" in logs, logs[-2000:]
        # the executor's own log on that container: it ran tasks, in the image's Python
        stderr = stack.compose(
            "exec", "-T", worker, "sh", "-c", "cat /tmp/spark-work/app-*/*/stderr", check=False
        )
        assert "Finished task" in stderr, f"{worker}: no task finished\n{stderr[-3000:]}"


def _tables(settings: Settings, layer: Layer) -> list[str]:
    from lake.storage import object_client

    client = object_client(settings)
    names = [
        o.object_name.rstrip("/").rsplit("/", 1)[-1]
        for o in client.list_objects(settings.storage.bucket, prefix=f"{layer}/")
        if o.is_dir
    ]
    return sorted(names)


def _rows(settings: Settings, layer: Layer, name: str) -> list[tuple]:
    from lake.delta_reader import open_table
    from lake.storage import table_uri

    data = open_table(settings, table_uri(settings, layer, name)).to_pyarrow_table()
    keep = [c for c in data.column_names if c not in VOLATILE]
    rows = data.select(keep).to_pylist()
    return sorted((tuple(sorted(r.items())) for r in rows), key=repr)


@pytest.mark.parametrize("layer", ["silver", "gold"])
def test_tables_equal_a_local_run_of_the_same_deliveries(compose_lake, local_lake, layer) -> None:
    names = _tables(compose_lake, layer)
    assert names and names == _tables(local_lake, layer)
    for name in names:
        compose_rows = _rows(compose_lake, layer, name)
        local_rows = _rows(local_lake, layer, name)
        assert compose_rows, f"{layer}/{name} is empty"
        assert compose_rows == local_rows, f"{layer}/{name} differs from the local run"


def _reconciles(row: dict[str, Any]) -> bool:
    if row["layer"] == "bronze":
        return bool(row["lines_read"] == row["rows_out"] + row["quarantined"])
    if row["layer"] == "silver":
        return bool(
            row["rows_in"] == row["rows_out"] + row["quarantined"] + row["duplicates_resolved"]
        )
    return True


def test_every_batch_reconciles_in_the_run_log(compose_lake) -> None:
    from ingestion.runlog import read_runs

    rows = read_runs(compose_lake, limit=None)
    assert {r["layer"] for r in rows} == {"bronze", "silver", "gold"}
    assert len({r["source"] for r in rows if r["layer"] == "silver"}) == 7
    for row in rows:
        assert row["status"] == "succeeded", row
        assert _reconciles(row), row


class WebClient:
    """A browser's part of talking to ``lake serve``: a cookie jar, the forms' CSRF token."""

    def __init__(self, stack: Stack) -> None:
        self.base = f"http://127.0.0.1:{stack.ports['LAKE_REPORTS_PORT']}"
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path: str) -> tuple[int, str, str]:
        """``(status, final address, body)``; redirects followed, errors returned."""
        try:
            with self.opener.open(self.base + path, timeout=60) as resp:
                return resp.status, resp.url, resp.read().decode("utf-8", errors="replace")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.url, exc.read().decode("utf-8", errors="replace")

    def page(self, path: str) -> str:
        status, url, body = self.get(path)
        assert status == 200, f"{path}: {status} at {url}\n{body[:1500]}"
        return body

    def sign_in(self, login: str, password: str) -> tuple[int, str, str]:
        _, _, form = self.get("/connexion")
        token = re.search(r'name="csrf" value="([^"]+)"', form)
        assert token, form[:2000]
        data = urlencode(
            {"login": login, "password": password, "csrf": unescape(token[1]), "next": "/"}
        ).encode()
        try:
            with self.opener.open(self.base + "/connexion", data=data, timeout=60) as resp:
                return resp.status, resp.url, resp.read().decode("utf-8", errors="replace")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.url, exc.read().decode("utf-8", errors="replace")


def _wait_for_serve(stack: Stack, timeout_s: float = 300) -> WebClient:
    web = WebClient(stack)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            web.get("/connexion")
            return web
        except OSError:
            if time.monotonic() > deadline:
                logs = stack.compose("logs", "--no-color", "serve", check=False)
                pytest.fail(f"lake serve did not answer in {timeout_s:.0f}s: {logs[-3000:]}")
            time.sleep(2)


def test_serve_signs_in_the_first_account_and_shows_the_lake_reports(
    stack: Stack, compose_lake
) -> None:
    from lake.pages.french import format_count_fr
    from quality import history
    from quality.scoring import group_reviews

    web = _wait_for_serve(stack)
    # nothing without an account: the pages send to the sign-in, a wrong password is refused
    status, url, _ = web.get("/qualite/")
    assert (status, url.split("?")[0]) == (200, web.base + "/connexion")
    assert web.sign_in("admin", "not-the-password")[0] == 401
    # the account made at the first start from .env (LAKE_SERVE_ADMIN_PASSWORD)
    status, url, home = web.sign_in("admin", stack.values["LAKE_SERVE_ADMIN_PASSWORD"])
    assert (status, url) == (200, web.base + "/"), home[:2000]

    quality_index = web.page("/qualite/")
    pages = re.findall(r'href="(/qualite/[\w-]+)"', quality_index)
    assert pages, quality_index[:2000]
    reviews = group_reviews(history.read(compose_lake))
    assert reviews
    checked = 0
    for page in dict.fromkeys(pages):
        html = unescape(web.page(page))
        domain = [r for r in reviews if r.domain in html]
        if not domain:
            continue
        latest = max(domain, key=lambda r: r.reviewed_at)
        for figure in (
            format_count_fr(latest.rows_reviewed, "ligne examinée", "lignes examinées"),
            format_count_fr(latest.rows_rejected, "ligne écartée", "lignes écartées"),
        ):
            assert figure in html, f"{page}: {figure!r} not shown"
        checked += 1
    assert checked, "no quality page names a reviewed domain"
    for path in ("/tableau-de-bord", "/etude", "/cloud", "/catalogue"):
        assert "<html" in web.page(path), path
    # the GX Data Docs the runner wrote, offline: their scripts come from this server, fetched
    # into the image at build time (no container reaches npm)
    docs = web.page("/gx/index.html")
    assert "code.jquery.com" not in docs and "unpkg.com" not in docs
    scripts = re.findall(r'<script[^>]+src="([^"]+)"', docs)
    vendored = [s for s in scripts if "static/vendor/jquery@" in s]
    assert vendored, scripts
    assert "jQuery" in web.page("/gx/" + vendored[0].lstrip("./"))

    # a restart loses nothing: the account is in the lake (not reset), the session key in .env
    stack.compose("restart", "serve", timeout=300)
    _wait_for_serve(stack)
    assert "Revues de qualité" in web.page("/qualite/")  # the same cookie, still valid
    assert "account admin: exists, unchanged" in stack.compose("logs", "--no-color", "serve")


def _in_runner(stack: Stack, commands: dict[str, str], timeout: float = 900) -> dict[str, str]:
    """Each command (sh) in one new container of the runner's service, under its role; the
    standard output of each, by name."""
    script = "; ".join(f"echo '@@{name}'; {command}" for name, command in commands.items())
    out = stack.compose(
        "run",
        "--rm",
        "-T",
        "--no-deps",
        "-e",
        "LAKE__SPARK__MASTER=local[2]",  # the driver's own catalog client is what is checked
        "lake",
        script,
        timeout=timeout,
    )
    parts = re.split(r"^@@(\w+)$", out, flags=re.MULTILINE)
    return {name: text.strip() for name, text in zip(parts[1::2], parts[2::2], strict=True)}


def test_tables_are_found_by_name_in_another_container(stack: Stack, compose_lake) -> None:
    from lake.delta_reader import open_table
    from lake.storage import table_uri

    def rows(layer: Layer, name: str) -> int:
        return int(
            open_table(compose_lake, table_uri(compose_lake, layer, name))
            .to_pyarrow_table()
            .num_rows
        )

    silver, gold = rows("silver", "consular_register"), rows("gold", "inscrits_par_pays_poste")
    out = _in_runner(
        stack,
        {
            "silver": "lake sql --json 'SELECT count(*) AS n FROM silver.consular_register'",
            "gold": "lake sql --json 'SELECT count(*) AS n FROM gold.inscrits_par_pays_poste'",
            "table": "python -c 'from lake.settings import load_settings; "
            "from lake.spark import build_session; spark = build_session(load_settings()); "
            'print(spark.table("silver.consular_register").count())\'',
            "status": "lake status --json",
        },
    )
    # by name, from a container that wrote nothing, the counts delta-rs reads on the host
    assert json.loads(out["silver"])["rows"] == [{"n": silver}], out
    assert json.loads(out["gold"])["rows"] == [{"n": gold}], out
    assert out["table"].splitlines()[-1] == str(silver), out
    # `lake status` there reports the shared catalog, its tables, and never its password
    catalog = json.loads(out["status"])["catalog"]
    assert catalog["url"] == "jdbc:postgresql://metastore-db:5432/metastore"
    assert catalog["reachable"] is True
    for layer in ("bronze", "silver", "gold"):
        assert catalog["databases"][layer] == len(_tables(compose_lake, layer)), catalog
    assert catalog["tables"] == sum(catalog["databases"].values())
    assert stack.values["LAKE_METASTORE_DB_PASSWORD"] not in json.dumps(out)


def test_every_gold_table_is_classified_from_the_lake_lineage(compose_lake) -> None:
    # from the host, which never held the runner's files: lineage must come from the lake
    result = subprocess.run(
        [LAKE, "catalog", "--json"],
        env=lake_env(compose_lake),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    tables = json.loads(result.stdout)["tables"]
    gold = [t for t in tables if t["layer"] == "gold"]
    assert gold
    unclassified = [t["name"] for t in gold if t["level"] is None]
    assert not unclassified, f"gold tables without an exposure level: {unclassified}"


def test_a_redelivery_in_a_new_container_updates_no_row(
    stack: Stack, compose_lake, tmp_path: Path
) -> None:
    from ingestion.runlog import read_runs

    # the latest consular delivery again, its bytes changed (no BOM) but not one value: a new
    # batch whose pseudonymised rows must match, which needs the same key in every container
    source = REPO / "samples" / "consular_register" / "delivery-2"
    delivered = next(source.glob("*.csv"))
    inbox = tmp_path / "redelivery" / "consular_register"
    inbox.mkdir(parents=True)
    data = delivered.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    (inbox / delivered.name).write_bytes(data[3:])
    before = {r["batch_id"] for r in read_runs(compose_lake, limit=None)}

    stack.compose(
        "run",
        "--rm",
        "-v",
        f"{tmp_path / 'redelivery'}:/redelivery:ro",
        "-e",
        "LAKE__INGESTION__INBOX=/redelivery",
        "lake",
        timeout=RUNNER_TIMEOUT_S,
    )
    new = [r for r in read_runs(compose_lake, limit=None) if r["batch_id"] not in before]
    silver = [r for r in new if r["layer"] == "silver"]
    assert len(silver) == 1, new
    assert silver[0]["rows_in"] > 0
    assert (silver[0]["inserted"], silver[0]["updated"]) == (0, 0), silver[0]


def test_down_leaves_no_container_network_or_volume(stack: Stack, compose_lake) -> None:
    assert stack.leftovers()["containers"], "the project had no container to remove"
    stack.compose("down", "-v", "--remove-orphans", timeout=300)
    assert stack.leftovers() == {"containers": [], "networks": [], "volumes": []}
