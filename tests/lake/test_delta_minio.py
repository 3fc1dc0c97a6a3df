"""Delta tables on the real MinIO through Spark, checked with independent readers."""

from __future__ import annotations

import pytest

from lake import delta_io
from lake.delta_reader import snapshot
from lake.errors import TableError
from lake.storage import object_client

pytestmark = [pytest.mark.spark, pytest.mark.minio]


def _rows(spark, start: int, end: int, label: str):
    from pyspark.sql import functions as F

    return spark.range(start, end).select(
        F.col("id"), (F.col("id") % 3).alias("grp"), F.lit(label).alias("batch")
    )


def test_round_trip_append_and_time_travel(spark, lake_settings, fresh_table) -> None:
    v0 = delta_io.write_table(_rows(spark, 0, 10, "a"), fresh_table, commit_info={"run": "t1"})
    v1 = delta_io.write_table(_rows(spark, 10, 25, "b"), fresh_table, mode="append")
    assert (v0, v1) == (0, 1)
    assert delta_io.read_table(spark, fresh_table).count() == 25
    old = delta_io.read_table(spark, fresh_table, version=0)
    assert old.count() == 10
    assert {r["batch"] for r in old.collect()} == {"a"}
    history = delta_io.history(spark, fresh_table)
    assert [h["version"] for h in history] == [1, 0]
    assert history[1]["userMetadata"] == '{"run": "t1"}'


def test_delta_log_is_visible_through_the_minio_client(spark, lake_settings, fresh_table) -> None:
    delta_io.write_table(_rows(spark, 0, 5, "a"), fresh_table)
    delta_io.write_table(_rows(spark, 5, 6, "b"), fresh_table, mode="append")
    bucket, _, prefix = fresh_table.removeprefix("s3a://").partition("/")
    client = object_client(lake_settings)
    names = [
        o.object_name for o in client.list_objects(bucket, prefix=prefix + "/", recursive=True)
    ]
    log = sorted(n.rsplit("/", 1)[1] for n in names if "/_delta_log/" in n)
    assert "00000000000000000000.json" in log
    assert "00000000000000000001.json" in log
    assert any(n.endswith(".parquet") for n in names)


def test_an_independent_reader_sees_the_same_table(spark, lake_settings, fresh_table) -> None:
    delta_io.write_table(_rows(spark, 0, 7, "a"), fresh_table)
    delta_io.write_table(_rows(spark, 7, 12, "b"), fresh_table, mode="append")
    latest = snapshot(lake_settings, fresh_table)
    assert (latest.version, latest.rows) == (1, 12)
    assert latest.columns == ["id", "grp", "batch"]
    commits = [name for name in latest.log_objects if name.endswith(".json")]
    assert commits == ["00000000000000000000.json", "00000000000000000001.json"]
    first = snapshot(lake_settings, fresh_table, version=0)
    assert (first.version, first.rows) == (0, 7)


def test_default_write_mode_refuses_to_replace(spark, fresh_table) -> None:
    delta_io.write_table(_rows(spark, 0, 3, "a"), fresh_table)
    with pytest.raises(TableError) as err:
        delta_io.write_table(_rows(spark, 0, 3, "a"), fresh_table)
    assert err.value.message == (
        f"Table {fresh_table} already exists and mode='error' refuses to touch it."
    )
    assert delta_io.read_table(spark, fresh_table).count() == 3


def test_schema_change_is_refused_unless_asked(spark, fresh_table) -> None:
    from pyspark.sql import functions as F

    delta_io.write_table(_rows(spark, 0, 3, "a"), fresh_table)
    wider = _rows(spark, 3, 4, "b").withColumn("extra", F.lit(1))
    with pytest.raises(TableError, match="schema differs"):
        delta_io.write_table(wider, fresh_table, mode="append")
    delta_io.write_table(wider, fresh_table, mode="append", merge_schema=True)
    assert "extra" in delta_io.read_table(spark, fresh_table).columns


def test_merge_is_idempotent(spark, fresh_table) -> None:
    from pyspark.sql import functions as F

    first = delta_io.merge_table(_rows(spark, 0, 10, "a"), fresh_table, keys=["id"])
    assert (first.inserted, first.updated) == (10, 0)
    again = delta_io.merge_table(_rows(spark, 0, 10, "a"), fresh_table, keys=["id"])
    assert (again.inserted, again.updated) == (0, 0)
    changed = _rows(spark, 5, 15, "a").withColumn(
        "batch", F.when(F.col("id") < 10, F.lit("fixed")).otherwise(F.lit("a"))
    )
    third = delta_io.merge_table(changed, fresh_table, keys=["id"])
    assert (third.inserted, third.updated) == (5, 5)
    table = delta_io.read_table(spark, fresh_table)
    assert table.count() == 15
    assert table.filter("batch = 'fixed'").count() == 5


def test_merge_refuses_duplicate_keys(spark, fresh_table) -> None:
    source = _rows(spark, 0, 3, "a").union(_rows(spark, 1, 2, "b"))
    with pytest.raises(TableError) as err:
        delta_io.merge_table(source, fresh_table, keys=["id"])
    assert err.value.message == "The merge source has duplicate keys (id=1 appears 2 times)."


def test_reading_a_missing_table_names_it(spark, lake_settings) -> None:
    from lake.storage import table_uri

    uri = table_uri(lake_settings, "silver", "does_not_exist")
    with pytest.raises(TableError) as err:
        delta_io.read_table(spark, uri)
    assert err.value.message == f"No Delta table at {uri}."


def test_local_backend_writes_file_tables(spark, lake_settings, tmp_path) -> None:
    """`storage.backend = "local"`: the same code, Delta tables under a directory."""
    from lake.storage import table_uri

    local = lake_settings.with_overrides(
        {"storage": {"backend": "local", "local_root": str(tmp_path / "lake")}}
    )
    uri = table_uri(local, "silver", "quick_run")
    assert uri == f"{(tmp_path / 'lake').as_uri()}/silver/quick_run"
    delta_io.write_table(_rows(spark, 0, 4, "a"), uri)
    delta_io.write_table(_rows(spark, 4, 6, "b"), uri, mode="append")
    assert (tmp_path / "lake/silver/quick_run/_delta_log/00000000000000000001.json").is_file()
    seen = snapshot(local, uri)
    assert (seen.version, seen.rows) == (1, 6)
