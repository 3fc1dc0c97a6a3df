"""The one place that configures Spark: the SparkSession builder and spark-submit arguments.

:func:`spark_conf` is the single source of the configuration. :func:`build_session` applies it
to a SparkSession (jobs, tests, notebooks) and :func:`submit_command` turns the same dictionary
into ``spark-submit`` arguments (``lake submit``), so a cluster run uses identical settings.

Jars come from :mod:`lake.toolchain` (fetched once with Maven), never from Ivy at start-up.
Credentials are not part of :func:`spark_conf`: the driver adds them from the settings when it
builds its session, so they never show up in a command line or a printed configuration.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from lake.errors import SparkError
from lake.lineage_journal import publish_recorded, spool_files
from lake.settings import Settings
from lake.toolchain import maven_coordinates, spark_jars

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DELTA_EXTENSION = "io.delta.sql.DeltaSparkSessionExtension"
DELTA_CATALOG = "org.apache.spark.sql.delta.catalog.DeltaCatalog"
S3A_CREDENTIALS_PROVIDER = "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider"
OPENLINEAGE_LISTENER = "io.openlineage.spark.agent.OpenLineageSparkListener"
_built: SparkSession | None = None  # the session this process built (not one it was given)
_SECRET_CONF = ("spark.hadoop.fs.s3a.access.key", "spark.hadoop.fs.s3a.secret.key")


def spark_conf(
    settings: Settings, *, include_jars: bool = True, master: str | None = None
) -> dict[str, str]:
    """The Spark configuration of the lake, without credentials.

    Args:
        settings: The lake settings.
        include_jars: Put the cached jars in ``spark.jars`` (off when ``--packages`` is used).
        master: The master the conf is for (default ``spark.master``).
    """
    conf: dict[str, str] = {
        "spark.app.name": settings.spark.app_name,
        "spark.sql.extensions": DELTA_EXTENSION,
        "spark.sql.catalog.spark_catalog": DELTA_CATALOG,
        "spark.sql.shuffle.partitions": str(settings.spark.shuffle_partitions),
        "spark.default.parallelism": str(settings.spark.shuffle_partitions),
        "spark.driver.memory": settings.spark.driver_memory,
        "spark.ui.enabled": str(settings.spark.ui_enabled).lower(),
        "spark.sql.session.timeZone": "UTC",
        "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile={_log_config(settings)}",
        # Delta rebuilds table state with 50 tasks by default: far too many for small tables
        # on 2 cores (a 10-row read took 7 s). Scale it with the shuffle partitions instead.
        "spark.databricks.delta.snapshotPartitions": str(settings.spark.shuffle_partitions),
        "spark.ui.showConsoleProgress": str(settings.spark.console_progress).lower(),
        # Schema changes are explicit (merge_schema=True in delta_io), never silent.
        "spark.databricks.delta.schema.autoMerge.enabled": "false",
    }
    if _loopback(master or settings.spark.master):
        # A local run stays on loopback: no port opened on the machine's network interfaces.
        conf["spark.driver.host"] = "127.0.0.1"
        conf["spark.driver.bindAddress"] = "127.0.0.1"
    if include_jars:
        jars = spark_jars(settings)
        conf["spark.jars"] = ",".join(str(j) for j in jars)
        conf["spark.driver.extraClassPath"] = _driver_classpath(jars)
    if settings.storage.backend == "s3":
        conf.update(_s3a_conf(settings))
    conf.update(_lineage_conf(settings))
    conf.update(catalog_conf(settings))
    conf.update(settings.spark.conf)
    return conf


def _loopback(master: str) -> bool:
    """Local mode, or a standalone master on this machine's loopback."""
    return master.startswith(("local", "spark://127.0.0.1:", "spark://localhost:"))


def _log_config(settings: Settings) -> Path:
    return settings.root / "jvm" / "log4j2.properties"


def _driver_classpath(jars: list[Path]) -> str:
    """Delta, OpenLineage and the metastore's JDBC driver on the driver's system class path, so
    they share one class loader (otherwise the listener warns of illegal reflective access at
    each job). Not the AWS SDK bundle: it carries an SLF4J 1.x that would silence Spark's
    logging; hadoop-aws stays with it.
    """
    # The PostgreSQL driver too: the Hive client's DataNucleus looks drivers up in the system
    # class loader only ("No suitable driver" otherwise).
    shared = [j for j in jars if j.name.startswith(("delta-", "openlineage-spark", "postgresql-"))]
    return os.pathsep.join(str(j) for j in shared)


def _s3a_conf(settings: Settings) -> dict[str, str]:
    endpoint = settings.endpoint
    return {
        "spark.hadoop.fs.s3a.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
        "spark.hadoop.fs.s3a.endpoint": endpoint,
        "spark.hadoop.fs.s3a.endpoint.region": settings.storage.region,
        "spark.hadoop.fs.s3a.path.style.access": "true",
        "spark.hadoop.fs.s3a.connection.ssl.enabled": str(endpoint.startswith("https")).lower(),
        "spark.hadoop.fs.s3a.aws.credentials.provider": S3A_CREDENTIALS_PROVIDER,
        # Fail in seconds, not minutes, when MinIO is down: S3A's defaults retry for long.
        "spark.hadoop.fs.s3a.attempts.maximum": "3",
        "spark.hadoop.fs.s3a.retry.limit": "3",
        "spark.hadoop.fs.s3a.retry.interval": "500ms",
        "spark.hadoop.fs.s3a.connection.establish.timeout": "15s",  # S3A's minimum
        "spark.hadoop.fs.s3a.connection.timeout": "60s",
        "spark.hadoop.fs.s3a.committer.magic.enabled": "false",
    }


def _lineage_conf(settings: Settings) -> dict[str, str]:
    """The OpenLineage Spark listener: its events always go to the local spool file, which
    :mod:`lake.lineage_journal` copies to the lake; with ``transport = http`` they also go to the
    server (a composite transport; a server that is down never fails the job)."""
    lineage = settings.lineage
    if not lineage.spark_listener or lineage.transport == "none":
        return {}
    conf = {
        "spark.extraListeners": OPENLINEAGE_LISTENER,
        "spark.openlineage.namespace": lineage.namespace,
    }
    spool = str(spark_events_file(settings))
    if lineage.transport == "http":
        transports = "spark.openlineage.transport.transports"
        conf |= {
            "spark.openlineage.transport.type": "composite",
            "spark.openlineage.transport.continueOnFailure": "true",
            f"{transports}.journal.type": "file",
            f"{transports}.journal.location": spool,
            f"{transports}.server.type": "http",
            f"{transports}.server.url": lineage.url,
        }
    elif lineage.transport == "file":
        conf |= {
            "spark.openlineage.transport.type": "file",
            "spark.openlineage.transport.location": spool,
        }
    else:  # console
        conf["spark.openlineage.transport.type"] = lineage.transport
    return conf


def spark_events_file(settings: Settings) -> Path:
    """Where the OpenLineage Spark listener writes (the spool beside the lake's own events)."""
    return spool_files(settings)["spark"]


def prepare_local_dirs(settings: Settings) -> None:
    """Create the local directories a driver writes to (lineage events)."""
    if settings.lineage.transport in ("file", "http"):
        settings.lineage.file.parent.mkdir(parents=True, exist_ok=True)


def catalog_conf(settings: Settings) -> dict[str, str]:
    """The catalog part of the configuration: Spark's Hive metastore client on PostgreSQL.

    Every driver of the lake shares one metastore database (decision 0011, docs/catalog.md), so
    ``silver.consular_register`` means the same table to every job, ``lake sql`` and
    ``spark-sql``. Empty (Spark's in-memory catalog) when ``catalog.enabled`` is false or no
    metastore database is known (``catalog.url`` unset and ``lake up`` has not started one).
    The password is not here: :func:`catalog_secret_conf` gives it to the driver only.
    """
    from lake.metastore import connection

    conn = connection(settings)
    if conn is None:
        return {}
    return {
        "spark.sql.catalogImplementation": "hive",
        # Every lake table is external (its LOCATION is its s3a:// path); the warehouse only
        # holds the databases' empty directories, so it stays on the driver's disk.
        "spark.sql.warehouse.dir": settings.catalog.warehouse.resolve().as_uri(),
        "spark.hadoop.javax.jdo.option.ConnectionURL": conn.url,
        "spark.hadoop.javax.jdo.option.ConnectionDriverName": "org.postgresql.Driver",
        "spark.hadoop.javax.jdo.option.ConnectionUserName": conn.user,
        # The metastore's tables are created by its own client on first use (DataNucleus),
        # in the version of the Hive client that pyspark bundles (2.3.10). Not their foreign
        # keys: DataNucleus adds them from a second connection while the first one holds the
        # parent table in a transaction, and PostgreSQL then waits forever (decision 0011).
        "spark.hadoop.datanucleus.schema.autoCreateTables": "true",
        "spark.hadoop.datanucleus.schema.autoCreateColumns": "true",
        "spark.hadoop.datanucleus.schema.autoCreateConstraints": "false",
        "spark.hadoop.hive.metastore.schema.verification": "false",
    }


def catalog_secret_conf(settings: Settings) -> dict[str, str]:
    """The metastore password, for the driver's session only (never a command line)."""
    from lake.metastore import connection

    conn = connection(settings)
    if conn is None:
        return {}
    return {"spark.hadoop.javax.jdo.option.ConnectionPassword": conn.password}


def _credential_conf(settings: Settings) -> dict[str, str]:
    if settings.storage.backend != "s3":
        return {}
    return dict(
        zip(_SECRET_CONF, (settings.storage.access_key, settings.storage.secret_key), strict=True)
    )


def build_session(
    settings: Settings,
    *,
    app_name: str | None = None,
    extra_conf: Mapping[str, str] | None = None,
    check_storage: bool = True,
) -> SparkSession:
    """Build (or return the running) SparkSession configured for the lake.

    Args:
        settings: The lake settings.
        app_name: Overrides ``spark.app_name`` for this job.
        extra_conf: More Spark settings (win over the lake's).
        check_storage: Check MinIO/S3 is reachable with the credentials first, so a server
            that is down gives one clear error instead of minutes of S3A retries.

    Raises:
        StorageError: The object store is unreachable or refuses the credentials.
        ToolchainError: The jars were never fetched.
        SparkError: The JVM could not start.
    """
    if check_storage:
        from lake.storage import check_storage as _check

        _check(settings)
    conf = spark_conf(settings)
    conf.update(_credential_conf(settings))
    conf.update(catalog_secret_conf(settings))
    if app_name:
        conf["spark.app.name"] = app_name
    conf.update(extra_conf or {})
    os.environ.update(submit_environment(settings))
    prepare_local_dirs(settings)
    from pyspark.sql import SparkSession

    builder = SparkSession.builder
    # Under spark-submit the JVM already exists and --master decided where the job runs;
    # forcing spark.master here would silently run a "cluster" job in local mode.
    if "PYSPARK_GATEWAY_PORT" not in os.environ:
        builder = builder.master(settings.spark.master)
    for key, value in conf.items():
        builder = builder.config(key, value)
    existing = SparkSession.getActiveSession()
    try:
        spark = builder.getOrCreate()
    except Exception as exc:  # JAVA_GATEWAY_EXITED and friends: make them one readable line
        raise SparkError(
            f"Spark could not start ({type(exc).__name__}: {str(exc).splitlines()[0][:200]}).",
            fix="run `lake doctor` (Java 17/21, jars, memory); JAVA_HOME must point to a JDK",
        ) from exc
    spark.sparkContext.setLogLevel(settings.spark.log_level)
    global _built
    if existing is None:
        _built = spark  # this command's own session: end_of_command stops it
    return spark


def submit_environment(settings: Settings, master: str | None = None) -> dict[str, str]:
    """Environment for the driver: the project's interpreter, loopback for local runs."""
    env = {
        # Driver and executors must run the interpreter that has the lake installed.
        "PYSPARK_PYTHON": os.environ.get("PYSPARK_PYTHON", sys.executable),
        "PYSPARK_DRIVER_PYTHON": os.environ.get("PYSPARK_DRIVER_PYTHON", sys.executable),
    }
    if _loopback(master or settings.spark.master):
        env["SPARK_LOCAL_IP"] = os.environ.get("SPARK_LOCAL_IP", "127.0.0.1")
    return env


def spark_submit_executable() -> Path:
    """``spark-submit`` of the installed pyspark (same version as the library)."""
    import pyspark

    path = Path(pyspark.__file__).parent / "bin" / "spark-submit"
    if not path.is_file():
        raise SparkError(
            f"spark-submit not found at {path}.", fix="reinstall pyspark (make setup)", path=path
        )
    return path


def submit_command(
    settings: Settings,
    job: Path,
    job_args: Sequence[str] = (),
    *,
    master: str | None = None,
    use_packages: bool = False,
    py_files: Path | None = None,
) -> list[str]:
    """The ``spark-submit`` command line running ``job`` with the lake's configuration.

    Credentials are not in it: the job's driver reads them from the environment or the
    credentials file when it builds its session.

    Args:
        settings: The lake settings.
        job: The Python entry point (a file under ``app/jobs``).
        job_args: Arguments passed to the job.
        master: ``local[2]``, ``spark://host:7077``...; defaults to ``spark.master``.
        use_packages: Resolve the jars with ``--packages`` (needs Maven Central at run time)
            instead of the local jar cache.
        py_files: A zip of the project's packages for cluster executors.
    """
    conf = spark_conf(settings, include_jars=False, master=master)
    cmd = [
        str(spark_submit_executable()),
        "--master",
        master or settings.spark.master,
        "--name",
        conf.pop("spark.app.name"),
    ]
    if use_packages:
        cmd += ["--packages", ",".join(maven_coordinates(settings))]
    else:
        jars = spark_jars(settings)
        cmd += [
            "--jars",
            ",".join(str(j) for j in jars),
            "--driver-class-path",
            _driver_classpath(jars),
        ]
    cmd += ["--driver-memory", conf.pop("spark.driver.memory")]
    if py_files is not None:
        cmd += ["--py-files", str(py_files)]
    for key, value in conf.items():
        cmd += ["--conf", f"{key}={value}"]
    cmd.append(str(job))
    cmd.extend(job_args)
    return cmd


def begin_command() -> None:
    """Forget any session an earlier command of this process built (tests call ``main`` many
    times in one process around a shared session): :func:`end_of_command` stops only a session
    built after this call."""
    global _built
    _built = None


def end_of_command() -> None:
    """What every command and job does last, succeeded or not: stop its Spark session (the
    lineage listener writes its last events then) and copy the lineage it emitted to the lake's
    journal (``meta/lineage/``, :mod:`lake.lineage_journal`), so any container or host reads it."""
    global _built
    session, _built = _built, None
    if session is not None:
        session.stop()
    publish_recorded()
