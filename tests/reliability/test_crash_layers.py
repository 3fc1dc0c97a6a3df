"""Crashes and faults on the real stack: nothing lost, nothing duplicated, the rerun completes.

- a silver job killed (SIGKILL to its process group) during its MERGE;
- a gold job killed during its write;
- MinIO killed in the middle of a job and restarted;
- MinIO's disk full while a delivery lands (a small tmpfs as its data directory).

After each: the tables read back with Spark and delta-rs at the same version, their Delta log has
no gap, the rerun completes without waiting for the killed job's lease (its holder is dead on
this host, so the lease is taken over at once), every batch reconciles in the run log, and the
result equals a clean run of the same deliveries (the bronze kill is in tests/ingestion/
test_crash.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.compose import quality_gates
from conftest import base_settings, lake_env
from ingestion import runlog
from ingestion.generator import generate_delivery
from ingestion.pipeline import run
from lake import delta_io
from lake.delta_reader import log_objects, open_table
from lake.leases import list_leases
from lake.minio_server import ServerState, start
from lake.processes import alive, free_port, kill_group, stop_pid, wait_port_closed
from lake.settings import Settings
from lake.storage import ensure_bucket, object_client, table_uri
from lake.toolchain import minio_binary

pytestmark = [
    pytest.mark.spark,
    pytest.mark.minio,
    pytest.mark.reliability,
    pytest.mark.slow,
    pytest.mark.fault,
]
LAKE = str(Path(sys.executable).parent / "lake")
SOURCE = "development_aid"
GOLD = "aide_par_pays_secteur_annee"
ROWS = 30_000


# --- shared checks ------------------------------------------------------------------------


def log_versions(settings: Settings, uri: str) -> list[int]:
    names = log_objects(settings, uri)
    return sorted(int(n[:20]) for n in names if re.fullmatch(r"\d{20}\.json", n))


def assert_consistent(settings: Settings, uri: str, spark=None) -> int:
    """No gap in the Delta log; delta-rs (and Spark) read the same latest version."""
    versions = log_versions(settings, uri)
    assert versions == list(range(len(versions))), (uri, versions)
    table = open_table(settings, uri)
    assert table.version() == versions[-1]
    table.to_pyarrow_table()  # every data file the log names is readable
    if spark is not None:
        assert delta_io.table_version(spark, uri) == versions[-1]
    return versions[-1]


def assert_run_log_reconciles(settings: Settings, source: str) -> list[dict]:
    """Every succeeded batch of the source reconciles, and none succeeded twice in a layer."""
    rows = [
        r
        for r in runlog.read_runs(settings, source=source, limit=None)
        if r["status"] == "succeeded"
    ]
    for layer in ("bronze", "silver"):
        batches = [r["batch_id"] for r in rows if r["layer"] == layer]
        assert len(batches) == len(set(batches)), f"{layer} batch logged twice: {batches}"
    for r in rows:
        if r["layer"] == "bronze":
            assert r["lines_read"] == r["rows_out"] + r["quarantined"], r
        elif r["layer"] == "silver":
            assert r["rows_in"] == r["rows_out"] + r["quarantined"] + r["duplicates_resolved"], r
    return rows


def no_lease_left(settings: Settings) -> None:
    assert {lease.state for _, lease in list_leases(settings)} <= {"released"}


def silver_rows(settings: Settings) -> set[tuple]:
    data = open_table(settings, table_uri(settings, "silver", SOURCE)).to_pyarrow_table()
    rows = [(r["project_id"], r["_row_hash"], r["_batch_id"], r["_line"]) for r in data.to_pylist()]
    assert len(rows) == len({r[0] for r in rows}), "a key is twice in silver"
    return set(rows)


def gold_rows(settings: Settings) -> list[tuple]:
    data = open_table(settings, table_uri(settings, "gold", GOLD)).to_pyarrow_table()
    return sorted(tuple(sorted(r.items())) for r in data.to_pylist())


def bronze_lines(settings: Settings, source: str = SOURCE) -> list[tuple[str, int]]:
    data = open_table(settings, table_uri(settings, "bronze", source)).to_pyarrow_table()
    lines = list(zip(data["_batch_id"].to_pylist(), data["_line"].to_pylist(), strict=True))
    assert len(lines) == len(set(lines)), "a delivered line is in bronze twice"
    return lines


def kill_when(
    job: subprocess.Popen, settings: Settings, prefix: str, before: set[str], *, timeout: float
) -> str | None:
    """SIGKILL the job's process group as soon as a new object appears under ``prefix``."""
    client = object_client(settings)
    deadline = time.monotonic() + timeout
    seen = None
    while time.monotonic() < deadline and job.poll() is None:
        names = {
            o.object_name or ""
            for o in client.list_objects(settings.storage.bucket, prefix=prefix, recursive=True)
        }
        new = sorted(names - before)
        if new:
            seen = new[0].removeprefix(prefix)
            break
        time.sleep(0.05)
    if job.poll() is None:
        # the whole group (lake submit, spark-submit's JVM, the Python driver holding the
        # leases), and only once every one of them is gone: a SIGKILLed JVM takes seconds to
        # die on a loaded machine, and until then its lease holder still looks alive
        assert kill_group(job.pid), f"job group {job.pid} still alive after SIGKILL"
    job.wait(timeout=60)
    return seen


def listing(settings: Settings, prefix: str) -> set[str]:
    client = object_client(settings)
    return {
        o.object_name or ""
        for o in client.list_objects(settings.storage.bucket, prefix=prefix, recursive=True)
    }


def submit(settings: Settings, tmp: Path, *args: str, log: str = "job.log") -> subprocess.Popen:
    """``lake submit ARGS`` as a process group; its stdout goes to ``<log>.out`` (once Spark
    runs, the job's own messages come out there: PythonRunner merges the Python stderr into it)
    and Spark's log to ``<log>``."""
    return subprocess.Popen(
        [LAKE, "submit", *args],
        env=lake_env(
            settings,
            LAKE__LINEAGE__TRANSPORT="none",
            LAKE__REPORTS__DIR=str(tmp / "reports"),
            LAKE__REPORTS__DATA_DOCS="false",
        ),
        stdout=(tmp / f"{log}.out").open("wb"),  # files: a full pipe must not stall the job
        stderr=(tmp / log).open("wb"),
        start_new_session=True,
    )


def output(tmp: Path, log: str) -> str:
    """What the job said: its messages, then Spark's log."""
    return (tmp / f"{log}.out").read_text(errors="replace") + (tmp / log).read_text(
        errors="replace"
    )


# --- a killed silver MERGE, a killed gold write -------------------------------------------


@pytest.fixture(scope="module")
def lakes(spark, lake_settings, tmp_path_factory):
    """Two deliveries; the crash lake has bronze for both and silver for the first; the
    reference lake ran the whole chain on the same files without a crash."""
    tmp = tmp_path_factory.mktemp("crash-layers")
    inbox = tmp / "inbox"
    # two extracts of the same layout (another seed: other values for many of the same keys)
    generate_delivery(SOURCE, 1, ROWS, inbox / SOURCE / "a", seed=11)
    generate_delivery(SOURCE, 1, ROWS, inbox / SOURCE / "b", seed=12)
    common = {
        "ingestion": {"inbox": str(inbox)},
        "security": {"pseudonymisation_key_file": str(tmp / "key")},
        "reports": {"dir": str(tmp / "reports"), "data_docs": False},
    }
    crash = lake_settings.with_overrides({"storage": {"bucket": "lake-crash-layers"}, **common})
    ref = lake_settings.with_overrides({"storage": {"bucket": "lake-crash-ref"}, **common})
    for s in (crash, ref):
        ensure_bucket(s)
    (first,) = (inbox / SOURCE / "a").iterdir()
    for lake in (ref, crash):
        # bronze and silver for the first extract, then bronze for the second: the killed
        # silver job's batch is a real MERGE into an existing table
        gates = quality_gates(lake)
        run(spark, lake, sources=[SOURCE], layers=["bronze", "silver"], files=[first], gates=gates)
        run(spark, lake, sources=[SOURCE], layers=["bronze"], gates=gates)
    run(spark, ref, sources=[SOURCE], layers=["silver", "gold"], gates=quality_gates(ref))
    return crash, ref, tmp


def test_a_silver_job_killed_during_its_merge_reruns_to_the_same_table(spark, lakes):
    settings, ref, tmp = lakes
    uri = table_uri(settings, "silver", SOURCE)
    version_before = assert_consistent(settings, uri, spark)
    before = listing(settings, f"silver/{SOURCE}/")
    job = submit(settings, tmp, "silver", "--source", SOURCE, log="silver.log")
    killed_at = kill_when(job, settings, f"silver/{SOURCE}/", before, timeout=900)
    assert killed_at is not None, output(tmp, "silver.log")[-3000:]
    committed = log_versions(settings, uri)[-1] > version_before
    print(f"silver job killed when {killed_at} appeared (MERGE committed: {committed})")

    said: list[str] = []
    summary = run(
        spark,
        settings,
        sources=[SOURCE],
        layers=["silver"],
        gates=quality_gates(settings),
        progress=said.append,
    )
    assert any("taking over the dead lease" in line for line in said), said
    assert [r.status for r in summary.records] == ["succeeded"]
    assert_consistent(settings, uri, spark)
    assert_consistent(settings, table_uri(settings, "quarantine", SOURCE), spark)
    logged = assert_run_log_reconciles(settings, SOURCE)
    assert silver_rows(settings) == silver_rows(ref)  # nothing lost, nothing twice
    # the run log accounts for every silver row (inserted by exactly one logged batch)
    inserted = sum(r["inserted"] for r in logged if r["layer"] == "silver")
    assert inserted == len(silver_rows(settings)), (inserted, committed)
    no_lease_left(settings)


def test_a_gold_job_killed_during_its_write_reruns_to_the_same_table(spark, lakes):
    settings, ref, tmp = lakes
    run(spark, settings, sources=[SOURCE], layers=["silver"], gates=quality_gates(settings))
    uri = table_uri(settings, "gold", GOLD)
    prefix = f"gold/{GOLD}/"
    before = listing(settings, prefix)
    job = submit(settings, tmp, "gold", "--source", SOURCE, log="gold.log")
    killed_at = kill_when(job, settings, prefix, before, timeout=900)
    assert killed_at is not None, output(tmp, "gold.log")[-3000:]
    print(f"gold job killed when {killed_at} appeared")

    said: list[str] = []
    summary = run(
        spark,
        settings,
        sources=[SOURCE],
        layers=["gold"],
        gates=quality_gates(settings),
        progress=said.append,
    )
    assert any("taking over the dead lease" in line for line in said), said
    (record,) = summary.records
    assert record.status == "succeeded", record
    version = assert_consistent(settings, uri, spark)
    assert record.table_version == version
    assert record.rows_out == open_table(settings, uri).to_pyarrow_table().num_rows
    assert gold_rows(settings) == gold_rows(ref)
    description = open_table(settings, uri).metadata().description
    assert description and description.startswith("Montants d'aide"), description
    no_lease_left(settings)


# --- the object store fails under a running job -------------------------------------------


@dataclass
class OwnMinio:
    """A MinIO of this test only, which it can kill and restart on the same port and data."""

    data_dir: Path
    log: Path
    port: int
    access_key: str
    secret_key: str
    state: ServerState | None = None

    def start(self) -> None:
        self.state = start(
            minio_binary(base_settings(self.data_dir.parent)),
            data_dir=self.data_dir,
            host="127.0.0.1",
            port=self.port,
            console_port=0,
            access_key=self.access_key,
            secret_key=self.secret_key,
            log_file=self.log,
            die_with_parent=True,
        )

    def kill(self) -> None:
        """SIGKILL the server and wait until it is gone and its port is closed."""
        assert self.state is not None
        os.kill(self.state.pid, signal.SIGKILL)
        deadline = time.monotonic() + 120
        while alive(self.state.pid) and time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.state.pid, os.WNOHANG)
            time.sleep(0.1)
        assert not alive(self.state.pid), f"MinIO {self.state.pid} survived SIGKILL for 120 s"
        assert wait_port_closed("127.0.0.1", self.port), f"port {self.port} still open"
        self.state = None

    def freeze(self) -> None:
        """SIGSTOP the server: it keeps its port and connections but answers nothing."""
        assert self.state is not None
        os.kill(self.state.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.state is not None
        os.kill(self.state.pid, signal.SIGCONT)

    def settings(self, tmp: Path) -> Settings:
        return base_settings(tmp).with_overrides(
            {
                "storage": {
                    "endpoint": f"http://127.0.0.1:{self.port}",
                    "access_key": self.access_key,
                    "secret_key": self.secret_key,
                    "bucket": "lake-faults",
                },
                "ingestion": {"inbox": str(tmp / "inbox")},
                "security": {"pseudonymisation_key_file": str(tmp / "key")},
            }
        )


@pytest.fixture
def own_minio(tmp_path) -> Iterator[OwnMinio]:
    server = OwnMinio(
        data_dir=tmp_path / "minio" / "data",
        log=tmp_path / "minio" / "minio.log",
        port=free_port(),
        access_key="faults-" + secrets.token_hex(4),
        secret_key=secrets.token_urlsafe(24),
    )
    server.start()
    try:
        yield server
    finally:
        if server.state is not None:
            stop_pid(server.state.pid)


def _records(tmp: Path, log: str) -> list[dict]:
    out = (tmp / f"{log}.out").read_text(errors="replace")
    lines = [line for line in out.splitlines() if line.startswith("[")]
    return json.loads(lines[-1]) if lines else []


def test_minio_killed_under_a_running_job_fails_clearly_and_the_rerun_completes(
    own_minio, tmp_path
):
    """The store dies for good while the job writes silver: the job cannot succeed, so it must
    fail - in bounded time, with one line naming the store, no traceback - and leave tables
    that the rerun (store back) completes consistently."""
    settings = own_minio.settings(tmp_path)
    ensure_bucket(settings)
    generate_delivery(SOURCE, 1, ROWS, tmp_path / "inbox" / SOURCE, seed=5)
    job = submit(settings, tmp_path, "pipeline", "--source", SOURCE, log="down.log")
    # MinIO dies once the job has begun writing silver (bronze is done by then), and stays down
    seen = when_store_writes(job, settings, f"silver/{SOURCE}/", own_minio.kill)
    started = time.monotonic()
    rc = job.wait(timeout=600)
    waited = time.monotonic() - started
    said = (tmp_path / "down.log.out").read_text(errors="replace")
    print(f"MinIO killed when {seen} appeared; the job exited {rc} after {waited:.0f} s")
    assert rc == 1, said[-3000:]
    assert re.search(r"error: .*object store at http://127\.0\.0\.1:\d+", said), said[-3000:]
    assert "Traceback" not in said

    own_minio.start()
    rerun = submit(settings, tmp_path, "pipeline", "--source", SOURCE, log="rerun.log")
    assert rerun.wait(timeout=900) == 0, output(tmp_path, "rerun.log")[-3000:]
    statuses = {(r["layer"], r["status"]) for r in _records(tmp_path, "rerun.log")}
    assert ("silver", "failed") not in statuses
    assert_chain_complete(settings)


def test_a_frozen_minio_under_a_running_job_is_ridden_out(own_minio, tmp_path):
    """The store stops answering for 5 s (SIGSTOP, as in a network partition or a long pause)
    while the job writes silver: requests wait within S3A's and the client's timeouts, and the
    job completes with every table consistent and every batch reconciled."""
    settings = own_minio.settings(tmp_path)
    ensure_bucket(settings)
    generate_delivery(SOURCE, 1, ROWS, tmp_path / "inbox" / SOURCE, seed=5)
    job = submit(settings, tmp_path, "pipeline", "--source", SOURCE, log="frozen.log")
    seen = when_store_writes(job, settings, f"silver/{SOURCE}/", own_minio.freeze)
    time.sleep(5)
    own_minio.thaw()
    rc = job.wait(timeout=900)
    print(f"MinIO frozen for 5 s when {seen} appeared; the job exited {rc}")
    assert rc == 0, output(tmp_path, "frozen.log")[-3000:]
    logged = assert_chain_complete(settings)
    (silver,) = [r for r in logged if r["layer"] == "silver"]
    assert len(silver_rows(settings)) == silver["rows_out"]


def assert_chain_complete(settings: Settings) -> list[dict]:
    """Every layer consistent, every batch reconciled, each delivered line once, no lease."""
    for layer, name in (("bronze", SOURCE), ("silver", SOURCE), ("gold", GOLD)):
        assert_consistent(settings, table_uri(settings, layer, name))
    logged = assert_run_log_reconciles(settings, SOURCE)
    assert {r["layer"] for r in logged} == {"bronze", "silver", "gold"}
    (bronze,) = [r for r in logged if r["layer"] == "bronze"]
    assert bronze["lines_read"] == ROWS
    assert len(bronze_lines(settings)) == bronze["rows_out"]
    no_lease_left(settings)
    return logged


def when_store_writes(
    job: subprocess.Popen, settings: Settings, prefix: str, fault: Callable[[], None]
) -> str:
    """Inject ``fault`` into MinIO as soon as the job writes under ``prefix``."""
    client = object_client(settings)
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline and job.poll() is None:
        names = [o.object_name or "" for o in client.list_objects("lake-faults", prefix=prefix)]
        if names:
            fault()
            return names[0]
        time.sleep(0.1)
    if job.poll() is None:
        kill_group(job.pid)
    raise AssertionError(f"the job ended (rc {job.wait()}) before it wrote under {prefix}")


def test_a_full_disk_while_landing_fails_clearly_and_the_rerun_completes(tmp_path):
    # never a silent skip: `make test` runs as root on the build machines (a small tmpfs)
    assert os.geteuid() == 0, "this fault test mounts a tmpfs: run `make test` as root"
    mount = tmp_path / "small-disk"
    mount.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)])
    assert mounted.returncode == 0, "cannot mount a tmpfs for the full-disk scenario"
    server = OwnMinio(
        data_dir=mount / "data",
        log=tmp_path / "minio.log",
        port=free_port(),
        access_key="full-" + secrets.token_hex(4),
        secret_key=secrets.token_urlsafe(24),
    )
    try:
        server.start()
        settings = server.settings(tmp_path)
        ensure_bucket(settings)
        (path,) = generate_delivery(SOURCE, 1, 100_000, tmp_path / "inbox" / SOURCE, seed=3)
        assert path.stat().st_size > 8 * 2**20  # bigger than the whole disk
        job = submit(settings, tmp_path, "bronze", "--source", SOURCE, log="full.log")
        assert job.wait(timeout=900) == 1
        said = output(tmp_path, "full.log")
        line = next(x for x in said.splitlines() if "error:" in x)
        print(line)
        assert "out of space" in line and "XMinioStorageFull" in line, line
        assert "Traceback" not in said
        assert not listing(settings, "landing/"), "a partial landed file was left behind"
        assert not listing(settings, "bronze/")

        # more space (MinIO re-reads the drive's size at start), then the rerun completes
        server.kill()
        subprocess.run(["mount", "-o", "remount,size=256m", str(mount)], check=True)
        # same data, a new port: the rerun is a new job, and the old port may have been taken
        # by another process in the meantime (CI runs many servers)
        server.port = free_port()
        server.start()
        settings = server.settings(tmp_path)
        rerun = submit(settings, tmp_path, "bronze", "--source", SOURCE, log="rerun.log")
        assert rerun.wait(timeout=900) == 0, output(tmp_path, "rerun.log")[-3000:]
        assert_consistent(settings, table_uri(settings, "bronze", SOURCE))
        logged = assert_run_log_reconciles(settings, SOURCE)
        (bronze,) = [r for r in logged if r["layer"] == "bronze"]
        in_bronze = len(bronze_lines(settings))
        assert bronze["lines_read"] == 100_000 == in_bronze + bronze["quarantined"]
        no_lease_left(settings)
    finally:
        if server.state is not None:
            stop_pid(server.state.pid)
        subprocess.run(["umount", "-l", str(mount)])
        shutil.rmtree(mount, ignore_errors=True)
