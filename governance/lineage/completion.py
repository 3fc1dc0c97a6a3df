"""From parsed OpenLineage events to the parts of the lineage graph, completing Spark's lineage.

Two files feed the graph: the lake's own events (producer starting with `LAKE_PRODUCER`) and the
openlineage-spark listener's. Events of one run are merged (inputs, outputs and facets of its
START/RUNNING/COMPLETE events), and only runs that reached COMPLETE give edges.

Completion rule: Spark's column lineage through a Delta MERGE is unreliable (OpenLineage #3613,
#3820, #3942: missing columns, the target reported as its own source, inputs dropped). When the
lake's events describe the column lineage of an output dataset, they are authoritative for it:
Spark's column edges into that dataset are set aside (`superseded_edges`); Spark's edges into
datasets the lake never described are kept. Edges from a dataset to itself (what Spark reports
for a MERGE) are always dropped, at dataset and column level.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from governance.lineage.events import DatasetInfo, ParsedEvent, is_lake_producer
from governance.lineage.model import ColumnEdge, DatasetEdge, DatasetRef


@dataclass(frozen=True)
class GraphParts:
    """What the completed runs say, after the completion rule (the parts of a `LineageGraph`).

    Attributes:
        datasets: What the events say about each dataset (latest facet wins).
        dataset_edges: Input -> output of each completed run, without self-loops.
        column_edges: Column edges kept by the completion rule, without self-loops.
        dataset_level_edges: ``columnLineage.dataset`` entries (target column ``""``).
        superseded_edges: Spark column edges set aside because the lake described the output.
    """

    datasets: dict[DatasetRef, DatasetInfo]
    dataset_edges: tuple[DatasetEdge, ...]
    column_edges: tuple[ColumnEdge, ...]
    dataset_level_edges: tuple[ColumnEdge, ...]
    superseded_edges: tuple[ColumnEdge, ...]


def merge_runs(events: Sequence[ParsedEvent]) -> GraphParts:
    """Merge the events of each completed run into datasets and edges, by the completion rule.

    Args:
        events: Parsed events of both files, in reading order.

    Returns:
        The datasets and the edges a `LineageGraph` is built from.
    """
    # Latest facet wins: order by event time, then by reading order (stable sort).
    events = sorted(events, key=lambda e: e.sort_key)
    datasets: dict[DatasetRef, DatasetInfo] = {}
    for event in events:
        for ref, facets, input_facets in event.datasets:
            info = datasets.setdefault(ref, DatasetInfo(ref))
            info.facets.update(facets)
            info.input_facets.update(input_facets)
    completed = {e.run_id for e in events if e.event_type == "COMPLETE"}
    ds_edges: set[DatasetEdge] = set()
    col_edges: list[ColumnEdge] = []
    level_edges: list[ColumnEdge] = []
    lake_described: set[DatasetRef] = set()
    runs: dict[str, list[ParsedEvent]] = defaultdict(list)
    for event in events:
        if event.run_id in completed and event.event_type not in ("FAIL", "ABORT"):
            runs[event.run_id].append(event)
    for run_events in runs.values():
        inputs = {ref for e in run_events for ref in e.inputs}
        outputs = {ref for e in run_events for ref in e.outputs}
        for e in run_events:
            producer = e.producer
            ds_edges.update(DatasetEdge(i, o, producer) for i in inputs for o in outputs)
            col_edges.extend(e.column_edges)
            level_edges.extend(e.dataset_level_edges)
            if is_lake_producer(producer):
                lake_described.update(edge.target.dataset for edge in e.column_edges)
    kept: list[ColumnEdge] = []
    superseded: list[ColumnEdge] = []
    for edge in col_edges:
        if edge.source.dataset == edge.target.dataset:
            continue
        if edge.target.dataset in lake_described and not is_lake_producer(edge.producer):
            superseded.append(edge)
        else:
            kept.append(edge)
    # Column lineage also proves a dataset dependency (Spark drops MERGE inputs, #3942).
    ds_edges.update(DatasetEdge(e.source.dataset, e.target.dataset, e.producer) for e in kept)
    return GraphParts(
        datasets,
        tuple(e for e in ds_edges if e.source != e.target),
        tuple(kept),
        dataset_level_edges=tuple(
            e
            for e in level_edges
            if e.source.dataset != e.target.dataset
            and (is_lake_producer(e.producer) or e.target.dataset not in lake_described)
        ),
        superseded_edges=tuple(superseded),
    )
