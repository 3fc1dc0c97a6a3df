"""Errors of the quality package."""

from __future__ import annotations

from lake.errors import LakeError


class QualityError(LakeError):
    """A quality review could not run, or its results are inconsistent."""


class RulesError(QualityError):
    """A rule (business rules file or generated rule) is invalid.

    Attributes:
        where: The file and rule involved (or the rule id).
    """

    def __init__(self, where: str, message: str, *, fix: str | None = None) -> None:
        self.where = where
        super().__init__(f"Quality rule {where}: {message}.", fix=fix)


class SchemaError(QualityError):
    """A Table Schema is invalid or cannot be turned into a contract.

    Attributes:
        path: The schema file (or table) involved.
    """

    def __init__(self, path: str, message: str, *, fix: str | None = None) -> None:
        self.path = path
        super().__init__(f"Table Schema {path}: {message}", fix=fix)
