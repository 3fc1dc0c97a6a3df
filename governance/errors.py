"""Errors of the governance package (lineage, sensitivity, exports, catalogue)."""

from __future__ import annotations

from lake.errors import LakeError


class GovernanceError(LakeError):
    """Root of the governance package's errors."""


class LineageError(GovernanceError):
    """A lineage query names an unknown dataset or column, or the events cannot be read."""


class ExportRefused(GovernanceError):
    """An export was refused because a column is above the audience's exposure level.

    Attributes:
        offending: One line per offending column, with its lineage path.
    """

    def __init__(self, message: str, *, offending: list[str], fix: str | None = None) -> None:
        self.offending = offending
        super().__init__(message, fix=fix)
