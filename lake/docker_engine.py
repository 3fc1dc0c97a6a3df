"""A private Docker engine and the images the compose demo needs, built without any registry.

Our build machines run no Docker engine and reach no image registry (``../shared/DOCKER.md``).
This module starts Debian's ``dockerd`` with every piece of its state in the user cache
(``<cache>/docker``: data root, exec root, socket, pid file, log), builds the base image
``debian:bookworm-slim`` with ``debootstrap`` (the host's extra certificate authorities copied in
before the import, so TLS through the machine's proxy works inside build steps; they never enter
the repository), and an *artifacts* image holding what ``make jars`` and ``make minio`` already
built in the cache (the Spark jars, the MinIO binary), which the lake and MinIO Dockerfiles copy
from. Each image is built once and reused: a warm run finds them and builds nothing.

``docker compose`` is the v2 plugin :func:`lake.toolchain.build_compose` builds from source;
:func:`docker_env` points ``DOCKER_CONFIG`` at a directory whose ``cli-plugins/`` holds it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from lake.errors import ToolchainError
from lake.processes import alive, stop_pid
from lake.settings import Settings
from lake.toolchain import Progress, _quiet, cache_dir, compose_binary, minio_binary, spark_jars

BASE_IMAGE = "debian:bookworm-slim"
ARTIFACTS_REPO = "meae-datalake/artifacts"
HOST_CA_DIR = Path("/usr/local/share/ca-certificates")
_ARTIFACTS_DOCKERFILE = """\
# What `make jars` and `make minio` built in the user cache, for the lake and MinIO images.
FROM debian:bookworm-slim
COPY jars/ /artifacts/jars/
COPY minio /artifacts/minio
"""


@dataclass(frozen=True)
class Engine:
    """A reachable Docker engine; ``pid`` is set when this process started it."""

    host: str
    pid: int | None = None


def docker_dir() -> Path:
    """Where the private engine keeps its state (never inside the repository)."""
    return cache_dir() / "docker"


def engine_host() -> str:
    """``DOCKER_HOST`` of the private engine: a socket in the cache."""
    return f"unix://{docker_dir() / 'docker.sock'}"


def docker_env(host: str | None = None) -> dict[str, str]:
    """The environment for ``docker`` and ``docker compose`` against the private engine.

    The classic builder is forced (``DOCKER_BUILDKIT=0``): buildx is not installed here.
    """
    plugins = docker_dir() / "config" / "cli-plugins"
    plugins.mkdir(parents=True, exist_ok=True)
    link = plugins / "docker-compose"
    built = compose_binary()
    if built.is_file() and (not link.exists() or link.resolve() != built.resolve()):
        link.unlink(missing_ok=True)
        link.symlink_to(built)
    env = dict(os.environ)
    env.update(
        {
            "DOCKER_HOST": host or os.environ.get("DOCKER_HOST") or engine_host(),
            "DOCKER_CONFIG": str(plugins.parent),
            "DOCKER_BUILDKIT": "0",
        }
    )
    return env


def _docker(*args: str, env: dict[str, str], timeout: float = 120.0) -> subprocess.CompletedProcess:
    docker = shutil.which("docker")
    if docker is None:
        raise ToolchainError(
            "The docker client is not installed.",
            fix="apt-get install -y docker.io debootstrap (or `make docker-engine`)",
        )
    return subprocess.run(
        [docker, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def engine_answers(host: str) -> bool:
    """True when the engine at ``host`` answers ``docker version``."""
    try:
        return _docker("version", env=docker_env(host), timeout=20).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def start_engine(*, timeout_s: float = 60.0, progress: Progress = _quiet) -> Engine:
    """Reach a Docker engine: ``$DOCKER_HOST`` or the private one if it answers, else start it.

    Returns:
        The engine; its ``pid`` is set only when this call started ``dockerd`` (stop it with
        :func:`stop_engine`).

    Raises:
        ToolchainError: ``dockerd`` is missing or did not answer within ``timeout_s``.
    """
    for host in (os.environ.get("DOCKER_HOST"), engine_host()):
        if host and engine_answers(host):
            return Engine(host=host)
    dockerd = shutil.which("dockerd")
    if dockerd is None:
        raise ToolchainError(
            "No Docker engine answers and dockerd is not installed.",
            fix="apt-get install -y docker.io debootstrap (or `make docker-engine`)",
        )
    state = docker_dir()
    state.mkdir(parents=True, exist_ok=True)
    log = state / "dockerd.log"
    progress(f"Starting a private Docker engine (state in {state})...")
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [
                dockerd,
                "--storage-driver=overlay2",
                "--data-root",
                str(state / "data"),
                "--exec-root",
                str(state / "exec"),
                "--pidfile",
                str(state / "dockerd.pid"),
                "--host",
                engine_host(),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        if engine_answers(engine_host()):
            return Engine(host=engine_host(), pid=proc.pid)
        time.sleep(1)
    if proc.poll() is None:
        stop_pid(proc.pid)
    tail = log.read_text(errors="replace")[-1500:]
    raise ToolchainError(
        f"The private Docker engine did not start within {timeout_s:.0f}s: {tail}",
        fix=f"read {log}; the engine needs root, overlay2 and iptables",
        path=log,
    )


def stop_engine(engine: Engine) -> None:
    """Stop ``dockerd`` if :func:`start_engine` started it (its containers stop with it)."""
    if engine.pid is not None and alive(engine.pid):
        stop_pid(engine.pid, timeout_s=30.0)


def image_exists(name: str, env: dict[str, str]) -> bool:
    """True when the engine holds the image ``name``."""
    return _docker("image", "inspect", name, env=env).returncode == 0


def ensure_base_image(env: dict[str, str], *, progress: Progress = _quiet) -> bool:
    """Build ``debian:bookworm-slim`` with debootstrap and import it, unless the engine has it.

    Returns:
        True when the image was built by this call.
    """
    if image_exists(BASE_IMAGE, env):
        return False
    debootstrap = shutil.which("debootstrap")
    if debootstrap is None:
        raise ToolchainError(
            "debootstrap is not installed; it builds the base image without a registry.",
            fix="apt-get install -y debootstrap (or `make docker-engine`)",
        )
    progress(f"Building {BASE_IMAGE} with debootstrap (about a minute, once)...")
    with tempfile.TemporaryDirectory(dir=docker_dir(), prefix="rootfs-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        run = subprocess.run(
            [
                debootstrap,
                "--variant=minbase",
                "--include=ca-certificates",
                "bookworm",
                str(rootfs),
                _debian_mirror(),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if run.returncode != 0:
            raise ToolchainError(
                f"debootstrap failed: {(run.stdout + run.stderr)[-1500:]}",
                fix="check the Debian mirror in /etc/apt/sources.list.d/",
            )
        _configure_rootfs(rootfs)
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        docker = shutil.which("docker") or "docker"
        imported = subprocess.run(
            [docker, "import", "--change", 'CMD ["bash"]', "-", BASE_IMAGE],
            stdin=tar.stdout,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if tar.stdout is not None:
            tar.stdout.close()
        tar.wait()
        if imported.returncode != 0:
            raise ToolchainError(f"docker import failed: {imported.stderr[-1500:]}")
    return True


def _debian_mirror() -> str:
    for sources in sorted(Path("/etc/apt/sources.list.d").glob("*.sources")):
        for line in sources.read_text(encoding="utf-8").splitlines():
            if line.startswith("URIs:"):
                return line.split()[1]
    return "http://deb.debian.org/debian"


def _configure_rootfs(rootfs: Path) -> None:
    """The machine's extra CAs and apt sources (with security updates) into the root fs."""
    extra = rootfs / "usr/local/share/ca-certificates"
    extra.mkdir(parents=True, exist_ok=True)
    for ca in sorted(HOST_CA_DIR.glob("*.crt")) if HOST_CA_DIR.is_dir() else []:
        shutil.copy2(ca, extra / ca.name)
    subprocess.run(["chroot", str(rootfs), "update-ca-certificates"], capture_output=True)
    host_sources = sorted(Path("/etc/apt/sources.list.d").glob("debian.sources"))
    if host_sources:
        shutil.copy2(host_sources[0], rootfs / "etc/apt/sources.list.d/debian.sources")
        (rootfs / "etc/apt/sources.list").unlink(missing_ok=True)
    # what the official slim image does: no caches or docs kept by apt in image layers
    (rootfs / "etc/apt/apt.conf.d/docker-clean").write_text(
        'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb || true"; };\n'
        'Binary::apt::APT::Keep-Downloaded-Packages "false";\n'
    )
    shutil.rmtree(rootfs / "var/cache/apt/archives", ignore_errors=True)
    (rootfs / "var/cache/apt/archives/partial").mkdir(parents=True, exist_ok=True)


def artifacts_image(settings: Settings) -> str:
    """The artifacts image's tag: a digest of the cached jars' names and the MinIO version."""
    jars = spark_jars(settings)
    digest = hashlib.sha256(
        "\n".join([*(j.name for j in jars), settings.minio.version]).encode()
    ).hexdigest()[:12]
    return f"{ARTIFACTS_REPO}:{digest}"


def ensure_artifacts_image(
    settings: Settings, env: dict[str, str], *, progress: Progress = _quiet
) -> str:
    """Build the image of the cached jars and MinIO binary, unless the engine has it.

    Returns:
        Its tag, for the ``ARTIFACTS`` build argument of the lake and MinIO Dockerfiles.
    """
    tag = artifacts_image(settings)
    if image_exists(tag, env):
        return tag
    binary = minio_binary(settings)
    if not binary.is_file():
        raise ToolchainError(
            f"The MinIO binary is not built: {binary} is missing.",
            fix="run `make minio` (or `lake setup minio`)",
            path=binary,
        )
    jars = spark_jars(settings)
    progress(f"Building {tag} (the cached Spark jars and MinIO binary)...")
    with tempfile.TemporaryDirectory(dir=docker_dir(), prefix="context-") as tmp:
        context = Path(tmp)
        (context / "jars").mkdir()
        for jar in jars:
            _link(jar, context / "jars" / jar.name)
        _link(binary, context / "minio")
        (context / "Dockerfile").write_text(_ARTIFACTS_DOCKERFILE)
        built = _docker("build", "-q", "-t", tag, str(context), env=env, timeout=900)
    if built.returncode != 0:
        raise ToolchainError(f"Building {tag} failed: {built.stderr[-1500:]}")
    # earlier artifacts (another pom, another MinIO) are about 1 GB each: keep only this one
    listed = _docker("image", "ls", ARTIFACTS_REPO, "--format", "{{.Repository}}:{{.Tag}}", env=env)
    for old in set(listed.stdout.split()) - {tag}:
        _docker("image", "rm", old, env=env)
    return tag


def _link(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:  # another file system: copy
        shutil.copy2(source, target)


def prepare(settings: Settings, *, progress: Progress = _quiet) -> tuple[Engine, dict[str, str]]:
    """Engine up, base and artifacts images present: what ``docker compose build`` needs.

    Returns:
        The engine and the environment for ``docker compose`` (``LAKE_ARTIFACTS_IMAGE`` set).
    """
    engine = start_engine(progress=progress)
    try:
        env = docker_env(engine.host)
        ensure_base_image(env, progress=progress)
        env["LAKE_ARTIFACTS_IMAGE"] = ensure_artifacts_image(settings, env, progress=progress)
    except BaseException:
        stop_engine(engine)
        raise
    return engine, env
