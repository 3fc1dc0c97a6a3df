"""Installing the lake's roles on MinIO, as the root user (``lake access apply``).

:func:`apply` runs as the root user (``admin``, only for set-up): it removes any anonymous bucket
policy, adds each role's policy (:func:`lake.access_roles.iam_policy`) as ``lake-<role>``, creates
(or re-keys) the user ``lake-<role>-<random>`` holding only that policy, removes the role's stale
users, and writes the user's keys to ``var/secrets/minio-<role>.json`` (mode 600, directory 700,
git-ignored). Keys are never printed or logged.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from lake.access_roles import (
    Role,
    credentials_file,
    iam_policy,
    load_roles,
    roles_file,
    secrets_dir,
)
from lake.errors import AccessError, LakeError
from lake.settings import Settings

if TYPE_CHECKING:
    from minio import MinioAdmin


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
            role=settings.storage.role,
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
