"""Errors of the application layer (the CLI, the jobs, the benchmarks)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


class DraftError(AppError):
    """A delivered file cannot be read well enough to draft a contract (`lake contract infer`).

    Attributes:
        path: The delivered file.
    """


class Forbidden(AppError):
    """The web app's account may not open this page (HTTP 403, the reason shown)."""


class Redirected(AppError):
    """A web request ends early with another page (sign-in needed, a refused form): not a fault
    of the lake; ``lake serve`` returns ``response`` as it is.

    Attributes:
        response: The HTTP response to send instead.
    """

    def __init__(self, response: Any = None) -> None:
        self.response = response
        super().__init__("The request was answered with another page.")


class PostgresError(AppError):
    """The catalog's PostgreSQL refused the login or a statement (``lake status`` / ``doctor``).

    Attributes:
        code: The server's SQLSTATE (``28P01`` wrong password, ``42P01`` no such table...).
    """

    def __init__(self, message: str, *, code: str | None = None, fix: str | None = None) -> None:
        self.code = code
        super().__init__(message, fix=fix)
