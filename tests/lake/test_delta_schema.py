"""Explicit schema evolution and migration in delta_io (issue 17, point 4), on the real MinIO."""

from __future__ import annotations

import pytest

from lake import delta_io
from lake.delta_reader import open_table
from lake.errors import TableError

pytestmark = [pytest.mark.spark, pytest.mark.minio]


def test_added_and_widened_columns_keep_old_rows(spark, lake_settings, fresh_table) -> None:
    rows = spark.createDataFrame([("a", 1), ("b", 2)], "id string, n int")
    delta_io.write_table(rows, fresh_table)
    version = delta_io.add_columns(
        spark, fresh_table, [("comment", "string")], widen=[("n", "bigint")]
    )
    assert delta_io.table_columns(spark, fresh_table) == [
        ("id", "string"),
        ("n", "bigint"),
        ("comment", "string"),
    ]
    table = open_table(lake_settings, fresh_table)  # what delta-rs sees
    assert table.version() == version
    assert sorted(table.to_pyarrow_table().to_pylist(), key=lambda r: r["id"]) == [
        {"id": "a", "n": 1, "comment": None},
        {"id": "b", "n": 2, "comment": None},
    ]


def test_a_migration_replaces_the_schema_and_keeps_history(spark, fresh_table) -> None:
    rows = spark.createDataFrame([("a", 1)], "id string, n int")
    delta_io.write_table(rows, fresh_table)
    with pytest.raises(TableError, match="overwrite_schema=True replaces the table's schema"):
        delta_io.write_table(rows, fresh_table, mode="append", overwrite_schema=True)
    version = delta_io.write_table(
        rows.select("id"), fresh_table, mode="overwrite", overwrite_schema=True
    )
    assert delta_io.table_columns(spark, fresh_table) == [("id", "string")]
    old = delta_io.read_table(spark, fresh_table, version=version - 1)
    assert [tuple(r) for r in old.collect()] == [("a", 1)]
