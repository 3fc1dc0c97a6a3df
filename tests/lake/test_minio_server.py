"""`lake up` / `status` / `down` run a real MinIO process; failures are clear LakeErrors."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, base_settings, start_test_minio
from lake.errors import ServerError, StorageError
from lake.minio_server import ensure_credentials, start
from lake.processes import stop_pid
from lake.storage import check_storage, object_client

pytestmark = pytest.mark.minio
LAKE = str(Path(sys.executable).parent / "lake")


def run_lake(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKE")}
    env.update(LAKE_HOME=str(project), LAKE__MINIO__PORT="0", LAKE__MINIO__CONSOLE_PORT="0")
    if "LAKE_CACHE_DIR" in os.environ:
        env["LAKE_CACHE_DIR"] = os.environ["LAKE_CACHE_DIR"]
    return subprocess.run(
        [LAKE, *args], env=env, capture_output=True, text=True, timeout=120, cwd=project
    )


@pytest.fixture
def project(tmp_path: Path):
    """A throw-away project directory holding the repository's lake.toml."""
    shutil.copy(REPO / "lake.toml", tmp_path / "lake.toml")
    yield tmp_path
    for state in (tmp_path / "var/minio/server.json", tmp_path / "var/metastore/server.json"):
        if state.is_file():  # the test failed half-way: never leave a server behind
            stop_pid(json.loads(state.read_text())["pid"])


def test_up_status_down_lifecycle(project: Path) -> None:
    up = run_lake(project, "up", "--json")
    assert up.returncode == 0, up.stderr
    state = json.loads(up.stdout)
    assert state["endpoint"].startswith("http://127.0.0.1:")

    creds_file = project / "var/minio/credentials.json"
    assert stat.S_IMODE(creds_file.stat().st_mode) == 0o600
    creds = json.loads(creds_file.read_text())
    # generated per project, never a well-known default
    assert creds["access_key"].startswith("lake-") and len(creds["secret_key"]) >= 32

    status = run_lake(project, "status", "--json")
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    assert report["running"] is True and report["pid"] == state["pid"]
    assert report["endpoint"] == state["endpoint"]
    assert report["bucket"] == "lake"
    assert report["credentials_file"] == str(creds_file)
    assert report["lineage"]["events"] == str(project / "var/lineage/events.jsonl")
    assert report["reports_dir"] == str(project / "var/reports")

    # the bucket exists, reachable with the generated credentials
    settings = base_settings(project).with_overrides(
        {"storage": {"endpoint": state["endpoint"], **creds}}
    )
    assert object_client(settings).bucket_exists("lake")

    again = run_lake(project, "up", "--json")  # idempotent: same server
    assert json.loads(again.stdout)["pid"] == state["pid"]

    down = run_lake(project, "down")
    assert down.returncode == 0 and f"pid {state['pid']}" in down.stdout
    stopped = run_lake(project, "status", "--json")
    assert stopped.returncode == 3
    assert json.loads(stopped.stdout)["running"] is False


def test_credentials_are_generated_once_and_private(tmp_path: Path) -> None:
    path = tmp_path / "creds.json"
    first = ensure_credentials(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ensure_credentials(path) == first
    assert ensure_credentials(tmp_path / "other.json") != first


def test_port_in_use_is_a_clear_error(minio, tmp_path: Path) -> None:
    port = int(minio.state.endpoint.rsplit(":", 1)[1])
    binary = Path(shutil.which("true") or "/bin/true")  # never started: the port check comes first
    with pytest.raises(ServerError) as err:
        start(
            binary,
            data_dir=tmp_path,
            host="127.0.0.1",
            port=port,
            console_port=0,
            access_key="a",
            secret_key="b",
            log_file=tmp_path / "log",
        )
    assert err.value.message == (
        f"Port 127.0.0.1:{port} is already in use, so MinIO cannot listen there."
    )
    assert "LAKE__MINIO__PORT=0" in (err.value.fix or "")


def test_missing_binary_says_how_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(ServerError) as err:
        start(
            tmp_path / "minio",
            data_dir=tmp_path,
            host="127.0.0.1",
            port=0,
            console_port=0,
            access_key="a",
            secret_key="b",
            log_file=tmp_path / "log",
        )
    assert err.value.fix == "run `make minio` (builds it once)"


def test_wrong_credentials_name_the_endpoint_and_the_fix(lake_settings) -> None:
    wrong = lake_settings.with_overrides({"storage": {"secret_key": "not-the-secret-123"}})
    with pytest.raises(StorageError) as err:
        check_storage(wrong)
    assert err.value.endpoint == lake_settings.endpoint
    # MinIO answers a HEAD with a bare 403, which the client reports as AccessDenied.
    assert err.value.message == (
        f"The object store at {lake_settings.endpoint} refused the lake's credentials "
        "(AccessDenied)."
    )
    assert "LAKE__STORAGE__SECRET_KEY" in (err.value.fix or "")


def test_stopped_server_names_the_endpoint_and_the_fix(tmp_path: Path) -> None:
    server = start_test_minio(tmp_path)
    settings = base_settings(tmp_path).with_overrides(
        {
            "storage": {
                "endpoint": server.state.endpoint,
                "access_key": server.access_key,
                "secret_key": server.secret_key,
            }
        }
    )
    stop_pid(server.state.pid)
    with pytest.raises(StorageError) as err:
        check_storage(settings)
    assert err.value.message == (
        f"The object store at {server.state.endpoint} is not reachable "
        "(connection refused or timed out)."
    )
    assert err.value.fix == "start it with `lake up` (then `lake status`), or fix storage.endpoint"


def test_missing_bucket_says_lake_up(lake_settings) -> None:
    other = lake_settings.with_overrides({"storage": {"bucket": "no-such-bucket"}})
    with pytest.raises(StorageError, match="The lake bucket 'no-such-bucket' does not exist"):
        check_storage(other)


def test_lake_up_with_four_drives_erasure_codes_over_four_directories(project: Path) -> None:
    (project / "lake.toml").write_text(
        (project / "lake.toml").read_text().replace("drives = 1 ", "drives = 4 ")
    )
    up = run_lake(project, "up", "--json")
    assert up.returncode == 0, up.stderr
    state = json.loads(up.stdout)
    assert state["drives"] == 4
    data = project / "var/minio/data"
    formats = [json.loads((data / f"d{i}/.minio.sys/format.json").read_text()) for i in range(1, 5)]
    assert [len(s) for s in formats[0]["xl"]["sets"]] == [4]  # one erasure set of 4 drives
    assert len({f["xl"]["this"] for f in formats}) == 4  # four distinct drives
    assert run_lake(project, "down").returncode == 0


def test_an_impossible_drive_count_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ServerError) as err:
        start(
            tmp_path / "minio",
            data_dir=tmp_path,
            host="127.0.0.1",
            port=0,
            console_port=0,
            access_key="a",
            secret_key="b",
            log_file=tmp_path / "log",
            drives=17,
        )
    assert err.value.message == (
        "minio.drives is 17; expected 1 (one directory) or 2..16 (erasure coding over that "
        "many drive directories)."
    )


def test_switching_layouts_over_existing_data_is_refused(tmp_path: Path) -> None:
    (tmp_path / ".minio.sys").mkdir()  # what a single-drive MinIO leaves
    with pytest.raises(ServerError) as err:
        start(
            tmp_path / "minio",
            data_dir=tmp_path,
            host="127.0.0.1",
            port=0,
            console_port=0,
            access_key="a",
            secret_key="b",
            log_file=tmp_path / "log",
            drives=4,
        )
    assert err.value.message == (
        f"{tmp_path} holds a MinIO written with one drive, and minio.drives is 4."
    )
