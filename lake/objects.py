"""Plain objects (files) in the lake: landing copies and staging files, on MinIO or on disk.

Delta tables go through Spark (:mod:`lake.delta_io`); files that must stay byte-for-byte as
delivered go through this small interface, which the two storage backends implement the same way.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from lake.errors import StorageError
from lake.settings import Settings
from lake.storage import explain_storage_failure, lake_root, object_client


@dataclass(frozen=True)
class StoredObject:
    """An object's key, URI, size and user metadata."""

    key: str
    uri: str
    size: int
    metadata: dict[str, str]


class ObjectStore:
    """Put, stat and remove objects under the lake root (bucket or local directory)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.local = settings.storage.backend == "local"
        self.root = lake_root(settings)

    def uri(self, key: str) -> str:
        """The URI of ``key`` (``s3a://bucket/key`` or ``file:///.../key``)."""
        return f"{self.root}/{key}"

    def _path(self, key: str) -> Path:
        return self.settings.storage.local_root.resolve() / key

    def stat(self, key: str) -> StoredObject | None:
        """The object at ``key``, or None."""
        if self.local:
            path = self._path(key)
            if not path.is_file():
                return None
            meta = path.with_name(path.name + ".meta.json")
            metadata = json.loads(meta.read_text()) if meta.is_file() else {}
            return StoredObject(key, self.uri(key), path.stat().st_size, metadata)
        from minio.error import S3Error

        client = object_client(self.settings)
        try:
            info = client.stat_object(self.settings.storage.bucket, key)
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject"):
                return None
            raise explain_storage_failure(exc, self.settings) from exc
        except Exception as exc:
            raise explain_storage_failure(exc, self.settings) from exc
        metadata = {
            k.lower().removeprefix("x-amz-meta-"): v
            for k, v in (info.metadata or {}).items()
            if k.lower().startswith("x-amz-meta-")
        }
        return StoredObject(key, self.uri(key), int(info.size or 0), metadata)

    def put_file(self, key: str, path: Path, metadata: dict[str, str] | None = None) -> str:
        """Copy a local file to ``key`` with metadata; returns its URI."""
        metadata = metadata or {}
        if self.local:
            target = self._path(key)
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(target.name + ".part")
            shutil.copyfile(path, tmp)
            tmp.replace(target)
            # No sidecar without metadata: Spark reads a staging directory whole.
            sidecar = target.with_name(target.name + ".meta.json")
            if metadata:
                sidecar.write_text(json.dumps(metadata))
            else:
                sidecar.unlink(missing_ok=True)
            return self.uri(key)
        client = object_client(self.settings)
        try:
            client.fput_object(
                self.settings.storage.bucket, key, str(path), metadata=dict(metadata.items())
            )
        except Exception as exc:
            raise explain_storage_failure(exc, self.settings) from exc
        return self.uri(key)

    def remove_prefix(self, prefix: str) -> int:
        """Remove every object under ``prefix`` (staging clean-up); returns how many."""
        if self.local:
            base = self._path(prefix)
            if not base.exists():
                return 0
            count = sum(1 for p in base.rglob("*") if p.is_file())
            shutil.rmtree(base)
            return count
        from minio.deleteobjects import DeleteObject

        client = object_client(self.settings)
        bucket = self.settings.storage.bucket
        try:
            names = [
                o.object_name for o in client.list_objects(bucket, prefix=prefix, recursive=True)
            ]
            errors = list(client.remove_objects(bucket, [DeleteObject(n) for n in names if n]))
        except Exception as exc:
            raise explain_storage_failure(exc, self.settings) from exc
        if errors:
            raise StorageError(
                f"Could not remove {len(errors)} staging object(s) under {prefix}.",
                endpoint=self.settings.endpoint,
                fix="check the account may delete under that prefix (`lake doctor`), then rerun",
            )
        return len(names)

    def key_of(self, uri: str) -> str:
        """The key of an object URI under the lake root (ValueError if it is elsewhere)."""
        prefix = self.root + "/"
        if not uri.startswith(prefix):
            raise ValueError(f"{uri} is not under the lake root {self.root}")
        return uri[len(prefix) :]

    def list_keys(self, prefix: str) -> list[str]:
        """Every object key under ``prefix``, sorted."""
        if self.local:
            base = self._path(prefix)
            root = self.settings.storage.local_root.resolve()
            if base.is_file():
                return [prefix]
            if not base.is_dir():
                return []
            return sorted(
                str(p.relative_to(root))
                for p in base.rglob("*")
                if p.is_file() and not p.name.endswith(".meta.json")
            )
        client = object_client(self.settings)
        try:
            objects = client.list_objects(
                self.settings.storage.bucket, prefix=prefix, recursive=True
            )
            return sorted(o.object_name for o in objects if o.object_name)
        except Exception as exc:
            raise explain_storage_failure(exc, self.settings) from exc

    def get_bytes(self, key: str) -> bytes:
        """The content of the object at ``key``."""
        if self.local:
            return self._path(key).read_bytes()
        client = object_client(self.settings)
        try:
            response = client.get_object(self.settings.storage.bucket, key)
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()
        except Exception as exc:
            raise explain_storage_failure(exc, self.settings) from exc

    def put_bytes(self, key: str, data: bytes, metadata: dict[str, str] | None = None) -> str:
        """Write ``data`` at ``key`` (replacing it) with metadata; returns its URI."""
        metadata = metadata or {}
        if self.local:
            target = self._path(key)
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(target.name + ".part")
            tmp.write_bytes(data)
            tmp.replace(target)
            target.with_name(target.name + ".meta.json").write_text(json.dumps(metadata))
            return self.uri(key)
        import io

        client = object_client(self.settings)
        try:
            client.put_object(
                self.settings.storage.bucket,
                key,
                io.BytesIO(data),
                len(data),
                metadata=dict(metadata.items()),
            )
        except Exception as exc:
            raise explain_storage_failure(exc, self.settings) from exc
        return self.uri(key)

    def remove(self, keys: list[str]) -> int:
        """Remove these objects; returns how many."""
        if self.local:
            for key in keys:
                path = self._path(key)
                path.unlink(missing_ok=True)
                path.with_name(path.name + ".meta.json").unlink(missing_ok=True)
            return len(keys)
        from minio.deleteobjects import DeleteObject

        client = object_client(self.settings)
        bucket = self.settings.storage.bucket
        try:
            errors = list(client.remove_objects(bucket, [DeleteObject(k) for k in keys]))
        except Exception as exc:
            raise explain_storage_failure(exc, self.settings) from exc
        if errors:
            raise StorageError(
                f"Could not remove {len(errors)} object(s), first: {errors[0].name}.",
                endpoint=self.settings.endpoint,
                fix="check the account may delete these objects (`lake doctor`), then rerun",
            )
        return len(keys)
