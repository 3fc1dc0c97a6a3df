"""``lake submit / run / runs / generate / cluster``: running the lake's jobs.

The same chain runs three ways: in this process (``lake run``, with progress and a summary),
through ``spark-submit`` (``lake submit JOB``, the entry points of ``app/jobs``, with the project's
packages zipped for cluster executors) and on a local Spark standalone cluster (``lake cluster``).
``lake generate`` writes the extracts they ingest and ``lake runs`` reads back what they did.

Registered by :func:`app.cli.main.build_parser`; heavy imports (pyspark, deltalake) happen inside
the commands.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

from app.cli.commands import add_command, print_json
from app.errors import AppError
from lake.layers import PIPELINE_LAYERS
from lake.settings import Settings

JOBS_DIR = Path(__file__).resolve().parents[1] / "jobs"
# What cluster executors import (``--py-files``): the core and the stages, not this layer.
PACKAGES = ("lake", "ingestion", "quality", "governance", "lifecycle")


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def available_jobs() -> list[str]:
    """Names of the spark-submit entry points shipped in ``app/jobs``."""
    return sorted(p.stem for p in JOBS_DIR.glob("*.py") if not p.stem.startswith("_"))


def cmd_submit(settings: Settings, args: argparse.Namespace) -> int:
    from lake.spark import prepare_local_dirs, submit_command, submit_environment

    _lift_submit_options(args)
    job = JOBS_DIR / f"{args.job}.py"
    if not job.is_file():
        raise AppError(
            f"No job named {args.job!r}.", fix=f"use one of: {', '.join(available_jobs())}"
        )
    py_files = None
    if args.master and not args.master.startswith("local"):
        py_files = _package_zip(settings)
    cmd = submit_command(
        settings,
        job,
        args.job_args,
        master=args.master,
        use_packages=args.packages,
        py_files=py_files,
    )
    if args.print:
        print(" \\\n  ".join(shlex.quote(c) for c in cmd))
        return 0
    prepare_local_dirs(settings)
    env = dict(
        os.environ, LAKE_HOME=str(settings.root), **submit_environment(settings, args.master)
    )
    if args.master:
        env["LAKE__SPARK__MASTER"] = args.master  # the job's own settings agree with --master
    if settings.config_file:
        env["LAKE_CONFIG"] = str(settings.config_file)
    _say(f"spark-submit {args.job} on {args.master or settings.spark.master}...")
    return subprocess.run(cmd, env=env, check=False).returncode


def _lift_submit_options(args: argparse.Namespace) -> None:
    """Accept `lake submit JOB --master URL ...` as well as `lake submit --master URL JOB ...`.

    `lake submit`'s own options found after JOB are taken out of the job's arguments, up to a
    literal `--`, after which everything goes to the job unchanged.
    """
    rest: list[str] = []
    items = list(args.job_args)
    while items:
        item = items.pop(0)
        if item == "--":
            rest.extend(items)
            break
        if item in ("--print", "--packages"):
            setattr(args, item[2:], True)
        elif item == "--master" and items:
            args.master = items.pop(0)
        elif item.startswith("--master="):
            args.master = item.split("=", 1)[1]
        else:
            rest.append(item)
    args.job_args = rest


def _package_zip(settings: Settings) -> Path:
    """Zip the project's packages for cluster executors (``--py-files``)."""
    import zipfile

    src = Path(__file__).resolve().parents[2]
    target = settings.var_dir / "build" / "meae_datalake.zip"
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for package in PACKAGES:
            for path in sorted((src / package).rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts:
                    zf.write(path, path.relative_to(src))
    return target


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    from ingestion.pipeline import LAYERS, run
    from lake.spark import build_session

    layers = [args.layer] if args.layer else list(LAYERS)
    from lake.access import job_settings

    settings, role = job_settings(settings, layers)
    if role:
        _say(f"Running under the MinIO role '{role}' (policy/minio-roles.yaml).")
    else:
        _say(
            "Running with the credentials given, not a role of policy/minio-roles.yaml "
            "(`lake access apply` creates them; docs/decisions/0008-least-privilege.md)."
        )
    _say(f"Starting Spark ({settings.spark.master})...")
    from app.compose import lineage_sink, quality_gates

    spark = build_session(settings, app_name="lake-run")
    summary = run(
        spark,
        settings,
        sources=args.source,
        layers=layers,
        gates=quality_gates(settings),
        lineage=lineage_sink(settings),
        files=args.file,
        progress=_say,
    )
    from app.maintenance import maintain_after_run

    maintain_after_run(spark, settings, summary.records, run_id=summary.run_id, progress=_say)
    rows = [r.as_dict() for r in summary.records]
    if args.json:
        print_json({"run_id": summary.run_id, "records": rows})
    else:
        print(format_runs(rows))
    return 0


def format_runs(rows: list[dict[str, Any]]) -> str:
    """A plain-text table of run-log rows."""
    header = (
        "layer",
        "source",
        "status",
        "lines",
        "in",
        "out",
        "quarant.",
        "dupl.",
        "new",
        "upd.",
        "secs",
    )
    lines = [header]
    for r in rows:
        lines.append(
            (
                r["layer"],
                r["source"][:24],
                r["status"],
                str(r["lines_read"] or ""),
                str(r["rows_in"] or ""),
                str(r["rows_out"]),
                str(r["quarantined"]),
                str(r["duplicates_resolved"]),
                str(r["inserted"]),
                str(r["updated"]),
                f"{r['duration_s']:.1f}",
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)) for line in lines
    )


def cmd_runs(settings: Settings, args: argparse.Namespace) -> int:
    from ingestion.runlog import read_runs

    rows = read_runs(settings, source=args.source, limit=args.limit)
    if args.json:
        print_json(rows)
    elif not rows:
        print("No run recorded yet: `lake run` ingests the inbox.")
    else:
        print(format_runs(rows))
    return 0


def cmd_generate(settings: Settings, args: argparse.Namespace) -> int:
    from ingestion.generator import SOURCES, generate_delivery

    out = args.out or settings.var_dir / "inbox"
    sources = args.source or list(SOURCES)
    for source in sources:
        for delivery in (1, 2):
            target = out / source / f"delivery-{delivery}"
            target.mkdir(parents=True, exist_ok=True)
            paths = generate_delivery(source, delivery, args.rows, target, seed=args.seed)
            _say(f"{source} delivery {delivery}: {', '.join(p.name for p in paths)}")
    print(f"Extracts written to {out}; ingest them with LAKE__INGESTION__INBOX={out} lake run")
    return 0


def cmd_cluster(settings: Settings, args: argparse.Namespace) -> int:
    from lake import spark_cluster

    if args.action == "up":
        cluster = spark_cluster.up(settings)
        print(
            f"Spark standalone cluster up: {cluster.master_url} (web UI {cluster.web_ui}); "
            f"run jobs with `lake submit JOB --master {cluster.master_url}`"
        )
    elif args.action == "down":
        stopped = spark_cluster.down(settings)
        print(f"Stopped {stopped.master_url}." if stopped else "No cluster recorded.")
    else:
        current = spark_cluster.status(settings)
        print(
            f"running: {current.master_url} (web UI {current.web_ui})" if current else "not running"
        )
        return 0 if current else 3
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``lake submit``, ``run``, ``runs``, ``generate`` and ``cluster``."""
    p = add_command(
        sub,
        "submit",
        cmd_submit,
        "run a job with spark-submit and the lake's jars and configuration",
    )
    p.add_argument("job", help="job name, one of: " + ", ".join(available_jobs()))
    p.add_argument(
        "job_args",
        nargs=argparse.REMAINDER,
        help="arguments for the job (after JOB; lake's own options go before it)",
    )
    p.add_argument("--master", help="local[2], spark://host:7077...; default spark.master")
    p.add_argument(
        "--print",
        action="store_true",
        help="print the spark-submit command instead of running it (credentials are never in it)",
    )
    p.add_argument(
        "--packages",
        action="store_true",
        help="resolve jars with --packages from Maven Central instead of the local jar cache",
    )
    p = add_command(
        sub,
        "run",
        cmd_run,
        "ingest the inbox: landing -> bronze -> silver -> gold, with progress and a summary",
        True,
    )
    p.add_argument("--source", action="append", help="source id (repeatable; default: all)")
    p.add_argument("--layer", choices=PIPELINE_LAYERS, help="only this layer")
    p.add_argument("--file", action="append", type=Path, help="deliver this file (one source)")
    p = add_command(
        sub, "runs", cmd_runs, "the run log: counts per batch and layer (read without Spark)", True
    )
    p.add_argument("--source", help="only this source")
    p.add_argument("--limit", type=int, default=50, help="newest N rows (default 50)")
    p = add_command(
        sub, "generate", cmd_generate, "write realistic silo extracts (seeded) to ingest"
    )
    p.add_argument("--rows", type=int, default=1000, help="data lines per file (default 1000)")
    p.add_argument("--seed", type=int, default=2021, help="random seed (default 2021)")
    p.add_argument("--out", type=Path, help="output directory (default var/inbox)")
    p.add_argument("--source", action="append", help="source id (repeatable; default: all)")
    p = add_command(
        sub,
        "cluster",
        cmd_cluster,
        "a local Spark standalone master + worker on 127.0.0.1 (to run jobs as on a cluster)",
    )
    p.add_argument("action", choices=("up", "down", "status"))
