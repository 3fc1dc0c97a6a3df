"""The lineage journal: every OpenLineage event the lake emits, kept in the lake itself.

Lineage is a fact the governance products need long after the job that produced it, and from any
machine: ``lake reports`` in another container, on the host, or next year must see the events
of every run. Local event files (``lineage.file`` and the Spark listener's file beside it) are
therefore only a spool: :func:`publish` copies what they gained since the last publication to
immutable objects under ``meta/lineage/`` of the lake (one object per file per publication, named
``meta/lineage/<origin>/<utc time>-<host>-<pid>-<random>.jsonl``, where origin is ``lake`` or
``spark``), and :func:`fetch` gives the readers the journal as local files (downloaded once into
``var/lineage/journal/``, objects never change). Whatever transport also sends events to a server
(Marquez over HTTP), the journal keeps them.

Publication is idempotent and safe under concurrency: a byte offset beside each spool file
(``<file>.published``) records what is already in the lake, only complete lines are published,
and an exclusive lock serialises publishers on one host. A failed publication (store down, no
right to write ``meta/``) leaves the offset where it was: the next command publishes the lines.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import logging
import os
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path

from lake.layers import Layer
from lake.objects import ObjectStore
from lake.settings import Settings

log = logging.getLogger(__name__)
_META: Layer = "meta"
JOURNAL = f"{_META}/lineage/"
ORIGINS = ("lake", "spark")


def spool_files(settings: Settings) -> dict[str, Path]:
    """The local spool files by origin: the lake's own events and the Spark listener's."""
    events = settings.lineage.file
    return {"lake": events, "spark": events.with_name(events.stem + "-spark" + events.suffix)}


def _offset_file(path: Path) -> Path:
    return path.with_name(path.name + ".published")


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    lock = path.with_name(path.name + ".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _object_key(origin: str) -> str:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    host = "".join(c if c.isalnum() or c in "-." else "-" for c in socket.gethostname())[:40]
    return f"{JOURNAL}{origin}/{stamp}-{host}-{os.getpid()}-{secrets.token_hex(4)}.jsonl"


def pending(path: Path) -> tuple[int, bytes]:
    """Where the unpublished part of ``path`` starts, and its complete lines (may be empty)."""
    if not path.is_file():
        return 0, b""
    offset_file = _offset_file(path)
    offset = int(offset_file.read_text() or 0) if offset_file.is_file() else 0
    if offset > path.stat().st_size:  # the spool was truncated or replaced: all of it is new
        offset = 0
    with path.open("rb") as handle:
        handle.seek(offset)
        data = handle.read()
    return offset, data[: data.rfind(b"\n") + 1]


def publish(settings: Settings) -> list[str]:
    """Copy the spool files' unpublished complete lines to the journal; returns the new keys.

    Raises:
        StorageError: The store refused or was unreachable (nothing marked as published).
    """
    if settings.lineage.transport == "none":
        return []
    written: list[str] = []
    store = ObjectStore(settings)
    for origin, path in spool_files(settings).items():
        if not path.is_file():
            continue
        with _locked(path):
            start, data = pending(path)
            if not data:
                continue
            offset_file = _offset_file(path)
            mine = _of_this_lake(data, settings)
            key = _object_key(origin)
            if mine:
                store.put_bytes(key, mine, {"origin": origin, "events": str(mine.count(b"\n"))})
            tmp = offset_file.with_name(offset_file.name + ".tmp")
            tmp.write_text(str(start + len(data)))
            tmp.replace(offset_file)
            if mine:
                written.append(key)
    return written


def _of_this_lake(data: bytes, settings: Settings) -> bytes:
    """The lines of ``data`` about this lake: events naming a dataset of its namespace, or no
    dataset at all. A spool is per host, and one Spark session may serve several lakes (tests,
    a developer's two buckets): another lake's events never enter this lake's journal."""
    import json

    from lake.storage import lake_root, openlineage_dataset

    namespace = openlineage_dataset(lake_root(settings) + "/x")[0]
    kept = []
    for line in data.splitlines(keepends=True):
        try:
            event = json.loads(line)
            datasets = [*(event.get("inputs") or []), *(event.get("outputs") or [])]
            spaces = {d.get("namespace") for d in datasets if isinstance(d, dict)}
        except (ValueError, AttributeError, TypeError):
            continue  # not an event: nothing any reader could use
        if not spaces or namespace in spaces:
            kept.append(line)
    return b"".join(kept)


def publish_quietly(settings: Settings) -> list[str]:
    """:func:`publish`, logging instead of raising: lineage never fails a finished command; the
    lines stay in the spool and the next command publishes them."""
    try:
        return publish(settings)
    except Exception as exc:  # best-effort, as every lineage emission (STYLE.md)
        log.warning("lineage events not yet copied to the lake (kept locally): %s", exc)
        return []


def journal_keys(settings: Settings) -> list[str]:
    """Every object of the journal, oldest first."""
    keys = ObjectStore(settings).list_keys(JOURNAL)
    return sorted(keys, key=lambda k: (k.rsplit("/", 1)[-1], k))


def cache_dir(settings: Settings) -> Path:
    """Where journal objects are copied for reading (immutable, so copied once): beside the
    spool, per bucket (``var/lineage/journal/<bucket>/`` by default)."""
    return settings.lineage.file.parent / "journal" / settings.storage.bucket


def fetch(settings: Settings) -> list[Path]:
    """The journal as local files, one per object, in publication order.

    Raises:
        StorageError: The store is unreachable or refuses to list ``meta/lineage/``.
    """
    store = ObjectStore(settings)
    base = cache_dir(settings)
    paths = []
    for key in journal_keys(settings):
        local = base / key.removeprefix(JOURNAL)
        if not local.is_file():
            local.parent.mkdir(parents=True, exist_ok=True)
            tmp = local.with_name(local.name + ".part")
            tmp.write_bytes(store.get_bytes(key))
            tmp.replace(local)
        paths.append(local)
    return paths


_publisher: Settings | None = None


def publish_at_exit(settings: Settings) -> None:
    """Remember the settings of this process's lineage (the job's role, not the caller's):
    :func:`publish_recorded` publishes with them when the command ends."""
    global _publisher
    _publisher = settings


def publish_recorded() -> list[str]:
    """Publish the spool of the settings :func:`publish_at_exit` recorded (none: nothing)."""
    global _publisher
    settings, _publisher = _publisher, None
    return publish_quietly(settings) if settings is not None else []
