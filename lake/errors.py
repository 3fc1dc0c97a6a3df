"""One error root for the whole project, and the core's own errors.

Every error the project raises on purpose is a `LakeError`: its message says what was expected,
what was found and what to do, on one line the CLI can print as is. Packages add their own
subclass (`ingestion`, `quality`, `governance` each have one) and keep their inputs as attributes.
"""

from __future__ import annotations


class LakeError(Exception):
    """Root of every error the lake raises on purpose.

    Args:
        message: What went wrong, in one sentence naming the thing involved.
        fix: What the user should do about it (a command or a setting), if known.
    """

    def __init__(self, message: str, *, fix: str | None = None) -> None:
        self.message = message
        self.fix = fix
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return f"{self.message} Fix: {self.fix}" if self.fix else self.message


class ConfigError(LakeError):
    """A settings file or an environment override is invalid."""


class ToolchainError(LakeError):
    """A build tool, a jar or the MinIO binary is missing or failed to build."""


class StorageError(LakeError):
    """The object store (MinIO/S3) or the local filesystem refused or could not be reached.

    Attributes:
        endpoint: The storage endpoint involved (an URL, or the local root for `file://`).
    """

    def __init__(self, message: str, *, endpoint: str, fix: str | None = None) -> None:
        self.endpoint = endpoint
        super().__init__(message, fix=fix)


class ServerError(LakeError):
    """The local MinIO server could not be started, stopped or reached."""


class SparkError(LakeError):
    """Spark could not start, or a Spark/Delta operation failed for a reason we can name."""


class TableError(LakeError):
    """A Delta table operation was refused (missing table, existing table, bad mode or key).

    Attributes:
        table: The table URI involved.
    """

    def __init__(self, message: str, *, table: str, fix: str | None = None) -> None:
        self.table = table
        super().__init__(message, fix=fix)
