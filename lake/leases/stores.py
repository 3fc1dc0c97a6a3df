"""Where lease objects live: compare-and-swap on small objects, on S3 or on local disk.

The leases need four operations only (:class:`LeaseStore`): read an object with its ETag and the
store's clock, create it if absent, replace it if its ETag is the one read, and list keys.

- :class:`S3LeaseStore`: the lake bucket, with ``If-None-Match: *`` / ``If-Match: <ETag>`` PUTs.
  The requests are presigned by the MinIO client (public API) and sent with ``urllib3``, because
  the client's ``put_object`` turns unknown headers into user metadata. Time is the store's:
  ``Last-Modified`` of the object and ``Date`` of the response.
- :class:`LocalLeaseStore`: files under ``<local_root>/_locks`` (``storage.backend = "local"``),
  the same compare-and-swap under an ``flock``.

:func:`list_leases` reads every lease of the lake (``lake locks``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Protocol

from lake.errors import StorageError
from lake.leases.holders import StoredLease
from lake.leases.record import LOCK_PREFIX, LeaseRecord, utc_now
from lake.settings import Settings
from lake.storage import explain_storage_failure, object_client


class LeaseStore(Protocol):
    """Compare-and-swap on small objects: the only IO the leases need."""

    def read(self, key: str) -> StoredLease | None: ...

    def create(self, key: str, body: bytes) -> str | None:
        """Write ``key`` if absent; its new ETag, or None if it exists."""

    def replace(self, key: str, body: bytes, etag: str) -> str | None:
        """Overwrite ``key`` if its ETag is ``etag``; the new ETag, or None if not."""

    def keys(self, prefix: str) -> list[str]: ...


def store_for(settings: Settings) -> LeaseStore:
    """The lease store of the lake's backend."""
    if settings.storage.backend == "local":
        return LocalLeaseStore(settings.storage.local_root)
    return S3LeaseStore(settings)


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
        now = _http_date(response.headers.get("Date")) or utc_now()
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
        return StoredLease(LeaseRecord.from_json(data), etag, modified, utc_now())

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
