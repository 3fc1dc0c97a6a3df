"""Errors of the ingestion package: landing, reading extracts, the layers and the run log.

Every class keeps the inputs of the failure as attributes (``None`` when unknown). An error raised
while a batch is processed, whatever its class (a ``TableError`` from a write, too), carries the
batch in ``batch_id``: the step that knows the batch wraps its work in :func:`in_batch`, and the
run log records the batch of a failed run from it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lake.errors import LakeError


class IngestionError(LakeError):
    """An ingestion step failed for a reason the user can act on.

    Attributes:
        batch_id: The batch being processed, if one was.
        source: The source id involved.
        layer: The layer being written (``bronze``, ``silver``, ``gold``).
        table: The table (``layer/name`` or URI) involved.
        path: The delivered file involved.
    """

    def __init__(
        self,
        message: str,
        *,
        fix: str | None = None,
        batch_id: str | None = None,
        source: str | None = None,
        layer: str | None = None,
        table: str | None = None,
        path: Path | str | None = None,
    ) -> None:
        self.batch_id = batch_id
        self.source = source
        self.layer = layer
        self.table = table
        self.path = path
        super().__init__(message, fix=fix)


class ReconciliationError(IngestionError):
    """Counts of a batch do not add up: rows would be lost or invented."""


class LineageMismatchError(IngestionError):
    """A step's declared column lineage is not what Spark's analysed plan shows.

    Attributes:
        columns: The output columns that disagree.
        declared: Column -> its declared ``(input column, TYPE/SUBTYPE)`` edges.
        observed: Column -> the edges the plan shows.
    """

    def __init__(
        self,
        message: str,
        *,
        columns: list[str],
        declared: dict[str, tuple[tuple[str, str], ...]],
        observed: dict[str, tuple[tuple[str, str], ...]],
        fix: str | None = None,
        source: str | None = None,
        layer: str | None = None,
        table: str | None = None,
        batch_id: str | None = None,
    ) -> None:
        self.columns = columns
        self.declared = declared
        self.observed = observed
        super().__init__(
            message, fix=fix, source=source, layer=layer, table=table, batch_id=batch_id
        )


class SchemaChangeError(IngestionError):
    """A contract change silver cannot take by itself (a removed, renamed or retyped column).

    Attributes:
        columns: The columns whose change was refused.
    """

    def __init__(
        self,
        message: str,
        *,
        columns: list[str],
        fix: str | None = None,
        source: str | None = None,
        table: str | None = None,
        batch_id: str | None = None,
    ) -> None:
        self.columns = columns
        super().__init__(
            message, fix=fix, source=source, table=table, layer="silver", batch_id=batch_id
        )


class LandingError(IngestionError):
    """A delivered file cannot be landed (its name or its kind), before anything is copied.

    Attributes:
        path: The delivered path, as given.
    """

    def __init__(
        self, path: Path | str, message: str, *, fix: str | None = None, source: str | None = None
    ) -> None:
        super().__init__(
            f"Delivered file {str(path)!r}: {message}", fix=fix, source=source, path=path
        )


class ExtractError(IngestionError):
    """A delivered file cannot be read at all (not a malformed line: the whole file).

    Attributes:
        path: The file.
        line: The line (or spreadsheet row) where reading stopped, when one is named.
        column: The column (1-based position) involved, when one is named.
    """

    path: Path

    def __init__(
        self,
        path: Path,
        message: str,
        *,
        fix: str | None = None,
        source: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.line = line
        self.column = column
        super().__init__(f"{path}: {message}", fix=fix, source=source, path=path)


@contextmanager
def in_batch(batch_id: str) -> Iterator[None]:
    """Let every lake error raised inside carry ``batch_id`` (unless it names a batch already).

    The error is re-raised unchanged otherwise: same class, same message.
    """
    try:
        yield
    except LakeError as exc:
        if exc.batch_id is None:
            exc.batch_id = batch_id
        raise
