"""Errors of the quality package."""

from __future__ import annotations

from pathlib import Path

from lake.errors import LakeError


class QualityError(LakeError):
    """A quality review could not run, or its results are inconsistent.

    Attributes:
        source: The source whose review failed, when one is involved.
        table: The table (``layer/name``) reviewed, when one is involved.
        rule: The rule id involved, when one is.
    """

    def __init__(
        self,
        message: str,
        *,
        fix: str | None = None,
        source: str | None = None,
        table: str | None = None,
        rule: str | None = None,
    ) -> None:
        self.source = source
        self.table = table
        self.rule = rule
        super().__init__(message, fix=fix)


class RulesError(QualityError):
    """A rule (business rules file or generated rule) is invalid.

    Attributes:
        where: The file and rule involved (or the rule id).
        path: The business rules file involved, when the rule comes from one.
    """

    def __init__(
        self,
        where: str,
        message: str,
        *,
        fix: str | None = None,
        path: Path | None = None,
        source: str | None = None,
        rule: str | None = None,
    ) -> None:
        self.where = where
        self.path = path
        super().__init__(f"Quality rule {where}: {message}.", fix=fix, source=source, rule=rule)


class SchemaError(QualityError):
    """A Table Schema is invalid or cannot be turned into a contract.

    Attributes:
        path: The schema file (or table) involved.
        field: The field (``fields[3]``, ``primaryKey``...) involved, when one is.
    """

    def __init__(
        self,
        path: str,
        message: str,
        *,
        fix: str | None = None,
        field: str | None = None,
        source: str | None = None,
    ) -> None:
        self.path = path
        self.field = field
        super().__init__(f"Table Schema {path}: {message}", fix=fix, source=source)
