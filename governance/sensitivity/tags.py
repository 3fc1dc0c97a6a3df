"""Every column's sensitivity in the lake: declared tags from the contracts, carried along lineage.

Contracts declare each source column's tag (exposure level, personal data, exclusion) on its bronze
column, the data as delivered. :func:`governance.sensitivity.propagation.propagate` then carries the
tags along the column lineage of the events (the lake's own, completed where Spark's are wrong):
silver inherits (pseudonymised columns relaxed to level 2, still personal), gold inherits unless it
is an aggregate under the statistical secret (``statisticalSecret`` facet).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from governance.lineage.graph import LineageGraph
from governance.lineage.model import ColumnRef, DatasetRef, Tag
from governance.sensitivity.propagation import DerivedTag, propagate
from lake.contracts import Contract, load_contracts
from lake.lineage_journal import fetch
from lake.settings import Settings
from lake.storage import openlineage_dataset, table_uri


def event_files(settings: Settings) -> list[Path]:
    """The lake's lineage journal (its own events and the Spark listener's, from
    ``meta/lineage/`` of the lake, :mod:`lake.lineage_journal`) as local files: the same answer
    in any container and on the host.

    Raises:
        StorageError: The store is unreachable or refuses to list the journal.
    """
    return fetch(settings)


def load_graph(settings: Settings) -> LineageGraph:
    return LineageGraph.from_events(event_files(settings))


def declared_tags(settings: Settings, contracts: Mapping[str, Contract]) -> dict[ColumnRef, Tag]:
    """Each contract column's tag on its bronze column (where the delivered value lands)."""
    declared: dict[ColumnRef, Tag] = {}
    for contract in contracts.values():
        ns, name = openlineage_dataset(table_uri(settings, "bronze", contract.source))
        for col in contract.columns:
            s = col.sensitivity
            declared[ColumnRef(DatasetRef(ns, name), col.name)] = Tag(
                s.level, s.personal, s.exclusion
            )
    return declared


def derived_tags(
    settings: Settings,
    graph: LineageGraph,
    contracts: Mapping[str, Contract] | None = None,
) -> dict[ColumnRef, DerivedTag]:
    """Every column's tag, with its path, from the contracts and the lineage graph."""
    contracts = contracts if contracts is not None else load_contracts(settings.root)
    secret = {}
    for ref, info in graph.datasets.items():
        facet = info.statistical_secret
        if facet and isinstance(facet.get("minCount"), int):
            secret[ref] = int(facet["minCount"])
    legal = set()
    for contract in contracts.values():
        if contract.legal_secret:
            for layer in ("bronze", "silver"):
                legal.add(
                    DatasetRef(*openlineage_dataset(table_uri(settings, layer, contract.source)))
                )
    return propagate(
        list(graph.column_edges) + list(graph.dataset_level_edges),
        declared_tags(settings, contracts),
        secret=secret,
        min_count=settings.security.min_cell_count,
        columns={ref: graph.columns_of(ref) for ref in graph.datasets},
        legal_secret=legal,
    )
