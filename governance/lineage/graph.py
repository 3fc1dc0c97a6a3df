"""The queryable lineage graph, built from OpenLineage run events.

The events of both files (the lake's own and the openlineage-spark listener's) are merged by run
and Spark's column lineage is completed by the lake's (`governance.lineage.completion`); the
graph indexes the result and answers name lookups and upstream / downstream queries.

Column queries follow the per-column ``fields`` of ``columnLineage``. Its dataset-level entries
(``dataset``: GROUP_BY, FILTER... keys that affect every column) are kept apart in
`LineageGraph.dataset_level_edges`, with an empty target column, and are not followed.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from governance.errors import LineageError
from governance.lineage.completion import merge_runs
from governance.lineage.events import (
    DatasetInfo,
    FacetTag,
    ParsedEvent,
    SchemaField,
    is_lake_producer,
    parse_events,
    read_event_files,
)
from governance.lineage.model import ColumnEdge, ColumnRef, DatasetEdge, DatasetRef

__all__ = [
    "DatasetEdge",
    "DatasetInfo",
    "FacetTag",
    "LineageGraph",
    "SchemaField",
    "Subgraph",
    "UnknownLineageName",
    "close_matches",
    "dataset_candidates",
    "is_lake_producer",
]

Direction = Literal["upstream", "downstream"]
_Node = TypeVar("_Node", DatasetRef, ColumnRef)
_Edge = TypeVar("_Edge", "DatasetEdge", ColumnEdge)


@dataclass(frozen=True)
class Subgraph:
    """The answer of an upstream or downstream query.

    Attributes:
        root: The dataset or column the query started from.
        direction: ``upstream`` (edges point to the root) or ``downstream`` (away from it).
        datasets: Every dataset in the answer, sorted.
        columns: Columns to show for each dataset: the columns reached for a column query,
            the schema fields for a dataset query.
        dataset_edges: Edges of a dataset query (empty for a column query).
        column_edges: Edges of a column query (empty for a dataset query).
    """

    root: DatasetRef | ColumnRef
    direction: Direction
    datasets: tuple[DatasetRef, ...]
    columns: Mapping[DatasetRef, tuple[str, ...]]
    dataset_edges: tuple[DatasetEdge, ...] = ()
    column_edges: tuple[ColumnEdge, ...] = ()


class UnknownLineageName(LineageError):
    """A query names a dataset or column the lineage events never mention.

    Attributes:
        name: The name as given.
        matches: Close matches among the known names (may be empty).
    """

    def __init__(self, message: str, *, name: str, matches: Sequence[str], fix: str) -> None:
        self.name = name
        self.matches = tuple(matches)
        super().__init__(message, fix=fix)


class LineageGraph:
    """Datasets, dataset edges and column edges from OpenLineage events, and queries on them.

    Build it with `from_events` (JSON-lines files) or `from_event_dicts`; the constructor takes
    the finished parts and is meant for tests and derived graphs.

    Attributes:
        datasets: What the events say about each dataset.
        dataset_edges: Deduplicated, sorted, without self-loops.
        column_edges: Deduplicated, sorted, after the completion rule.
        dataset_level_edges: ``columnLineage.dataset`` entries (target column ``""``).
        superseded_edges: Spark column edges set aside because the lake described the output.
        warnings: Lines and parts of events that were skipped, as ``file:line: reason``.
    """

    def __init__(
        self,
        datasets: Mapping[DatasetRef, DatasetInfo],
        dataset_edges: Iterable[DatasetEdge] = (),
        column_edges: Iterable[ColumnEdge] = (),
        *,
        dataset_level_edges: Iterable[ColumnEdge] = (),
        superseded_edges: Iterable[ColumnEdge] = (),
        warnings: Iterable[str] = (),
    ) -> None:
        self.datasets: dict[DatasetRef, DatasetInfo] = dict(sorted(datasets.items()))
        self.dataset_edges = tuple(sorted(set(dataset_edges)))
        self.column_edges = tuple(sorted(set(column_edges)))
        self.dataset_level_edges = tuple(sorted(set(dataset_level_edges)))
        self.superseded_edges = tuple(sorted(set(superseded_edges)))
        self.warnings = list(warnings)
        for ref in {e.source for e in self.dataset_edges} | {e.target for e in self.dataset_edges}:
            self.datasets.setdefault(ref, DatasetInfo(ref))
        self._ds_in = _index(self.dataset_edges, lambda e: e.target)
        self._ds_out = _index(self.dataset_edges, lambda e: e.source)
        self._col_in = _index(self.column_edges, lambda e: e.target)
        self._col_out = _index(self.column_edges, lambda e: e.source)
        self._columns: dict[DatasetRef, set[str]] = defaultdict(set)
        for info in self.datasets.values():
            self._columns[info.ref].update(f.name for f in info.fields)
        for edge in self.column_edges:
            self._columns[edge.source.dataset].add(edge.source.column)
            self._columns[edge.target.dataset].add(edge.target.column)

    # -- building ---------------------------------------------------------------------------

    @classmethod
    def from_events(cls, paths: Iterable[Path]) -> LineageGraph:
        """Read JSON-lines event files; a missing file is skipped, a malformed line reported.

        Args:
            paths: Event files, e.g. ``var/lineage/events.jsonl`` and ``events-spark.jsonl``.

        Returns:
            The graph; ``graph.warnings`` names each skipped line as ``file:line: reason``.
        """
        parsed, warnings = read_event_files(paths)
        return cls._build(parsed, warnings)

    @classmethod
    def from_event_dicts(cls, events: Iterable[Mapping[str, Any]]) -> LineageGraph:
        """Build from already decoded events; a bad one is reported as ``event #n``."""
        parsed, warnings = parse_events(
            (f"event #{n}", event) for n, event in enumerate(events, start=1)
        )
        return cls._build(parsed, warnings)

    @classmethod
    def _build(cls, events: list[ParsedEvent], warnings: list[str]) -> LineageGraph:
        parts = merge_runs(events)
        return cls(
            parts.datasets,
            parts.dataset_edges,
            parts.column_edges,
            dataset_level_edges=parts.dataset_level_edges,
            superseded_edges=parts.superseded_edges,
            warnings=warnings,
        )

    # -- names ------------------------------------------------------------------------------

    def resolve(self, name: str | DatasetRef) -> DatasetRef:
        """Find a dataset by name: ``silver/x``, ``silver.x`` or ``s3a://lake/silver/x``.

        Raises:
            UnknownLineageName: No such dataset (the message lists close matches), or the
                name exists in several namespaces and no URI says which.
        """
        if isinstance(name, DatasetRef):
            if name in self.datasets:
                return name
            name = f"{name.namespace}/{name.name}"
        namespace, candidates = dataset_candidates(name)
        for candidate in candidates:
            found = [
                ref
                for ref in self.datasets
                if ref.name == candidate and namespace in (None, ref.namespace)
            ]
            if len(found) == 1:
                return found[0]
            if found:
                spelled = ", ".join(f"`{r.namespace}/{r.name}`" for r in found)
                raise UnknownLineageName(
                    f"Dataset `{name}` is ambiguous: it exists in {spelled}.",
                    name=name,
                    matches=[r.name for r in found],
                    fix="Give the full URI, e.g. `s3a://lake/silver/consular_register`.",
                )
        matches = close_matches(candidates[-1], sorted({r.name for r in self.datasets}))
        raise UnknownLineageName(
            f"No dataset `{name}` in the lineage events."
            + (f" Close matches: {', '.join(f'`{m}`' for m in matches)}." if matches else ""),
            name=name,
            matches=matches,
            fix="Name a dataset as `<layer>/<table>` (e.g. `silver/consular_register`) and check "
            "that the run that wrote it emitted lineage.",
        )

    def columns_of(self, dataset: str | DatasetRef) -> tuple[str, ...]:
        """Known columns of a dataset: its schema fields and any column an edge mentions."""
        return tuple(sorted(self._columns.get(self.resolve(dataset), ())))

    def column(self, dataset: str | DatasetRef, column: str) -> ColumnRef:
        """A known column of a known dataset, or `UnknownLineageName` with close matches."""
        ref = self.resolve(dataset)
        known = self._columns.get(ref, set())
        if column in known:
            return ColumnRef(ref, column)
        matches = close_matches(column, sorted(known))
        raise UnknownLineageName(
            f"No column `{column}` in dataset `{ref.name}`."
            + (f" Close matches: {', '.join(f'`{m}`' for m in matches)}." if matches else ""),
            name=f"{ref.name}.{column}",
            matches=matches,
            fix=f"Pick one of the {len(known)} known columns of `{ref.name}`.",
        )

    def resolve_column(self, name: str | ColumnRef) -> ColumnRef:
        """Find ``<dataset>.<column>`` (any dataset spelling `resolve` accepts).

        The split point is searched from the right, so dataset names may contain dots
        (``landing/src/<sha>/file.csv.Header``).
        """
        if isinstance(name, ColumnRef):
            return self.column(name.dataset, name.column)
        parts = name.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            try:
                dataset = self.resolve(".".join(parts[:cut]))
            except UnknownLineageName:
                continue
            return self.column(dataset, ".".join(parts[cut:]))
        self.resolve(name.rsplit(".", 1)[0] if "." in name else name)
        raise AssertionError("unreachable: resolve() raised")  # pragma: no cover

    def lookup(self, name: str) -> DatasetRef | ColumnRef:
        """A dataset if ``name`` is one, else a column (``<dataset>.<column>``)."""
        try:
            return self.resolve(name)
        except UnknownLineageName as dataset_error:
            try:
                return self.resolve_column(name)
            except UnknownLineageName:
                raise dataset_error from None

    # -- queries ----------------------------------------------------------------------------

    def edges_into(self, column: ColumnRef) -> tuple[ColumnEdge, ...]:
        """Column edges whose target is ``column``."""
        return tuple(self._col_in.get(column, ()))

    def edges_from(self, column: ColumnRef) -> tuple[ColumnEdge, ...]:
        """Column edges whose source is ``column``."""
        return tuple(self._col_out.get(column, ()))

    def upstream(
        self, dataset: str | DatasetRef, column: str | None = None, depth: int | None = None
    ) -> Subgraph:
        """Everything that feeds a dataset (dataset edges) or a column (column edges).

        Args:
            dataset: Any spelling `resolve` accepts.
            column: Follow this column's edges instead of the dataset's.
            depth: Number of hops to follow; None for all.

        Raises:
            UnknownLineageName: Unknown dataset or column.
        """
        return self._query(dataset, column, depth, "upstream")

    def downstream(
        self, dataset: str | DatasetRef, column: str | None = None, depth: int | None = None
    ) -> Subgraph:
        """Everything a dataset or a column feeds; arguments as for `upstream`."""
        return self._query(dataset, column, depth, "downstream")

    def paths_to_sources(self, column_ref: str | ColumnRef) -> list[list[ColumnEdge]]:
        """Every path from a column back to the columns nothing feeds.

        Each path starts with the edge into ``column_ref`` and ends with an edge from a source
        column. A column nothing feeds has no path (``[]``); cycles are cut.
        """
        start = self.resolve_column(column_ref)
        paths: list[list[ColumnEdge]] = []

        def walk(node: ColumnRef, path: list[ColumnEdge], seen: frozenset[ColumnRef]) -> None:
            edges = [e for e in self._col_in.get(node, ()) if e.source not in seen]
            if not edges and path:
                paths.append(path)
            for edge in edges:
                walk(edge.source, [*path, edge], seen | {edge.source})

        walk(start, [], frozenset({start}))
        return paths

    def _query(
        self, dataset: str | DatasetRef, column: str | None, depth: int | None, direction: Direction
    ) -> Subgraph:
        ref = self.resolve(dataset)
        if column is None:
            index = self._ds_in if direction == "upstream" else self._ds_out
            nodes, ds_edges = _walk(ref, index, direction, depth)
            return Subgraph(
                ref,
                direction,
                tuple(sorted(nodes)),
                {n: tuple(f.name for f in self.datasets[n].fields) for n in sorted(nodes)},
                dataset_edges=tuple(sorted(ds_edges)),
            )
        root = self.column(ref, column)
        col_index = self._col_in if direction == "upstream" else self._col_out
        columns, col_edges = _walk(root, col_index, direction, depth)
        shown: dict[DatasetRef, list[str]] = defaultdict(list)
        for col in sorted(columns):
            shown[col.dataset].append(col.column)
        return Subgraph(
            root,
            direction,
            tuple(sorted(shown)),
            {d: tuple(c) for d, c in sorted(shown.items())},
            column_edges=tuple(sorted(col_edges)),
        )


def _walk(
    start: _Node, index: Mapping[_Node, list[Any]], direction: Direction, depth: int | None
) -> tuple[set[_Node], set[Any]]:
    """Breadth-first walk along ``index`` (edges in or out of a node), at most ``depth`` hops."""
    nodes, edges = {start}, set()
    queue = deque([(start, 0)])
    while queue:
        node, hops = queue.popleft()
        if depth is not None and hops >= depth:
            continue
        for edge in index.get(node, ()):
            edges.add(edge)
            nxt = edge.source if direction == "upstream" else edge.target
            if nxt not in nodes:
                nodes.add(nxt)
                queue.append((nxt, hops + 1))
    return nodes, edges


def dataset_candidates(name: str) -> tuple[str | None, list[str]]:
    """Namespace (None if not given) and dataset names to try for a name as a user types it.

    ``s3a://lake/silver/x`` gives ``("s3://lake", ["silver/x"])``, as OpenLineage normalises it;
    ``silver.x`` gives ``(None, ["silver.x", "silver/x"])``.
    """
    text = name.strip()
    uri = _URI.match(text)
    if uri:
        return f"s3://{uri['bucket']}", [uri["path"].strip("/")]
    candidates = [text.strip("/")]
    if "/" not in text and "." in text:
        candidates.append(text.replace(".", "/", 1))
    return None, candidates


def close_matches(name: str, known: Sequence[str]) -> list[str]:
    """Up to five known names close to ``name`` (difflib), best first."""
    return difflib.get_close_matches(name, known, n=5, cutoff=0.6)


_URI = re.compile(r"^s3[an]?://(?P<bucket>[^/]+)/(?P<path>.+)$")


def _index(edges: Iterable[_Edge], key: Callable[[_Edge], Any]) -> dict[Any, list[_Edge]]:
    index: dict[Any, list[_Edge]] = defaultdict(list)
    for edge in edges:
        index[key(edge)].append(edge)
    return dict(index)
