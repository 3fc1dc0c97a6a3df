"""Errors of the governance package (lineage, sensitivity, exports, catalogue, cloud, study).

``CloudPolicyError`` (:mod:`governance.cloud.policy`) and ``UnknownLineageName``
(:mod:`governance.lineage.graph`) stay beside the code that raises them; they subclass the
classes here.
"""

from __future__ import annotations

from pathlib import Path

from lake.errors import LakeError


class GovernanceError(LakeError):
    """Root of the governance package's errors.

    Attributes:
        table: The table (``layer/name``) involved, when one is.
        column: The column involved, when one is.
    """

    def __init__(
        self,
        message: str,
        *,
        fix: str | None = None,
        table: str | None = None,
        column: str | None = None,
    ) -> None:
        self.table = table
        self.column = column
        super().__init__(message, fix=fix)


class LineageError(GovernanceError):
    """A lineage query names an unknown dataset or column, or the events cannot be read.

    Attributes:
        path: The events file or schema file involved, when one is.
    """

    def __init__(
        self,
        message: str,
        *,
        fix: str | None = None,
        table: str | None = None,
        column: str | None = None,
        path: Path | str | None = None,
    ) -> None:
        self.path = path
        super().__init__(message, fix=fix, table=table, column=column)


class ExportRefused(GovernanceError):
    """An export was refused because a column is above the audience's exposure level.

    Attributes:
        offending: One line per offending column, with its lineage path.
    """

    def __init__(
        self,
        message: str,
        *,
        offending: list[str],
        fix: str | None = None,
        table: str | None = None,
    ) -> None:
        self.offending = offending
        super().__init__(message, fix=fix, table=table)


class CatalogueRecordInvalid(GovernanceError):
    """An open-data catalogue record does not validate against the DCAT-AP SHACL shapes.

    Attributes:
        violations: One plain line per SHACL violation (node, property, what is wrong).
    """

    def __init__(
        self,
        message: str,
        *,
        violations: list[str],
        fix: str | None = None,
        table: str | None = None,
    ) -> None:
        self.violations = violations
        super().__init__(message, fix=fix, table=table)


class ContractEditError(GovernanceError):
    """A contract edit was refused or could not be made safely.

    Attributes:
        where: The contract file and column involved.
        path: The contract file, when known apart from ``where``.
        column: The column whose tag was edited, when known apart from ``where``.
    """

    def __init__(
        self,
        where: str,
        message: str,
        *,
        fix: str | None = None,
        path: Path | None = None,
        column: str | None = None,
    ) -> None:
        self.where = where
        self.path = path
        super().__init__(f"Contract edit {where}: {message}", fix=fix, column=column)


class SuggestionError(GovernanceError):
    """The suggestion store cannot be read, or a record or decision was refused.

    Attributes:
        where: The store file, or the ``source.column`` involved.
        path: The store file, when one is involved.
        source: The source of the column involved, when one is.
    """

    def __init__(
        self,
        where: str,
        message: str,
        *,
        fix: str | None = None,
        path: Path | str | None = None,
        source: str | None = None,
        column: str | None = None,
    ) -> None:
        self.where = where
        self.path = path
        self.source = source
        super().__init__(f"Sensitivity suggestions {where}: {message}", fix=fix, column=column)


class CostModelError(GovernanceError):
    """The cost model file is missing, unreadable or has an invalid field.

    Attributes:
        path: The cost model file.
        field: The dotted path of the offending field (``hosting.public_cloud.vcpu_eur_per_hour``).
    """

    def __init__(self, path: Path, field: str, message: str, *, fix: str | None = None) -> None:
        self.path = path
        self.field = field
        super().__init__(
            f"Cost model {path}: {field}: {message}",
            fix=fix or f"edit {path} (its comments explain each parameter)",
        )
