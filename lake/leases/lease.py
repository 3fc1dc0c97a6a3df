"""One lease this process holds: taking it, renewing it, giving it back, knowing it is lost.

:func:`acquire` takes the lease of one table: ``If-None-Match: *`` on a free table, ``If-Match``
on the ETag of a released, expired or dead lease (of two jobs taking over the same stale lease
exactly one wins), else waits up to ``wait_s`` and raises :class:`TableBusyError` naming the
holder. The :class:`Lease` it returns is renewed and released with ``If-Match`` on the ETag this
job last wrote: if anything else changed the object, the lease is lost and :meth:`Lease.check`
refuses the next write. Release writes a "released" tombstone instead of deleting (MinIO ignores
``If-Match`` on DELETE, so a delete could remove another job's lease).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from lake.errors import LeaseLostError, TableBusyError
from lake.leases.holders import new_record, note_held
from lake.leases.record import LeaseRecord, iso_seconds, lease_key, utc_now
from lake.leases.stores import LeaseStore

# One logger for every lease message, whichever module of the package logs it.
log = logging.getLogger("lake.leases")

Progress = Callable[[str], None]


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
                table=self.table,
            )
        # A margin of a few seconds: the write that follows must commit before the expiry.
        left = self.record.ttl_s - (time.monotonic() - self.renewed_mono)
        if left < min(10.0, self.record.ttl_s / 4):
            raise LeaseLostError(
                f"Lease of table {self.table} (run {self.record.run_id}) was not renewed for "
                f"{time.monotonic() - self.renewed_mono:.0f} s of its {self.record.ttl_s:.0f} s "
                "TTL: another job may take it over, so this job stops writing.",
                fix="check the object store (`lake status`), then rerun the job",
                table=self.table,
            )

    def renew(self) -> None:
        """Extend the lease (``If-Match`` on the ETag this job wrote last).

        Raises:
            LeaseLostError: The object changed: another job took the lease over.
            StorageError: The store could not be reached (the lease may still be ours).
        """
        if self.lost:
            raise LeaseLostError(
                f"Lease of table {self.table} already lost: {self.lost}.",
                fix="rerun the job; see who holds the table with `lake locks`",
                table=self.table,
            )
        stamp = utc_now()
        record = replace(
            self.record,
            renewed_at=iso_seconds(stamp),
            expires_at=iso_seconds(stamp + dt.timedelta(seconds=self.record.ttl_s)),
        )
        started = time.monotonic()
        etag = self.store.replace(self.key, record.to_json(), self.etag)
        if etag is None:
            current = self.store.read(self.key)
            who = f"run {current.record.run_id}" if current else "nobody (object removed)"
            self._lose(f"the lease object changed, now held by {who}")
            raise LeaseLostError(
                f"Lease of table {self.table} lost: {self.lost}.",
                fix="rerun the job; see who holds the table with `lake locks`",
                table=self.table,
            )
        self.record, self.etag, self.renewed_mono = record, etag, started

    def release(self) -> bool:
        """Give the table back (a tombstone written with ``If-Match``); False if not ours."""
        if self.lost:
            return False
        record = replace(self.record, released_at=iso_seconds(utc_now()))
        etag = self.store.replace(self.key, record.to_json(), self.etag)
        if etag is None:
            self._lose("the lease object changed before release")
            return False
        self.record, self.etag = record, etag
        note_held(self.table, self.record.run_id, False)
        return True

    def _lose(self, why: str) -> None:
        self.lost = why
        note_held(self.table, self.record.run_id, False)


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
        record = new_record(table, run_id=run_id, job=job, ttl_s=ttl_s)
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
            note_held(table, run_id, True)
            return Lease(table, record, etag, store, renewed_mono=time.monotonic())
        # Lost a race for the same object: read it again and decide again.
