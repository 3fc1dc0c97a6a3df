"""Storage layout and object-store access.

The lake is one bucket (or one local directory) with a prefix per layer::

    landing/<source>/<delivery>/<file>     files as delivered by the silos
    bronze/<table>  silver/<table>  gold/<table>  quarantine/<table>   Delta tables
    meta/<table>                           the lake's own records (run log...)
    _staging/<batch>/                      parsed records of the bench's bare Spark baseline, and of
                                           bronze before decision 0015 (temporary)

:func:`table_uri` is the only place that builds table locations, :func:`object_client` the only
place that builds an S3 client, and :func:`check_storage` turns every way of failing to reach the
store (server down, wrong credentials, missing bucket) into a :class:`StorageError` that names the
endpoint and the fix, before Spark gets a chance to retry for minutes and die in a Java trace.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlparse

from lake.errors import StorageError
from lake.layers import LAYERS, Layer
from lake.settings import Settings

if TYPE_CHECKING:
    from minio import Minio


_CREDENTIAL_CODES = frozenset(
    {"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "InvalidTokenId"}
)


def lake_root(settings: Settings) -> str:
    """The URI under which every layer lives (``s3a://bucket`` or ``file:///...``)."""
    if settings.storage.backend == "local":
        return settings.storage.local_root.resolve().as_uri()
    return f"s3a://{settings.storage.bucket}"


def table_uri(settings: Settings, layer: Layer, name: str) -> str:
    """The location of the Delta table ``name`` in ``layer``.

    Raises:
        ValueError: The layer is unknown or the name is not a plain lower-case identifier.
    """
    if layer not in LAYERS:
        raise ValueError(f"layer must be one of {', '.join(LAYERS)}; got {layer!r}")
    if not name or not all(c.isalnum() or c in "_-" for c in name) or name != name.lower():
        raise ValueError(f"table name must be lower-case letters, digits, '_' or '-'; got {name!r}")
    return f"{lake_root(settings)}/{layer}/{name}"


def openlineage_dataset(uri: str) -> tuple[str, str]:
    """``(namespace, name)`` of a location, as the OpenLineage naming spec (and its Spark
    listener) write it.

    ``s3a://b/p`` gives ``("s3://b", "p")``; ``file:///x/y`` gives ``("file", "/x/y")``.
    """
    parsed = urlparse(uri)
    if parsed.scheme in ("s3", "s3a", "s3n"):
        return f"s3://{parsed.netloc}", parsed.path.lstrip("/")
    if parsed.scheme in ("file", ""):
        return "file", parsed.path
    return f"{parsed.scheme}://{parsed.netloc}", parsed.path.lstrip("/")


def object_client(settings: Settings, *, timeout_s: float = 5.0) -> Minio:
    """An S3 client for the lake's endpoint with short timeouts and few retries.

    Raises:
        StorageError: No credentials are configured.
    """
    import urllib3
    from minio import Minio

    endpoint = settings.endpoint
    parsed = urlparse(endpoint)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise StorageError(
            f"storage endpoint {endpoint!r} is not an http(s) URL.",
            endpoint=endpoint,
            fix="set storage.endpoint (or LAKE__STORAGE__ENDPOINT) to e.g. http://127.0.0.1:9000",
        )
    if not (settings.storage.access_key and settings.storage.secret_key) and settings.storage.role:
        raise StorageError(
            f"No credentials for the role '{settings.storage.role}' on {endpoint}: "
            f"{settings.var_dir / 'secrets' / f'minio-{settings.storage.role}.json'} is missing.",
            endpoint=endpoint,
            fix="run `lake access apply` (as admin) to create the role accounts, or unset "
            "LAKE__STORAGE__ROLE",
        )
    if not (settings.storage.access_key and settings.storage.secret_key):
        raise StorageError(
            f"No credentials for the object store at {endpoint}.",
            endpoint=endpoint,
            fix="run `lake up` (it generates them in "
            f"{settings.storage.credentials_file}) or set LAKE__STORAGE__ACCESS_KEY and "
            "LAKE__STORAGE__SECRET_KEY",
        )
    http = urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=timeout_s, read=timeout_s * 6),
        retries=urllib3.Retry(total=1, backoff_factor=0.2, status_forcelist=(500, 502, 503, 504)),
    )
    return Minio(
        parsed.netloc,
        access_key=settings.storage.access_key,
        secret_key=settings.storage.secret_key,
        secure=parsed.scheme == "https",
        region=settings.storage.region,
        http_client=http,
    )


def check_storage(settings: Settings) -> None:
    """Fail fast, with the endpoint and the fix, when the lake's storage cannot be used.

    For ``backend = "local"`` it checks the root directory can be created and written.

    Raises:
        StorageError: The server is unreachable, refuses the credentials, or the bucket is missing.
    """
    if settings.storage.backend == "local":
        root = settings.storage.local_root
        try:
            root.mkdir(parents=True, exist_ok=True)
            probe = root / ".lake-write-probe"
            probe.write_text("ok")
            probe.unlink()
        except OSError as exc:
            raise StorageError(
                f"The local lake directory {root} is not writable ({exc.strerror}).",
                endpoint=str(root),
                fix="fix its permissions or set storage.local_root elsewhere",
            ) from exc
        return
    client = object_client(settings)
    bucket = settings.storage.bucket
    try:
        exists = client.bucket_exists(bucket)
    except Exception as exc:
        raise explain_storage_failure(exc, settings) from exc
    if not exists:
        raise StorageError(
            f"The lake bucket '{bucket}' does not exist on {settings.endpoint}.",
            endpoint=settings.endpoint,
            fix="run `lake up` (it creates the bucket) or set storage.bucket",
        )


def ensure_bucket(settings: Settings) -> None:
    """Create the lake bucket if missing (``lake up`` calls it)."""
    client = object_client(settings)
    try:
        if not client.bucket_exists(settings.storage.bucket):
            client.make_bucket(settings.storage.bucket)
    except Exception as exc:
        raise explain_storage_failure(exc, settings) from exc


def key_rejected(
    endpoint: str, access_key: str, secret_key: str, *, bucket: str, region: str = "us-east-1"
) -> bool:
    """True when the store says the key itself is wrong, not that its policy denies.

    A 403 to a HEAD request has no body, so clients (the MinIO client says ``AccessDenied``,
    S3A a bare 403) cannot tell a wrong key from a policy refusal; one listing request, whose
    error names its code, tells. False when the store cannot be asked.
    """
    import urllib3
    from minio import Minio
    from minio.error import S3Error

    parsed = urlparse(endpoint if "://" in endpoint else f"http://{endpoint}")
    if not (parsed.netloc and access_key and secret_key):
        return False
    try:
        client = Minio(
            parsed.netloc,
            access_key=access_key,
            secret_key=secret_key,
            secure=parsed.scheme == "https",
            region=region,
            http_client=urllib3.PoolManager(
                timeout=urllib3.Timeout(connect=2.0, read=10.0), retries=urllib3.Retry(total=0)
            ),
        )
        next(iter(client.list_objects(bucket, prefix="_credentials_probe/")), None)
    except S3Error as exc:
        return exc.code in ("InvalidAccessKeyId", "SignatureDoesNotMatch")
    except Exception:  # unreachable or refused at another level: the caller says what it knows
        return False
    return False


def explain_storage_failure(exc: BaseException, settings: Settings) -> StorageError:
    """Translate a client or Spark failure talking to the object store into a StorageError."""
    endpoint = settings.endpoint
    code = getattr(exc, "code", None)
    text = f"{type(exc).__name__}: {exc}"
    if code == "XMinioStorageFull" or "XMinioStorageFull" in text:
        return StorageError(
            f"The object store at {endpoint} is out of space (MinIO: XMinioStorageFull).",
            endpoint=endpoint,
            fix="free space or add drives on the MinIO server (`lake status` shows its data "
            "directory), then rerun the same command: it resumes",
        )
    if code == "AccessDenied" and not key_rejected(
        endpoint,
        settings.storage.access_key,
        settings.storage.secret_key,
        bucket=settings.storage.bucket,
        region=settings.storage.region,
    ):
        return StorageError(
            f"The object store at {endpoint} denied access (the credentials are valid, their "
            "policy does not allow this).",
            endpoint=endpoint,
            fix="run under a role allowed to do this (LAKE__STORAGE__ROLE, "
            "policy/minio-roles.yaml), or ask the lake's administrator",
        )
    if code in _CREDENTIAL_CODES or any(c in text for c in _CREDENTIAL_CODES) or "403" in text:
        return StorageError(
            f"The object store at {endpoint} refused the lake's credentials "
            f"({code or 'HTTP 403'}).",
            endpoint=endpoint,
            fix="use the credentials `lake up` wrote to "
            f"{settings.storage.credentials_file}, or fix LAKE__STORAGE__ACCESS_KEY / "
            "LAKE__STORAGE__SECRET_KEY",
        )
    unreachable = (
        "Connection refused",
        "ConnectException",
        "MaxRetryError",
        "NewConnectionError",
        "Failed to establish",
        "UnknownHost",
        "SdkClientException: Unable to execute HTTP request",
        "timed out",
    )
    if any(marker in text for marker in unreachable):
        return StorageError(
            f"The object store at {endpoint} is not reachable (connection refused or timed out).",
            endpoint=endpoint,
            fix="start it with `lake up` (then `lake status`), or fix storage.endpoint",
        )
    first_line = text.strip().splitlines()[0][:300]
    return StorageError(
        f"The object store at {endpoint} failed: {first_line}",
        endpoint=endpoint,
        fix="run `lake doctor` for a full check",
    )
