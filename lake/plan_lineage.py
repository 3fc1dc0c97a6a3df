"""Column lineage observed in Spark's analysed plan, and its comparison with a declared one.

:func:`observed_lineage` walks ``df._jdf.queryExecution().analyzed()`` through py4j (no Spark job
runs: analysing a plan reads no data) and returns, for each output column of ``df``, the input
columns it depends on, as OpenLineage ``TYPE/SUBTYPE`` edges:

- **DIRECT**: every input attribute referenced by the expression that computes the output column,
  through every projection, aggregate and window above it. The subtype is the strongest one met
  on the path: ``IDENTITY`` (the input attribute itself, renamed or not) <
  ``TRANSFORMATION`` (any other expression: a cast, ``year()``, a ``CASE WHEN``, a UDF; the
  condition of a ``CASE WHEN`` counts as direct, the value depends on it) < ``AGGREGATION``
  (under an aggregate function). A count of rows (``count(*)``) references no column: it is
  reported as the column :data:`ROWS` (``*``) of each input read below the aggregate.
- **INDIRECT**: columns that decide which rows exist rather than their values: filter
  conditions (``FILTER``), group-by keys (``GROUP_BY``), join conditions (``JOIN``), sort keys
  (``SORT``), window partition and order keys (``WINDOW``). A filter or a group-by applies to
  every column above it; a window key only to the window's own column, until a filter on that
  column makes it row-deciding for every column (keeping the subtype ``WINDOW``). The direct
  inputs of a row-deciding expression become indirect edges with the node's subtype; its own
  indirect inputs keep theirs.
- A join with a relation that reads no input (a referential built in memory, a lookup) is a
  lookup: the looked-up columns depend directly (``TRANSFORMATION``) on the input columns of the
  join condition.

:func:`disagreements` compares such an observation with a declaration (output column -> (input
column, ``TYPE/SUBTYPE``)) and says where they differ; see its docstring for what "agree" means.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

ROWS = "*"
IDENTITY = "DIRECT/IDENTITY"
TRANSFORMATION = "DIRECT/TRANSFORMATION"
AGGREGATION = "DIRECT/AGGREGATION"
_RANK = {IDENTITY: 0, TRANSFORMATION: 1, AGGREGATION: 2}
# The subtype of the row-deciding expressions of each plan node.
_INDIRECT = {"Filter": "FILTER", "Join": "JOIN", "Sort": "SORT", "Aggregate": "GROUP_BY"}


@dataclass(frozen=True, order=True)
class Edge:
    """One input column of an output column.

    Attributes:
        dataset: The input's name (a key of ``inputs``; ``""`` for a leaf when none is given).
        column: The input column, or :data:`ROWS` for a count of the input's rows.
        kind: OpenLineage ``TYPE/SUBTYPE`` (``DIRECT/IDENTITY``, ``INDIRECT/FILTER``...).
    """

    dataset: str
    column: str
    kind: str

    @property
    def direct(self) -> bool:
        return self.kind.startswith("DIRECT/")


Edges = frozenset[Edge]
_NONE: Edges = frozenset()


def _promote(edges: Iterable[Edge], kind: str) -> Edges:
    """Direct edges at least as strong as ``kind``; indirect ones unchanged."""
    return frozenset(
        Edge(e.dataset, e.column, kind) if e.direct and _RANK[kind] > _RANK[e.kind] else e
        for e in edges
    )


def _indirect(edges: Iterable[Edge], subtype: str) -> Edges:
    """Direct edges turned into ``INDIRECT/<subtype>``; indirect ones keep their own subtype."""
    return frozenset(
        Edge(e.dataset, e.column, f"INDIRECT/{subtype}") if e.direct else e for e in edges
    )


def _seq(seq: Any) -> list[Any]:
    """A Scala ``Seq`` as a Python list of py4j objects."""
    return [seq.apply(i) for i in range(seq.size())]


def _name(obj: Any) -> str:
    return str(obj.getClass().getSimpleName())


@dataclass
class _Node:
    attrs: dict[int, Edges]  # output exprId -> its edges
    indirect: Edges  # row-deciding edges of every column above
    rows: Edges  # ROWS edges of the inputs read below


class _Walker:
    def __init__(self, inputs: Mapping[str, Any] | None) -> None:
        # each input's plan and its output column names; a plan is an input when it gives the
        # same result (Spark renumbers the attributes of an input read twice, a self-join)
        self.inputs: list[tuple[str, Any, list[str]]] = [
            (name, plan, [str(a.name()) for a in _seq(plan.output())])
            for name, plan in (inputs or {}).items()
        ]
        self.any_leaf = inputs is None

    def node(self, plan: Any) -> _Node:
        output = _seq(plan.output())
        ids = frozenset(int(a.exprId().id()) for a in output)
        names = [str(a.name()) for a in output]
        for name, input_plan, input_names in self.inputs:
            if names == input_names and plan.sameResult(input_plan):
                return self._input(name, output)
        children = [self.node(c) for c in _seq(plan.children())]
        if not children:
            if self.any_leaf:
                return self._input("", output)
            return _Node({int(a.exprId().id()): _NONE for a in output}, _NONE, _NONE)
        attrs: dict[int, Edges] = {}
        for child in children:
            attrs.update(child.attrs)
        indirect = frozenset().union(*(c.indirect for c in children))
        rows = frozenset().union(*(c.rows for c in children))
        kind = _name(plan)
        defining: dict[int, Any] = {}
        deciding: list[Any] = []
        if kind == "Aggregate":
            defining = {int(e.exprId().id()): e for e in _seq(plan.aggregateExpressions())}
            deciding = _seq(plan.groupingExpressions())
        else:
            for expr in _seq(plan.expressions()):
                if _name(expr) == "Alias":
                    defining[int(expr.exprId().id())] = expr
                # a projection's or a window's other expressions are its own pass-through
                # columns and window keys (inside each window expression too)
                elif kind not in ("Project", "Window") and not (
                    _is_attribute(expr) and int(expr.exprId().id()) in ids
                ):
                    deciding.append(expr)
        for expr in deciding:
            indirect |= _indirect(self.expr(expr, attrs, rows), _INDIRECT.get(kind, "CONDITIONAL"))
        if kind == "Join" and len(children) == 2:
            self._lookup(children, deciding, attrs, rows)
        out: dict[int, Edges] = {}
        for i, attr in enumerate(output):
            key = int(attr.exprId().id())
            if kind == "Union":
                out[key] = frozenset().union(
                    *(self._at(c, children[j], i) for j, c in enumerate(_seq(plan.children())))
                )
            elif key in defining:
                out[key] = self.expr(defining[key], attrs, rows)
            elif key in attrs:
                out[key] = attrs[key]
            else:  # an attribute this walker does not know how a node makes: assume everything
                out[key] = _promote(
                    frozenset().union(
                        *(self.expr(e, attrs, rows) for e in _seq(plan.expressions()))
                    ),
                    TRANSFORMATION,
                )
        return _Node(out, indirect, rows)

    @staticmethod
    def _at(plan: Any, node: _Node, i: int) -> Edges:
        return node.attrs.get(int(_seq(plan.output())[i].exprId().id()), _NONE)

    def _lookup(
        self, children: list[_Node], condition: list[Any], attrs: dict[int, Edges], rows: Edges
    ) -> None:
        """Columns of a side that reads no input depend on the other side's join keys."""
        keys = _promote(
            (e for c in condition for e in self.expr(c, attrs, rows) if e.direct), TRANSFORMATION
        )
        for side in children:
            if not side.rows and not any(side.attrs.values()):
                for key in side.attrs:
                    attrs[key] = keys

    def _input(self, name: str, output: list[Any]) -> _Node:
        attrs = {
            int(a.exprId().id()): frozenset({Edge(name, str(a.name()), IDENTITY)}) for a in output
        }
        return _Node(attrs, _NONE, frozenset({Edge(name, ROWS, AGGREGATION)}))

    def expr(self, expr: Any, attrs: Mapping[int, Edges], rows: Edges) -> Edges:
        kind = _name(expr)
        if _is_attribute(expr):
            return attrs.get(int(expr.exprId().id()), _NONE)
        children = _seq(expr.children())
        inner = frozenset().union(*(self.expr(c, attrs, rows) for c in children))
        if kind == "Alias":
            return inner
        if kind == "AggregateExpression":
            if not any(e.direct for e in inner):
                inner |= rows
            return _promote(inner, AGGREGATION)
        if kind == "WindowSpecDefinition":
            return _indirect(inner, "WINDOW")
        return _promote(inner, TRANSFORMATION) if children else _NONE


def _is_attribute(expr: Any) -> bool:
    return _name(expr) == "AttributeReference"


def _normalise(edges: Iterable[Edge]) -> Edges:
    """One direct edge per input column (the strongest subtype); indirect edges as they are."""
    best: dict[tuple[str, str], str] = {}
    rest = set()
    for e in edges:
        if not e.direct:
            rest.add(e)
        elif _RANK[e.kind] >= _RANK[best.get((e.dataset, e.column), IDENTITY)]:
            best[(e.dataset, e.column)] = e.kind
    return frozenset(rest | {Edge(d, c, k) for (d, c), k in best.items()})


def observed_lineage(
    df: DataFrame, inputs: Mapping[str, DataFrame] | None = None
) -> dict[str, Edges]:
    """The column lineage of ``df`` as its analysed plan shows it (no Spark job runs).

    Args:
        df: The DataFrame a step writes.
        inputs: The DataFrames it was computed from, by name: their columns are the inputs
            (whatever their own plan did before). Without it, every leaf relation of the plan is
            an input named ``""``; with it, a leaf that is not one of them (an in-memory lookup)
            is not an input.

    Returns:
        Output column -> its :class:`Edge` set (see the module docstring for the rules).
    """
    walker = _Walker(
        {k: v._jdf.queryExecution().analyzed() for k, v in (inputs or {}).items()}
        if inputs is not None
        else None
    )
    root = walker.node(df._jdf.queryExecution().analyzed())
    out = {}
    for attr in _seq(df._jdf.queryExecution().analyzed().output()):
        edges = root.attrs.get(int(attr.exprId().id()), _NONE) | root.indirect
        out[str(attr.name())] = _normalise(edges)
    return out


@dataclass(frozen=True)
class Disagreement:
    """An output column whose declared lineage is not what the plan shows.

    Attributes:
        column: The output column.
        declared: Its declared ``(input column, TYPE/SUBTYPE)`` edges, sorted.
        observed: The ``(input column, TYPE/SUBTYPE)`` edges of the plan, sorted.
        reason: What differs, in one sentence.
    """

    column: str
    declared: tuple[tuple[str, str], ...]
    observed: tuple[tuple[str, str], ...]
    reason: str


def disagreements(
    declared: Mapping[str, Sequence[tuple[str, str]]],
    observed: Mapping[str, Edges],
    *,
    dataset: str = "",
    key: Sequence[str] = (),
) -> list[Disagreement]:
    """Where a declared column lineage does not agree with the observed one.

    "Agree" means, for every output column (declared or observed):

    1. the **direct** input columns are the same set, each with the same subtype
       (``IDENTITY``, ``TRANSFORMATION``, ``AGGREGATION``); an observed count of rows
       (:data:`ROWS`) is declared as one or more columns of the input's primary key ``key``
       (a count of rows counts keys), ``DIRECT/AGGREGATION``;
    2. every declared **indirect** edge is observed, with its subtype. Observed indirect edges
       need not all be declared (a filter or a group-by feeds every column; declaring them on
       the measures is enough), but a declared one that the plan does not show is a wrong edge.

    Args:
        declared: Output column -> ``(input column, TYPE/SUBTYPE)`` of ``dataset``.
        observed: :func:`observed_lineage` of the written DataFrame.
        dataset: The input the declaration is about; an observed edge from another input is a
            disagreement (the declaration cannot name it).
        key: The primary key of ``dataset``.
    """
    found = []
    for column in sorted(set(declared) | set(observed)):
        mine = {(c, k) for c, k in declared.get(column, ())}
        seen = observed.get(column, _NONE)
        shown = tuple(sorted(_label(e, dataset) for e in seen))
        reason = _compare(mine, seen, dataset, set(key))
        if reason:
            found.append(Disagreement(column, tuple(sorted(mine)), shown, reason))
    return found


def _label(edge: Edge, dataset: str) -> tuple[str, str]:
    name = edge.column if edge.dataset == dataset else f"{edge.dataset}.{edge.column}"
    return name, edge.kind


def _compare(mine: set[tuple[str, str]], seen: Edges, dataset: str, key: set[str]) -> str:
    foreign = sorted(f"{e.dataset}.{e.column}" for e in seen if e.dataset != dataset)
    if foreign:
        return f"it reads {', '.join(foreign)}, which the declaration cannot name"
    direct = {(e.column, e.kind) for e in seen if e.direct}
    declared_direct = {(c, k) for c, k in mine if k.startswith("DIRECT/")}
    if (ROWS, AGGREGATION) in direct:
        counted = {(c, k) for c, k in declared_direct - direct if c in key and k == AGGREGATION}
        if counted:
            direct = (direct - {(ROWS, AGGREGATION)}) | counted
    if direct != declared_direct:
        extra = sorted(f"{c} ({k})" for c, k in direct - declared_direct)
        missing = sorted(f"{c} ({k})" for c, k in declared_direct - direct)
        parts = []
        if extra:
            parts.append("observed but not declared: " + ", ".join(extra))
        if missing:
            parts.append("declared but not observed: " + ", ".join(missing))
        return "direct inputs differ; " + "; ".join(parts)
    indirect = {(e.column, e.kind) for e in seen if not e.direct}
    wrong = sorted(f"{c} ({k})" for c, k in mine - declared_direct - indirect)
    if wrong:
        return "declared indirect inputs not in the plan: " + ", ".join(wrong)
    return ""


def describe(disagreement: Disagreement) -> str:
    """One disagreement as text: the column, both versions, and what differs."""

    def show(edges: tuple[tuple[str, str], ...]) -> str:
        return "[" + ", ".join(f"{c} {k}" for c, k in edges) + "]" if edges else "[]"

    return (
        f"{disagreement.column}: declared {show(disagreement.declared)}, observed "
        f"{show(disagreement.observed)} ({disagreement.reason})"
    )
