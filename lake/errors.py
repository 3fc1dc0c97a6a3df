"""One error root for the whole project, and the core's own errors.

Every error the project raises on purpose is a `LakeError`: its message says what was expected,
what was found and what to do, on one line the CLI can print as is. Each package has an
``errors.py`` holding its root (``IngestionError``, ``QualityError``, ``GovernanceError``,
``LifecycleError``, ``AppError``) and its classes; each class keeps the inputs that describe the
failure (``path``, ``table``, ``source``, ``batch_id``...) as attributes, ``None`` when unknown.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol


class LakeError(Exception):
    """Root of every error the lake raises on purpose.

    Args:
        message: What went wrong, in one sentence naming the thing involved.
        fix: What the user should do about it (a command or a setting), if known.

    Attributes:
        batch_id: The ingestion batch being processed when the error was raised. Any error can
            carry it (a ``TableError`` from a write inside a batch, too): the step that knows the
            batch sets it (:func:`ingestion.errors.in_batch`) and the run log records it.
    """

    batch_id: str | None = None

    def __init__(self, message: str, *, fix: str | None = None) -> None:
        self.message = message
        self.fix = fix
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return f"{self.message} Fix: {self.fix}" if self.fix else self.message


class ConfigError(LakeError):
    """A settings file or an environment override is invalid.

    Attributes:
        path: The settings (or credentials) file involved; None for the environment.
        key: The setting (``section.key``) or environment variable involved.
    """

    def __init__(
        self,
        message: str,
        *,
        fix: str | None = None,
        path: Path | str | None = None,
        key: str | None = None,
    ) -> None:
        self.path = path
        self.key = key
        super().__init__(message, fix=fix)


class KeyMismatchError(ConfigError):
    """The pseudonymisation key given to a job is not the one the lake's data was made with.

    Attributes:
        path: Where this job's key came from (a file), None for the environment.
        key: The setting involved (``security.pseudonymisation_key``).
        expected: The fingerprint of the key the lake records (``meta/keys/``).
        found: The fingerprint of this job's key, or None when the job has no key at all.
    """

    def __init__(
        self,
        message: str,
        *,
        expected: str,
        found: str | None,
        fix: str | None = None,
        path: Path | str | None = None,
    ) -> None:
        self.expected = expected
        self.found = found
        super().__init__(message, fix=fix, path=path, key="security.pseudonymisation_key")


class ToolchainError(LakeError):
    """A build tool, a jar or the MinIO binary is missing or failed to build.

    Attributes:
        path: The file (jar listing, binary, POM) involved, if one is.
    """

    def __init__(
        self, message: str, *, fix: str | None = None, path: Path | str | None = None
    ) -> None:
        self.path = path
        super().__init__(message, fix=fix)


class StorageError(LakeError):
    """The object store (MinIO/S3) or the local filesystem refused or could not be reached.

    Attributes:
        endpoint: The storage endpoint involved (an URL, or the local root for `file://`).
        table: The table URI being read or written, when the failure is on a table.
    """

    def __init__(
        self, message: str, *, endpoint: str, fix: str | None = None, table: str | None = None
    ) -> None:
        self.endpoint = endpoint
        self.table = table
        super().__init__(message, fix=fix)


class ServerError(LakeError):
    """The local MinIO server could not be started, stopped or reached.

    Attributes:
        endpoint: The server's address (``http://host:port``), when known.
        path: The file involved (the binary, the data directory or the log file), if one is.
    """

    def __init__(
        self,
        message: str,
        *,
        fix: str | None = None,
        endpoint: str | None = None,
        path: Path | str | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.path = path
        super().__init__(message, fix=fix)


class SparkError(LakeError):
    """Spark could not start, or a Spark/Delta operation failed for a reason we can name.

    Attributes:
        table: The table URI involved, when the failure is on a table.
        path: The program involved (``spark-submit``), if one is.
    """

    def __init__(
        self,
        message: str,
        *,
        fix: str | None = None,
        table: str | None = None,
        path: Path | str | None = None,
    ) -> None:
        self.table = table
        self.path = path
        super().__init__(message, fix=fix)


class TableError(LakeError):
    """A Delta table operation was refused (missing table, existing table, bad mode or key).

    Attributes:
        table: The table URI involved.
    """

    def __init__(self, message: str, *, table: str, fix: str | None = None) -> None:
        self.table = table
        super().__init__(message, fix=fix)


class AccessError(LakeError):
    """The roles file is invalid, or MinIO refused to apply a role.

    Attributes:
        path: The roles file involved, if the failure is in it.
        role: The role involved, if one is.
        table: The table (``layer/name``) involved, if one is.
    """

    def __init__(
        self,
        message: str,
        *,
        fix: str | None = None,
        path: Path | str | None = None,
        role: str | None = None,
        table: str | None = None,
    ) -> None:
        self.path = path
        self.role = role
        self.table = table
        super().__init__(message, fix=fix)


class ContractError(LakeError):
    """A source contract is invalid or missing.

    Attributes:
        path: The contract file.
        field: The dotted path of the offending field (``columns[3].type``).
    """

    def __init__(self, path: Path, field_path: str, message: str, *, fix: str | None = None):
        self.path = path
        self.field = field_path
        super().__init__(f"Contract {path}: {field_path}: {message}", fix=fix)


class LeaseHolder(Protocol):
    """What :class:`TableBusyError` reads of the lease that holds a table (a ``LeaseRecord``;
    named by its fields so that this module imports nothing of the lake)."""

    @property
    def run_id(self) -> str: ...
    @property
    def job(self) -> str: ...
    @property
    def user(self) -> str: ...
    @property
    def host(self) -> str: ...
    @property
    def pid(self) -> int: ...
    @property
    def acquired_at(self) -> str: ...
    @property
    def expires_at(self) -> str: ...


class LeaseError(LakeError):
    """A table lease could not be taken, or was lost.

    Attributes:
        table: ``layer/name`` of the table, when one is involved.
    """

    def __init__(self, message: str, *, fix: str | None = None, table: str | None = None) -> None:
        self.table = table
        super().__init__(message, fix=fix)


class TableBusyError(LeaseError):
    """Another job holds the lease of a table this job must write.

    Attributes:
        table: ``layer/name`` of the table.
        holder: The lease that holds it.
        waited_s: How long this job waited for it (0: it did not wait).
    """

    def __init__(self, table: str, holder: LeaseHolder, *, waited_s: float = 0.0) -> None:
        self.holder = holder
        self.waited_s = waited_s
        waited = f" (waited {waited_s:.0f} s)" if waited_s else ""
        super().__init__(
            f"table {table} busy: held by run {holder.run_id} (job {holder.job}, user "
            f"{holder.user} on host {holder.host}, pid {holder.pid}) since "
            f"{holder.acquired_at}, expires at {holder.expires_at}{waited}.",
            fix="let that job finish, or rerun with --wait SECONDS (LAKE__LOCKS__WAIT_S); the "
            "lease of a job that died is taken over when it expires (at once on its own host)",
            table=table,
        )


class LeaseLostError(LeaseError):
    """This job's lease was taken over or could not be renewed in time: it must not write."""


class CatalogError(LakeError):
    """The table catalog (the Hive metastore and its PostgreSQL database) failed or refused.

    Attributes:
        table: The table involved (``silver.consular_register``), when there is one.
        path: The file involved (a log, the credentials or data directory), if one is.
    """

    def __init__(
        self,
        message: str,
        *,
        fix: str | None = None,
        table: str | None = None,
        path: Path | str | None = None,
    ) -> None:
        self.table = table
        self.path = path
        super().__init__(message, fix=fix)
