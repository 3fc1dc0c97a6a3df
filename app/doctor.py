"""``lake doctor``: every piece the lake needs, checked, one line each with the fix.

Checks are independent and never raise: each returns a :class:`Check`. They go from the bottom of
the stack up (Python, Java, Python packages, jars, MinIO binary, credentials, server, bucket,
catalog), so the first failing line is usually the one to fix first.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import stat
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from io import BytesIO

from lake.errors import LakeError
from lake.settings import Settings

# distribution -> version the project is built and tested with (see pyproject.toml).
PINNED = {
    "pyspark": "4.0.1",
    "delta-spark": "4.0.1",
    "great-expectations": "1.24.1",
    "openlineage-python": "1.54.0",
    "minio": "7.2.20",
    "deltalake": "1.6.6",
    "pandas": "2.3.3",
}
SUPPORTED_JAVA = (17, 21)


@dataclass(frozen=True)
class Check:
    """The result of one check."""

    name: str
    ok: bool
    detail: str
    fix: str = ""

    def line(self) -> str:
        """One human-readable line."""
        mark = "ok  " if self.ok else "FAIL"
        text = f"[{mark}] {self.name:<14} {self.detail}"
        return f"{text} -> fix: {self.fix}" if not self.ok and self.fix else text


def check_python(_: Settings) -> Check:
    # The package itself requires >= 3.11, so reaching this line means the version is fine.
    version = ".".join(map(str, sys.version_info[:3]))
    return Check("python", True, f"Python {version} ({sys.executable})")


def check_java(_: Settings) -> Check:
    home = os.environ.get("JAVA_HOME")
    java = os.path.join(home, "bin", "java") if home else shutil.which("java")
    if not java or not os.path.exists(java):
        return Check(
            "java",
            False,
            "no java executable found (JAVA_HOME or PATH)",
            "install OpenJDK 17 (apt-get install openjdk-17-jdk-headless)",
        )
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Check("java", False, f"{java} -version failed: {exc}", "reinstall the JDK")
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    major = int(match.group(1)) if match else 0
    if major in SUPPORTED_JAVA:
        return Check("java", True, f"Java {major} ({java})")
    return Check(
        "java",
        False,
        f"Java {major or '?'} at {java}; Spark 4.0 needs 17 or 21",
        "install OpenJDK 17 and point JAVA_HOME to it",
    )


def check_packages(_: Settings) -> Check:
    problems = []
    for dist, wanted in PINNED.items():
        try:
            found = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            problems.append(f"{dist} missing")
            continue
        if found != wanted:
            problems.append(f"{dist} {found} (expected {wanted})")
    if problems:
        return Check("packages", False, "; ".join(problems), "run `make setup`")
    return Check("packages", True, ", ".join(f"{d} {v}" for d, v in PINNED.items()))


def check_jars(settings: Settings) -> Check:
    from lake.toolchain import spark_jars

    try:
        jars = spark_jars(settings)
    except LakeError as exc:
        fix = exc.fix or "run `make jars`"
        if shutil.which("mvn") is None:
            fix = "install Maven (apt-get install maven), then run `make jars`"
        return Check("jars", False, exc.message, fix)
    names = {j.name.rsplit("-", 1)[0] for j in jars}
    needed = {"delta-spark_2.13", "hadoop-aws", "openlineage-spark_2.13", "bundle"}
    absent = sorted(needed - names)
    if absent:
        return Check(
            "jars",
            False,
            f"jar cache lacks {', '.join(absent)}",
            "delete the cached classpath file and run `make jars`",
        )
    size = sum(j.stat().st_size for j in jars) / 1e6
    return Check("jars", True, f"{len(jars)} jars, {size:.0f} MB (Delta, S3A, OpenLineage)")


def check_minio_binary(settings: Settings) -> Check:
    from lake.toolchain import minio_binary

    binary = minio_binary(settings)
    if binary.is_file() and os.access(binary, os.X_OK):
        return Check("minio-binary", True, f"{binary}")
    fix = "run `make minio` (go install, about 10 min once)"
    if shutil.which("go") is None:
        fix = "install Go >= 1.24, then run `make minio`"
    return Check("minio-binary", False, f"MinIO binary missing at {binary}", fix)


def check_credentials(settings: Settings) -> Check:
    storage = settings.storage
    if storage.backend == "local":
        return Check("credentials", True, "not needed (storage.backend = local)")
    path = storage.credentials_file
    # The settings already merged the environment and the file: judge what they resolved.
    if not path.is_file() and storage.access_key and storage.secret_key:
        return Check("credentials", True, "from LAKE__STORAGE__ACCESS_KEY / SECRET_KEY")
    if not path.is_file():
        return Check(
            "credentials",
            False,
            f"no credentials file at {path}",
            "run `lake up` (generates them) or set LAKE__STORAGE__ACCESS_KEY/SECRET_KEY",
        )
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        return Check(
            "credentials",
            False,
            f"{path} is readable by others (mode {mode:o})",
            f"chmod 600 {path}",
        )
    return Check("credentials", True, f"{path} (mode 600)")


def check_server(settings: Settings) -> Check:
    from lake.minio_server import health_live

    if settings.storage.backend == "local":
        root = settings.storage.local_root
        return Check("server", True, f"not needed (local files under {root})")
    if health_live(settings.endpoint):
        return Check("server", True, f"MinIO live at {settings.endpoint}")
    return Check(
        "server",
        False,
        f"nothing answers /minio/health/live at {settings.endpoint}",
        "run `lake up` (or fix storage.endpoint)",
    )


def check_bucket(settings: Settings) -> Check:
    from lake.storage import check_storage, explain_storage_failure, object_client

    try:
        check_storage(settings)
        if settings.storage.backend == "local":
            return Check("bucket", True, f"{settings.storage.local_root} writable")
        client = object_client(settings)
        probe = f"_doctor/{uuid.uuid4().hex}"
        try:
            client.put_object(settings.storage.bucket, probe, BytesIO(b"ok"), 2)
            client.remove_object(settings.storage.bucket, probe)
        except Exception as exc:
            raise explain_storage_failure(exc, settings) from exc
    except LakeError as exc:
        return Check("bucket", False, exc.message, exc.fix or "")
    return Check("bucket", True, f"s3://{settings.storage.bucket} readable and writable")


def check_catalog(settings: Settings) -> Check:
    """The shared catalog (Hive metastore on PostgreSQL, decision 0011): reachable with the
    lake's login, and how many tables are registered. Off or unknown is not a failure (tables
    by path still work); a known database that refuses or does not answer is."""
    from app.catalog_status import catalog_status

    status = catalog_status(settings)
    if not status.enabled:
        return Check("catalog", True, status.line())
    if status.url is None and not settings.catalog.url:  # `lake up` starts it with MinIO
        return Check("catalog", True, "not started: tables by path only until `lake up`")
    if not status.reachable:
        return Check("catalog", False, status.line(), status.fix or "")
    return Check("catalog", True, status.line())


CHECKS: tuple[Callable[[Settings], Check], ...] = (
    check_python,
    check_java,
    check_packages,
    check_jars,
    check_minio_binary,
    check_credentials,
    check_server,
    check_bucket,
    check_catalog,
)


def run_checks(settings: Settings) -> list[Check]:
    """Run every check; a check that crashes is reported as failed, never raised."""
    results = []
    for check in CHECKS:
        name = check.__name__.removeprefix("check_").replace("_", "-")
        try:
            results.append(check(settings))
        except Exception as exc:  # a doctor must not die of the disease it diagnoses
            results.append(
                Check(
                    name,
                    False,
                    f"check crashed: {type(exc).__name__}: {exc}",
                    "run `lake doctor --debug` and report it",
                )
            )
    return results


def as_json(checks: list[Check]) -> dict[str, object]:
    """The JSON form of ``lake doctor --json``."""
    return {"ok": all(c.ok for c in checks), "checks": [asdict(c) for c in checks]}
