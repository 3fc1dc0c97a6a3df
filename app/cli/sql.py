"""``lake sql``: Spark SQL on the lake's tables by name, through the shared catalog.

``lake sql "SELECT ... FROM silver.consular_register"`` runs the query in a Spark session with
the lake's configuration (the Hive metastore on PostgreSQL, decision 0011) and the credentials of
``storage.role``, and prints the rows as a table (``--json`` for scripts, ``--limit`` rows at
most). ``--refresh`` (re)registers every bronze, silver, gold and quarantine table first, with
its comments and properties. ``--spark-conf FILE`` writes the configuration ``spark-sql`` needs
(mode 600: it holds credentials) and prints the command (docs/catalog.md).

A role that may not read a table's files gets one line naming the table and the role, as when
it reads the table by path: the catalog gives names, the object store still decides who reads.
"""

from __future__ import annotations

import argparse
import datetime as dt
import decimal
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.cli.commands import add_command, print_json
from lake.errors import AccessError, CatalogError, LakeError
from lake.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

_S3A_PATH = re.compile(r"s3a://([^/\s]+)/([a-z]+)/([A-Za-z0-9_]+)")
_REFUSED = ("AccessDenied", "403 Forbidden", "Status Code: 403", "(403)", "Forbidden")


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``lake sql``."""
    p = add_command(
        sub,
        "sql",
        cmd_sql,
        "run Spark SQL on the lake's tables by name (bronze.x, silver.x, gold.x, quarantine.x)",
        json_flag=True,
    )
    p.add_argument("query", nargs="?", help='the query, e.g. "SELECT count(*) FROM silver.visas"')
    p.add_argument("--limit", type=int, default=50, help="print at most this many rows (50)")
    p.add_argument(
        "--refresh",
        action="store_true",
        help="(re)register every table of the lake in the catalog first",
    )
    p.add_argument(
        "--spark-conf",
        type=Path,
        metavar="FILE",
        help="write the configuration for pyspark's spark-sql to FILE (mode 600) and print "
        "the command",
    )


def cmd_sql(settings: Settings, args: argparse.Namespace) -> int:
    from lake.metastore import connection

    if args.spark_conf is not None:
        print(spark_sql_command(settings, write_spark_conf(settings, args.spark_conf)))
        return 0
    if not (args.query or args.refresh):
        raise CatalogError(
            "Nothing to do: give a query, --refresh or --spark-conf.",
            fix='lake sql "SHOW TABLES IN silver"',
        )
    if connection(settings) is None:
        raise CatalogError(
            "No catalog: the metastore database is not running and catalog.url is not set.",
            fix="start it with `lake up` (or set LAKE__CATALOG__URL)",
        )
    from lake.spark import build_session

    spark = build_session(settings, app_name="lake-sql")
    # The answer is the rows or one error line: Spark's and S3A's warnings (with their Java
    # traces) would bury it.
    spark.sparkContext.setLogLevel("ERROR")
    if args.refresh:
        refresh(spark, settings)
    if not args.query:
        return 0
    columns, rows, more = run_query(spark, settings, args.query, limit=args.limit)
    if args.json:
        print_json({"columns": columns, "rows": [dict(zip(columns, r, strict=True)) for r in rows]})
    else:
        print(format_table(columns, rows))
        if more:
            print(f"(first {args.limit} rows; --limit N for more)")
    return 0


def refresh(spark: SparkSession, settings: Settings) -> int:
    """Register every table of every contract (and its indicators); print one line."""
    from ingestion.catalog_entries import entries
    from lake.catalog_registry import register as register_entries
    from lake.contracts import load_contracts

    found = entries(settings, load_contracts(settings.root).values())
    done = register_entries(spark, found, progress=print)
    print(f"catalog: {len(done)} table(s) registered ({len(found) - len(done)} not written yet)")
    return len(done)


def run_query(
    spark: SparkSession, settings: Settings, query: str, *, limit: int
) -> tuple[list[str], list[list[Any]], bool]:
    """Run ``query``; its columns, at most ``limit`` rows (as plain values) and whether more.

    Raises:
        AccessError: The role may not read a table the query names.
        CatalogError: Any other failure, as one line.
    """
    try:
        df = spark.sql(query)
        columns = list(df.columns)
        rows = df.limit(limit + 1).collect() if columns else []
    except Exception as exc:
        raise explain_query_failure(exc, settings, query) from exc
    values = [[_plain(v) for v in row] for row in rows[:limit]]
    return columns, values, len(rows) > limit


def explain_query_failure(exc: BaseException, settings: Settings, query: str) -> LakeError:
    """One line for a failed query: a refused read names the table and the role."""
    from lake.catalog_registry import one_line

    text = str(exc)
    if any(marker in text for marker in _REFUSED):
        match = _S3A_PATH.search(text)
        table = f"{match.group(2)}.{match.group(3)}" if match else "a table of the query"
        role = settings.storage.role or os.environ.get("LAKE__STORAGE__ROLE") or "these"
        return AccessError(
            f"Reading {table} was refused: the object store does not let the role '{role}' "
            "read its files (by name as by path).",
            fix="run under a role allowed to read it (LAKE__STORAGE__ROLE, "
            "policy/minio-roles.yaml), or read a view published for your level "
            "(`lake access publish`)",
            role=role,
        )
    return CatalogError(f"The query failed: {one_line(exc)}", fix=f"check the query: {query}")


def _plain(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def format_table(columns: list[str], rows: list[list[Any]]) -> str:
    """Rows as an aligned text table (``NULL`` for missing values)."""
    cells = [[("NULL" if v is None else str(v)) for v in row] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(lines)


def write_spark_conf(settings: Settings, path: Path) -> Path:
    """Write the full Spark configuration (credentials included) for ``spark-sql``, mode 600."""
    from lake.spark import catalog_secret_conf, spark_conf

    conf = spark_conf(settings)
    if "spark.sql.catalogImplementation" not in conf:
        raise CatalogError(
            "No catalog: the metastore database is not running and catalog.url is not set.",
            fix="start it with `lake up` (or set LAKE__CATALOG__URL)",
        )
    if settings.storage.backend == "s3":
        conf["spark.hadoop.fs.s3a.access.key"] = settings.storage.access_key
        conf["spark.hadoop.fs.s3a.secret.key"] = settings.storage.secret_key
    conf.update(catalog_secret_conf(settings))
    conf.setdefault("spark.master", settings.spark.master)
    conf.pop("spark.app.name", None)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        for key, value in conf.items():
            fh.write(f"{key} {value}\n")
    os.chmod(path, 0o600)
    return path


def spark_sql_command(settings: Settings, conf_file: Path) -> str:
    """The ``spark-sql`` command line using ``conf_file``."""
    from lake.spark import spark_submit_executable

    spark_sql = spark_submit_executable().with_name("spark-sql")
    return f'{spark_sql} --properties-file {conf_file} -e "SHOW TABLES IN silver"'
