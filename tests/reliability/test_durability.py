"""Durability: MinIO erasure-codes the lake over 4 drives; a wiped drive loses nothing and heals.

A separate 4-drive MinIO (``minio.drives = 4``, EC:2) holds a Delta table written with delta-rs
and plain objects (one inlined in ``xl.meta``, one large enough to be stored as erasure shards).
One drive directory is wiped entirely while the server runs: every object and the table read back
identical. MinIO's new-drive monitor (every 10 s) then formats the empty drive and heals every
object onto it. To prove the healed shards are real data and not only metadata, two *other*
drives are then wiped: with EC:2 the two remaining drives, one of them the healed one, must
still serve everything identically.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest

from conftest import base_settings
from lake.delta_reader import storage_options
from lake.minio_server import drive_dirs, server_args, start
from lake.processes import stop_pid
from lake.settings import Settings
from lake.storage import ensure_bucket, object_client
from lake.toolchain import minio_binary

pytestmark = [pytest.mark.minio, pytest.mark.reliability, pytest.mark.slow, pytest.mark.fault]

BUCKET = "durable"
TABLE = f"s3://{BUCKET}/gold/durability_check"
HEAL_TIMEOUT_S = 120.0
T = TypeVar("T")


@dataclass(frozen=True)
class ErasureLake:
    settings: Settings
    data_dir: Path
    log_file: Path


@pytest.fixture
def erasure_lake(tmp_path: Path) -> Iterator[ErasureLake]:
    settings = base_settings(tmp_path)
    binary = minio_binary(settings)
    if not binary.is_file():
        pytest.fail(f"MinIO binary missing at {binary}: run `make minio` first", pytrace=False)
    access_key, secret_key = (
        "dur-admin",
        "dur-" + hashlib.sha256(str(tmp_path).encode()).hexdigest(),
    )
    state = start(
        binary,
        data_dir=tmp_path / "data",
        host="127.0.0.1",
        port=0,
        console_port=0,
        access_key=access_key,
        secret_key=secret_key,
        log_file=tmp_path / "minio.log",
        die_with_parent=True,
        drives=4,
    )
    try:
        lake = settings.with_overrides(
            {
                "storage": {
                    "endpoint": state.endpoint,
                    "access_key": access_key,
                    "secret_key": secret_key,
                    "bucket": BUCKET,
                }
            }
        )
        ensure_bucket(lake)
        yield ErasureLake(lake, tmp_path / "data", tmp_path / "minio.log")
    finally:
        stop_pid(state.pid)


def _objects() -> dict[str, bytes]:
    small = {
        f"landing/adoptions/2026-01-15/file_{i}.csv": f"id;pays\n{i};FRA\n".encode()
        for i in range(5)
    }
    # Above MinIO's 128 KiB inline limit: stored as part files (erasure shards), not in xl.meta.
    large = {"landing/hr_agents/2026-01-15/agents.csv": bytes(range(256)) * 8192}  # 2 MiB
    return small | large


def _write(lake: ErasureLake) -> tuple[dict[str, bytes], object]:
    import pyarrow as pa
    from deltalake import write_deltalake

    client = object_client(lake.settings)
    objects = _objects()
    for name, data in objects.items():
        client.put_object(BUCKET, name, io.BytesIO(data), len(data))
    options = storage_options(lake.settings) | {"aws_conditional_put": "etag"}
    first = pa.table({"pays_iso3": ["FRA", "DEU", "ITA"] * 400, "n": list(range(1200))})
    write_deltalake(TABLE, first, storage_options=options)
    write_deltalake(TABLE, first.slice(0, 100), mode="append", storage_options=options)
    return objects, _table(lake)


def _table(lake: ErasureLake) -> object:
    from deltalake import DeltaTable

    table = DeltaTable(TABLE, storage_options=storage_options(lake.settings))
    return table.version(), table.to_pyarrow_table().sort_by("n").to_pylist()


def _read_all(lake: ErasureLake, names: list[str]) -> dict[str, bytes]:
    client = object_client(lake.settings)
    out = {}
    for name in names:
        response = client.get_object(BUCKET, name)
        try:
            out[name] = response.read()
        finally:
            response.close()
            response.release_conn()
    return out


def _bucket_files(drive: Path) -> set[str]:
    root = drive / BUCKET
    return (
        {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
        if root.is_dir()
        else set()
    )


def _wipe(drive: Path) -> None:
    shutil.rmtree(drive)
    drive.mkdir()  # an empty, unformatted drive, as after a disk replacement


def test_the_layout_is_four_drive_directories_in_one_erasure_set(tmp_path: Path) -> None:
    assert server_args(tmp_path, 4) == [f"{tmp_path}/d{{1...4}}"]
    assert server_args(tmp_path, 1) == [str(tmp_path)]
    assert drive_dirs(tmp_path, 4) == [tmp_path / f"d{i}" for i in range(1, 5)]


def test_a_wiped_drive_loses_nothing_and_heals(erasure_lake: ErasureLake) -> None:
    lake = erasure_lake
    drives = drive_dirs(lake.data_dir, 4)
    objects, table = _write(lake)
    fmt = json.loads((drives[0] / ".minio.sys" / "format.json").read_text())
    assert fmt["format"] == "xl" and [len(s) for s in fmt["xl"]["sets"]] == [4]  # one set of 4

    # Every drive holds a shard (or the inlined copy) of every object and table file.
    layout = [_bucket_files(d) for d in drives]
    assert all(layout[0] == files for files in layout[1:])
    shards = {f for f in layout[0] if "/part." in f}
    assert shards, "the 2 MiB object should be stored as erasure shards (part files)"

    shards_before = _shard_bytes(drives[1])
    _wipe(drives[1])
    assert _bucket_files(drives[1]) == set()
    # Nothing is lost while the drive is empty.
    assert _read_all(lake, sorted(objects)) == objects
    assert _table(lake) == table

    deadline = time.monotonic() + HEAL_TIMEOUT_S
    while _bucket_files(drives[1]) != layout[1] and time.monotonic() < deadline:
        time.sleep(2)
    assert _bucket_files(drives[1]) == layout[1], (
        f"drive {drives[1]} not healed within {HEAL_TIMEOUT_S:.0f} s; log: "
        + lake.log_file.read_text(errors="replace")[-800:]
    )
    assert f"Healing of drive '{drives[1]}' is finished" in lake.log_file.read_text(
        errors="replace"
    )

    # The healed shards are the same bytes as the lost ones (erasure coding is deterministic).
    assert _shard_bytes(drives[1]) == shards_before

    # And they serve: with two other drives gone (EC:2 tolerates two), every byte must come from
    # the healed drive and the last intact one. Right after the wipe MinIO may briefly answer
    # NoSuchBucket (two drives without the bucket against two with it: a tie at read quorum),
    # until its drive monitor formats the empty drives; a client retries, so does the test.
    _wipe(drives[0])
    _wipe(drives[2])
    assert _eventually(lambda: _read_all(lake, sorted(objects))) == objects
    assert _eventually(lambda: _table(lake)) == table


def _shard_bytes(drive: Path) -> dict[str, bytes]:
    """The erasure shards (part files) a drive holds for the bucket, by path."""
    root = drive / BUCKET
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("part.*") if p.is_file()}


def _eventually(read: Callable[[], T], timeout_s: float = HEAL_TIMEOUT_S) -> T:
    """``read()``, retried while MinIO reports the bucket or an object missing (transient)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return read()
        except Exception as exc:  # S3Error from minio, OSError/DeltaError from delta-rs
            transient = any(
                code in str(exc) for code in ("NoSuchBucket", "NoSuchKey", "not found", "404")
            )
            if not transient or time.monotonic() > deadline:
                raise
        time.sleep(2)
