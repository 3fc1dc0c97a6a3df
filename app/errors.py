"""Errors of the application layer (the CLI, the jobs, the benchmarks)."""

from __future__ import annotations

from pathlib import Path

from lake.errors import LakeError


class AppError(LakeError):
    """Root of the application layer's errors: a command's arguments or a job cannot proceed.

    Attributes:
        path: The file involved (a log, a result file, an argument), when one is.
    """

    def __init__(
        self, message: str, *, fix: str | None = None, path: Path | str | None = None
    ) -> None:
        self.path = path
        super().__init__(message, fix=fix)


class BenchError(AppError):
    """A benchmark task failed or the options make no sense.

    Attributes:
        task: The benchmark task (or scenario) involved, when one is.
    """

    def __init__(
        self,
        message: str,
        *,
        fix: str | None = None,
        path: Path | str | None = None,
        task: str | None = None,
    ) -> None:
        self.task = task
        super().__init__(message, fix=fix, path=path)
