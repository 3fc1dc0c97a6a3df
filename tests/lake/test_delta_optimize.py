"""Table maintenance (issue 18): compaction, Z-order, checkpoint, and the file-count policy."""

from __future__ import annotations

import secrets

import pytest

from app.maintenance import maintain_after_run, optimize_tables, tables_changed
from ingestion.runlog import RunRecord, now
from lake import delta_io
from lake.delta_reader import snapshot
from lake.errors import TableError
from lake.leases import list_leases
from lake.storage import object_client, table_uri

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


def _record(layer: str, source: str, status: str = "succeeded", **counts: int) -> RunRecord:
    return RunRecord(
        run_id="r",
        batch_id="b",
        source=source,
        layer=layer,
        status=status,  # type: ignore[arg-type]
        started_at=now(),
        **counts,
    )


def test_the_tables_a_run_changed() -> None:
    records = [
        _record("bronze", "adoptions", rows_out=10),
        _record("silver", "adoptions", rows_out=8, quarantined=2),
        _record("silver", "pvt_visas"),  # nothing written
        _record("bronze", "hr", "failed", rows_out=5),
        _record("gold", "adoptions", rows_out=3, file_uri="s3a://lake/gold/adoptions_par_pays"),
    ]
    assert tables_changed(records) == [
        "bronze/adoptions",
        "gold/adoptions_par_pays",
        "quarantine/adoptions",
        "silver/adoptions",
    ]


def test_after_a_run_the_tables_it_wrote_past_the_file_count_are_compacted(
    spark, lake_settings
) -> None:
    """`lake run`'s maintenance ([maintenance] in lake.toml): only the tables the run changed,
    only past max_files (counted before any lease), under their leases; switched off,
    nothing."""
    bucket = f"lake-maint-{secrets.token_hex(3)}"
    object_client(lake_settings).make_bucket(bucket)
    settings = lake_settings.with_overrides(
        {"storage": {"bucket": bucket}, "maintenance": {"max_files": 4}}
    )
    written, untouched, small = (
        table_uri(settings, "bronze", "adoptions"),
        table_uri(settings, "bronze", "pvt_visas"),
        table_uri(settings, "quarantine", "adoptions"),
    )
    _deliveries(spark, written, 6)
    _deliveries(spark, untouched, 6)
    _deliveries(spark, small, 2)
    records = [
        _record("bronze", "adoptions", rows_out=10, quarantined=1),
        _record("bronze", "pvt_visas", "failed", rows_out=10),
    ]
    off = settings.with_overrides({"maintenance": {"optimize_after_run": False}})
    assert maintain_after_run(spark, off, records, run_id="r0") == []
    assert delta_io.data_file_count(spark, written) == 6

    said: list[str] = []
    results = maintain_after_run(spark, settings, records, run_id="r1", progress=said.append)

    assert {r.uri: (r.files_before, r.files_after) for r in results} == {written: (6, 1)}
    assert delta_io.data_file_count(spark, untouched) == 6  # the failed step's table: left
    assert delta_io.data_file_count(spark, small) == 2  # under the count: not even leased
    assert said == [
        f"maintenance: {written} compacted, 6 -> 1 file(s) (more than maintenance.max_files = 4)"
    ]
    assert snapshot(settings, written).rows == 60  # what delta-rs reads: every row
    # only the table past the count was leased for the pass (counted first with delta-rs),
    # and released
    assert {(str(name), lease.state) for name, lease in list_leases(settings)} == {
        ("bronze/adoptions", "released"),
    }
