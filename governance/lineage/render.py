"""Drawing a lineage subgraph: an indented tree for the terminal and a self-contained SVG.

Both are pure functions of a `Subgraph` and deterministic (everything sorted, integer
coordinates), so tests compare them as text. The SVG needs no Graphviz: datasets are laid out
left to right by layer (landing, bronze, silver/quarantine, gold), top to bottom by name.
SHA-256 digests in landing-file names are shortened to 12 characters for display only.
"""

from __future__ import annotations

import re
from collections import defaultdict
from xml.sax.saxutils import escape, quoteattr

from governance.lineage.events import is_lake_producer
from governance.lineage.graph import Subgraph
from governance.lineage.model import ColumnEdge, ColumnRef, DatasetRef

Node = DatasetRef | ColumnRef
_SHA256 = re.compile(r"\b[0-9a-f]{64}\b")
# Column of each layer in the SVG; unknown layers (staging) sit with the raw inputs.
_LAYER_RANK = {"?": 0, "landing": 0, "bronze": 1, "silver": 2, "quarantine": 2, "gold": 3}
_CHAR_W, _HEAD_H, _ROW_H, _PAD, _GAP_X, _GAP_Y, _TOP = 7, 24, 18, 10, 80, 24, 40


def display_name(name: str) -> str:
    """A dataset or column name with each SHA-256 digest cut to its first 12 characters."""
    return _SHA256.sub(lambda m: m.group(0)[:12] + "…", name)


def producer_label(producer: str) -> str:
    """``lake``, ``spark`` or the producer URI as given."""
    if is_lake_producer(producer):
        return "lake"
    return "spark" if "/integration/spark" in producer else producer


def render_tree(subgraph: Subgraph, root: DatasetRef | ColumnRef | None = None) -> str:
    """An indented tree of the subgraph from ``root`` (default: the query's root).

    Each line shows a dataset or column, its layer in brackets and, for a column, the
    transformation that links it to its parent (``[masked]`` when it hides the value); edges not
    reported by the lake name their producer (``[spark]``). A node already drawn is not expanded
    again (``(see above)``).
    """
    start = subgraph.root if root is None else root
    upstream = subgraph.direction == "upstream"
    children: dict[Node, list[tuple[Node, str]]] = defaultdict(list)
    if isinstance(start, ColumnRef):
        for edge in subgraph.column_edges:
            ends = (edge.target, edge.source) if upstream else (edge.source, edge.target)
            children[ends[0]].append((ends[1], _column_note(edge)))
    else:
        producers: dict[tuple[DatasetRef, DatasetRef], set[str]] = defaultdict(set)
        for ds_edge in subgraph.dataset_edges:
            producers[(ds_edge.source, ds_edge.target)].add(ds_edge.producer)
        for (source, target), names in producers.items():
            pair = (target, source) if upstream else (source, target)
            lake = any(is_lake_producer(p) for p in names)
            labels = sorted({producer_label(p) for p in names})
            children[pair[0]].append((pair[1], "" if lake else f"  [{', '.join(labels)}]"))
    lines = [_label(start)]
    seen = {start}

    def walk(node: Node, prefix: str) -> None:
        kids = sorted(children.get(node, []), key=lambda kid: (str(kid[0]), kid[1]))
        for n, (child, note) in enumerate(kids):
            last = n == len(kids) - 1
            repeated = child in seen
            lines.append(
                f"{prefix}{'└── ' if last else '├── '}{_label(child)}{note}"
                + ("  (see above)" if repeated and children.get(child) else "")
            )
            if not repeated:
                seen.add(child)
                walk(child, prefix + ("    " if last else "│   "))

    walk(start, "")
    return "\n".join(lines) + "\n"


def render_svg(subgraph: Subgraph) -> str:
    """A self-contained SVG of the subgraph, layered left to right by layer.

    Datasets are boxes listing their columns; column edges join column rows, dataset edges
    join box headers (only where no column edge already joins the two datasets). Masked edges
    are dashed. Every label is XML-escaped.
    """
    ranks = sorted({_LAYER_RANK.get(d.layer, 4) for d in subgraph.datasets})
    by_rank: dict[int, list[DatasetRef]] = defaultdict(list)
    for dataset in subgraph.datasets:
        by_rank[ranks.index(_LAYER_RANK.get(dataset.layer, 4))].append(dataset)
    boxes: dict[DatasetRef, tuple[int, int, int, int]] = {}  # x, y, width, height
    rows: dict[ColumnRef, int] = {}
    x, layer_heads, body = _PAD, [], []
    for rank in range(len(ranks)):
        members = sorted(by_rank[rank])
        width = max(_box_width(d, subgraph.columns.get(d, ())) for d in members)
        layer = "/".join(sorted({d.layer for d in members}))
        layer_heads.append(_text(x, _TOP - 16, layer, "layer"))
        y = _TOP
        for dataset in members:
            columns = subgraph.columns.get(dataset, ())
            height = _HEAD_H + _ROW_H * len(columns)
            boxes[dataset] = (x, y, width, height)
            body.append(_box(dataset, columns, x, y, width, height, rows))
            y += height + _GAP_Y
        x += width + _GAP_X
    edges = [_column_path(e, boxes, rows) for e in subgraph.column_edges]
    joined = {(e.source.dataset, e.target.dataset) for e in subgraph.column_edges}
    for pair in sorted({(e.source, e.target) for e in subgraph.dataset_edges} - joined):
        edges.append(_path(boxes[pair[0]], boxes[pair[1]], None, None, f"{pair[0]} → {pair[1]}"))
    width = x - _GAP_X + _PAD if boxes else 2 * _PAD
    height = max((b[1] + b[3] for b in boxes.values()), default=_TOP) + _PAD
    title = f"Lineage {subgraph.direction} of {display_name(str(subgraph.root))}"
    return (
        "\n".join(
            [
                f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
                f'viewBox="0 0 {width} {height}" font-family="monospace" font-size="12">',
                f"<title>{escape(title)}</title>",
                '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" '
                'markerWidth="8" markerHeight="8" orient="auto"><path d="M 0 0 L 10 5 L 0 10 z" '
                'fill="#555"/></marker></defs>',
                "<style>.box{fill:#fff;stroke:#333}.head{fill:#e8eef7;stroke:#333}"
                ".edge{fill:none;stroke:#555}.masked{stroke-dasharray:4 3}"
                ".layer{font-weight:bold;fill:#666}.name{font-weight:bold}</style>",
                *layer_heads,
                *body,
                *edges,
                "</svg>",
            ]
        )
        + "\n"
    )


def _label(node: Node) -> str:
    dataset = node.dataset if isinstance(node, ColumnRef) else node
    return f"{display_name(str(node))}  [{dataset.layer}]"


def _column_note(edge: ColumnEdge) -> str:
    notes = [edge.kind]
    if edge.masking:
        notes.append("[masked]")
    if not is_lake_producer(edge.producer):
        notes.append(f"[{producer_label(edge.producer)}]")
    return "  " + " ".join(notes)


def _box_width(dataset: DatasetRef, columns: tuple[str, ...]) -> int:
    longest = max([len(display_name(dataset.name)), *(len(c) + 2 for c in columns)])
    return longest * _CHAR_W + 2 * _PAD


def _box(
    dataset: DatasetRef,
    columns: tuple[str, ...],
    x: int,
    y: int,
    width: int,
    height: int,
    rows: dict[ColumnRef, int],
) -> str:
    parts = [
        f'<g class="dataset" id={quoteattr(f"{dataset.namespace}/{dataset.name}")}>',
        f"<title>{escape(f'{dataset.namespace}/{dataset.name}')}</title>",
        f'<rect class="box" x="{x}" y="{y}" width="{width}" height="{height}"/>',
        f'<rect class="head" x="{x}" y="{y}" width="{width}" height="{_HEAD_H}"/>',
        _text(x + _PAD, y + 16, display_name(dataset.name), "name"),
    ]
    for n, column in enumerate(columns):
        row_y = y + _HEAD_H + _ROW_H * n
        rows[ColumnRef(dataset, column)] = row_y + _ROW_H // 2
        parts.append(_text(x + _PAD, row_y + 13, column, "column"))
    parts.append("</g>")
    return "\n".join(parts)


def _column_path(
    edge: ColumnEdge,
    boxes: dict[DatasetRef, tuple[int, int, int, int]],
    rows: dict[ColumnRef, int],
) -> str:
    title = f"{display_name(str(edge.source))} → {display_name(str(edge.target))} ({edge.kind}"
    title += ", masked)" if edge.masking else ")"
    return _path(
        boxes[edge.source.dataset],
        boxes[edge.target.dataset],
        rows.get(edge.source),
        rows.get(edge.target),
        title,
        masked=edge.masking,
    )


def _path(
    source: tuple[int, int, int, int],
    target: tuple[int, int, int, int],
    source_y: int | None,
    target_y: int | None,
    title: str,
    *,
    masked: bool = False,
) -> str:
    x1, y1 = source[0] + source[2], source_y if source_y is not None else source[1] + _HEAD_H // 2
    x2, y2 = target[0], target_y if target_y is not None else target[1] + _HEAD_H // 2
    bend = max(40, abs(x2 - x1) // 2)
    css = "edge masked" if masked else "edge"
    curve = f"M {x1} {y1} C {x1 + bend} {y1}, {x2 - bend} {y2}, {x2} {y2}"
    return (
        f'<path class="{css}" marker-end="url(#arrow)" d="{curve}">'
        f"<title>{escape(title)}</title></path>"
    )


def _text(x: int, y: int, text: str, css: str) -> str:
    return f'<text class="{css}" x="{x}" y="{y}">{escape(text)}</text>'
