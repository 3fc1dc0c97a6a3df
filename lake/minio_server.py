"""The local MinIO server: a real process on 127.0.0.1, started and stopped by the lake.

``lake up`` generates credentials once (a JSON file with mode 0600, never committed), starts the
binary built by :mod:`lake.toolchain` on the configured port (``0`` picks a free one), waits for
``/minio/health/live`` and records ``{pid, endpoint, ...}`` in ``minio.state_file`` so every later
command finds it. ``lake down`` stops it by that pid. Tests use :func:`start` directly with a
temporary data directory and ``die_with_parent=True`` so a killed pytest never leaves a server.

With ``minio.drives = N`` (2..16) the server erasure-codes every object over ``N`` directories
``data_dir/d1 .. data_dir/dN`` (MinIO's ellipsis syntax ``data_dir/d{1...N}``): one erasure set
with MinIO's default parity (1 for 2-3 drives, 2 for 4-5, 3 for 6-7, 4 from 8), so with 4 drives
(EC:2) any 2 can be lost without losing an object, and a wiped drive is healed back
(docs/reliability.md, "Durability").
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from lake.errors import ServerError
from lake.processes import alive, free_port, stop_pid
from lake.processes import die_with_parent as die_with_parent_hook
from lake.settings import Settings, read_credentials_file
from lake.toolchain import minio_binary


@dataclass(frozen=True)
class ServerState:
    """What is known of a running MinIO server."""

    pid: int
    endpoint: str
    console: str
    data_dir: str
    log_file: str
    started_at: str
    drives: int = 1


def ensure_credentials(path: Path) -> tuple[str, str]:
    """Return the credentials stored in ``path``, generating them (mode 0600) when missing."""
    if path.is_file():
        return read_credentials_file(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    access_key = "lake-" + secrets.token_hex(8)
    secret_key = secrets.token_urlsafe(30)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"access_key": access_key, "secret_key": secret_key}, fh)
    return access_key, secret_key


def write_compose_env(
    path: Path, credentials_file: Path, *, ports: dict[str, int] | None = None
) -> Path:
    """Write the ``.env`` docker-compose reads (mode 0600), with this project's credentials.

    The database passwords (Marquez's, the catalog's ``LAKE_METASTORE_DB_PASSWORD``), the
    pseudonymisation key (hex, 32 bytes: every lake container pseudonymises with it, so a rerun
    or another container gives the same pseudonyms), the web application's session key
    (``LAKE_SERVE_SECRET``) and its first account's password (``LAKE_SERVE_ADMIN_PASSWORD``) are
    generated once and kept across rewrites: a database volume keeps the password it was created
    with, and a new key would give everybody new pseudonyms (and sign everybody out).

    Args:
        path: The env file to write.
        credentials_file: The MinIO root credentials (generated when missing).
        ports: Host ports to publish, by variable (``LAKE_MINIO_PORT``, ``LAKE_REPORTS_PORT``,
            ...); the compose file defaults to the documented ports for any not given.
    """
    access_key, secret_key = ensure_credentials(credentials_file)
    previous = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition("=")
            previous[key.strip()] = value.strip()
    values = {
        "LAKE_MINIO_ACCESS_KEY": access_key,
        "LAKE_MINIO_SECRET_KEY": secret_key,
        "LAKE_MARQUEZ_DB_PASSWORD": previous.get("LAKE_MARQUEZ_DB_PASSWORD")
        or secrets.token_urlsafe(24),
        "LAKE_PSEUDONYMISATION_KEY": previous.get("LAKE_PSEUDONYMISATION_KEY")
        or secrets.token_hex(32),
        "LAKE_METASTORE_DB_PASSWORD": previous.get("LAKE_METASTORE_DB_PASSWORD")
        or secrets.token_urlsafe(24),
        "LAKE_SERVE_SECRET": previous.get("LAKE_SERVE_SECRET") or secrets.token_hex(32),
        "LAKE_SERVE_ADMIN_PASSWORD": previous.get("LAKE_SERVE_ADMIN_PASSWORD")
        or secrets.token_urlsafe(18),
    }
    for name in COMPOSE_PORTS:
        if ports and name in ports:
            values[name] = str(ports[name])
        elif previous.get(name):
            values[name] = previous[name]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("".join(f"{key}={value}\n" for key, value in values.items()))
    os.chmod(path, 0o600)
    return path


# The host ports docker-compose.yml publishes, each a variable with the documented default.
COMPOSE_PORTS = {
    "LAKE_MINIO_PORT": 9000,
    "LAKE_MINIO_CONSOLE_PORT": 9001,
    "LAKE_SPARK_UI_PORT": 8080,
    "LAKE_REPORTS_PORT": 8088,
    "LAKE_MARQUEZ_PORT": 5000,
    "LAKE_MARQUEZ_WEB_PORT": 3000,
}


MAX_DRIVES = 16  # MinIO's largest erasure set


def drive_dirs(data_dir: Path, drives: int) -> list[Path]:
    """The directories MinIO keeps objects in: ``data_dir`` itself, or ``data_dir/d1..dN``."""
    if drives == 1:
        return [data_dir]
    return [data_dir / f"d{i}" for i in range(1, drives + 1)]


def default_parity(drives: int) -> int:
    """MinIO's default parity shards for one erasure set of ``drives`` (0 without erasure coding).

    1 for 2-3 drives, 2 for 4-5, 3 for 6-7, 4 from 8 (MinIO's ``EC:N`` default by set size).
    """
    return 0 if drives <= 1 else min(4, drives // 2)


def bytes_stored_per_byte(drives: int) -> float:
    """Raw bytes MinIO writes per byte of data on ``drives``: ``drives / (drives - parity)``.

    1.0 for one directory; 2.0 for 4 drives (EC:2, 2 data + 2 parity shards); 16/12 for 16 drives
    (EC:4). The cost model's on-premises replication factor is this figure for the lake's layout.
    """
    return drives / (drives - default_parity(drives))


def server_args(data_dir: Path, drives: int) -> list[str]:
    """The drive arguments of ``minio server``: one path, or MinIO's ellipsis ``dir/d{1...N}``.

    Raises:
        ServerError: ``drives`` is not 1..16.
    """
    if not 1 <= drives <= MAX_DRIVES:
        raise ServerError(
            f"minio.drives is {drives}; expected 1 (one directory) or 2..{MAX_DRIVES} (erasure "
            "coding over that many drive directories).",
            fix="set minio.drives (LAKE__MINIO__DRIVES) to 1 or 4",
        )
    return [str(data_dir)] if drives == 1 else [f"{data_dir}/d{{1...{drives}}}"]


def health_live(endpoint: str, *, timeout: float = 2.0) -> bool:
    """True when ``GET {endpoint}/minio/health/live`` answers 200."""
    try:
        with urllib.request.urlopen(f"{endpoint}/minio/health/live", timeout=timeout) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def start(
    binary: Path,
    *,
    data_dir: Path,
    host: str,
    port: int,
    console_port: int,
    access_key: str,
    secret_key: str,
    log_file: Path,
    timeout_s: float = 30.0,
    die_with_parent: bool = False,
    drives: int = 1,
) -> ServerState:
    """Start a MinIO server process and wait until it is live.

    Args:
        binary: The ``minio`` executable.
        data_dir: Where MinIO keeps its objects (created if missing).
        host: Interface to listen on (loopback unless you mean otherwise).
        port: S3 API port; ``0`` picks a free port.
        console_port: Web console port; ``0`` picks a free port.
        access_key: Root user name.
        secret_key: Root password.
        log_file: MinIO's stdout and stderr.
        timeout_s: How long to wait for ``/minio/health/live``.
        die_with_parent: Ask the kernel to stop MinIO when this process dies (tests).
        drives: 1 for one directory; 2..16 for erasure coding over ``data_dir/d1..dN``.

    Raises:
        ServerError: The binary is missing, ``drives`` is out of range, the port is taken or
            the server never became live.
    """
    drive_args = server_args(data_dir, drives)
    _check_layout(data_dir, drives)
    if not binary.is_file():
        raise ServerError(
            f"The MinIO binary {binary} is missing.",
            fix="run `make minio` (builds it once)",
            path=binary,
        )
    port = port or free_port(host)
    console_port = console_port or free_port(host)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        if probe.connect_ex((host, port)) == 0:
            raise ServerError(
                f"Port {host}:{port} is already in use, so MinIO cannot listen there.",
                fix="stop what listens there (`lake down`), or set LAKE__MINIO__PORT=0 for a "
                "free port",
                endpoint=f"http://{host}:{port}",
            )
    for directory in drive_dirs(data_dir, drives):
        directory.mkdir(parents=True, exist_ok=True)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    env = dict(
        os.environ,
        MINIO_ROOT_USER=access_key,
        MINIO_ROOT_PASSWORD=secret_key,
        MINIO_BROWSER="on",
        MINIO_UPDATE="off",
        MINIO_CALLHOME_ENABLE="off",
    )
    if drives > 1:
        # MinIO refuses erasure-coded drives on the root filesystem (pointless for durability on
        # a real server). Here the "drives" are directories of one disk, to exercise erasure
        # coding and healing locally: declare only drives of at most 1 byte to be root drives.
        env.setdefault("MINIO_ROOTDRIVE_THRESHOLD_SIZE", "1")
    endpoint = f"http://{host}:{port}"
    with open(log_file, "ab") as log:
        proc = subprocess.Popen(
            [
                str(binary),
                "server",
                *drive_args,
                "--address",
                f"{host}:{port}",
                "--console-address",
                f"{host}:{console_port}",
                "--quiet",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=not die_with_parent,
            preexec_fn=die_with_parent_hook if die_with_parent else None,
        )
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServerError(
                f"MinIO exited with code {proc.returncode} while starting on {endpoint}; "
                f"last log lines: {_tail(log_file)}",
                fix=f"read {log_file}",
                endpoint=endpoint,
                path=log_file,
            )
        if health_live(endpoint, timeout=1.0):
            return ServerState(
                pid=proc.pid,
                endpoint=endpoint,
                console=f"http://{host}:{console_port}",
                data_dir=str(data_dir),
                log_file=str(log_file),
                started_at=datetime.now(UTC).isoformat(timespec="seconds"),
                drives=drives,
            )
        time.sleep(0.2)
    stop_pid(proc.pid)
    raise ServerError(
        f"MinIO did not become live on {endpoint} within {timeout_s:.0f} s.",
        fix=f"read {log_file}; raise minio.start_timeout_s on a slow disk",
        endpoint=endpoint,
        path=log_file,
    )


def _check_layout(data_dir: Path, drives: int) -> None:
    """Refuse to start a layout over data written with another one (MinIO would mix them)."""
    single = (data_dir / ".minio.sys").is_dir()
    multi = (data_dir / "d1" / ".minio.sys").is_dir()
    if (drives > 1 and single) or (drives == 1 and multi):
        found = "one drive" if single else "several drives (d1, d2...)"
        raise ServerError(
            f"{data_dir} holds a MinIO written with {found}, and minio.drives is {drives}.",
            fix="set minio.drives back, or point minio.data_dir to a new directory (copy the "
            "objects over with the S3 API; MinIO cannot convert a layout in place)",
            path=data_dir,
        )


def _tail(path: Path, lines: int = 3) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return "(no log)"


def read_state(settings: Settings) -> ServerState | None:
    """The recorded state of the server ``lake up`` started, if any."""
    path = settings.minio.state_file
    if not path.is_file():
        return None
    try:
        return ServerState(**json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def is_running(state: ServerState) -> bool:
    """True when the recorded process is alive and is a MinIO server."""
    if not alive(state.pid):
        return False
    try:
        cmdline = Path(f"/proc/{state.pid}/cmdline").read_bytes()
    except OSError:
        return True
    return b"minio" in cmdline


def up(settings: Settings) -> ServerState:
    """Start the project's MinIO (idempotent), create the lake bucket, record the state."""
    from lake.storage import ensure_bucket

    state = read_state(settings)
    if state is not None and is_running(state):
        fresh = settings.with_overrides({"storage": {"endpoint": state.endpoint}})
        ensure_bucket(fresh)
        return state
    access_key, secret_key = settings.storage.access_key, settings.storage.secret_key
    if settings.storage.role:  # the server's root user is never a role's account
        access_key = secret_key = ""
    if not (access_key and secret_key):
        access_key, secret_key = ensure_credentials(settings.storage.credentials_file)
    state = start(
        minio_binary(settings),
        data_dir=settings.minio.data_dir,
        host=settings.minio.host,
        port=settings.minio.port,
        console_port=settings.minio.console_port,
        access_key=access_key,
        secret_key=secret_key,
        log_file=settings.minio.log_file,
        timeout_s=settings.minio.start_timeout_s,
        drives=settings.minio.drives,
    )
    settings.minio.state_file.parent.mkdir(parents=True, exist_ok=True)
    settings.minio.state_file.write_text(json.dumps(asdict(state), indent=2), encoding="utf-8")
    fresh = settings.with_overrides(
        {
            "storage": {
                "endpoint": state.endpoint,
                "access_key": access_key,
                "secret_key": secret_key,
            }
        }
    )
    ensure_bucket(fresh)
    return state


def down(settings: Settings) -> ServerState | None:
    """Stop the project's MinIO if ``lake up`` started it; returns the state it had."""
    state = read_state(settings)
    if state is None:
        return None
    if is_running(state):
        stop_pid(state.pid)
    settings.minio.state_file.unlink(missing_ok=True)
    return state
