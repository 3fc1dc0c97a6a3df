"""``lake up / init / down / status / doctor / config / setup``: the lake's store and set-up.

What a user runs before any data moves: start or stop the local MinIO (``lake up``/``down``), create
the bucket on a store ``lake up`` did not start (``init``), see where the lake is and whether it
answers (``status``), check every piece it needs (``doctor``), print the effective settings
(``config``) and fill the user cache with the Spark jars and the MinIO binary (``setup``).

Registered by :func:`app.cli.main.build_parser`; heavy imports happen inside the commands, so
``lake status`` starts instantly.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict, fields, is_dataclass
from pathlib import Path
from typing import Any

from app.cli.commands import add_command, print_json
from lake.settings import Settings


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cmd_up(settings: Settings, args: argparse.Namespace) -> int:
    from lake.minio_server import is_running, read_state, up

    if args.port is not None:
        settings = settings.with_overrides({"minio": {"port": args.port}})
    before = read_state(settings)
    state = up(settings)
    if before is None or not is_running(before) or before.pid != state.pid:
        _apply_roles(settings, state.endpoint)
    _start_catalog(settings)
    if args.json:
        print_json(asdict(state))
    else:
        print(
            f"MinIO is up at {state.endpoint} (console {state.console}, pid {state.pid}); "
            f"bucket '{settings.storage.bucket}' ready; credentials in "
            f"{settings.storage.credentials_file}"
        )
    return 0


def _start_catalog(settings: Settings) -> None:
    """Start the catalog's database beside MinIO (tables by name, decision 0011)."""
    from lake.errors import CatalogError
    from lake.metastore import up as metastore_up

    try:
        meta = metastore_up(settings)
    except CatalogError as exc:  # MinIO is up: tables by path work, names wait for the fix
        _say(f"warning: the catalog did not start, tables are reachable by path only: {exc}")
        return
    if meta is not None:
        _say(
            f"Catalog (Hive metastore on PostgreSQL) is up at {meta.url} (pid {meta.pid}); "
            f"login in {settings.catalog.credentials_file}"
        )


def _apply_roles(settings: Settings, endpoint: str) -> None:
    """Install the roles on the MinIO ``lake up`` just started, as its root user.

    Jobs then run under their role by default (``storage.job_roles``, decision 0008); this and
    ``lake access apply`` are what the root keys are for.
    """
    from lake.access import apply, roles_file
    from lake.settings import read_credentials_file

    if settings.storage.role or not roles_file(settings).is_file():
        _say(f"No roles installed ({roles_file(settings)} missing or storage.role set).")
        return
    keys = (settings.storage.access_key, settings.storage.secret_key)
    if not all(keys):
        keys = read_credentials_file(settings.storage.credentials_file)
    admin = settings.with_overrides(
        {"storage": {"endpoint": endpoint, "access_key": keys[0], "secret_key": keys[1]}}
    )
    applied = apply(admin)
    _say(
        f"Roles installed ({', '.join(a.role for a in applied)}; `lake access apply`): "
        "jobs run under their role, not as root."
    )


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
    from lake.metastore import down as metastore_down

    meta = metastore_down(settings)
    if meta is not None:
        print(f"Catalog database stopped (pid {meta.pid}, {meta.url}).")
    return 0


def status_report(settings: Settings) -> dict[str, Any]:
    """What ``lake status --json`` prints."""
    from app.catalog_status import catalog_status
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
        "catalog": catalog_status(settings).as_dict(),
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
        print(f"catalog   {_catalog_line(report['catalog'])}")
    return 0 if report["running"] else 3


def _catalog_line(catalog: dict[str, Any]) -> str:
    from app.catalog_status import CatalogStatus

    status = CatalogStatus(**catalog)
    line = status.line() + (" (started by `lake up`)" if status.managed_by_lake_up else "")
    return line + (f" -> fix: {status.fix}" if status.fix and not status.reachable else "")


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
    if args.what == "docker":
        return _setup_docker(settings)
    return 0


def _setup_docker(settings: Settings) -> int:
    """Engine (private, left running), base and artifacts images; how to reach them."""
    from lake import docker_engine
    from lake.toolchain import build_compose

    build_compose(progress=_say)
    engine, env = docker_engine.prepare(settings, progress=_say)
    started = f"started (pid {engine.pid})" if engine.pid else "already running"
    images = f"{docker_engine.BASE_IMAGE} and {env['LAKE_ARTIFACTS_IMAGE']}"
    _say(f"Docker engine {started}; images {images} ready.")
    print(f"export DOCKER_HOST={env['DOCKER_HOST']} DOCKER_CONFIG={env['DOCKER_CONFIG']}")
    print(f"export LAKE_ARTIFACTS_IMAGE={env['LAKE_ARTIFACTS_IMAGE']} DOCKER_BUILDKIT=0")
    return 0


def cmd_config(settings: Settings, args: argparse.Namespace) -> int:
    def redact(obj: Any) -> Any:
        if is_dataclass(obj):
            return {
                f.name: (
                    "***"
                    if f.name.endswith(("_key", "password")) and getattr(obj, f.name)
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


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``lake up``, ``init``, ``down``, ``status``, ``doctor``, ``config`` and ``setup``."""
    p = add_command(
        sub, "up", cmd_up, "start the local MinIO server and create the lake bucket", True
    )
    p.add_argument("--port", type=int, help="S3 port (0: a free port); default minio.port")
    add_command(
        sub,
        "init",
        cmd_init,
        "create the lake bucket on the configured object store (a MinIO or S3 that "
        "`lake up` did not start, e.g. in docker-compose)",
    )
    add_command(sub, "down", cmd_down, "stop the MinIO server started by `lake up`")
    add_command(
        sub,
        "status",
        cmd_status,
        "where the lake is and whether its server runs (exit 3 when not running)",
        True,
    )
    add_command(
        sub,
        "doctor",
        cmd_doctor,
        "check every piece the lake needs; one line per problem with the fix",
        True,
    )
    add_command(sub, "config", cmd_config, "print the effective settings (credentials redacted)")
    p = add_command(
        sub,
        "setup",
        cmd_setup,
        "fetch the Spark jars (Maven) and build MinIO (Go) into the user cache",
    )
    p.add_argument(
        "what",
        nargs="?",
        choices=("jars", "minio", "all", "compose-cli", "docker"),
        default="all",
        help="all = jars + minio; compose-cli builds docker compose; docker starts a private "
        "Docker engine (state in the user cache) and builds the base and artifacts images "
        "(needs jars, minio and Debian's docker.io + debootstrap)",
    )
