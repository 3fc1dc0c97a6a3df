"""The lake's toolchain caches: Spark jars fetched with Maven, the MinIO binary built with Go.

Both live in the user cache directory (``$LAKE_CACHE_DIR``, else
``$XDG_CACHE_HOME/meae-datalake``, else ``~/.cache/meae-datalake``), never in the repository,
so a fresh clone (CI) reuses them and a second ``make`` starts in seconds.

- Jars: ``jvm/pom.xml`` is the one declaration. ``fetch_jars`` runs Maven into a private local
  repository ``<cache>/m2`` and records the resolved classpath in
  ``<cache>/jars/<pom-hash>.classpath``; a changed pom gives a new hash, hence a new fetch.
- MinIO: ``build_minio`` runs ``go install github.com/minio/minio@<pinned pseudo-version>`` with
  ``GOBIN``, ``GOMODCACHE`` and ``GOCACHE`` inside the cache (the community edition is source-only).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from lake.errors import ToolchainError
from lake.settings import Settings

MINIO_MODULE = "github.com/minio/minio"
# docker compose v2, built only to check docker-compose.yml with `docker compose config` where the
# docker client has no compose plugin (our build machines). Not needed to run the lake.
COMPOSE_MODULE = "github.com/docker/compose/v2"
COMPOSE_VERSION = "v2.40.3"
_POM_NS = {"m": "http://maven.apache.org/POM/4.0.0"}

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def cache_dir() -> Path:
    """The user cache directory holding jars, the MinIO binary and the Go caches."""
    explicit = os.environ.get("LAKE_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser().resolve()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser().resolve() / "meae-datalake"


@contextmanager
def _cache_lock(name: str) -> Iterator[None]:
    """Serialise builds of one cache entry across processes (two clones running `make`)."""
    locks = cache_dir() / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    with open(locks / f"{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def pom_path(settings: Settings) -> Path:
    """The Maven file declaring the JVM dependencies."""
    return settings.root / "jvm" / "pom.xml"


def _pom_hash(pom: Path) -> str:
    return hashlib.sha256(pom.read_bytes()).hexdigest()[:16]


def classpath_file(settings: Settings) -> Path:
    """Where the resolved jar list for the current ``pom.xml`` is recorded."""
    pom = pom_path(settings)
    if not pom.is_file():
        raise ToolchainError(
            f"The JVM dependency file {pom} is missing.",
            fix="run from a checkout of meae-datalake, or set LAKE_HOME to one",
            path=pom,
        )
    return cache_dir() / "jars" / f"{_pom_hash(pom)}.classpath"


def spark_jars(settings: Settings) -> list[Path]:
    """The jars every SparkSession and spark-submit puts on its classpath.

    ``spark.jars_dir`` (for images that copy jars in place) wins over the Maven cache.

    Raises:
        ToolchainError: The jars were never fetched, or a cached jar disappeared.
    """
    if settings.spark.jars_dir is not None:
        jars = sorted(settings.spark.jars_dir.glob("*.jar"))
        if not jars:
            raise ToolchainError(
                f"spark.jars_dir {settings.spark.jars_dir} holds no jar.",
                fix="copy the jars there (mvn -f jvm/pom.xml dependency:copy-dependencies) or "
                "unset spark.jars_dir to use the Maven cache",
                path=settings.spark.jars_dir,
            )
        return jars
    listing = classpath_file(settings)
    if not listing.is_file():
        raise ToolchainError(
            f"The Spark jars (Delta, S3A, OpenLineage) are not fetched: {listing} is missing.",
            fix="run `make jars` (or `lake setup jars`)",
            path=listing,
        )
    jars = [Path(p) for p in listing.read_text(encoding="utf-8").split(os.pathsep) if p.strip()]
    missing = [j for j in jars if not j.is_file()]
    if missing:
        raise ToolchainError(
            f"{len(missing)} cached jar(s) disappeared, first {missing[0]}.",
            fix=f"delete {listing} and run `make jars`",
            path=missing[0],
        )
    return jars


def maven_coordinates(settings: Settings) -> list[str]:
    """``group:artifact:version`` of the direct dependencies, for ``spark-submit --packages``."""
    tree = ET.parse(pom_path(settings))
    props = {
        el.tag.split("}")[1]: (el.text or "").strip()
        for el in tree.getroot().findall("m:properties/*", _POM_NS)
    }
    coords = []
    for dep in tree.getroot().findall("m:dependencies/m:dependency", _POM_NS):
        parts = [
            (dep.findtext(f"m:{k}", "", _POM_NS) or "").strip()
            for k in ("groupId", "artifactId", "version")
        ]
        if parts[2].startswith("${"):
            parts[2] = props.get(parts[2][2:-1], parts[2])
        coords.append(":".join(parts))
    return coords


def fetch_jars(settings: Settings, *, progress: Progress = _quiet) -> list[Path]:
    """Fetch the jars of ``jvm/pom.xml`` with Maven into the cache (no-op when already there)."""
    with _cache_lock("jars"):
        return _fetch_jars(settings, progress=progress)


def _fetch_jars(settings: Settings, *, progress: Progress = _quiet) -> list[Path]:
    try:
        return spark_jars(settings)
    except ToolchainError:
        if settings.spark.jars_dir is not None:
            raise
    mvn = shutil.which("mvn")
    if mvn is None:
        raise ToolchainError(
            "Maven (mvn) is not installed; it fetches the Spark jars.",
            fix="install Maven (apt-get install maven) and run `make jars` again",
        )
    listing = classpath_file(settings)
    listing.parent.mkdir(parents=True, exist_ok=True)
    tmp = listing.with_suffix(".tmp")
    progress(f"Fetching Spark jars with Maven into {cache_dir() / 'm2'} (about 610 MB once)...")
    cmd = [
        mvn,
        "-B",
        "-q",
        "-f",
        str(pom_path(settings)),
        f"-Dmaven.repo.local={cache_dir() / 'm2'}",
        "dependency:build-classpath",
        "-DincludeScope=runtime",
        f"-Dmdep.outputFile={tmp}",
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0 or not tmp.is_file():
        tail = (result.stdout + result.stderr).strip().splitlines()[-5:]
        raise ToolchainError(
            "Maven could not fetch the Spark jars: " + " | ".join(tail),
            fix="check that Maven Central is reachable, then run `make jars` again",
        )
    tmp.replace(listing)
    jars = spark_jars(settings)
    progress(f"{len(jars)} jars ready ({sum(j.stat().st_size for j in jars) / 1e6:.0f} MB).")
    return jars


def minio_binary(settings: Settings) -> Path:
    """Where the MinIO binary is: ``minio.binary``, else the cache entry of the pinned version."""
    if settings.minio.binary is not None:
        return settings.minio.binary
    return cache_dir() / "minio" / settings.minio.version / "minio"


def build_minio(settings: Settings, *, progress: Progress = _quiet) -> Path:
    """Build the pinned MinIO from source with ``go install`` into the cache (no-op when built)."""
    with _cache_lock("minio"):
        return _build_minio(settings, progress=progress)


def _build_minio(settings: Settings, *, progress: Progress = _quiet) -> Path:
    binary = minio_binary(settings)
    if binary.is_file() and os.access(binary, os.X_OK):
        return binary
    if settings.minio.binary is not None:
        raise ToolchainError(
            f"minio.binary points to {binary}, which is not an executable file.",
            fix="fix minio.binary, or unset it to build MinIO into the cache with `make minio`",
            path=binary,
        )
    go = shutil.which("go")
    if go is None:
        raise ToolchainError(
            "Go is not installed; the MinIO community edition is built from source with it.",
            fix="install Go >= 1.24 (https://go.dev/doc/install) and run `make minio` again",
        )
    staging = binary.parent / "staging"
    staging.mkdir(parents=True, exist_ok=True)
    env = dict(_go_env(), GOBIN=str(staging))
    target = f"{MINIO_MODULE}@{settings.minio.version}"
    progress(
        f"Building MinIO {settings.minio.version} from source (go install {target}); "
        "about 10 minutes the first time, cached afterwards..."
    )
    result = subprocess.run(
        [go, "install", target],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=cache_dir(),
    )
    built = staging / "minio"
    if result.returncode != 0 or not built.is_file():
        tail = result.stderr.strip().splitlines()[-5:]
        raise ToolchainError(
            f"`go install {target}` failed: " + " | ".join(tail),
            fix="check that the Go module proxy is reachable (or set GOSUMDB=off if only "
            "sum.golang.org is not), then run `make minio` again",
        )
    built.replace(binary)
    staging.rmdir()
    progress(f"MinIO built: {binary}")
    return binary


def _go_env() -> dict[str, str]:
    gocache = cache_dir() / "go"
    return dict(
        os.environ,
        GOMODCACHE=str(gocache / "mod"),
        GOCACHE=str(gocache / "build"),
        CGO_ENABLED="0",
        GOFLAGS="-buildvcs=false",
    )


def compose_binary() -> Path:
    """Where the docker compose v2 binary built by :func:`build_compose` lives."""
    return cache_dir() / "compose" / COMPOSE_VERSION / "docker-compose"


def build_compose(*, progress: Progress = _quiet) -> Path:
    """Build docker compose v2 from source into the cache (no-op when built).

    ``go install`` refuses the module (its go.mod has ``exclude`` directives), so the module
    is downloaded and built as a main module from a private copy.
    """
    with _cache_lock("compose"):
        return _build_compose(progress=progress)


def _build_compose(*, progress: Progress = _quiet) -> Path:
    binary = compose_binary()
    if binary.is_file():
        return binary
    go = shutil.which("go")
    if go is None:
        raise ToolchainError(
            "Go is not installed; it builds docker compose.",
            fix="install Go >= 1.24, then run `make compose-cli`",
        )
    env = _go_env()
    target = f"{COMPOSE_MODULE}@{COMPOSE_VERSION}"
    progress(f"Building docker compose {COMPOSE_VERSION} from source (about 4 minutes once)...")
    download = subprocess.run(
        [go, "mod", "download", "-json", target],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if download.returncode != 0:
        raise ToolchainError(
            f"`go mod download {target}` failed: {download.stdout[-300:]}",
            fix="check that the Go module proxy is reachable",
        )
    source = Path(json.loads(download.stdout)["Dir"])
    workdir = binary.parent / "src"
    shutil.rmtree(workdir, ignore_errors=True)
    shutil.copytree(source, workdir)
    for path in (workdir, *workdir.rglob("*")):
        path.chmod(path.stat().st_mode | 0o200)
    flags = f"-X {COMPOSE_MODULE}/internal.Version={COMPOSE_VERSION}"
    tmp = binary.with_suffix(".tmp")
    result = subprocess.run(
        [go, "build", "-trimpath", "-ldflags", flags, "-o", str(tmp), "./cmd"],
        env=env,
        cwd=workdir,
        capture_output=True,
        text=True,
        check=False,
    )
    shutil.rmtree(workdir, ignore_errors=True)
    if result.returncode != 0:
        tail = " | ".join(result.stderr.strip().splitlines()[-5:])
        raise ToolchainError(
            f"Building docker compose failed: {tail}",
            fix="check the Go module proxy, then run `make compose-cli`",
        )
    tmp.replace(binary)
    progress(f"docker compose built: {binary}")
    return binary
