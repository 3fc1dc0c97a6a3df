"""Reading OpenLineage run events into plain records for the lineage graph.

Tolerant by design: lineage is best-effort, so a malformed line (or a malformed part of an
event) is skipped and reported as ``file:line: reason`` instead of stopping the read. Dataset
namespaces ``s3a://`` and ``s3n://`` are normalised to ``s3://``, as the OpenLineage naming spec
and the Spark listener do, so the lake's events and Spark's join on the same datasets.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from governance.lineage.model import (
    LAKE_PRODUCER,
    STATISTICAL_SECRET_FACET,
    ColumnEdge,
    ColumnRef,
    DatasetRef,
)

# Among the transformations of one input field, the one the edge is named after: direct before
# indirect, then the most transforming first.
_SUBTYPE_RANK = {"AGGREGATION": 0, "TRANSFORMATION": 1, "IDENTITY": 2}
_S3_SCHEME = re.compile(r"^s3[an]://")
_EPOCH = datetime.min.replace(tzinfo=UTC)


def is_lake_producer(producer: str) -> bool:
    """Whether an event (or edge) producer is the lake itself rather than the Spark listener."""
    return producer.startswith(LAKE_PRODUCER)


@dataclass(frozen=True)
class SchemaField:
    """One field of a dataset's latest ``schema`` facet."""

    name: str
    type: str = ""
    description: str = ""


@dataclass(frozen=True, order=True)
class FacetTag:
    """One entry of a standard ``tags`` facet; ``field`` is None for a dataset-wide tag."""

    key: str
    value: str
    source: str = ""
    field: str | None = None


@dataclass
class DatasetInfo:
    """What the events say about a dataset; the latest event wins, facet by facet.

    Attributes:
        ref: The dataset.
        facets: Latest value of each dataset facet, by key, as found in the events.
        input_facets: Latest value of each input facet (``dataQualityAssertions``...).
    """

    ref: DatasetRef
    facets: dict[str, Any] = field(default_factory=dict)
    input_facets: dict[str, Any] = field(default_factory=dict)

    @property
    def fields(self) -> tuple[SchemaField, ...]:
        """Top-level fields of the latest ``schema`` facet."""
        return tuple(
            SchemaField(str(f["name"]), str(f.get("type") or ""), str(f.get("description") or ""))
            for f in _list(_dict(self.facets.get("schema")).get("fields"))
            if isinstance(f, dict) and isinstance(f.get("name"), str)
        )

    @property
    def description(self) -> str:
        """The ``documentation`` facet's description, or ``""``."""
        return str(_dict(self.facets.get("documentation")).get("description") or "")

    @property
    def owners(self) -> tuple[str, ...]:
        """Owner names from the ``ownership`` facet."""
        owners = _list(_dict(self.facets.get("ownership")).get("owners"))
        return tuple(str(o["name"]) for o in owners if isinstance(o, dict) and o.get("name"))

    @property
    def tags(self) -> tuple[FacetTag, ...]:
        """Entries of the ``tags`` facet, sorted."""
        tags = []
        for tag in _list(_dict(self.facets.get("tags")).get("tags")):
            if isinstance(tag, dict) and tag.get("key") is not None:
                column = tag.get("field")
                tags.append(
                    FacetTag(
                        str(tag["key"]),
                        str(tag.get("value", "")),
                        str(tag.get("source") or ""),
                        column if isinstance(column, str) else None,
                    )
                )
        return tuple(sorted(tags))

    @property
    def statistical_secret(self) -> dict[str, Any] | None:
        """The custom ``statisticalSecret`` facet without its ``_producer``/``_schemaURL``."""
        facet = self.facets.get(STATISTICAL_SECRET_FACET)
        if not isinstance(facet, dict):
            return None
        return {k: v for k, v in facet.items() if not k.startswith("_")}


@dataclass(frozen=True)
class ParsedEvent:
    """The parts of one run event the graph needs.

    Attributes:
        where: ``file:line`` or ``event #n``, for warnings.
        datasets: ``(ref, facets, input_facets)`` for each input and output, in event order.
        column_edges: Per-column edges from the outputs' ``columnLineage.fields``.
        dataset_level_edges: ``columnLineage.dataset`` entries, with an empty target column.
    """

    where: str
    seq: int
    event_type: str
    time: datetime | None
    run_id: str
    producer: str
    inputs: tuple[DatasetRef, ...]
    outputs: tuple[DatasetRef, ...]
    datasets: tuple[tuple[DatasetRef, dict[str, Any], dict[str, Any]], ...]
    column_edges: tuple[ColumnEdge, ...]
    dataset_level_edges: tuple[ColumnEdge, ...]

    @property
    def sort_key(self) -> tuple[datetime, int]:
        """Event time (events without one first), then reading order."""
        return (self.time or _EPOCH, self.seq)


def read_event_files(paths: Iterable[Path]) -> tuple[list[ParsedEvent], list[str]]:
    """Parse every line of the JSON-lines files that exist; missing files are skipped.

    Returns:
        The parsed events in reading order, and one warning per skipped line or part.
    """
    return parse_events(_lines(paths))


def parse_events(
    items: Iterable[tuple[str, object]],
) -> tuple[list[ParsedEvent], list[str]]:
    """Parse ``(where, event)`` pairs; an event is a dict, or a JSON error message (str).

    Returns:
        The parsed events in order, and the warnings (``where: reason``).
    """
    events: list[ParsedEvent] = []
    warnings: list[str] = []
    for seq, (where, raw) in enumerate(items):
        if isinstance(raw, str):
            warnings.append(f"{where}: {raw}; line skipped")
            continue
        try:
            events.append(_parse(where, seq, raw, warnings))
        except ValueError as exc:
            warnings.append(f"{where}: {exc}; event skipped")
    return events, warnings


def _lines(paths: Iterable[Path]) -> Iterator[tuple[str, object]]:
    for path in paths:
        if not path.is_file():
            continue
        with path.open(encoding="utf-8", errors="replace") as handle:
            for number, line in enumerate(handle, start=1):
                text = line.rstrip()
                if not text:
                    continue
                try:
                    yield f"{path}:{number}", json.loads(text)
                except json.JSONDecodeError as exc:
                    yield f"{path}:{number}", f"not valid JSON ({exc.msg} at column {exc.colno})"


def _parse(where: str, seq: int, raw: object, warnings: list[str]) -> ParsedEvent:
    if not isinstance(raw, dict):
        raise ValueError(f"expected a JSON object, found {type(raw).__name__}")
    run_id = _dict(raw.get("run")).get("runId")
    if not isinstance(run_id, str) or not run_id:
        raise ValueError("not a run event (no run.runId)")
    producer = raw.get("producer")
    if not isinstance(producer, str):
        raise ValueError("no producer")
    inputs = _datasets(where, raw.get("inputs"), "inputs", warnings)
    outputs = _datasets(where, raw.get("outputs"), "outputs", warnings)
    column_edges: list[ColumnEdge] = []
    level_edges: list[ColumnEdge] = []
    for ref, facets, _ in outputs:
        lineage = facets.get("columnLineage")
        if lineage is not None:
            _column_lineage(where, ref, lineage, producer, column_edges, level_edges, warnings)
    return ParsedEvent(
        where=where,
        seq=seq,
        event_type=str(raw.get("eventType") or "").upper(),
        time=_time(raw.get("eventTime")),
        run_id=run_id,
        producer=producer,
        inputs=tuple(ref for ref, _, _ in inputs),
        outputs=tuple(ref for ref, _, _ in outputs),
        datasets=(*inputs, *outputs),
        column_edges=tuple(column_edges),
        dataset_level_edges=tuple(level_edges),
    )


def _datasets(
    where: str, raw: object, key: str, warnings: list[str]
) -> tuple[tuple[DatasetRef, dict[str, Any], dict[str, Any]], ...]:
    found = []
    for n, item in enumerate(_list(raw)):
        ref = _ref(item)
        if ref is None:
            warnings.append(f"{where}: {key}[{n}] has no namespace/name; dataset skipped")
            continue
        found.append((ref, _dict(item.get("facets")), _dict(item.get("inputFacets"))))
    return tuple(found)


def _column_lineage(
    where: str,
    target: DatasetRef,
    facet: object,
    producer: str,
    edges: list[ColumnEdge],
    level_edges: list[ColumnEdge],
    warnings: list[str],
) -> None:
    fields = _dict(facet).get("fields")
    if not isinstance(fields, dict):
        warnings.append(f"{where}: columnLineage of `{target.name}` has no fields; skipped")
        return
    for column, spec in sorted(fields.items()):
        for item in _list(_dict(spec).get("inputFields")):
            edge = _edge(item, ColumnRef(target, column), producer, _dict(spec))
            if edge is None:
                warnings.append(
                    f"{where}: columnLineage of `{target.name}.{column}` has an input field "
                    "without namespace/name/field; input skipped"
                )
            else:
                edges.append(edge)
    for item in _list(_dict(facet).get("dataset")):
        edge = _edge(item, ColumnRef(target, ""), producer, {})
        if edge is not None:
            level_edges.append(edge)


def _edge(
    item: object, target: ColumnRef, producer: str, spec: dict[str, Any]
) -> ColumnEdge | None:
    ref = _ref(item)
    if ref is None or not isinstance(item, dict) or not isinstance(item.get("field"), str):
        return None
    steps = [t for t in _list(item.get("transformations")) if isinstance(t, dict)]
    if steps:
        best = min(
            steps,
            key=lambda t: (
                str(t.get("type")) != "DIRECT",
                _SUBTYPE_RANK.get(str(t.get("subtype")), 3),
                str(t.get("subtype")),
            ),
        )
        kind = "/".join(str(best[k]) for k in ("type", "subtype") if best.get(k))
        masking = any(t.get("masking") is True for t in steps)
        texts = [str(t.get("description") or "") for t in steps]
    else:  # columnLineage 1-0-x: one transformationType per output field.
        legacy = str(spec.get("transformationType") or "")
        kind, masking = "DIRECT/IDENTITY", "MASK" in legacy.upper()
        texts = [str(spec.get("transformationDescription") or "")]
    description = "; ".join(dict.fromkeys(t for t in texts if t))
    return ColumnEdge(
        source=ColumnRef(ref, item["field"]),
        target=target,
        kind=kind or "DIRECT/IDENTITY",
        masking=masking,
        description=description,
        producer=producer,
    )


def _ref(item: object) -> DatasetRef | None:
    if not isinstance(item, dict):
        return None
    namespace, name = item.get("namespace"), item.get("name")
    if not isinstance(namespace, str) or not isinstance(name, str) or not name:
        return None
    return DatasetRef(_S3_SCHEME.sub("s3://", namespace), name.strip("/"))


def _time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []
