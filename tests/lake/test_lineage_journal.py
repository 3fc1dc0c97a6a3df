"""The lineage journal: local spools copied to the lake once, read back from any machine.

On the session's real MinIO: every complete line reaches ``meta/lineage/`` exactly once, however
many times or from how many processes publication runs; a half-written line waits; a store that
is down keeps the lines for the next command; a reader with an empty ``var/`` (another container)
reads the same events back.
"""

from __future__ import annotations

import json
import multiprocessing
import secrets
from pathlib import Path

import pytest

from lake.errors import StorageError
from lake.lineage_journal import JOURNAL, fetch, journal_keys, publish, spool_files
from lake.storage import ensure_bucket

pytestmark = [pytest.mark.minio]


def _event(n: int) -> str:
    return json.dumps({"eventType": "COMPLETE", "run": {"runId": f"r{n}"}, "n": n}) + "\n"


@pytest.fixture
def lake(lake_settings, tmp_path):
    settings = lake_settings.with_overrides(
        {
            "storage": {"bucket": "journal-" + secrets.token_hex(4)},
            "lineage": {"file": str(tmp_path / "host-a" / "lineage" / "events.jsonl")},
        }
    )
    ensure_bucket(settings)
    return settings


def _read_back(settings, tmp_path: Path, name: str) -> list[dict]:
    """The journal as another machine sees it: a fresh var/ (no cache, no spool)."""
    other = settings.with_overrides({"lineage": {"file": str(tmp_path / name / "events.jsonl")}})
    return [json.loads(line) for p in fetch(other) for line in p.read_text().splitlines()]


def test_every_complete_line_reaches_the_lake_once(lake, tmp_path) -> None:
    spools = spool_files(lake)
    spools["lake"].parent.mkdir(parents=True)
    spools["lake"].write_text(_event(1) + _event(2) + '{"half": ')  # a line being written
    spools["spark"].write_text(_event(10))
    first = publish(lake)
    assert sorted(k.split("/")[2] for k in first) == ["lake", "spark"]
    assert all(k.startswith(JOURNAL) for k in first)
    assert publish(lake) == []  # nothing new: nothing written
    with spools["lake"].open("a") as f:
        f.write('"line"}\n' + _event(3))
    (second,) = publish(lake)
    assert second.startswith(f"{JOURNAL}lake/")
    seen = _read_back(lake, tmp_path, "host-b")
    assert sorted(e.get("n", -1) for e in seen) == [-1, 1, 2, 3, 10]
    assert {"half": "line"} in seen  # the half line went once, when complete
    assert len(journal_keys(lake)) == 3


def test_concurrent_publishers_copy_each_line_once(lake, tmp_path) -> None:
    spool = spool_files(lake)["lake"]
    spool.parent.mkdir(parents=True)
    spool.write_text("".join(_event(n) for n in range(200)))
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(4) as pool:
        results = pool.map(publish, [lake] * 4)
    assert sum(len(r) for r in results) == 1  # one publisher took it, the others found nothing
    seen = _read_back(lake, tmp_path, "host-c")
    assert sorted(e["n"] for e in seen) == list(range(200))


def test_a_store_that_is_down_keeps_the_lines_for_the_next_command(lake, tmp_path) -> None:
    spool = spool_files(lake)["lake"]
    spool.parent.mkdir(parents=True)
    spool.write_text(_event(1))
    down = lake.with_overrides({"storage": {"endpoint": "http://127.0.0.1:9"}})
    with pytest.raises(StorageError):
        publish(down)
    (key,) = publish(lake)  # the next command, store back
    assert [e["n"] for e in _read_back(lake, tmp_path, "host-d")] == [1]
    assert key.startswith(f"{JOURNAL}lake/")


def test_no_lineage_no_journal(lake) -> None:
    off = lake.with_overrides({"lineage": {"transport": "none"}})
    spool = spool_files(off)["lake"]
    spool.parent.mkdir(parents=True)
    spool.write_text(_event(1))
    assert publish(off) == []
    assert journal_keys(lake) == []


def test_another_lakes_events_never_enter_this_journal(lake, tmp_path) -> None:
    """One Spark session may serve two lakes (one spool per host): each journal keeps its own."""
    mine = {"eventType": "COMPLETE", "outputs": [{"namespace": f"s3://{lake.storage.bucket}"}]}
    other = {"eventType": "COMPLETE", "outputs": [{"namespace": "s3://another-lake"}]}
    spool = spool_files(lake)["spark"]
    spool.parent.mkdir(parents=True)
    spool.write_text(json.dumps(other) + "\n" + json.dumps(mine) + "\n" + _event(7))
    (key,) = publish(lake)
    seen = _read_back(lake, tmp_path, "host-e")
    assert [e.get("outputs") for e in seen] == [mine["outputs"], None]
    assert key.startswith(f"{JOURNAL}spark/")
