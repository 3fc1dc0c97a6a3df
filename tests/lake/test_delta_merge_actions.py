"""MERGE actions of ``delta_io.merge_table`` beyond the upsert: delete and set given columns."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lake import delta_io
from lake.errors import TableError


def test_an_unknown_matched_action_lists_the_valid_ones() -> None:
    source: Any = object()  # refused before the source is looked at
    with pytest.raises(TableError) as err:
        delta_io.merge_table(source, "file:///lake/silver/t", keys=["id"], when_matched="drop")  # type: ignore[arg-type]
    assert err.value.message == "Matched action 'drop' is not one of update, delete, ignore."
    assert err.value.fix == "pass when_matched= one of update, delete, ignore"


def _people(spark, ids: range) -> Any:
    return spark.createDataFrame(
        [(f"SECRET-{i:04d}", f"name {i}", i % 2) for i in ids],
        "person_id string, name string, grp int",
    )


@pytest.mark.spark
@pytest.mark.minio
def test_delete_removes_matched_rows_and_keeps_their_values_out_of_the_log(
    spark, lake_settings, fresh_table
) -> None:
    from lake.delta_reader import open_table

    delta_io.write_table(_people(spark, range(10)), fresh_table)
    keys = _people(spark, range(3, 6)).select("person_id")
    result = delta_io.merge_table(
        keys,
        fresh_table,
        keys=["person_id"],
        when_matched="delete",
        when_not_matched="ignore",
        create_if_missing=False,
    )
    assert (result.version, result.deleted, result.inserted, result.updated) == (1, 3, 0, 0)
    left = {r["person_id"] for r in delta_io.read_table(spark, fresh_table).collect()}
    assert left == {f"SECRET-{i:04d}" for i in (0, 1, 2, 6, 7, 8, 9)}
    # the commit names the join, never a deleted identifier
    commit = open_table(lake_settings, fresh_table).history(1)[0]
    assert commit["operation"] == "MERGE"
    assert "SECRET-" not in json.dumps(commit, default=str)
    # keys not in the table: nothing deleted, nothing inserted
    again = delta_io.merge_table(
        keys, fresh_table, keys=["person_id"], when_matched="delete", when_not_matched="ignore"
    )
    assert (again.deleted, again.inserted) == (0, 0)
    assert delta_io.read_table(spark, fresh_table).count() == 7


@pytest.mark.spark
@pytest.mark.minio
def test_update_set_blanks_the_given_columns_of_every_matched_row(spark, fresh_table) -> None:
    from pyspark.sql import functions as F

    delta_io.write_table(_people(spark, range(4)), fresh_table)
    keys = _people(spark, range(2)).select("person_id")
    result = delta_io.merge_table(
        keys,
        fresh_table,
        keys=["person_id"],
        when_matched="update",
        update_set={"name": F.lit(None).cast("string")},
        when_not_matched="ignore",
        check_duplicates=False,
    )
    assert (result.updated, result.deleted, result.inserted) == (2, 0, 0)
    rows = {r["person_id"]: r for r in delta_io.read_table(spark, fresh_table).collect()}
    assert [rows[f"SECRET-{i:04d}"]["name"] for i in range(4)] == [None, None, "name 2", "name 3"]
    assert rows["SECRET-0000"]["grp"] == 0  # columns not in update_set keep their values


@pytest.mark.spark
@pytest.mark.minio
def test_a_merge_that_inserts_nothing_creates_no_table(spark, fresh_table) -> None:
    keys = _people(spark, range(2)).select("person_id")
    with pytest.raises(TableError) as err:
        delta_io.merge_table(
            keys, fresh_table, keys=["person_id"], when_matched="delete", when_not_matched="ignore"
        )
    assert err.value.message == f"No Delta table at {fresh_table} to merge into."
    assert err.value.fix == (
        "check the layer and name (a merge that inserts nothing creates no table)"
    )
    assert not delta_io.table_exists(spark, fresh_table)
