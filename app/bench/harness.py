"""``lake bench``: every scenario of issue 8, each a ratio of two times taken in the same run.

The harness generates the extracts (:mod:`app.bench.data`), starts its own MinIO on a free loopback
port (stopped at the end, even on failure; the kernel stops it too if the bench dies), gives each
measurement a fresh bucket, and runs each measured task in a worker process of its own
(:mod:`app.bench.worker`) while a thread samples that process tree's peak memory
(:mod:`app.bench.memory`). Tasks that need a lake to exist (the review, the rerun, the incremental
delivery) run on the bucket of the governed first run, in that order.

With a SparkSession given (the smoke test), tasks run in the caller's process against the
caller's object store instead: quicker, but the bare baseline then runs with the OpenLineage
listener of that session attached, so only worker mode gives figures worth publishing.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.bench import data, machine
from app.bench.memory import PeakSampler
from app.bench.scenarios import SCENARIOS, Measurement, measure_all
from app.bench.tasks import TaskKind, execute
from app.errors import BenchError
from ingestion.generator import SOURCES
from lake.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DEFAULT_ROWS = 2_000_000
Progress = Callable[[str], None]


@dataclass(frozen=True)
class BenchOptions:
    """What to measure, at which size, and where results go."""

    rows: int = DEFAULT_ROWS
    scale_factor: int = 10
    only: tuple[str, ...] = ()
    output_dir: Path = Path("var/bench")
    driver_memory: str | None = None
    seed: int = 2021
    sources: tuple[str, ...] = SOURCES

    def scenarios(self) -> tuple[str, ...]:
        unknown = [s for s in self.only if s not in SCENARIOS]
        if unknown:
            raise BenchError(
                f"Unknown scenario(s): {', '.join(unknown)}.",
                fix=f"use one of: {', '.join(SCENARIOS)}",
                task=unknown[0],
            )
        if self.rows < 1 or self.scale_factor < 1:
            raise BenchError(
                f"--rows and --scale-factor must be >= 1; got {self.rows} and {self.scale_factor}.",
                fix="pass --rows and --scale-factor of 1 or more",
            )
        return tuple(s for s in SCENARIOS if not self.only or s in self.only)


class _Runner:
    """Runs tasks in worker processes, or in this process when given a session."""

    def __init__(
        self,
        settings: Settings,
        run_dir: Path,
        *,
        spark: SparkSession | None,
        sources: tuple[str, ...],
        progress: Progress,
    ) -> None:
        self.settings = settings
        self.run_dir = run_dir
        self.spark = spark
        self.sources = list(sources)
        self.progress = progress
        self.prefix = f"bench-{secrets.token_hex(3)}"
        self.count = 0

    def run(
        self, label: str, kind: TaskKind, bucket: str, inbox: Path, *, bare: bool = False
    ) -> Measurement:
        from lake.storage import ensure_bucket

        self.count += 1
        name = f"{self.prefix}-{bucket}"
        overrides: dict[str, dict[str, Any]] = {
            "storage": {"bucket": name},
            "ingestion": {"inbox": str(inbox)},
        }
        if bare:
            overrides["lineage"] = {"transport": "none"}
        settings = self.settings.with_overrides(overrides)
        ensure_bucket(settings)
        self.progress(f"[{self.count}] {label} ({kind}, bucket {name})...")
        if self.spark is not None:
            with PeakSampler(os.getpid()) as sampler:
                details = execute(kind, settings, self.spark, sources=self.sources)
        else:
            details, sampler = self._in_worker(kind, settings, overrides)
        seconds = float(details["seconds"])
        memory = sampler.peaks.as_dict()
        self.progress(
            f"    {seconds:.1f} s; peak memory JVM {memory['jvm_mib']:.0f} MiB, Python "
            f"{memory['python_mib']:.0f} MiB"
        )
        return Measurement(label, kind, name, seconds, details, memory)

    def _in_worker(
        self, kind: str, settings: Settings, overrides: dict[str, dict[str, Any]]
    ) -> tuple[dict[str, Any], PeakSampler]:
        from lake.processes import die_with_parent

        task_file = self.run_dir / f"task-{self.count:02d}-{kind}.json"
        result_file = task_file.with_suffix(".result.json")
        log_file = task_file.with_suffix(".log")
        task = {
            "kind": kind,
            "config_file": str(settings.config_file) if settings.config_file else None,
            "overrides": _plain_overrides(settings, overrides),
            "sources": self.sources,
        }
        task_file.write_text(json.dumps(task, indent=2), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("LAKE__")}
        env["LAKE__STORAGE__ACCESS_KEY"] = settings.storage.access_key
        env["LAKE__STORAGE__SECRET_KEY"] = settings.storage.secret_key
        with log_file.open("wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "app.bench.worker", str(task_file), str(result_file)],
                cwd=settings.root,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent,
            )
            with PeakSampler(proc.pid) as sampler:
                code = proc.wait()
        if code != 0 or not result_file.is_file():
            tail = log_file.read_text(encoding="utf-8", errors="replace").strip().splitlines()
            raise BenchError(
                f"Benchmark task {kind} failed (exit {code}): {tail[-1] if tail else 'no output'}",
                fix=f"see {log_file}",
                path=log_file,
                task=str(kind),
            )
        return json.loads(result_file.read_text(encoding="utf-8")), sampler


def _plain_overrides(settings: Settings, task: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The settings a worker needs, as JSON (credentials excluded: they go by environment)."""
    storage = settings.storage
    spark = settings.spark
    plain: dict[str, dict[str, Any]] = {
        "storage": {
            "backend": storage.backend,
            "endpoint": storage.endpoint,
            "region": storage.region,
            "credentials_file": str(storage.credentials_file),
        },
        "spark": {
            "master": spark.master,
            "driver_memory": spark.driver_memory,
            "shuffle_partitions": spark.shuffle_partitions,
        },
        "lineage": {"file": str(settings.lineage.file)},
        "reports": {"dir": str(settings.reports.dir)},
        "security": {"pseudonymisation_key_file": str(settings.security.pseudonymisation_key_file)},
        "catalog": {"enabled": settings.catalog.enabled},
    }
    for section, values in task.items():
        plain.setdefault(section, {}).update(values)
    return plain


@contextlib.contextmanager
def own_minio(settings: Settings, workdir: Path) -> Iterator[Settings]:
    """A throw-away MinIO on a free 127.0.0.1 port; yields settings pointing at it."""
    from lake.minio_server import start
    from lake.processes import stop_pid
    from lake.toolchain import minio_binary

    access_key, secret_key = "bench-" + secrets.token_hex(6), secrets.token_urlsafe(24)
    state = start(
        minio_binary(settings),
        data_dir=workdir / "data",
        host="127.0.0.1",
        port=0,
        console_port=0,
        access_key=access_key,
        secret_key=secret_key,
        log_file=workdir / "minio.log",
        die_with_parent=True,
    )
    try:
        yield settings.with_overrides(
            {
                "storage": {
                    "backend": "s3",
                    "endpoint": state.endpoint,
                    "access_key": access_key,
                    "secret_key": secret_key,
                }
            }
        )
    finally:
        stop_pid(state.pid)


def run_bench(
    settings: Settings,
    options: BenchOptions,
    *,
    spark: SparkSession | None = None,
    progress: Progress = lambda _: None,
) -> dict[str, Any]:
    """Measure the selected scenarios; returns the results (also written as JSON).

    Args:
        settings: Lake settings (their object store is only used when ``spark`` is given).
        options: Sizes, scenarios and output directory.
        spark: Run tasks in this process with this session (smoke test) instead of workers
            against a MinIO of the bench's own.
        progress: Receives one line per step.
    """
    import shutil

    wanted = options.scenarios()
    started = time.perf_counter()
    stamp = datetime.now(UTC)
    output = (
        options.output_dir
        if options.output_dir.is_absolute()
        else settings.root / options.output_dir
    )
    run_dir = output / "runs" / stamp.strftime("%Y%m%dT%H%M%S")
    run_dir.mkdir(parents=True, exist_ok=True)
    load_at_start = machine.machine()["load_average"]
    common: dict[str, dict[str, Any]] = {
        "lineage": {"file": str(run_dir / "lineage" / "events.jsonl")},
        "reports": {"dir": str(run_dir / "reports")},
        "security": {"pseudonymisation_key_file": str(output / "secrets" / "bench.key")},
        # The bench's tables live in its own store: never in the developer's catalog.
        "catalog": {"enabled": False},
    }
    if options.driver_memory:
        common["spark"] = {"driver_memory": options.driver_memory}
    settings = settings.with_overrides(common)
    from lake.keys import pseudonymisation_key

    # generated once, before workers race for it; not checked against a lake here: the bench
    # has not started its own MinIO yet, and each bench bucket records the key at its first run
    pseudonymisation_key(settings, check_lake=False)

    sources = options.sources
    per_file = data.rows_per_file(options.rows, sources)
    progress(f"Extracts: {per_file} lines per file x {2 * len(sources)} files...")
    base = data.generate(
        output / "data" / f"s{options.seed}-{per_file}",
        per_file,
        seed=options.seed,
        sources=sources,
    )
    small = None
    if "scaling" in wanted:
        small_rows = data.rows_per_file(options.rows // options.scale_factor, sources)
        small = data.generate(
            output / "data" / f"s{options.seed}-{small_rows}",
            small_rows,
            seed=options.seed,
            sources=sources,
        )
    increment = None
    if "incremental" in wanted:
        increment = data.increment(
            base, run_dir / "inbox-incremental", seed=options.seed, sources=sources
        )

    results: dict[str, Any] = {}
    measurements: list[Measurement] = []
    workdir = run_dir / "minio"
    store = contextlib.nullcontext(settings) if spark is not None else own_minio(settings, workdir)
    try:
        with store as lake:
            runner = _Runner(lake, run_dir, spark=spark, sources=sources, progress=progress)
            results, measurements = measure_all(
                runner.run,
                wanted,
                base,
                small,
                increment,
                on_measured=partial(_save_partial, run_dir / "partial.json"),
            )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report = {
        "started_at": stamp.isoformat(timespec="seconds"),
        "duration_s": round(time.perf_counter() - started, 1),
        "mode": "in-process" if spark is not None else "workers",
        "options": {
            "rows": options.rows,
            "scale_factor": options.scale_factor,
            "only": list(options.only),
            "driver_memory": settings.spark.driver_memory,
            "data_docs": settings.reports.data_docs,
            "lineage": settings.lineage.transport,
            "seed": options.seed,
            "sources": list(sources),
        },
        "sizes": {
            "base": base.as_dict(),
            "scaling_1x": small.as_dict() if small else None,
            "increment": increment.as_dict() if increment else None,
        },
        "machine": {**machine.machine(), "load_average_at_start": load_at_start},
        "versions": {**machine.versions(), "minio server": settings.minio.version},
        "scenarios": results,
        "measurements": [asdict(m) for m in measurements],
    }
    json_file = run_dir.parent.parent / f"bench-{stamp.strftime('%Y%m%dT%H%M%S')}.json"
    text = json.dumps(report, indent=2, default=str)
    json_file.write_text(text, encoding="utf-8")
    (json_file.parent / "latest.json").write_text(text, encoding="utf-8")
    report["json_file"] = str(json_file)
    return report


def _save_partial(path: Path, results: dict[str, Any], done: list[Measurement]) -> None:
    """What is measured so far, so that a bench stopped half-way still leaves its figures."""
    partial = {"scenarios": results, "measurements": [asdict(m) for m in done]}
    path.write_text(json.dumps(partial, indent=2, default=str), encoding="utf-8")
