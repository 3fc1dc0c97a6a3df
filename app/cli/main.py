"""The ``lake`` command line.

Each sub-command parses its arguments, loads the settings once and calls one function of the
core. Heavy imports (pyspark, minio, deltalake) happen inside the commands, so ``lake --help`` and
``lake status`` start instantly. A :class:`LakeError` becomes one line on stderr and exit code 1;
``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, fields, is_dataclass
from pathlib import Path
from typing import Any

from app.cli.output import print_json
from lake import __version__
from lake.errors import LakeError
from lake.layers import PIPELINE_LAYERS
from lake.settings import Settings, load_settings

JOBS_DIR = Path(__file__).resolve().parents[1] / "jobs"
# What cluster executors import (``--py-files``): the core and the stages, not this layer.
PACKAGES = ("lake", "ingestion", "quality", "governance", "lifecycle")


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cmd_up(settings: Settings, args: argparse.Namespace) -> int:
    from lake.minio_server import up

    if args.port is not None:
        settings = settings.with_overrides({"minio": {"port": args.port}})
    state = up(settings)
    if args.json:
        print_json(asdict(state))
    else:
        print(
            f"MinIO is up at {state.endpoint} (console {state.console}, pid {state.pid}); "
            f"bucket '{settings.storage.bucket}' ready; credentials in "
            f"{settings.storage.credentials_file}"
        )
    return 0


def cmd_init(settings: Settings, args: argparse.Namespace) -> int:
    from lake.storage import check_storage, ensure_bucket

    ensure_bucket(settings)
    check_storage(settings)
    print(f"Bucket '{settings.storage.bucket}' ready on {settings.endpoint}.")
    return 0


def cmd_down(settings: Settings, args: argparse.Namespace) -> int:
    from lake.minio_server import down

    state = down(settings)
    print(
        f"MinIO stopped (pid {state.pid}, {state.endpoint})."
        if state
        else "No MinIO started by `lake up` is recorded; nothing to stop."
    )
    return 0


def status_report(settings: Settings) -> dict[str, Any]:
    """What ``lake status --json`` prints."""
    from lake.minio_server import health_live, is_running, read_state
    from lake.storage import lake_root

    state = read_state(settings)
    process_alive = bool(state and is_running(state))
    s3 = settings.storage.backend == "s3"
    live = health_live(settings.endpoint) if s3 else True
    return {
        "backend": settings.storage.backend,
        "endpoint": settings.endpoint if s3 else None,
        "running": live,
        "managed_by_lake_up": process_alive,
        "pid": state.pid if process_alive and state else None,
        "console": state.console if process_alive and state else None,
        "bucket": settings.storage.bucket if s3 else None,
        "lake_root": lake_root(settings),
        "credentials_file": str(settings.storage.credentials_file),
        "credentials_present": bool(settings.storage.access_key),
        "data_dir": str(settings.minio.data_dir),
        "lineage": {
            "transport": settings.lineage.transport,
            "events": str(settings.lineage.file)
            if settings.lineage.transport == "file"
            else settings.lineage.url,
        },
        "reports_dir": str(settings.reports.dir),
        "config_file": str(settings.config_file) if settings.config_file else None,
    }


def cmd_status(settings: Settings, args: argparse.Namespace) -> int:
    report = status_report(settings)
    if args.json:
        print_json(report)
    else:
        state = "running" if report["running"] else "NOT running"
        where = report["endpoint"] or report["lake_root"]
        print(
            f"storage   {report['backend']} at {where}: {state}"
            + (f" (pid {report['pid']})" if report["pid"] else "")
        )
        if report["bucket"]:
            print(f"bucket    {report['bucket']}")
        print(
            f"creds     {report['credentials_file']}"
            + ("" if report["credentials_present"] else " (missing: run `lake up`)")
        )
        print(f"lineage   {report['lineage']['transport']} -> {report['lineage']['events']}")
        print(f"reports   {report['reports_dir']}")
    return 0 if report["running"] else 3


def cmd_doctor(settings: Settings, args: argparse.Namespace) -> int:
    from app.doctor import as_json, run_checks

    checks = run_checks(settings)
    if args.json:
        print_json(as_json(checks))
    else:
        for check in checks:
            print(check.line())
        failed = sum(not c.ok for c in checks)
        print(f"{failed} problem(s) found." if failed else "Everything the lake needs is here.")
    return 0 if all(c.ok for c in checks) else 1


def cmd_setup(settings: Settings, args: argparse.Namespace) -> int:
    from lake.toolchain import build_compose, build_minio, fetch_jars

    if args.what in ("jars", "all"):
        fetch_jars(settings, progress=_say)
    if args.what in ("minio", "all"):
        build_minio(settings, progress=_say)
    if args.what == "compose-cli":
        build_compose(progress=_say)
    return 0


def available_jobs() -> list[str]:
    """Names of the spark-submit entry points shipped in ``app/jobs``."""
    return sorted(p.stem for p in JOBS_DIR.glob("*.py") if not p.stem.startswith("_"))


def cmd_submit(settings: Settings, args: argparse.Namespace) -> int:
    from lake.spark import prepare_local_dirs, submit_command, submit_environment

    _lift_submit_options(args)
    job = JOBS_DIR / f"{args.job}.py"
    if not job.is_file():
        raise LakeError(
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


def cmd_inspect(settings: Settings, args: argparse.Namespace) -> int:
    from lake.delta_reader import snapshot
    from lake.storage import check_storage, table_uri

    layer, _, name = args.table.partition("/")
    try:
        uri = table_uri(settings, layer, name)
    except ValueError as exc:
        raise LakeError(
            f"Table {args.table!r}: {exc}.", fix="name a table as LAYER/NAME, e.g. bronze/smoke"
        ) from None
    check_storage(settings)  # one clear line when the store is down or refuses us
    snap = snapshot(settings, uri, version=args.version)
    if args.json:
        print_json(snap.as_dict())
    else:
        print(
            f"{snap.uri}: version {snap.version}, {snap.rows} rows, {snap.data_files} data "
            f"file(s), columns {', '.join(snap.columns)}"
        )
        print(f"_delta_log: {', '.join(snap.log_objects)}")
    return 0


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    from ingestion.pipeline import LAYERS, run
    from lake.spark import build_session

    layers = [args.layer] if args.layer else list(LAYERS)
    from lake.access import job_settings

    settings, role = job_settings(settings, layers)
    if role:
        _say(f"Running under the MinIO role '{role}' (policy/minio-roles.yaml).")
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


def cmd_config(settings: Settings, args: argparse.Namespace) -> int:
    def redact(obj: Any) -> Any:
        if is_dataclass(obj):
            return {
                f.name: (
                    "***"
                    if f.name.endswith("_key") and getattr(obj, f.name)
                    else redact(getattr(obj, f.name))
                )
                for f in fields(obj)
            }
        if isinstance(obj, Path):
            return str(obj)
        if isinstance(obj, dict):
            return dict(obj)
        return obj

    data = redact(settings)
    data["endpoint"] = settings.endpoint
    print_json(data)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lake",
        description="meae-datalake: Delta tables on MinIO, processed by Spark, with quality "
        "reviews and lineage.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--config", type=Path, help="settings file (default: lake.toml, or $LAKE_CONFIG)"
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(
        name: str,
        func: Callable[[Settings, argparse.Namespace], int],
        help_: str,
        json_flag: bool = False,
    ) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(func=func)
        if json_flag:
            p.add_argument("--json", action="store_true", help="machine-readable output")
        return p

    p = add("up", cmd_up, "start the local MinIO server and create the lake bucket", True)
    p.add_argument("--port", type=int, help="S3 port (0: a free port); default minio.port")
    add(
        "init",
        cmd_init,
        "create the lake bucket on the configured object store (a MinIO or S3 that "
        "`lake up` did not start, e.g. in docker-compose)",
    )
    add("down", cmd_down, "stop the MinIO server started by `lake up`")
    add(
        "status",
        cmd_status,
        "where the lake is and whether its server runs (exit 3 when not running)",
        True,
    )
    add(
        "doctor",
        cmd_doctor,
        "check every piece the lake needs; one line per problem with the fix",
        True,
    )
    add("config", cmd_config, "print the effective settings (credentials redacted)")
    p = add(
        "setup", cmd_setup, "fetch the Spark jars (Maven) and build MinIO (Go) into the user cache"
    )
    p.add_argument(
        "what",
        nargs="?",
        choices=("jars", "minio", "all", "compose-cli"),
        default="all",
        help="all = jars + minio; compose-cli builds docker compose (only to check the "
        "compose file)",
    )
    p = add(
        "submit", cmd_submit, "run a job with spark-submit and the lake's jars and configuration"
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
    p = add(
        "run",
        cmd_run,
        "ingest the inbox: landing -> bronze -> silver -> gold, with progress and a summary",
        True,
    )
    p.add_argument("--source", action="append", help="source id (repeatable; default: all)")
    p.add_argument("--layer", choices=PIPELINE_LAYERS, help="only this layer")
    p.add_argument("--file", action="append", type=Path, help="deliver this file (one source)")
    p = add("runs", cmd_runs, "the run log: counts per batch and layer (read without Spark)", True)
    p.add_argument("--source", help="only this source")
    p.add_argument("--limit", type=int, default=50, help="newest N rows (default 50)")
    p = add("generate", cmd_generate, "write realistic silo extracts (seeded) to ingest")
    p.add_argument("--rows", type=int, default=1000, help="data lines per file (default 1000)")
    p.add_argument("--seed", type=int, default=2021, help="random seed (default 2021)")
    p.add_argument("--out", type=Path, help="output directory (default var/inbox)")
    p.add_argument("--source", action="append", help="source id (repeatable; default: all)")
    p = add(
        "cluster",
        cmd_cluster,
        "a local Spark standalone master + worker on 127.0.0.1 (to run jobs as on a cluster)",
    )
    p.add_argument("action", choices=("up", "down", "status"))
    from app.cli import access, audit, bench, governance, lifecycle, locks, quality, reports

    for module in (quality, governance, reports, lifecycle, audit, locks, access, bench):
        module.register(sub)
    p = add("inspect", cmd_inspect, "read a table without Spark (delta-rs + S3 listing)", True)
    p.add_argument("table", help="LAYER/NAME, e.g. bronze/smoke")
    p.add_argument("--version", type=int, help="time travel to this version")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``lake`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings(args.config)
        return int(args.func(settings, args))
    except LakeError as exc:
        if args.debug:
            raise
        print(f"lake {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"lake {args.command}: interrupted", file=sys.stderr)
        return 130


def console() -> None:
    """The ``lake`` console script: :func:`main`, then an exit that native teardown cannot
    turn into a crash (see :mod:`lake.shutdown`)."""
    from lake.shutdown import exit_now

    try:
        code = main()
    except SystemExit as done:  # --help, argparse errors
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 2)
        if isinstance(done.code, str):
            print(done.code, file=sys.stderr)
    exit_now(code)


if __name__ == "__main__":
    console()
