"""The catalog's database: a private PostgreSQL cluster holding the Hive metastore.

Every Spark driver of the lake (jobs, ``lake sql``, ``spark-sql``, the tests) runs Spark's built-in
Hive metastore client against one PostgreSQL database, so a table registered by one job is found
by name by every other (decision 0011, docs/catalog.md). This module runs that database the way
:mod:`lake.minio_server` runs MinIO: ``lake up`` creates a cluster under ``catalog.data_dir`` once
(``initdb``, Debian's ``postgresql`` package), starts ``postgres`` on ``catalog.host:port``
(loopback, TCP only, password logins), waits until it accepts the lake's login and records
``{pid, url, ...}`` in ``catalog.state_file``; ``lake down`` stops it by that pid.

PostgreSQL refuses to run as root: when the lake runs as root the server runs as
``catalog.os_user`` (Debian's ``postgres``), which then owns the data directory. The login and
password are generated once into ``catalog.credentials_file`` (mode 600), or come from
``LAKE__CATALOG__USER`` / ``LAKE__CATALOG__PASSWORD``; with ``catalog.url`` set the lake uses that
database and starts nothing.
"""

from __future__ import annotations

import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from lake.errors import CatalogError
from lake.processes import alive, free_port, stop_pid
from lake.processes import die_with_parent as die_with_parent_hook
from lake.settings import Settings

DEFAULT_USER = "lake_metastore"
INSTALL_FIX = "install PostgreSQL (`make postgres`, i.e. apt-get install postgresql)"


@dataclass(frozen=True)
class MetastoreState:
    """What is known of a running metastore database."""

    pid: int
    url: str
    host: str
    port: int
    database: str
    data_dir: str
    log_file: str
    started_at: str


@dataclass(frozen=True)
class Connection:
    """How Spark's Hive client logs in to the metastore database."""

    url: str
    user: str
    password: str


def postgres_bindir() -> Path:
    """The directory of ``initdb``, ``postgres`` and ``psql`` (Debian: the newest installed).

    Raises:
        CatalogError: PostgreSQL is not installed.
    """
    debian = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if debian:
        return debian[-1].parent
    found = shutil.which("postgres") or shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    raise CatalogError(
        "PostgreSQL is not installed; the catalog (Hive metastore) keeps its tables in it.",
        fix=INSTALL_FIX,
    )


def ensure_credentials(path: Path) -> tuple[str, str]:
    """The ``(user, password)`` stored in ``path``, generated (mode 0600) when missing."""
    if path.is_file():
        return read_credentials(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"user": DEFAULT_USER, "password": password}, fh)
    return DEFAULT_USER, password


def read_credentials(path: Path) -> tuple[str, str]:
    """Read ``(user, password)`` from a metastore credentials file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return str(data["user"]), str(data["password"])
    except (OSError, ValueError, KeyError) as exc:
        raise CatalogError(
            f"Metastore credentials file {path} is unreadable or incomplete ({exc}).",
            fix="delete it and var/metastore, then run `lake up` again",
            path=path,
        ) from exc


def jdbc_url(host: str, port: int, database: str) -> str:
    """The JDBC URL of a PostgreSQL database."""
    return f"jdbc:postgresql://{host}:{port}/{database}"


def connection(settings: Settings) -> Connection | None:
    """How Spark reaches the metastore, or None when the lake runs without a catalog.

    ``catalog.url`` wins; else the local database ``lake up`` recorded in ``catalog.state_file``.
    The login comes from ``catalog.user``/``password`` (environment), else the credentials file.
    """
    catalog = settings.catalog
    if not catalog.enabled:
        return None
    url = catalog.url
    if not url:
        state = read_state(settings)
        if state is None:
            return None
        url = state.url
    user, password = catalog.user, catalog.password
    if not (user and password):
        if not catalog.credentials_file.is_file():
            raise CatalogError(
                f"No login for the metastore database {url}: "
                f"{catalog.credentials_file} is missing.",
                fix="set LAKE__CATALOG__USER and LAKE__CATALOG__PASSWORD, or run `lake up`",
                path=catalog.credentials_file,
            )
        file_user, file_password = read_credentials(catalog.credentials_file)
        user, password = user or file_user, password or file_password
    return Connection(url=url, user=user, password=password)


def _run_as(os_user: str) -> str | None:
    """The account the server runs as: ``os_user`` when we are root, else ourselves."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(os_user)
    except KeyError as exc:
        raise CatalogError(
            f"PostgreSQL refuses to run as root and the account '{os_user}' does not exist.",
            fix=f"{INSTALL_FIX} (it creates 'postgres'), or set catalog.os_user",
        ) from exc
    return os_user


def _chown(path: Path, user: str | None) -> None:
    if user is not None:
        shutil.chown(path, user=user, group=pwd.getpwnam(user).pw_gid)


def init_cluster(data_dir: Path, *, user: str, password: str, os_user: str) -> None:
    """Create a cluster in ``data_dir`` (no-op if one is there), superuser ``user``."""
    if (data_dir / "PG_VERSION").is_file():
        return
    run_as = _run_as(os_user)
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    _chown(data_dir, run_as)
    with tempfile.TemporaryDirectory() as tmp:
        pwfile = Path(tmp) / "pw"
        pwfile.write_text(password + "\n", encoding="utf-8")
        _chown(Path(tmp), run_as)
        _chown(pwfile, run_as)
        result = subprocess.run(
            [
                str(postgres_bindir() / "initdb"),
                "-D",
                str(data_dir),
                "-U",
                user,
                f"--pwfile={pwfile}",
                "--auth=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
            capture_output=True,
            text=True,
            check=False,
            user=run_as,
            cwd=tmp,
        )
    if result.returncode != 0:
        raise CatalogError(
            f"initdb failed in {data_dir}: {result.stderr.strip()[-300:]}",
            fix=f"check that {data_dir} and its parents are reachable by '{run_as or 'you'}'",
            path=data_dir,
        )


def start(
    *,
    data_dir: Path,
    host: str,
    port: int,
    database: str,
    user: str,
    password: str,
    log_file: Path,
    os_user: str = "postgres",
    timeout_s: float = 30.0,
    die_with_parent: bool = False,
) -> MetastoreState:
    """Create (once) and start a private PostgreSQL cluster, with ``database`` in it.

    Raises:
        CatalogError: PostgreSQL is missing, the port is taken, or the server never answered.
    """
    bindir = postgres_bindir()
    init_cluster(data_dir, user=user, password=password, os_user=os_user)
    run_as = _run_as(os_user)
    port = port or free_port(host)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        if probe.connect_ex((host, port)) == 0:
            raise CatalogError(
                f"Port {host}:{port} is already in use, so the metastore database cannot "
                "listen there.",
                fix="stop what listens there (`lake down`), or set LAKE__CATALOG__PORT=0",
            )
    log_file.parent.mkdir(parents=True, exist_ok=True)
    url = jdbc_url(host, port, database)
    with open(log_file, "ab") as log:
        proc = subprocess.Popen(
            [
                str(bindir / "postgres"),
                "-D",
                str(data_dir),
                "-h",
                host,
                "-p",
                str(port),
                "-k",
                "",  # no Unix socket: TCP on loopback only, with passwords
                "-c",
                "max_connections=50",
                "-c",
                "fsync=on",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            user=run_as,
            start_new_session=not die_with_parent,
            preexec_fn=die_with_parent_hook if die_with_parent else None,
        )
    env = dict(os.environ, PGPASSWORD=password, PGCONNECT_TIMEOUT="2")
    psql = [str(bindir / "psql"), "-h", host, "-p", str(port), "-U", user, "-X", "-q", "-tA"]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise CatalogError(
                f"PostgreSQL exited with code {proc.returncode} while starting on {host}:{port}; "
                f"last log lines: {_tail(log_file)}",
                fix=f"read {log_file}",
                path=log_file,
            )
        ready = subprocess.run(
            [*psql, "-d", "postgres", "-c", "SELECT 1"], env=env, capture_output=True, check=False
        )
        if ready.returncode == 0:
            _create_database(psql, env, database)
            return MetastoreState(
                pid=proc.pid,
                url=url,
                host=host,
                port=port,
                database=database,
                data_dir=str(data_dir),
                log_file=str(log_file),
                started_at=datetime.now(UTC).isoformat(timespec="seconds"),
            )
        time.sleep(0.2)
    stop_pid(proc.pid)
    raise CatalogError(
        f"PostgreSQL did not accept logins on {host}:{port} within {timeout_s:.0f} s.",
        fix=f"read {log_file}; a cluster made with another login (credentials file deleted) "
        f"refuses this one: delete {data_dir} to start afresh (the catalog only, not data)",
        path=log_file,
    )


def _create_database(psql: list[str], env: dict[str, str], database: str) -> None:
    found = subprocess.run(
        [*psql, "-d", "postgres", "-c", f"SELECT 1 FROM pg_database WHERE datname = '{database}'"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if found.stdout.strip() == "1":
        return
    created = subprocess.run(
        [*psql, "-d", "postgres", "-c", f'CREATE DATABASE "{database}"'],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if created.returncode != 0:
        raise CatalogError(f"Could not create the database {database}: {created.stderr.strip()}")


def _tail(path: Path, lines: int = 3) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return "(no log)"


def read_state(settings: Settings) -> MetastoreState | None:
    """The recorded state of the local metastore database, if any."""
    path = settings.catalog.state_file
    if not path.is_file():
        return None
    try:
        return MetastoreState(**json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def is_running(state: MetastoreState) -> bool:
    """True when the recorded server process is alive."""
    return alive(state.pid)


def up(settings: Settings) -> MetastoreState | None:
    """Start the local metastore database (no-op when running; None when the catalog is off
    or ``catalog.url`` points to a database the lake does not run)."""
    catalog = settings.catalog
    if not catalog.enabled or catalog.url:
        return None
    state = read_state(settings)
    if state is not None and is_running(state):
        return state
    if catalog.user and catalog.password:
        user, password = catalog.user, catalog.password
    else:
        user, password = ensure_credentials(catalog.credentials_file)
    state = start(
        data_dir=catalog.data_dir,
        host=catalog.host,
        port=catalog.port,
        database=catalog.database,
        user=user,
        password=password,
        log_file=catalog.log_file,
        os_user=catalog.os_user,
        timeout_s=catalog.start_timeout_s,
    )
    catalog.state_file.parent.mkdir(parents=True, exist_ok=True)
    catalog.state_file.write_text(json.dumps(asdict(state), indent=2), encoding="utf-8")
    return state


def stop(pid: int) -> bool:
    """Stop a PostgreSQL server: SIGINT (fast shutdown: connected drivers are disconnected, the
    data is flushed), then what :func:`lake.processes.stop_pid` does; True if it was running."""
    try:
        os.kill(pid, signal.SIGINT)
    except ProcessLookupError:
        return False
    return stop_pid(pid)


def down(settings: Settings) -> MetastoreState | None:
    """Stop the local metastore database; the recorded state, or None if none was recorded."""
    state = read_state(settings)
    if state is None:
        return None
    stop(state.pid)
    settings.catalog.state_file.unlink(missing_ok=True)
    return state
