"""Least privilege on MinIO: one IAM policy and one user per role, from ``policy/minio-roles.yaml``.

The roles and the policy each gets are in :mod:`lake.access_roles`; installing them on the server
as the root user (``lake access apply``) is :mod:`lake.access_admin`. Both are re-exported here:
callers import from ``lake.access``.

A command or job uses a role with ``storage.role`` (``LAKE__STORAGE__ROLE=ingestion``): the
settings then read that role's file instead of the root credentials (:mod:`lake.settings`). This
module picks the credentials a command or job runs with: :func:`role_settings` for a named role,
:func:`job_settings` for the role of the layers a job writes (:data:`CHAIN_ROLE` for the whole
chain).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from lake.access_admin import AppliedRole, admin_client, apply
from lake.access_roles import (
    POLICY_PREFIX,
    ROLES_FILE,
    Role,
    credentials_file,
    describe,
    iam_policy,
    load_roles,
    roles_file,
    secrets_dir,
    view_key,
)
from lake.errors import AccessError, LakeError
from lake.settings import Settings

__all__ = [
    "CHAIN_ROLE",
    "JOB_ROLES",
    "POLICY_PREFIX",
    "ROLES_FILE",
    "AccessError",
    "AppliedRole",
    "Role",
    "admin_client",
    "apply",
    "credentials_file",
    "describe",
    "iam_policy",
    "job_settings",
    "load_roles",
    "role_settings",
    "roles_file",
    "secrets_dir",
    "view_key",
]


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
            path=path,
            role=role,
        )
    access_key, secret_key = read_credentials_file(path)
    return settings.with_overrides(
        {"storage": {"role": role, "access_key": access_key, "secret_key": secret_key}}
    )


JOB_ROLES = {"bronze": "ingestion", "silver": "transformation", "gold": "transformation"}
# The role of a job writing layers of several roles (the whole chain in one Spark session).
CHAIN_ROLE = "pipeline"


def job_settings(settings: Settings, layers: Sequence[str]) -> tuple[Settings, str | None]:
    """The settings a job writing ``layers`` runs with, and the role chosen (None: unchanged).

    A job of one role (bronze: ingestion; silver and/or gold: transformation) takes that role's
    credentials, and a job of several (the whole chain, ``lake run``, ``lake submit pipeline``)
    takes :data:`CHAIN_ROLE`'s, the union of their writes (one Spark session holds one set of
    S3A credentials; decision 0008), under the rule of :func:`command_settings`.
    """
    roles = {JOB_ROLES.get(layer) for layer in layers}
    if not roles or None in roles:
        return settings, None
    role = next(iter(roles)) if len(roles) == 1 else CHAIN_ROLE
    assert role is not None
    return command_settings(settings, role)


def command_settings(settings: Settings, role: str) -> tuple[Settings, str | None]:
    """The settings a command of ``role`` runs with, and the role taken (None: unchanged).

    The command takes the role's credentials when ``lake access apply`` created them and it
    would otherwise run on the root credentials ``lake up`` wrote (``storage.credentials_file``):
    root keys serve only ``lake up`` and ``lake access apply``. Anything explicit wins:
    ``storage.role``, credentials given in the environment or the config, ``job_roles = false``.
    """
    from lake.settings import read_credentials_file

    storage = settings.storage
    if storage.role or not storage.job_roles:
        return settings, None
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
