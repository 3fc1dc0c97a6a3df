"""The meta-table appender on a local-filesystem lake (delta-rs, no Spark, no object store)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from conftest import base_settings
from lake import meta_tables
from lake.errors import TableError
from lake.meta_tables import MetaTable
from lake.settings import Settings

AT = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
EVENTS = MetaTable(
    "events",
    (
        ("event_id", "string"),
        ("at", "timestamp"),
        ("rows", "int64"),
        ("share", "float64"),
        ("ok", "bool"),
        ("tags", "list<string>"),
    ),
)


def _local(tmp_path: Path) -> Settings:
    return base_settings(tmp_path).with_overrides(
        {"storage": {"backend": "local", "local_root": str(tmp_path / "lake")}}
    )


def test_the_first_append_creates_the_table_with_the_declared_schema(tmp_path: Path) -> None:
    from deltalake import DeltaTable

    settings = _local(tmp_path)
    assert meta_tables.read(settings, EVENTS) == []  # before the first append
    meta_tables.append(
        settings,
        EVENTS,
        [{"event_id": "e1", "at": AT, "rows": 3, "share": 0.5, "ok": True, "tags": ["a"]}],
    )
    uri = EVENTS.uri(settings)
    assert uri == (tmp_path / "lake").resolve().as_uri() + "/meta/events"
    table = DeltaTable(uri)
    assert table.version() == 0
    stored = table.to_pyarrow_table().schema
    assert [(f.name, f.type) for f in stored] == [(f.name, f.type) for f in EVENTS.arrow_schema()]
    assert meta_tables.read(settings, EVENTS) == [
        {"event_id": "e1", "at": AT, "rows": 3, "share": 0.5, "ok": True, "tags": ["a"]}
    ]


def test_appends_add_one_commit_each_and_keep_every_row(tmp_path: Path) -> None:
    from deltalake import DeltaTable

    settings = _local(tmp_path)
    meta_tables.append(settings, EVENTS, [{"event_id": "e1"}, {"event_id": "e2"}])
    meta_tables.append(settings, EVENTS, [{"event_id": "e3"}])
    assert DeltaTable(EVENTS.uri(settings)).version() == 1
    assert sorted(r["event_id"] for r in meta_tables.read(settings, EVENTS)) == ["e1", "e2", "e3"]


def test_missing_columns_are_null_and_undeclared_keys_are_not_written(tmp_path: Path) -> None:
    settings = _local(tmp_path)
    meta_tables.append(settings, EVENTS, [{"event_id": "e1", "not_declared": "x"}])
    (row,) = meta_tables.read(settings, EVENTS)
    assert row == {
        "event_id": "e1",
        "at": None,
        "rows": None,
        "share": None,
        "ok": None,
        "tags": None,
    }


def test_no_rows_write_nothing(tmp_path: Path) -> None:
    settings = _local(tmp_path)
    meta_tables.append(settings, EVENTS, [])
    assert not (tmp_path / "lake" / "meta" / "events").exists()


def test_a_column_declared_later_is_added_and_older_rows_read_none(tmp_path: Path) -> None:
    settings = _local(tmp_path)
    old = MetaTable("events", EVENTS.columns[:2])
    meta_tables.append(settings, old, [{"event_id": "old", "at": AT}])
    meta_tables.append(settings, EVENTS, [{"event_id": "new", "rows": 7, "tags": []}])
    rows: dict[str, dict[str, Any]] = {r["event_id"]: r for r in meta_tables.read(settings, EVENTS)}
    assert rows["old"]["at"] == AT and rows["old"]["rows"] is None and rows["old"]["tags"] is None
    assert rows["new"]["rows"] == 7 and rows["new"]["tags"] == []
    # code that still declares the shorter schema appends to the wider table too
    meta_tables.append(settings, old, [{"event_id": "older-code"}])
    assert len(meta_tables.read(settings, EVENTS)) == 3


def test_a_changed_column_type_is_one_table_error(tmp_path: Path) -> None:
    settings = _local(tmp_path)
    meta_tables.append(settings, EVENTS, [{"event_id": "e1", "rows": 1}])
    changed = MetaTable("events", (("event_id", "string"), ("rows", "string")))
    with pytest.raises(TableError) as err:
        meta_tables.append(settings, changed, [{"event_id": "e2", "rows": "many"}])
    uri = EVENTS.uri(settings)
    assert err.value.message.startswith(f"Could not append 1 row(s) to meta/events ({uri}): ")
    assert "many" in err.value.message  # delta-rs names the value it could not cast
    assert err.value.table == uri
    assert err.value.fix == "declare a new column instead of changing the type of an existing one"


def test_an_unknown_column_kind_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError) as err:
        MetaTable("events", (("event_id", "text"),))  # type: ignore[arg-type]
    assert str(err.value) == (
        "meta/events: column kind(s) of event_id ('text') not one of "
        "string, int64, float64, bool, timestamp, list<string>"
    )


def test_an_object_store_append_commits_with_conditional_puts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import deltalake

    seen: dict[str, Any] = {}

    def fake_write(uri: str, data: Any, **options: Any) -> None:
        seen.update(options, uri=uri, rows=data.read_all().num_rows)  # a record batch stream

    monkeypatch.setattr(deltalake, "write_deltalake", fake_write)
    settings = base_settings(tmp_path)  # the repository's s3 backend
    meta_tables.append(settings, EVENTS, [{"event_id": "e1"}])
    assert seen["uri"] == f"s3://{settings.storage.bucket}/meta/events"
    assert seen["rows"] == 1
    assert seen["mode"] == "append" and seen["schema_mode"] == "merge"
    assert seen["storage_options"]["aws_conditional_put"] == "etag"
    assert seen["storage_options"]["AWS_ENDPOINT_URL"] == settings.endpoint


def test_the_three_meta_tables_declare_their_columns_once() -> None:
    from ingestion.runlog import RUN_LOG, RunRecord
    from lifecycle.journal import LIFECYCLE_LOG
    from quality.history import QUALITY_RESULTS

    assert [t.name for t in (RUN_LOG, QUALITY_RESULTS, LIFECYCLE_LOG)] == [
        "runs",
        "quality_results",
        "lifecycle_log",
    ]
    record = RunRecord("r", "b", "adoptions", "bronze", "succeeded", AT)
    assert sorted(record.as_dict()) == sorted(RUN_LOG.column_names)  # every field has a column
