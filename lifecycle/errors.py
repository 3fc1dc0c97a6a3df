"""Errors of the lifecycle package (retention, data-subject requests)."""

from __future__ import annotations

from lake.errors import LakeError


class LifecycleError(LakeError):
    """Root of the lifecycle package's errors: a retention run or a request could not proceed.

    Attributes:
        source: The source involved, when one is.
        table: The table (``layer/name``) involved, when one is.
    """

    def __init__(
        self,
        message: str,
        *,
        fix: str | None = None,
        source: str | None = None,
        table: str | None = None,
    ) -> None:
        self.source = source
        self.table = table
        super().__init__(message, fix=fix)


class ErasureError(LifecycleError):
    """An erasure could not be completed (the certificate says what is left)."""


class SubjectError(LifecycleError):
    """A subject cannot be understood or matched.

    Attributes:
        column: The subject's column involved, when one is.
    """

    def __init__(
        self,
        message: str,
        *,
        fix: str | None = None,
        source: str | None = None,
        column: str | None = None,
    ) -> None:
        self.column = column
        super().__init__(message, fix=fix, source=source)
