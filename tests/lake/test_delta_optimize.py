"""Table maintenance (issue 18): compaction, Z-order, checkpoint, and the file-count policy."""

from __future__ import annotations

import pytest

from app.cli.optimize import optimize_tables
from lake import delta_io
from lake.delta_reader import snapshot
from lake.errors import TableError
from lake.storage import object_client

pytestmark = [pytest.mark.spark, pytest.mark.minio]


def _deliveries(spark, uri: str, count: int) -> None:
    from pyspark.sql import functions as F

    for n in range(count):  # one small file per delivery, as a daily append makes
        rows = spark.range(n * 10, n * 10 + 10, numPartitions=1).select(
            F.col("id"), (F.col("id") % 7).alias("grp"), F.lit(f"d{n}").alias("delivery")
        )
        delta_io.write_table(rows, uri, mode="append")


def _rows(spark, uri: str, version: int | None = None) -> list[tuple]:
    df = delta_io.read_table(spark, uri, version=version)
    return sorted(tuple(r) for r in df.collect())


def test_optimize_compacts_z_orders_and_checkpoints_keeping_rows_and_versions(
    spark, lake_settings, fresh_table
) -> None:
    _deliveries(spark, fresh_table, 12)
    before_rows, last = _rows(spark, fresh_table), delta_io.table_version(spark, fresh_table)
    assert delta_io.data_file_count(spark, fresh_table) == 12

    result = delta_io.optimize_table(spark, fresh_table, zorder_by=("id",))

    assert (result.files_before, result.files_after) == (12, 1)
    assert result.version == last + 1 and result.zorder_by == ("id",) and result.checkpoint
    assert _rows(spark, fresh_table) == before_rows  # same rows
    assert _rows(spark, fresh_table, version=last) == before_rows  # time travel intact
    assert delta_io.history(spark, fresh_table, limit=1)[0]["operation"] == "OPTIMIZE"
    bucket, _, prefix = fresh_table.removeprefix("s3a://").partition("/")
    names = [
        o.object_name.rsplit("/", 1)[-1]
        for o in object_client(lake_settings).list_objects(bucket, f"{prefix}/_delta_log/")
    ]
    assert f"{result.version:020d}.checkpoint.parquet" in names
    snap = snapshot(lake_settings, fresh_table)  # what delta-rs sees: one file, every row
    assert (snap.version, snap.rows, snap.data_files) == (result.version, 120, 1)


def test_the_policy_leaves_tables_under_the_file_count_alone(
    spark, lake_settings, fresh_table
) -> None:
    _deliveries(spark, fresh_table, 3)
    name = "bronze/" + fresh_table.rsplit("/", 1)[-1]
    version = delta_io.table_version(spark, fresh_table)

    [kept] = optimize_tables(spark, lake_settings, {name: ()}, max_files=3)
    assert (kept.files_before, kept.files_after, kept.version) == (3, 3, None)
    assert delta_io.table_version(spark, fresh_table) == version

    [done] = optimize_tables(spark, lake_settings, {name: ()}, max_files=2, checkpoint=False)
    assert (done.files_before, done.files_after, done.version) == (3, 1, version + 1)
    assert optimize_tables(spark, lake_settings, {"bronze/no_such_table": ()}, max_files=0) == []


def test_a_z_order_on_a_missing_column_names_the_columns(spark, fresh_table) -> None:
    _deliveries(spark, fresh_table, 1)
    with pytest.raises(TableError) as err:
        delta_io.optimize_table(spark, fresh_table, zorder_by=("ident",))
    assert str(err.value).startswith(
        "Z-order column(s) ident not in the table; it has id, grp, delivery."
    )


def test_an_optimize_on_a_checkpoint_version_leaves_delta_its_own_checkpoint(
    spark, lake_settings, fresh_table
) -> None:
    _deliveries(spark, fresh_table, 10)  # versions 0..9: the OPTIMIZE is version 10
    result = delta_io.optimize_table(spark, fresh_table)
    assert (result.version, result.files_after) == (10, 1)
    bucket, _, prefix = fresh_table.removeprefix("s3a://").partition("/")
    names = [
        o.object_name.rsplit("/", 1)[-1]
        for o in object_client(lake_settings).list_objects(bucket, f"{prefix}/_delta_log/")
    ]
    assert "00000000000000000010.checkpoint.parquet" in names
    assert snapshot(lake_settings, fresh_table).rows == 100
