"""A Spark standalone cluster (one master, one worker) on 127.0.0.1, from pyspark's own scripts.

Engineers use it to run the jobs exactly as on a cluster (``lake cluster up`` then
``lake submit pipeline --master spark://127.0.0.1:<port>``); the tests use it to prove that the
jobs run the same on ``local[*]`` and on ``spark://``. Processes are plain JVMs started with
``spark-class``; their pids and URLs are recorded in ``var/spark/cluster.json``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from lake.errors import SparkError
from lake.processes import alive, free_port, stop_pid
from lake.processes import die_with_parent as die_with_parent_hook
from lake.settings import Settings


@dataclass(frozen=True)
class Cluster:
    """A running standalone cluster."""

    master_url: str
    master_pid: int
    worker_pid: int
    web_ui: str
    log_dir: str


def _spark_class() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent / "bin" / "spark-class"


def _launch(
    args: list[str], log: Path, env: dict[str, str], die_with_parent: bool
) -> subprocess.Popen[bytes]:
    handle = open(log, "ab")  # noqa: SIM115 - the child keeps it open
    return subprocess.Popen(
        [str(_spark_class()), *args],
        stdout=handle,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=env,
        start_new_session=not die_with_parent,
        preexec_fn=die_with_parent_hook if die_with_parent else None,
    )


def start(
    log_dir: Path,
    *,
    cores: int = 2,
    memory: str = "2g",
    timeout_s: float = 60.0,
    die_with_parent: bool = False,
) -> Cluster:
    """Start a master and a worker on loopback and wait until the worker is registered."""
    log_dir.mkdir(parents=True, exist_ok=True)
    port, ui, worker_ui = free_port(), free_port(), free_port()
    env = dict(os.environ, SPARK_LOCAL_IP="127.0.0.1", SPARK_NO_DAEMONIZE="1")
    master_log, worker_log = log_dir / "master.log", log_dir / "worker.log"
    master = _launch(
        [
            "org.apache.spark.deploy.master.Master",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--webui-port",
            str(ui),
        ],
        master_log,
        env,
        die_with_parent,
    )
    url = f"spark://127.0.0.1:{port}"
    worker = _launch(
        [
            "org.apache.spark.deploy.worker.Worker",
            url,
            "--host",
            "127.0.0.1",
            "--cores",
            str(cores),
            "--memory",
            memory,
            "--webui-port",
            str(worker_ui),
        ],
        worker_log,
        env,
        die_with_parent,
    )
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        text = master_log.read_text(errors="replace") if master_log.exists() else ""
        if re.search(r"Registering worker", text):
            return Cluster(url, master.pid, worker.pid, f"http://127.0.0.1:{ui}", str(log_dir))
        if master.poll() is not None or worker.poll() is not None:
            break
        time.sleep(0.5)
    for proc in (worker, master):
        stop_pid(proc.pid)
    raise SparkError(
        f"The Spark standalone cluster did not start within {timeout_s:.0f} s.",
        fix=f"read {master_log} and {worker_log}",
    )


def stop(cluster: Cluster) -> None:
    """Stop the worker then the master."""
    for pid in (cluster.worker_pid, cluster.master_pid):
        stop_pid(pid)


def state_file(settings: Settings) -> Path:
    return settings.var_dir / "spark" / "cluster.json"


def up(settings: Settings) -> Cluster:
    """Start the project's local cluster (idempotent) and record it."""
    current = status(settings)
    if current is not None:
        return current
    cluster = start(settings.var_dir / "spark" / "logs")
    state_file(settings).write_text(json.dumps(asdict(cluster), indent=2))
    return cluster


def status(settings: Settings) -> Cluster | None:
    """The recorded cluster if both its processes are alive."""
    path = state_file(settings)
    if not path.is_file():
        return None
    cluster = Cluster(**json.loads(path.read_text()))
    if alive(cluster.master_pid) and alive(cluster.worker_pid):
        return cluster
    return None


def down(settings: Settings) -> Cluster | None:
    """Stop the recorded cluster."""
    path = state_file(settings)
    if not path.is_file():
        return None
    cluster = Cluster(**json.loads(path.read_text()))
    stop(cluster)
    path.unlink()
    return cluster
