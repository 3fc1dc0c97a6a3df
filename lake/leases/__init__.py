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

Modules, one reason to change each:

- ``record``: the lease object's format (:class:`LeaseRecord`), its key, the table of a URI;
- ``holders``: who holds a lease and whether that holder still counts (:class:`StoredLease`,
  ``released`` / ``expired`` / ``dead`` / ``held``), the identity this process writes;
- ``stores``: compare-and-swap on the lease objects, on S3 or local disk, and
  :func:`list_leases` (``lake locks``);
- ``lease``: one lease taken (:func:`acquire`), renewed, released, lost;
- ``lease_set``: the leases of one job run with their heartbeat, and :func:`check_write`.

Every name stays importable from ``lake.leases``.
"""

from __future__ import annotations

from lake.errors import LeaseError, LeaseLostError, TableBusyError
from lake.leases.holders import StoredLease, holder_is_dead, process_started
from lake.leases.lease import Lease, Progress, acquire
from lake.leases.lease_set import LeaseSet, check_write
from lake.leases.record import LEASED_LAYERS, LOCK_PREFIX, LeaseRecord, lease_key, table_of_uri
from lake.leases.stores import (
    LeaseStore,
    LocalLeaseStore,
    S3LeaseStore,
    list_leases,
    store_for,
)

__all__ = [
    "LEASED_LAYERS",
    "LOCK_PREFIX",
    "Lease",
    "LeaseError",
    "LeaseLostError",
    "LeaseRecord",
    "LeaseSet",
    "LeaseStore",
    "LocalLeaseStore",
    "Progress",
    "S3LeaseStore",
    "StoredLease",
    "TableBusyError",
    "acquire",
    "check_write",
    "holder_is_dead",
    "lease_key",
    "list_leases",
    "process_started",
    "store_for",
    "table_of_uri",
]
