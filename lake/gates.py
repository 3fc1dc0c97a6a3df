"""The contract between the ingestion chain and the quality gates that guard it.

Ingestion and quality do not import each other (STYLE.md): ingestion asks a :class:`BatchGate` to
review a conformed batch before promotion, and a :class:`TableGate` to review a gold table before
it is written; the quality package implements both; the jobs and the CLI plug one into the other.
Only plain data crosses: a :class:`Verdict`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from lake.contracts import Contract

Decision = Literal["promoted", "promoted_with_warnings", "blocked"]

# Column added by a batch gate: one struct per blocking row-level failure of the row.
FAILURES = "_failures"
FAILURE_TYPE = (
    "array<struct<`column`:string,value:string,reason:string,rule:string,severity:string>>"
)
# The cleaned text as delivered, beside each typed column (``__raw_<col>``), for the gate's rules.
RAW_PREFIX = "__raw_"
# Number of blocking failures of the row (the batch-level "rejected share" rule reads it).
FAILURE_COUNT = "_failure_count"
# Columns the gate may add for its own checks; never written to a table.
GATE_COLUMN_PREFIX = "__"


@dataclass
class Verdict:
    """What a gate decided about one batch or table.

    Attributes:
        decision: ``promoted``, ``promoted_with_warnings`` or ``blocked``.
        review_id: The review's id in the quality history.
        marked: For a batch gate: the batch with :data:`FAILURES` (rows with failures are
            quarantined, the others promoted). None for a table gate.
        reasons: French sentences of the blocking table-level failures (when blocked).
        summary: One line for progress output.
        record: Called once the outcome is known, with the version of the table the batch went
            into (None when nothing was written), to append the review to the history.
    """

    decision: Decision
    review_id: str
    marked: DataFrame | None = None
    reasons: list[str] = field(default_factory=list)
    summary: str = ""
    record: Callable[[int | None], None] = lambda _version: None
    # The review's results for lineage (OpenLineage dataQualityAssertions): plain mappings with
    # assertion, success, column, severity, name, description, actual.
    assertions: list[dict[str, Any]] = field(default_factory=list)
    # For a batch gate: the rows of the batch and the rows with a blocking failure, counted in
    # the review's own pass, so the caller need not count them again (None: not counted).
    rows: int | None = None
    rejected: int | None = None

    @property
    def blocked(self) -> bool:
        return self.decision == "blocked"


class BatchGate(Protocol):
    """Reviews a conformed batch (typed columns + ``__raw_<col>`` text) before promotion."""

    def __call__(
        self, conformed: DataFrame, contract: Contract, *, batch_id: str, run_id: str
    ) -> Verdict: ...


class TableGate(Protocol):
    """Reviews a gold table's new content before it replaces the old one."""

    def __call__(
        self,
        table: DataFrame,
        *,
        name: str,
        domain: str,
        grain: tuple[str, ...],
        count_columns: tuple[str, ...],
        secret: bool,
        run_id: str,
    ) -> Verdict: ...


@dataclass(frozen=True)
class Gates:
    """The two gates a pipeline run needs, and what to do once the run's reviews are done
    (``finish``: e.g. rebuild the engineers' Data Docs once, not after every batch)."""

    batch: BatchGate
    table: TableGate
    finish: Callable[[], object] = lambda: None
