"""The leases of one job run, and the check every Delta write goes through.

A job run takes the leases of every table it writes with a :class:`LeaseSet`: in sorted order (no
deadlock), all or nothing, renewed by a heartbeat thread every ``locks.renew_every_s``, released
on exit (also on error). While a set is open in this process, :func:`check_write` (called by
:mod:`lake.delta_io` before every write) refuses a write to a table the run does not hold, or
holds no longer.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable

from lake.errors import LakeError, LeaseError, LeaseLostError
from lake.leases.holders import note_held
from lake.leases.lease import Lease, Progress, acquire
from lake.leases.record import table_of_uri
from lake.leases.stores import LeaseStore, store_for
from lake.settings import Settings
from lake.storage import lake_root

# One logger for every lease message, whichever module of the package logs it.
log = logging.getLogger("lake.leases")

# The lease sets open in this process, which check_write consults.
_ACTIVE: list[LeaseSet] = []
_ACTIVE_LOCK = threading.Lock()


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
                table=table,
            )
        lease.check()

    def covers(self, uri: str) -> str | None:
        return self._uris.get(uri.rstrip("/"))

    def cover(self, uri: str, table: str) -> None:
        """Let ``table``'s lease cover the writes to ``uri`` too: a table that is not a
        LAYER/NAME table and is written only by jobs holding ``table`` (its archive copy)."""
        if table not in self.leases and table not in self.tables:
            raise LeaseError(
                f"Run {self.run_id} cannot cover {uri} with table {table}: it does not hold it.",
                fix="lease the table first",
                table=table,
            )
        self._uris[uri.rstrip("/")] = table

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
                note_held(lease.table, self.run_id, False)


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
