"""The lake's MinIO roles: the roles file, and the IAM policy each role is given.

``policy/minio-roles.yaml`` says, per role, which prefixes of the lake bucket it may read and
write (the security officer reads and changes that file, not code). :func:`load_roles` reads and
checks it; :func:`iam_policy` turns a role into the MinIO (AWS IAM) policy document that
:func:`lake.access_admin.apply` installs; :func:`view_key` says where the view of a table for an
exposure level is published, under the prefix the readers of that level may read.

What a role is granted, for a prefix ``p/`` of bucket ``b`` (anything else is denied):

- read: ``s3:ListBucket`` on ``b`` when the listed prefix is under ``p/`` (or is ``p``), and
  ``s3:GetObject`` on ``b/p/*`` and on the key ``b/p`` (S3A probes a directory with a HEAD on its
  name before listing it);
- write: ``s3:PutObject``, ``s3:DeleteObject`` and the multipart clean-up actions on ``b/p/*``;
- every role: ``s3:HeadBucket`` and ``s3:GetBucketLocation`` on ``b`` (the lake's pre-flight
  check and the S3 clients ask them before anything else).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lake.errors import AccessError
from lake.settings import Settings

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
            path=path,
        ) from exc
    roles = data.get("roles") if isinstance(data, dict) else None
    if not isinstance(roles, dict) or not roles:
        raise AccessError(
            f"The roles file {path} has no 'roles' mapping.",
            fix="restore policy/minio-roles.yaml from the repository, or add a 'roles:' mapping",
            path=path,
        )
    out = {}
    for name, spec in roles.items():
        _check_name(str(name), path)
        if not isinstance(spec, dict):
            raise AccessError(
                f"{path}: role {name} must be a mapping with read and write lists.",
                fix=f"give {name} a 'read:' and a 'write:' list of prefixes",
                path=path,
                role=str(name),
            )
        read = _prefixes(path, name, "read", spec.get("read"))
        write = _prefixes(path, name, "write", spec.get("write"))
        unreadable = [p for p in write if not any(p.startswith(r) for r in read)]
        if unreadable:
            raise AccessError(
                f"{path}: role {name} writes {unreadable} but cannot read them; a Delta writer "
                "reads the table's log before it commits.",
                fix=f"add {unreadable} to the read list of {name}",
                path=path,
                role=str(name),
            )
        out[str(name)] = Role(str(name), str(spec.get("description", "")).strip(), read, write)
    return out


def _prefixes(path: Path, role: str, key: str, value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise AccessError(
            f"{path}: {role}.{key} must be a list of prefixes; found {value!r}.",
            fix=f"write {role}.{key} as a YAML list, e.g. [bronze/, silver/]",
            path=path,
            role=role,
        )
    bad = [p for p in value if not isinstance(p, str) or not _PREFIX.match(p)]
    if bad:
        raise AccessError(
            f"{path}: {role}.{key} has invalid prefixes {bad}; expected relative prefixes ending "
            "with '/' and no wildcard, e.g. bronze/ or views/level-2/.",
            fix=f"correct {role}.{key} in {path}",
            path=path,
            role=role,
        )
    return tuple(value)


def _check_name(name: str, path: Path | None = None) -> None:
    if not _ROLE_NAME.match(name):
        raise AccessError(
            f"Role name {name!r} is invalid; expected lower-case letters, digits and '-', "
            "e.g. ingestion or reader-level-2.",
            fix=f"rename the role in {path}"
            if path
            else f"use a role of {ROLES_FILE} (storage.role, LAKE__STORAGE__ROLE)",
            path=path,
            role=name,
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


def view_key(table: str, audience: int) -> str:
    """Where the view of ``table`` (``layer/name``) for ``audience`` is published.

    ``views/level-<audience>/<layer>_<name>.csv``: the prefix the readers of levels 1..audience
    may read (policy/minio-roles.yaml).

    Raises:
        AccessError: The audience is not 1..4 or the table is not ``layer/name``.
    """
    layer, _, name = table.replace(".", "/").partition("/")
    if audience not in (1, 2, 3, 4):
        raise AccessError(
            f"Audience must be an exposure level 1, 2, 3 or 4; found {audience!r}.",
            fix="pass --audience 1, 2, 3 or 4",
            table=table,
        )
    if not layer or not re.match(r"^[a-z0-9_-]+$", name):
        raise AccessError(
            f"Expected a table LAYER/NAME, e.g. gold/pvt_par_pays_annee; got {table!r}.",
            fix="name the table as `lake catalog` lists it (LAYER/NAME)",
            table=table,
        )
    return f"views/level-{audience}/{layer}_{name}.csv"


def describe(roles: Sequence[Role]) -> list[str]:
    """One line per role: what it reads and writes (for humans; no key in it)."""
    lines = []
    for role in roles:
        writes = ", ".join(role.write) or "nothing"
        lines.append(f"{role.name}: reads {', '.join(role.read) or 'nothing'}; writes {writes}")
    return lines
