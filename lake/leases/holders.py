"""Who holds a lease, and whether that holder still counts.

A lease names its holder: user, host, pid, the pid's start time and the host's boot id. This
module writes that identity for a lease this process takes (:func:`new_record`) and judges a lease
as read (:class:`StoredLease`): ``released`` (a tombstone), ``expired`` (past its TTL on the
store's clock), ``dead`` (its holder ran on this very host and boot, and its process is gone or
its pid now belongs to another process) or ``held``. It also keeps the registry of the leases this
process holds, so a lease left behind by a finished run of this same process counts as dead.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import os
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

from lake.leases.record import LeaseRecord, iso_seconds, utc_now

_HELD_LOCK = threading.Lock()
# (table, run id) of every lease this process holds, to tell them from leases a finished run
# of this process could not release.
_HELD: set[tuple[str, str]] = set()


def note_held(table: str, run_id: str, held: bool) -> None:
    """Record that this process now holds (or no longer holds) ``table`` for run ``run_id``."""
    with _HELD_LOCK:
        if held:
            _HELD.add((table, run_id))
        else:
            _HELD.discard((table, run_id))


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


def boot_id() -> str:
    """This host's boot id ("" if unknown): a pid is only comparable within one boot."""
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
    if record.host != socket.gethostname() or not record.boot_id or record.boot_id != boot_id():
        return False
    from lake.processes import alive

    if not alive(record.pid):
        return True
    if bool(record.pid_started) and process_started(record.pid) != record.pid_started:
        return True  # the pid now belongs to another process
    if record.pid == os.getpid():
        # This very process, but a run that is over (its release failed, e.g. store down).
        with _HELD_LOCK:
            return (record.table, record.run_id) not in _HELD
    return False


def new_record(table: str, *, run_id: str, job: str, ttl_s: float) -> LeaseRecord:
    """The lease this process writes to take ``table``: its identity, now, and the expiry."""
    stamp = utc_now()
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
        acquired_at=iso_seconds(stamp),
        renewed_at=iso_seconds(stamp),
        expires_at=iso_seconds(stamp + dt.timedelta(seconds=ttl_s)),
        ttl_s=ttl_s,
        pid_started=process_started(os.getpid()),
        boot_id=boot_id(),
    )
