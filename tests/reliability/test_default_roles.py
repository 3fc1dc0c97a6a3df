"""Least privilege by default: the demo's run writes no object as the MinIO root user.

A throw-away project (the repository's files, its own ``var/``) runs ``make demo``'s commands as
real processes: ``lake up`` (a fresh MinIO, which installs the roles), then the demo recipe's
``lake`` lines (``lake run`` restricted to one source to keep it short, so the line naming a
table of another source is left out); the commands after ``lake run`` only read. The
MinIO server sends its own audit log (one JSON record per request, with the access key that
signed it) to a webhook of this test: that record, kept by the server and not by the lake, is
the evidence. No object of the bucket may be written or deleted by the root user, and after
``lake access apply`` no request at all may be signed by it (the read-only commands take the
``steward`` role); the data tables of every layer must have been written, by the ``pipeline``
role's user only.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from conftest import REPO
from lake.processes import stop_pid
from lake.settings import read_credentials_file

pytestmark = [pytest.mark.minio, pytest.mark.reliability]
LAKE = str(Path(sys.executable).parent / "lake")
# S3 calls that create, replace or delete an object (MinIO's audit names).
WRITE_APIS = frozenset(
    {
        "PutObject",
        "PutObjectPart",
        "CopyObject",
        "CopyObjectPart",
        "NewMultipartUpload",
        "CompleteMultipartUpload",
        "AbortMultipartUpload",
        "DeleteObject",
        "DeleteMultipleObjects",
        "PutObjectRetention",
        "PutObjectTagging",
        "DeleteObjectTagging",
    }
)
DATA_LAYERS = ("landing/", "bronze/", "silver/", "gold/", "quarantine/", "meta/")


@dataclass
class AuditLog:
    """What MinIO's audit webhook received: one dict per S3 request."""

    records: list[dict] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, body: bytes) -> None:
        with self.lock:
            for line in body.decode("utf-8", errors="replace").splitlines():
                if line.strip():
                    self.records.append(json.loads(line))

    def writes(self) -> list[tuple[str, str, str]]:
        """``(access key, API, object key)`` of every successful object write or delete."""
        with self.lock:
            return [
                (r.get("accessKey", ""), r["api"]["name"], r["api"].get("object", ""))
                for r in self.records
                if r.get("api", {}).get("name") in WRITE_APIS
                and r["api"].get("statusCode", 0) < 300
            ]

    def requests_after(self, key: str) -> list[tuple[str, str, str]]:
        """``(access key, API, object)`` of every request received after the one on ``key``."""
        with self.lock:
            marks = [i for i, r in enumerate(self.records) if r.get("api", {}).get("object") == key]
            return [
                (r.get("accessKey", ""), r["api"]["name"], r["api"].get("object", ""))
                for r in self.records[marks[0] + 1 :]
                if "api" in r
            ]

    def saw_object(self, key: str) -> bool:
        with self.lock:
            return any(r.get("api", {}).get("object") == key for r in self.records)


@pytest.fixture
def audit_webhook() -> Iterator[tuple[str, AuditLog]]:
    log = AuditLog()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            log.add(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/audit", log
    finally:
        server.shutdown()


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    """The repository's files (linked) with a ``var/`` of its own; its MinIO stopped at the end."""
    home = tmp_path / "project"
    home.mkdir()
    for entry in REPO.iterdir():
        if entry.name in ("var", ".git", ".venv", "lake.toml", "spark-warehouse"):
            continue
        (home / entry.name).symlink_to(entry)
    shutil.copy(REPO / "lake.toml", home / "lake.toml")
    yield home
    for state in (home / "var/minio/server.json", home / "var/metastore/server.json"):
        if state.is_file():
            stop_pid(json.loads(state.read_text())["pid"])


def demo_commands() -> list[list[str]]:
    """The ``lake`` commands of ``make demo``'s recipe, in order."""
    recipe = REPO.joinpath("Makefile").read_text().split("\ndemo:", 1)[1].split("\n\n", 1)[0]
    commands = []
    for line in recipe.splitlines()[1:]:
        words = line.strip().lstrip("@").split()
        if words[:1] == ["$(LAKE)"]:
            commands.append(words[1:])
    assert ["run"] in commands, f"make demo runs no `lake run`: {recipe}"
    return commands


def _env(home: Path, webhook: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAKE", "MINIO"))}
    if "LAKE_CACHE_DIR" in os.environ:
        env["LAKE_CACHE_DIR"] = os.environ["LAKE_CACHE_DIR"]
    env.update(
        LAKE_HOME=str(home),
        LAKE__MINIO__PORT="0",
        LAKE__MINIO__CONSOLE_PORT="0",
        # read by the MinIO server `lake up` starts (it inherits the environment)
        MINIO_AUDIT_WEBHOOK_ENABLE_lakeaudit="on",
        MINIO_AUDIT_WEBHOOK_ENDPOINT_lakeaudit=webhook,
    )
    return env


@pytest.mark.slow
@pytest.mark.spark
def test_the_demo_run_writes_no_object_as_the_root_user(
    project: Path, audit_webhook: tuple[str, AuditLog]
) -> None:
    webhook, audit = audit_webhook
    env = _env(project, webhook)

    def lake(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [LAKE, *args], env=env, capture_output=True, text=True, timeout=timeout, cwd=project
        )
        assert done.returncode == 0, f"lake {' '.join(args)}: {done.stderr[-3000:]}"
        return done

    lake("up", timeout=180)
    # a fresh MinIO gets the roles at once (checked after the audit, the main evidence)
    secrets = project / "var" / "secrets"
    roles_after_up = sorted(p.name for p in secrets.glob("minio-*.json"))
    root_key, root_secret = read_credentials_file(project / "var/minio/credentials.json")
    from minio import Minio
    from minio.error import S3Error

    endpoint = json.loads((project / "var/minio/server.json").read_text())["endpoint"]
    client = Minio(endpoint.removeprefix("http://"), root_key, root_secret, secure=False)

    def mark() -> str:
        """A request of ours the audit log must show (it is sent asynchronously): a mark in it."""
        sentinel = f"audit-sentinel-{uuid.uuid4().hex}"
        with pytest.raises(S3Error):
            client.stat_object("lake", sentinel)
        deadline = time.monotonic() + 60
        while not audit.saw_object(sentinel) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert audit.saw_object(sentinel), "MinIO's audit log never reached the webhook"
        return sentinel

    commands = demo_commands()
    assert commands[0] == ["access", "apply"], commands  # the only admin step of the demo
    lake(*commands[0], timeout=300)
    after_admin = mark()
    for command in commands[1:]:
        if command == ["run"]:
            command = ["run", "--source", "adoptions"]  # one source: the same path, shorter
        elif command[:2] == ["lineage", "show"]:
            continue  # it names a table of another source
        lake(*command, timeout=1800)  # minutes on 2 busy cores

    last = mark()
    # root keys serve only `lake up` and `lake access apply`: after them, not one request
    # (read or write) is signed by the root user; every command took its role
    by_root_after = [
        (api, key)
        for user, api, key in audit.requests_after(after_admin)
        if user == root_key and key != last
    ]
    assert by_root_after == [], f"{len(by_root_after)} request(s) by root: {by_root_after[:10]}"

    writes = audit.writes()
    by_root = sorted({(api, key) for user, api, key in writes if user == root_key})
    assert by_root == [], f"{len(by_root)} object write(s) by the root user: {by_root[:10]}"
    assert "minio-pipeline.json" in roles_after_up, "lake up installed no roles"
    pipeline_key = read_credentials_file(secrets / "minio-pipeline.json")[0]
    data_writers = {user for user, _, key in writes if key.startswith(DATA_LAYERS)}
    assert data_writers == {pipeline_key}
    written = {key.split("/", 2)[0] for _, _, key in writes if key.startswith(DATA_LAYERS)}
    assert {"landing", "bronze", "silver", "gold", "meta"} <= written
    for layer in ("bronze", "silver", "gold"):  # the Delta commits themselves
        assert any(
            key.startswith(f"{layer}/") and "/_delta_log/" in key and key.endswith(".json")
            for _, _, key in writes
        ), f"no Delta commit audited under {layer}/"
