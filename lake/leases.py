"""Table leases: one writing job per Delta table, enforced with conditional puts.

Delta's default log store on S3 (``S3SingleDriverLogStore``) is only safe with one writing driver
per table: two drivers committing the same version overwrite each other's ``_delta_log`` entry and
a commit is lost without an error. Before a job writes a table it therefore takes the table's
*lease*, a small JSON object ``_locks/<layer>/<name>.json`` in the lake bucket, with a conditional
PUT (decision record 0007):

- a free table: ``If-None-Match: *`` (the PUT fails with 412 if anyone created it first);
- a lease that was released, has expired, or whose job died on this host: ``If-Match: <ETag>``
  of the lease read, so of two jobs taking over the same stale lease exactly one wins;
- renewal (a heartbeat thread, every ``locks.renew_every_s``) and release are ``If-Match`` on the
  ETag this job last wrote: if anything else changed the object, the job knows it lost the lease
  and :func:`check_write` refuses its next write. Release writes a "released" tombstone instead of
  deleting (MinIO ignores ``If-Match`` on DELETE, so a delete could remove another job's lease).

Expiry is judged on the object store's clock (``Last-Modified`` of the lease + its TTL against the
``Date`` of the response), so the clocks of the hosts running the jobs do not matter. The
requests are presigned by the MinIO client (public API) and sent with ``urllib3``, because the
client's ``put_object`` turns unknown headers into user metadata. With ``storage.backend =
"local"`` the same protocol runs on files under ``<local_root>/_locks`` with ``flock``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import hashlib
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Protocol

from lake.errors import LakeError, StorageError
from lake.layers import DATA_LAYERS
from lake.settings import Settings
from lake.storage import LAYERS, explain_storage_failure, lake_root, object_client

log = logging.getLogger(__name__)

LOCK_PREFIX = "_locks"
LEASED_LAYERS = DATA_LAYERS
Progress = Callable[[str], None]


class LeaseError(LakeError):
    """A table lease could not be taken, or was lost."""


class TableBusyError(LeaseError):
    """Another job holds the lease of a table this job must write.

    Attributes:
        table: ``layer/name`` of the table.
        holder: The lease that holds it.
    """

    def __init__(self, table: str, holder: LeaseRecord, *, waited_s: float = 0.0) -> None:
        self.table = table
        self.holder = holder
        waited = f" (waited {waited_s:.0f} s)" if waited_s else ""
        super().__init__(
            f"table {table} busy: held by run {holder.run_id} (job {holder.job}, user "
            f"{holder.user} on host {holder.host}, pid {holder.pid}) since "
            f"{holder.acquired_at}, expires at {holder.expires_at}{waited}.",
            fix="let that job finish, or rerun with --wait SECONDS (LAKE__LOCKS__WAIT_S); the "
            "lease of a job that died is taken over when it expires (at once on its own host)",
        )


class LeaseLostError(LeaseError):
    """This job's lease was taken over or could not be renewed in time: it must not write."""


@dataclass(frozen=True)
class LeaseRecord:
    """The content of a lease object (JSON)."""

    table: str
    run_id: str
    job: str
    user: str
    host: str
    pid: int
    acquired_at: str
    renewed_at: str
    expires_at: str
    ttl_s: float
    pid_started: str = ""
    boot_id: str = ""
    released_at: str | None = None

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> LeaseRecord:
        raw = json.loads(data)
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in raw.items() if k in known})


@dataclass(frozen=True)
class StoredLease:
    """A lease object as read, with the store's view of time."""

    record: LeaseRecord
    etag: str
    modified: dt.datetime
    now: dt.datetime

    @property
    def expired(self) -> bool:
        return self.now >= self.modified + dt.timedelta(seconds=self.record.ttl_s)

    @property
    def state(self) -> str:
        """``released``, ``expired``, ``dead`` (holder gone, same host) or ``held``."""
        if self.record.released_at:
            return "released"
        if self.expired:
            return "expired"
        if holder_is_dead(self.record):
            return "dead"
        return "held"


class LeaseStore(Protocol):
    """Compare-and-swap on small objects: the only IO the leases need."""

    def read(self, key: str) -> StoredLease | None: ...

    def create(self, key: str, body: bytes) -> str | None:
        """Write ``key`` if absent; its new ETag, or None if it exists."""

    def replace(self, key: str, body: bytes, etag: str) -> str | None:
        """Overwrite ``key`` if its ETag is ``etag``; the new ETag, or None if not."""

    def keys(self, prefix: str) -> list[str]: ...


def lease_key(table: str) -> str:
    """``_locks/<layer>/<name>.json`` for ``table`` = ``layer/name``."""
    layer, _, name = table.partition("/")
    if layer not in LAYERS or not name or "/" in name:
        raise ValueError(f"a leased table is LAYER/NAME with LAYER in {LAYERS}; got {table!r}")
    return f"{LOCK_PREFIX}/{layer}/{name}.json"


def table_of_uri(settings: Settings, uri: str) -> str | None:
    """``layer/name`` of a table URI under the lake root, or None for anything else."""
    root = lake_root(settings).rstrip("/") + "/"
    if not uri.startswith(root):
        return None
    parts = uri[len(root) :].strip("/").split("/")
    if len(parts) != 2 or parts[0] not in LAYERS:
        return None
    return f"{parts[0]}/{parts[1]}"


def store_for(settings: Settings) -> LeaseStore:
    """The lease store of the lake's backend."""
    if settings.storage.backend == "local":
        return LocalLeaseStore(settings.storage.local_root)
    return S3LeaseStore(settings)


# --- one lease ----------------------------------------------------------------------------


@dataclass
class Lease:
    """A lease this process holds on one table."""

    table: str
    record: LeaseRecord
    etag: str
    store: LeaseStore
    renewed_mono: float = field(default_factory=time.monotonic)
    lost: str | None = None

    @property
    def key(self) -> str:
        return lease_key(self.table)

    def check(self) -> None:
        """Raise :class:`LeaseLostError` when this job may no longer write the table."""
        if self.lost:
            raise LeaseLostError(
                f"Lease of table {self.table} lost by run {self.record.run_id}: {self.lost}; "
                "the write was refused so that two jobs never commit to the same table.",
                fix="rerun the job; see who holds the table with `lake locks`",
            )
        # A margin of a few seconds: the write that follows must commit before the expiry.
        left = self.record.ttl_s - (time.monotonic() - self.renewed_mono)
        if left < min(10.0, self.record.ttl_s / 4):
            raise LeaseLostError(
                f"Lease of table {self.table} (run {self.record.run_id}) was not renewed for "
                f"{time.monotonic() - self.renewed_mono:.0f} s of its {self.record.ttl_s:.0f} s "
                "TTL: another job may take it over, so this job stops writing.",
                fix="check the object store (`lake status`), then rerun the job",
            )

    def renew(self) -> None:
        """Extend the lease (``If-Match`` on the ETag this job wrote last).

        Raises:
            LeaseLostError: The object changed: another job took the lease over.
            StorageError: The store could not be reached (the lease may still be ours).
        """
        if self.lost:
            raise LeaseLostError(f"Lease of table {self.table} already lost: {self.lost}.")
        stamp = _now()
        record = replace(
            self.record,
            renewed_at=_iso(stamp),
            expires_at=_iso(stamp + dt.timedelta(seconds=self.record.ttl_s)),
        )
        started = time.monotonic()
        etag = self.store.replace(self.key, record.to_json(), self.etag)
        if etag is None:
            current = self.store.read(self.key)
            who = f"run {current.record.run_id}" if current else "nobody (object removed)"
            self._lose(f"the lease object changed, now held by {who}")
            raise LeaseLostError(f"Lease of table {self.table} lost: {self.lost}.")
        self.record, self.etag, self.renewed_mono = record, etag, started

    def release(self) -> bool:
        """Give the table back (a tombstone written with ``If-Match``); False if not ours."""
        if self.lost:
            return False
        record = replace(self.record, released_at=_iso(_now()))
        etag = self.store.replace(self.key, record.to_json(), self.etag)
        if etag is None:
            self._lose("the lease object changed before release")
            return False
        self.record, self.etag = record, etag
        _holding(self.table, self.record.run_id, False)
        return True

    def _lose(self, why: str) -> None:
        self.lost = why
        _holding(self.table, self.record.run_id, False)


def acquire(
    store: LeaseStore,
    table: str,
    *,
    run_id: str,
    job: str,
    ttl_s: float,
    wait_s: float = 0.0,
    poll_s: float = 2.0,
    progress: Progress = lambda _: None,
) -> Lease:
    """Take the lease of ``table`` (``layer/name``), waiting up to ``wait_s`` if it is busy.

    Raises:
        TableBusyError: Another live job holds it (after ``wait_s``).
        StorageError: The store could not be reached.
    """
    key = lease_key(table)
    started = time.monotonic()
    announced = False
    while True:
        current = store.read(key)
        record = _new_record(table, run_id=run_id, job=job, ttl_s=ttl_s)
        if current is None:
            etag = store.create(key, record.to_json())
        elif current.state in ("released", "expired", "dead"):
            if current.state != "released":
                log.warning(
                    "taking over the %s lease of %s from run %s (pid %s on %s)",
                    current.state,
                    table,
                    current.record.run_id,
                    current.record.pid,
                    current.record.host,
                )
                progress(
                    f"  lease {table}: taking over the {current.state} lease of run "
                    f"{current.record.run_id}"
                )
            etag = store.replace(key, record.to_json(), current.etag)
        else:
            waited = time.monotonic() - started
            if waited >= wait_s:
                raise TableBusyError(table, current.record, waited_s=waited if wait_s else 0.0)
            if not announced:
                progress(
                    f"  table {table} busy (run {current.record.run_id}, job "
                    f"{current.record.job}): waiting up to {wait_s:.0f} s"
                )
                announced = True
            time.sleep(min(poll_s, max(0.05, wait_s - waited)))
            continue
        if etag is not None:
            _holding(table, run_id, True)
            return Lease(table, record, etag, store, renewed_mono=time.monotonic())
        # Lost a race for the same object: read it again and decide again.


# --- several leases for one job run -------------------------------------------------------

_ACTIVE: list[LeaseSet] = []
_ACTIVE_LOCK = threading.Lock()
# (table, run id) of every lease this process holds, to tell them from leases a finished run
# of this process could not release.
_HELD: set[tuple[str, str]] = set()


def _holding(table: str, run_id: str, held: bool) -> None:
    with _ACTIVE_LOCK:
        if held:
            _HELD.add((table, run_id))
        else:
            _HELD.discard((table, run_id))


class LeaseSet:
    """The leases of one job run: taken in sorted order (no deadlock), all or nothing, renewed
    by a heartbeat thread, released on exit (also on error).

    Use as a context manager; while it is open, :func:`check_write` (called by
    :mod:`lake.delta_io` before every write) refuses writes to tables it does not hold, or holds
    no longer.
    """

    def __init__(
        self,
        settings: Settings,
        tables: Iterable[str],
        *,
        run_id: str,
        job: str,
        wait_s: float | None = None,
        progress: Progress = lambda _: None,
        store: LeaseStore | None = None,
    ) -> None:
        self.settings = settings
        self.tables = sorted(set(tables))
        self.run_id = run_id
        self.job = job
        self.ttl_s = float(settings.locks.lease_ttl_s)
        self.renew_s = float(settings.locks.renew_every_s or self.ttl_s / 3)
        self.wait_s = float(settings.locks.wait_s if wait_s is None else wait_s)
        self.progress = progress
        self.store = store or store_for(settings)
        self.leases: dict[str, Lease] = {}
        self._uris: dict[str, str] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> LeaseSet:
        deadline = time.monotonic() + self.wait_s
        try:
            for table in self.tables:
                self.leases[table] = acquire(
                    self.store,
                    table,
                    run_id=self.run_id,
                    job=self.job,
                    ttl_s=self.ttl_s,
                    wait_s=max(0.0, deadline - time.monotonic()),
                    progress=self.progress,
                )
        except BaseException:
            self._release_all()
            raise
        root = lake_root(self.settings)
        self._uris = {f"{root}/{t}": t for t in self.tables}
        self._thread = threading.Thread(
            target=self._heartbeat, name=f"lease-heartbeat-{self.run_id}", daemon=True
        )
        self._thread.start()
        with _ACTIVE_LOCK:
            _ACTIVE.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        with _ACTIVE_LOCK:
            if self in _ACTIVE:
                _ACTIVE.remove(self)
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._release_all()

    def check(self, table: str) -> None:
        """Raise unless this run still holds ``table``'s lease."""
        lease = self.leases.get(table)
        if lease is None:
            raise LeaseError(
                f"Run {self.run_id} writes table {table} without holding its lease (it holds "
                f"{', '.join(self.tables) or 'none'}).",
                fix="add the table to the leases the job takes (ingestion/pipeline.py)",
            )
        lease.check()

    def covers(self, uri: str) -> str | None:
        return self._uris.get(uri.rstrip("/"))

    def renew_all(self) -> None:
        """Renew every lease once (the heartbeat's body; tests call it directly)."""
        for lease in self.leases.values():
            if lease.lost:
                continue
            try:
                lease.renew()
            except LeaseLostError as exc:
                log.error("%s", exc)
            except LakeError as exc:  # store unreachable: retry at the next beat
                log.warning("could not renew the lease of %s: %s", lease.table, exc)

    def _heartbeat(self) -> None:
        while not self._stop.wait(self.renew_s):
            self.renew_all()

    def _release_all(self) -> None:
        for lease in self.leases.values():
            try:
                lease.release()
            except LakeError as exc:  # it will expire; a rerun on this host takes it at once
                log.warning("could not release the lease of %s: %s", lease.table, exc)
                _holding(lease.table, self.run_id, False)


def check_write(uri: str) -> None:
    """Called before every Delta write: refuse it if a job run is active in this process and
    does not (or no longer) hold the table's lease. No active run (tests, tools): no check."""
    with _ACTIVE_LOCK:
        active = list(_ACTIVE)
    if not active:
        return
    for lease_set in active:
        table = lease_set.covers(uri)
        if table is not None:
            lease_set.check(table)
            return
    table = table_of_uri(active[0].settings, uri) or uri
    active[0].check(table)


def list_leases(settings: Settings) -> list[tuple[str, StoredLease]]:
    """Every lease object of the lake, ``(table, lease)``, sorted by table."""
    store = store_for(settings)
    found = []
    for key in store.keys(LOCK_PREFIX + "/"):
        if not key.endswith(".json"):
            continue
        current = store.read(key)
        if current is not None:
            found.append((current.record.table, current))
    return sorted(found, key=lambda item: item[0])


# --- who holds it -------------------------------------------------------------------------


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _iso(stamp: dt.datetime) -> str:
    return stamp.isoformat(timespec="seconds")


def _boot_id() -> str:
    with contextlib.suppress(OSError):
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    return ""


def process_started(pid: int) -> str:
    """The start time of ``pid`` in clock ticks since boot ("" if unknown): with the boot id it
    tells a live holder from a new process that reuses its pid."""
    with contextlib.suppress(OSError, IndexError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[19]
    return ""


def holder_is_dead(record: LeaseRecord) -> bool:
    """True only when the holder ran on this host (same name and boot) and its process is gone."""
    if record.host != socket.gethostname() or not record.boot_id or record.boot_id != _boot_id():
        return False
    from lake.processes import alive

    if not alive(record.pid):
        return True
    if bool(record.pid_started) and process_started(record.pid) != record.pid_started:
        return True  # the pid now belongs to another process
    if record.pid == os.getpid():
        # This very process, but a run that is over (its release failed, e.g. store down).
        with _ACTIVE_LOCK:
            return (record.table, record.run_id) not in _HELD
    return False


def _new_record(table: str, *, run_id: str, job: str, ttl_s: float) -> LeaseRecord:
    stamp = _now()
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    return LeaseRecord(
        table=table,
        run_id=run_id,
        job=job,
        user=user,
        host=socket.gethostname(),
        pid=os.getpid(),
        acquired_at=_iso(stamp),
        renewed_at=_iso(stamp),
        expires_at=_iso(stamp + dt.timedelta(seconds=ttl_s)),
        ttl_s=ttl_s,
        pid_started=process_started(os.getpid()),
        boot_id=_boot_id(),
    )


# --- stores -------------------------------------------------------------------------------


class S3LeaseStore:
    """Lease objects in the lake bucket, with ``If-None-Match`` / ``If-Match`` PUTs."""

    def __init__(self, settings: Settings) -> None:
        import urllib3

        self.settings = settings
        self.bucket = settings.storage.bucket
        self.client = object_client(settings)
        self.http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=5.0, read=15.0), retries=False
        )

    def _request(
        self,
        method: str,
        key: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        try:
            url = self.client.get_presigned_url(
                method, self.bucket, key, expires=dt.timedelta(minutes=10)
            )
            return self.http.request(method, url, body=body, headers=headers or {})
        except Exception as exc:
            raise explain_storage_failure(exc, self.settings) from exc

    def _fail(self, response: Any, what: str, key: str) -> StorageError:
        text = response.data.decode(errors="replace")
        code = text.split("<Code>", 1)[1].split("<", 1)[0] if "<Code>" in text else ""
        return StorageError(
            f"The object store at {self.settings.endpoint} refused to {what} the lease "
            f"{key}: HTTP {response.status} {code}.",
            endpoint=self.settings.endpoint,
            fix="run `lake doctor`; the job's account needs read and write on "
            f"{self.bucket}/{LOCK_PREFIX}/",
        )

    def read(self, key: str) -> StoredLease | None:
        response = self._request("GET", key)
        if response.status == 404:
            return None
        if response.status != 200:
            raise self._fail(response, "read", key)
        now = _http_date(response.headers.get("Date")) or _now()
        modified = _http_date(response.headers.get("Last-Modified")) or now
        return StoredLease(
            LeaseRecord.from_json(response.data), response.headers["ETag"], modified, now
        )

    def create(self, key: str, body: bytes) -> str | None:
        return self._put(key, body, {"If-None-Match": "*"})

    def replace(self, key: str, body: bytes, etag: str) -> str | None:
        return self._put(key, body, {"If-Match": etag})

    def _put(self, key: str, body: bytes, condition: dict[str, str]) -> str | None:
        headers = {"Content-Type": "application/json", **condition}
        response = self._request("PUT", key, body, headers)
        # 412: the condition failed; 409: a concurrent conditional write; 404: If-Match on a
        # missing object. All mean "someone else changed it": read again and decide.
        if response.status in (404, 409, 412):
            return None
        if response.status != 200:
            raise self._fail(response, "write", key)
        return str(response.headers["ETag"])

    def keys(self, prefix: str) -> list[str]:
        try:
            return [
                o.object_name
                for o in self.client.list_objects(self.bucket, prefix=prefix, recursive=True)
                if o.object_name
            ]
        except Exception as exc:
            raise explain_storage_failure(exc, self.settings) from exc


class LocalLeaseStore:
    """Lease files under ``<local_root>/_locks``; compare-and-swap under an ``flock``."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        import fcntl

        guard = self.root / LOCK_PREFIX / ".guard"
        guard.parent.mkdir(parents=True, exist_ok=True)
        with open(guard, "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _read(self, key: str) -> tuple[bytes, str, float] | None:
        path = self.root / key
        try:
            data = path.read_bytes()
            mtime = path.stat().st_mtime
        except FileNotFoundError:
            return None
        return data, hashlib.sha256(data).hexdigest(), mtime

    def read(self, key: str) -> StoredLease | None:
        with self._locked():
            found = self._read(key)
        if found is None:
            return None
        data, etag, mtime = found
        modified = dt.datetime.fromtimestamp(mtime, dt.UTC)
        return StoredLease(LeaseRecord.from_json(data), etag, modified, _now())

    def _write(self, key: str, body: bytes) -> str:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
        tmp.write_bytes(body)
        tmp.replace(path)
        return hashlib.sha256(body).hexdigest()

    def create(self, key: str, body: bytes) -> str | None:
        with self._locked():
            return None if self._read(key) is not None else self._write(key, body)

    def replace(self, key: str, body: bytes, etag: str) -> str | None:
        with self._locked():
            found = self._read(key)
            if found is None or found[1] != etag:
                return None
            return self._write(key, body)

    def keys(self, prefix: str) -> list[str]:
        base = self.root / prefix
        if not base.is_dir():
            return []
        return sorted(str(p.relative_to(self.root)) for p in base.rglob("*.json") if p.is_file())


def _http_date(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).astimezone(dt.UTC)
    except (TypeError, ValueError):
        return None
