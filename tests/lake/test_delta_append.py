"""delta-rs appends (lake.delta_append) against the real MinIO, read back by delta-rs and Spark."""

from __future__ import annotations

import json
import uuid

import pyarrow as pa
import pytest

from ingestion.errors import ExtractError
from lake import delta_io
from lake.delta_append import append_arrow, committed_transactions, table_schema
from lake.delta_reader import open_if_exists, open_table

pytestmark = pytest.mark.minio
SCHEMA = pa.schema([("id", pa.string()), ("n", pa.int64())])


def _batch(ids: list[str], schema: pa.Schema = SCHEMA) -> pa.RecordBatch:
    columns = {"id": pa.array(ids), "n": pa.array(range(len(ids)), pa.int64())}
    if "extra" in schema.names:
        columns["extra"] = pa.array(["x"] * len(ids))
    return pa.RecordBatch.from_pydict(columns, schema=schema)


def test_one_commit_for_a_stream_with_one_transaction_per_part(lake_settings, fresh_table) -> None:
    append_arrow(
        lake_settings,
        fresh_table,
        SCHEMA,
        iter([_batch(["a", "b"]), _batch(["c"])]),
        transactions=["part:1", "part:2"],
        commit_info={"run_id": "R1"},
    )

    table = open_table(lake_settings, fresh_table)
    assert table.version() == 0
    assert sorted(table.to_pyarrow_table().column("id").to_pylist()) == ["a", "b", "c"]
    assert committed_transactions(
        open_if_exists(lake_settings, fresh_table), ["part:1", "part:2", "part:3"]
    ) == {
        "part:1",
        "part:2",
    }
    assert json.loads(table.history()[0]["userMetadata"]) == {"run_id": "R1"}


def test_an_error_while_producing_is_raised_unchanged_and_nothing_is_committed(
    lake_settings, fresh_table
) -> None:
    append_arrow(lake_settings, fresh_table, SCHEMA, iter([_batch(["a"])]))
    error = ExtractError("f.csv", "an undecodable byte at line 7.", fix="re-export it")

    def failing():
        yield _batch(["b"])
        raise error

    with pytest.raises(ExtractError) as raised:
        append_arrow(lake_settings, fresh_table, SCHEMA, failing(), transactions=["t"])

    assert raised.value is error
    table = open_table(lake_settings, fresh_table)
    assert table.version() == 0 and table.to_pyarrow_table().num_rows == 1
    assert committed_transactions(open_if_exists(lake_settings, fresh_table), ["t"]) == set()


def test_a_new_column_is_added_and_spark_reads_every_commit(
    spark, lake_settings, fresh_table
) -> None:
    assert table_schema(open_if_exists(lake_settings, fresh_table)) is None
    append_arrow(lake_settings, fresh_table, SCHEMA, iter([_batch(["a"])]))
    wider = SCHEMA.append(pa.field("extra", pa.string()))
    append_arrow(lake_settings, fresh_table, wider, iter([_batch(["b"], wider)]))

    schema = table_schema(open_if_exists(lake_settings, fresh_table))
    assert schema is not None and schema.names == ["id", "n", "extra"]
    rows = {r["id"]: r["extra"] for r in delta_io.read_table(spark, fresh_table).collect()}
    assert rows == {"a": None, "b": "x"}
    history = delta_io.history(spark, fresh_table)
    assert [h["version"] for h in history] == [1, 0]


def test_a_type_change_is_refused_naming_the_table(lake_settings, fresh_table) -> None:
    from lake.errors import TableError

    append_arrow(lake_settings, fresh_table, SCHEMA, iter([_batch(["a"])]))
    other = pa.schema([("id", pa.string()), ("n", pa.string())])
    rows = pa.RecordBatch.from_pydict({"id": ["b"], "n": ["deux"]}, schema=other)

    with pytest.raises(TableError) as raised:
        append_arrow(lake_settings, fresh_table, other, iter([rows]), what="1 row to t")

    assert "Could not append 1 row to t" in str(raised.value)
    assert fresh_table in str(raised.value)


def test_a_job_run_without_the_lease_cannot_append_but_meta_tables_need_none(
    lake_settings, fresh_table
) -> None:
    from lake.leases import LeaseError, LeaseSet
    from lake.storage import table_uri

    other = table_uri(lake_settings, "bronze", f"leased_{uuid.uuid4().hex[:6]}")
    meta = table_uri(lake_settings, "meta", f"log_{uuid.uuid4().hex[:6]}")
    table = fresh_table.split("/bronze/", 1)[1]
    with LeaseSet(lake_settings, [f"bronze/{table}"], run_id="R1", job="bronze"):
        append_arrow(lake_settings, fresh_table, SCHEMA, iter([_batch(["a"])]))
        with pytest.raises(LeaseError, match="without holding"):
            append_arrow(lake_settings, other, SCHEMA, iter([_batch(["b"])]))
        append_arrow(lake_settings, meta, SCHEMA, iter([_batch(["c"])]), leased=False)
    assert table_schema(open_if_exists(lake_settings, other)) is None
    assert open_table(lake_settings, meta).to_pyarrow_table().num_rows == 1
