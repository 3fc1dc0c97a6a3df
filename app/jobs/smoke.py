"""Smoke job: write a small Delta table to the lake, append to it, read it back, time travel.

Run with ``lake submit smoke`` (``make demo`` does). It proves the whole path: spark-submit with
the cached jars, S3A to MinIO, the Delta log, and reads at the latest and the first version.
Idempotent: each run starts the table again with ``mode="overwrite"`` (a new version).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def run(rows: int, table: str) -> dict[str, object]:
    """Run the smoke test against the configured lake and return what it found."""
    from lake.leases import LeaseSet
    from lake.settings import load_settings
    from lake.spark import build_session
    from lake.storage import table_uri

    settings = load_settings()
    uri = table_uri(settings, "bronze", table)
    print(
        f"[smoke] lake at {settings.endpoint if settings.storage.backend == 's3' else uri}",
        file=sys.stderr,
    )
    spark = build_session(settings, app_name="lake-smoke")
    with LeaseSet(settings, [f"bronze/{table}"], run_id=f"smoke-{os.getpid()}", job="smoke"):
        return _write_and_read(spark, uri, rows)


def _write_and_read(spark: SparkSession, uri: str, rows: int) -> dict[str, object]:
    from pyspark.sql import functions as F

    from lake import delta_io

    first = spark.range(rows).select(
        F.col("id"), (F.col("id") % 7).alias("bucket"), F.lit("first").alias("batch")
    )
    v_first = delta_io.write_table(
        first, uri, mode="overwrite", commit_info={"job": "smoke", "step": "first"}
    )
    second = spark.range(rows, rows * 2).select(
        F.col("id"), (F.col("id") % 7).alias("bucket"), F.lit("second").alias("batch")
    )
    v_second = delta_io.write_table(
        second, uri, mode="append", commit_info={"job": "smoke", "step": "append"}
    )
    latest = delta_io.read_table(spark, uri).count()
    as_first = delta_io.read_table(spark, uri, version=v_first).count()
    result = {
        "table": uri,
        "versions": [v_first, v_second],
        "rows_latest": latest,
        "rows_at_first_version": as_first,
        "ok": latest == rows * 2 and as_first == rows,
    }
    print(
        f"[smoke] wrote {uri}: versions {v_first} and {v_second}, {latest} rows now, "
        f"{as_first} at version {v_first}",
        file=sys.stderr,
    )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="smoke", description=__doc__)
    parser.add_argument("--rows", type=int, default=1000, help="rows per batch (default 1000)")
    parser.add_argument("--table", default="smoke", help="bronze table name (default smoke)")
    args = parser.parse_args(argv)
    from lake.errors import LakeError

    try:
        result = run(args.rows, args.table)
    except LakeError as exc:
        print(f"smoke: error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0 if result["ok"] else 2


if __name__ == "__main__":
    raise SystemExit(main())
