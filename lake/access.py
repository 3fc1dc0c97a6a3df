"""Least privilege on MinIO: one IAM policy and one user per role, from ``policy/minio-roles.yaml``.

The roles file says, per role, which prefixes of the lake bucket it may read and write (the
security officer reads and changes that file, not code). :func:`iam_policy` turns a role into the
MinIO (AWS IAM) policy document; :func:`apply` runs as the root user (``admin``, only for set-up):
it removes any anonymous bucket policy, adds each policy as ``lake-<role>``, creates (or re-keys)
the user ``lake-<role>-<random>`` holding only that policy, removes the role's stale users, and
writes the user's keys to ``var/secrets/minio-<role>.json`` (mode 600, directory 700, git-ignored).
Keys are never printed or logged.

A command or job uses a role with ``storage.role`` (``LAKE__STORAGE__ROLE=ingestion``): the
settings then read that role's file instead of the root credentials (:mod:`lake.settings`).

What a role is granted, for a prefix ``p/`` of bucket ``b`` (anything else is denied):

- read: ``s3:ListBucket`` on ``b`` when the listed prefix is under ``p/`` (or is ``p``), and
  ``s3:GetObject`` on ``b/p/*`` and on the key ``b/p`` (S3A probes a directory with a HEAD on its
  name before listing it);
- write: ``s3:PutObject``, ``s3:DeleteObject`` and the multipart clean-up actions on ``b/p/*``;
- every role: ``s3:HeadBucket`` and ``s3:GetBucketLocation`` on ``b`` (the lake's pre-flight
  check and the S3 clients ask them before anything else).
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from lake.errors import LakeError
from lake.settings import Settings

if TYPE_CHECKING:
    from minio import MinioAdmin

ROLES_FILE = Path("policy") / "minio-roles.yaml"
POLICY_PREFIX = "lake-"
_ROLE_NAME = re.compile(r"^[a-z][a-z0-9-]{1,30}$")
_PREFIX = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.=-]*/([A-Za-z0-9_][A-Za-z0-9_.=-]*/)*$")
_READ = ("s3:GetObject",)
_WRITE = (
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
)
_BUCKET = ("s3:HeadBucket", "s3:GetBucketLocation")


class AccessError(LakeError):
    """The roles file is invalid, or MinIO refused to apply a role."""


@dataclass(frozen=True)
class Role:
    """What one role may read and write in the lake bucket (prefixes ending with ``/``)."""

    name: str
    description: str
    read: tuple[str, ...]
    write: tuple[str, ...]

    @property
    def policy_name(self) -> str:
        """The MinIO policy holding this role's rules."""
        return POLICY_PREFIX + self.name


@dataclass(frozen=True)
class AppliedRole:
    """A role as :func:`apply` left it on the server (no key in it)."""

    role: str
    policy: str
    credentials_file: Path
    created: bool
    removed_stale_users: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, for ``lake access apply --json``."""
        return {
            "role": self.role,
            "policy": self.policy,
            "credentials_file": str(self.credentials_file),
            "created": self.created,
            "removed_stale_users": self.removed_stale_users,
        }


def roles_file(settings: Settings) -> Path:
    """The committed roles file of the project."""
    return settings.root / ROLES_FILE


def secrets_dir(settings: Settings) -> Path:
    """Where the roles' credentials files live (``var/secrets``, git-ignored)."""
    return settings.var_dir / "secrets"


def credentials_file(directory: Path, role: str) -> Path:
    """``<directory>/minio-<role>.json``, the file ``storage.role = role`` reads."""
    _check_name(role)
    return directory / f"minio-{role}.json"


def load_roles(path: Path) -> dict[str, Role]:
    """Read and check the roles file.

    Raises:
        AccessError: The file is missing or malformed, a name or prefix is invalid, or a role
            writes where it cannot read.
    """
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise AccessError(
            f"The roles file {path} cannot be read ({exc}).",
            fix="restore policy/minio-roles.yaml from the repository",
        ) from exc
    roles = data.get("roles") if isinstance(data, dict) else None
    if not isinstance(roles, dict) or not roles:
        raise AccessError(f"The roles file {path} has no 'roles' mapping.")
    out = {}
    for name, spec in roles.items():
        _check_name(str(name))
        if not isinstance(spec, dict):
            raise AccessError(f"{path}: role {name} must be a mapping with read and write lists.")
        read = _prefixes(path, name, "read", spec.get("read"))
        write = _prefixes(path, name, "write", spec.get("write"))
        unreadable = [p for p in write if not any(p.startswith(r) for r in read)]
        if unreadable:
            raise AccessError(
                f"{path}: role {name} writes {unreadable} but cannot read them; a Delta writer "
                "reads the table's log before it commits.",
                fix=f"add {unreadable} to the read list of {name}",
            )
        out[str(name)] = Role(str(name), str(spec.get("description", "")).strip(), read, write)
    return out


def _prefixes(path: Path, role: str, key: str, value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise AccessError(f"{path}: {role}.{key} must be a list of prefixes; found {value!r}.")
    bad = [p for p in value if not isinstance(p, str) or not _PREFIX.match(p)]
    if bad:
        raise AccessError(
            f"{path}: {role}.{key} has invalid prefixes {bad}; expected relative prefixes ending "
            "with '/' and no wildcard, e.g. bronze/ or views/level-2/."
        )
    return tuple(value)


def _check_name(name: str) -> None:
    if not _ROLE_NAME.match(name):
        raise AccessError(
            f"Role name {name!r} is invalid; expected lower-case letters, digits and '-', "
            "e.g. ingestion or reader-level-2."
        )


def iam_policy(role: Role, bucket: str) -> dict[str, Any]:
    """The MinIO (AWS IAM) policy document of ``role`` on ``bucket``."""
    arn = f"arn:aws:s3:::{bucket}"
    statements: list[dict[str, Any]] = [
        {"Sid": "LakeBucket", "Effect": "Allow", "Action": list(_BUCKET), "Resource": [arn]}
    ]
    if role.read:
        listed = sorted({f"{p}*" for p in role.read} | {p.rstrip("/") for p in role.read})
        statements.append(
            {
                "Sid": "List",
                "Effect": "Allow",
                "Action": ["s3:ListBucket"],
                "Resource": [arn],
                "Condition": {"StringLike": {"s3:prefix": listed}},
            }
        )
        objects = [f"{arn}/{p}*" for p in role.read] + [f"{arn}/{p.rstrip('/')}" for p in role.read]
        statements.append(
            {"Sid": "Read", "Effect": "Allow", "Action": list(_READ), "Resource": objects}
        )
    if role.write:
        statements.append(
            {
                "Sid": "Write",
                "Effect": "Allow",
                "Action": list(_WRITE),
                "Resource": [f"{arn}/{p}*" for p in role.write],
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def admin_client(settings: Settings) -> MinioAdmin:
    """The MinIO admin client, with the root credentials.

    Raises:
        AccessError: The settings select a role (roles cannot administer the server), or no
            credentials are configured.
    """
    import urllib3
    from minio import MinioAdmin
    from minio.credentials import StaticProvider

    if settings.storage.role:
        raise AccessError(
            f"Administering MinIO needs the root (admin) credentials, and storage.role is "
            f"'{settings.storage.role}'.",
            fix="unset LAKE__STORAGE__ROLE for `lake access apply`",
        )
    if not (settings.storage.access_key and settings.storage.secret_key):
        raise AccessError(
            f"No admin credentials for {settings.endpoint}.",
            fix=f"run `lake up` (it writes {settings.storage.credentials_file})",
        )
    parsed = urlparse(settings.endpoint)
    http = urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=5.0, read=30.0),
        retries=urllib3.Retry(total=1, backoff_factor=0.2, status_forcelist=(502, 503, 504)),
    )
    return MinioAdmin(
        endpoint=parsed.netloc,
        credentials=StaticProvider(settings.storage.access_key, settings.storage.secret_key),
        region=settings.storage.region,
        secure=parsed.scheme == "https",
        http_client=http,
    )


def apply(
    settings: Settings,
    roles: Mapping[str, Role] | None = None,
    *,
    directory: Path | None = None,
) -> list[AppliedRole]:
    """Create or update every role's policy and user; write their keys (mode 600).

    Idempotent: a role whose credentials file exists keeps its keys (the user is re-created with
    them if the server lost it); other users of the role (``lake-<role>-*``) are removed.

    Args:
        settings: Root (admin) settings pointing at the server.
        roles: The roles (default: :func:`load_roles` of ``policy/minio-roles.yaml``).
        directory: Where the credentials files go (default ``var/secrets``).

    Raises:
        AccessError: The roles file is invalid or MinIO refused a change.
    """
    from minio.error import MinioAdminException

    roles = roles if roles is not None else load_roles(roles_file(settings))
    directory = directory or secrets_dir(settings)
    admin = admin_client(settings)
    _no_anonymous_access(settings)
    bucket = settings.storage.bucket
    applied = []
    try:
        users = json.loads(admin.user_list() or "{}")
        for role in roles.values():
            admin.policy_add(role.policy_name, policy=iam_policy(role, bucket))
            path = credentials_file(directory, role.name)
            created = not path.is_file()
            access_key, secret_key = _role_keys(path, role.name)
            admin.user_add(access_key, secret_key)
            admin.policy_set(role.policy_name, user=access_key)
            stale = [u for u in users if u.startswith(f"lake-{role.name}-") and u != access_key]
            for user in stale:
                admin.user_remove(user)
            applied.append(AppliedRole(role.name, role.policy_name, path, created, len(stale)))
    except LakeError:
        raise
    except MinioAdminException as exc:
        raise AccessError(
            f"MinIO at {settings.endpoint} refused an admin change ({str(exc)[:200]}).",
            fix="check that the root credentials are used (`lake config`), then `lake doctor`",
        ) from exc
    except Exception as exc:  # connection errors: one clear line
        from lake.storage import explain_storage_failure

        raise explain_storage_failure(exc, settings) from exc
    return applied


def _no_anonymous_access(settings: Settings) -> None:
    """Remove any bucket policy: the lake bucket is never readable without credentials."""
    from lake.storage import explain_storage_failure, object_client

    client = object_client(settings)
    try:
        client.delete_bucket_policy(settings.storage.bucket)
    except Exception as exc:
        if getattr(exc, "code", None) != "NoSuchBucketPolicy":
            raise explain_storage_failure(exc, settings) from exc


def _role_keys(path: Path, role: str) -> tuple[str, str]:
    """The role's keys from ``path``, generated (mode 600) when the file is missing."""
    from lake.settings import read_credentials_file

    if path.is_file():
        return read_credentials_file(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    access_key = f"lake-{role}-{secrets.token_hex(4)}"
    secret_key = secrets.token_urlsafe(30)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"role": role, "access_key": access_key, "secret_key": secret_key}, fh)
    os.replace(tmp, path)
    return access_key, secret_key


def role_settings(settings: Settings, role: str, *, directory: Path | None = None) -> Settings:
    """``settings`` with the credentials of ``role`` (as ``storage.role = role`` loads them).

    Raises:
        AccessError: The role's credentials file is missing.
    """
    from lake.settings import read_credentials_file

    path = credentials_file(directory or secrets_dir(settings), role)
    if not path.is_file():
        raise AccessError(
            f"No credentials for the role '{role}': {path} is missing.",
            fix="run `lake access apply` as admin",
        )
    access_key, secret_key = read_credentials_file(path)
    return settings.with_overrides(
        {"storage": {"role": role, "access_key": access_key, "secret_key": secret_key}}
    )


JOB_ROLES = {"bronze": "ingestion", "silver": "transformation", "gold": "transformation"}


def job_settings(settings: Settings, layers: Sequence[str]) -> tuple[Settings, str | None]:
    """The settings a job writing ``layers`` runs with, and the role chosen (None: unchanged).

    A job of one role (bronze: ingestion; silver and/or gold: transformation) takes that role's
    credentials when ``lake access apply`` created them and the job would otherwise run on the
    root credentials ``lake up`` wrote (``storage.credentials_file``). Anything explicit wins:
    ``storage.role``, credentials given in the environment or the config, ``job_roles = false``.
    A job of several roles (the whole chain) keeps its credentials: it needs both.
    """
    from lake.settings import read_credentials_file

    storage = settings.storage
    if storage.role or not storage.job_roles:
        return settings, None
    roles = {JOB_ROLES.get(layer) for layer in layers}
    if len(roles) != 1 or None in roles:
        return settings, None
    role = next(iter(roles))
    assert role is not None
    if not credentials_file(secrets_dir(settings), role).is_file():
        return settings, None
    try:
        implicit = storage.credentials_file.is_file() and read_credentials_file(
            storage.credentials_file
        ) == (storage.access_key, storage.secret_key)
    except LakeError:
        implicit = False
    if not implicit:
        return settings, None
    return role_settings(settings, role), role


def view_key(table: str, audience: int) -> str:
    """Where the view of ``table`` (``layer/name``) for ``audience`` is published.

    ``views/level-<audience>/<layer>_<name>.csv``: the prefix the readers of levels 1..audience
    may read (policy/minio-roles.yaml).

    Raises:
        AccessError: The audience is not 1..4 or the table is not ``layer/name``.
    """
    layer, _, name = table.replace(".", "/").partition("/")
    if audience not in (1, 2, 3, 4):
        raise AccessError(f"Audience must be an exposure level 1, 2, 3 or 4; found {audience!r}.")
    if not layer or not re.match(r"^[a-z0-9_-]+$", name):
        raise AccessError(
            f"Expected a table LAYER/NAME, e.g. gold/pvt_par_pays_annee; got {table!r}."
        )
    return f"views/level-{audience}/{layer}_{name}.csv"


def describe(roles: Sequence[Role]) -> list[str]:
    """One line per role: what it reads and writes (for humans; no key in it)."""
    lines = []
    for role in roles:
        writes = ", ".join(role.write) or "nothing"
        lines.append(f"{role.name}: reads {', '.join(role.read) or 'nothing'}; writes {writes}")
    return lines
