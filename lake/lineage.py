"""What a pipeline step tells the lineage emitter: plain data, and the sink protocol.

Ingestion knows its own transforms (which delivered header becomes which bronze column, which
bronze column is typed or pseudonymised into which silver column, which silver columns a gold
indicator aggregates), so it describes each step as :class:`DatasetIO` inputs and outputs with
column lineage. A :class:`LineageSink` (``governance.lineage.emit.OpenLineageSink``) turns that
into OpenLineage events; the jobs and the CLI plug one in. Emitting is best-effort: a sink never
raises into the job.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class ColumnSource:
    """One input column of an output column, and how it was transformed.

    Attributes:
        uri: The input dataset's location (``s3a://lake/bronze/x`` or a landing file).
        column: The input column.
        kind: OpenLineage ``TYPE/SUBTYPE``: ``DIRECT/IDENTITY``, ``DIRECT/TRANSFORMATION``,
            ``DIRECT/AGGREGATION``, ``INDIRECT/GROUP_BY``, ``INDIRECT/FILTER``...
        masking: The transformation hides the value (pseudonymisation).
        description: What the transformation does, in a few words.
    """

    uri: str
    column: str
    kind: str = "DIRECT/IDENTITY"
    masking: bool = False
    description: str = ""


@dataclass
class DatasetIO:
    """A dataset a step read or wrote.

    Attributes:
        uri: Its location (table URI or delivered file URI).
        columns: ``(name, type)`` of its columns, in order.
        lineage: Output column -> the input columns it comes from.
        source: The contract source id it belongs to (ownership, description, declared tags).
        description: French description when not from a contract (gold indicators).
        owner: Owning direction when not from a contract.
        assertions: Quality review results about it (input datasets): plain mappings with
            ``assertion``, ``success``, ``column``, ``severity``, ``name``, ``description``,
            ``actual``.
        rows: Row count read or written, when known.
        statistical_secret: For gold: the minimum count below which cells are suppressed.
        count_columns: The columns the statistical secret applies to.
    """

    uri: str
    columns: Sequence[tuple[str, str]] = ()
    lineage: Mapping[str, Sequence[ColumnSource]] = field(default_factory=dict)
    source: str | None = None
    description: str | None = None
    owner: str | None = None
    assertions: Sequence[Mapping[str, Any]] = ()
    rows: int | None = None
    statistical_secret: int | None = None
    count_columns: Sequence[str] = ()


class LineageSink(Protocol):
    """Receives the start and the end of each pipeline step."""

    def start(self, job: str, *, run_id: str, inputs: Sequence[DatasetIO]) -> str:
        """A step begins; returns the OpenLineage run id of this step."""
        ...

    def complete(
        self,
        job: str,
        step_run: str,
        *,
        inputs: Sequence[DatasetIO],
        outputs: Sequence[DatasetIO],
    ) -> None: ...

    def fail(self, job: str, step_run: str, *, error: str, inputs: Sequence[DatasetIO]) -> None: ...


class NoLineage:
    """A sink that records nothing (lineage transport ``none``, unit tests)."""

    def start(self, job: str, *, run_id: str, inputs: Sequence[DatasetIO]) -> str:
        return ""

    def complete(
        self,
        job: str,
        step_run: str,
        *,
        inputs: Sequence[DatasetIO],
        outputs: Sequence[DatasetIO],
    ) -> None:
        return None

    def fail(self, job: str, step_run: str, *, error: str, inputs: Sequence[DatasetIO]) -> None:
        return None
