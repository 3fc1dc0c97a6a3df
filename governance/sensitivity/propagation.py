"""Sensitivity tags follow the data: propagation of column tags along column lineage.

A column with a declared tag keeps it (the declaration is a human decision, e.g. from the source
contract). Any other column inherits from its input columns, and the most restrictive input wins:
lowest level, personal if any input is personal, exclusion if any input is excluded. Three
transformations, and only these, lower a tag, and each must be explicit in the lineage:

- **pseudonymisation** (an edge with ``masking=true``): level ``max(level, 2)`` (internal use,
  never public), still personal (pseudonymised data remain personal data under the RGPD), exclusion
  kept;
- **aggregation under the statistical secret** (any edge into a dataset whose
  ``statisticalSecret`` minimum count is at least ``min_count``: the facet certifies the dataset
  is an aggregate whose small cells are suppressed, so each of its columns, group keys included,
  describes groups of at least ``min_count`` people, not a person): a personal input stops
  being personal, and its level becomes the most
  restrictive *non-personal* level among the inputs, where a declared personal tag counts as
  ``aggregate_level`` (4 by default: its restriction is presumed to come from the personal data).
  The secret protects people, not business confidentiality: a non-personal input keeps its tag. An
  excluded input, or one from a dataset under a legal secret (``legal_secret``), is never
  relaxed. Aggregation without the secret, or with a threshold below ``min_count``, keeps the tag;
- **removal**: a column listed in ``removed`` no longer exists and carries nothing.

Everything else (identity, transformation without masking, filter, join, conditional, window,
sort...) keeps the most restrictive tag, indirect edges included: a count grouped by a personal
column is personal unless the secret applies.

Dataset-level edges (target column ``""``, ``LineageGraph.dataset_level_edges``) affect every
column of their target dataset. Tags are computed as a fixpoint (each column's tag only becomes
more restrictive, so cycles terminate); an input with no tag contributes nothing, and a column
whose inputs are all untagged is left out of the result (unknown: exports refuse it).
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import NamedTuple

from governance.errors import GovernanceError
from governance.lineage.model import ColumnEdge, ColumnRef, DatasetRef, Tag

__all__ = ["DerivedTag", "explain_fr", "most_restrictive", "propagate", "table_levels"]

PSEUDONYMISED_LEVEL = 2
_AGGREGATING = frozenset({"AGGREGATION", "GROUP_BY"})
_LABELS_FR = {
    "IDENTITY": "copie",
    "TRANSFORMATION": "transformation",
    "AGGREGATION": "agrégation",
    "GROUP_BY": "regroupement",
    "FILTER": "filtre",
    "JOIN": "jointure",
    "SORT": "tri",
    "WINDOW": "fenêtre",
    "CONDITIONAL": "condition",
}


@dataclass(frozen=True)
class DerivedTag:
    """The tag a column ends up with, and why.

    Attributes:
        tag: The effective sensitivity.
        declared: The tag was declared for this column (not inherited).
        path: For an inherited tag, the edges from the declared column it comes from to this one
            (dataset-level edges with their target column filled in); None when declared.
        reason_fr: Why, in French (``hérité de ... via ...`` or ``étiquette déclarée``).
    """

    tag: Tag
    declared: bool
    path: tuple[ColumnEdge, ...] | None
    reason_fr: str


class _State(NamedTuple):
    """A tag plus what the rules need to remember about where it comes from."""

    level: int
    personal: bool
    exclusion: bool
    sealed: bool  # descends from a dataset under a legal secret: never relaxed
    floor: int  # the level left once the personal data are aggregated away (>= level)

    @property
    def tag(self) -> Tag:
        return Tag(self.level, self.personal, self.exclusion)


def _meet(a: _State, b: _State) -> _State:
    return _State(
        min(a.level, b.level),
        a.personal or b.personal,
        a.exclusion or b.exclusion,
        a.sealed or b.sealed,
        min(a.floor, b.floor),
    )


def most_restrictive(tags: Iterable[Tag]) -> Tag:
    """The meet of tags: lowest level, personal if any is, exclusion if any is.

    Returns ``Tag()`` (level 4, not personal) for no tags at all.
    """
    level, personal, exclusion = 4, False, False
    for t in tags:
        level, personal, exclusion = (
            min(level, t.level),
            personal or t.personal,
            exclusion or t.exclusion,
        )
    return Tag(level, personal, exclusion)


def _subtype(kind: str) -> str:
    return kind.upper().rsplit("/", 1)[-1]


class _Rules:
    def __init__(
        self, secret: Mapping[DatasetRef, int], min_count: int, aggregate_level: int
    ) -> None:
        self.secret = secret
        self.min_count = min_count
        self.aggregate_level = aggregate_level

    def protected(self, edge: ColumnEdge) -> bool:
        """The edge feeds an aggregate under a sufficient statistical secret."""
        threshold = self.secret.get(edge.target.dataset)
        return threshold is not None and threshold >= self.min_count

    def declared(self, tag: Tag, sealed: bool) -> _State:
        floor = max(tag.level, self.aggregate_level) if tag.personal else tag.level
        return _State(tag.level, tag.personal, tag.exclusion, sealed, floor)

    def transfer(self, edge: ColumnEdge, state: _State) -> _State:
        """What ``edge`` carries to its target from a source in ``state``."""
        if state.sealed:
            return state
        if edge.masking:
            state = state._replace(
                level=max(state.level, PSEUDONYMISED_LEVEL),
                floor=max(state.floor, PSEUDONYMISED_LEVEL),
            )
        if self.protected(edge) and state.personal and not state.exclusion:
            state = state._replace(level=state.floor, personal=False)
        return state

    def label_fr(self, edge: ColumnEdge, state: _State) -> str:
        """French name of the transformation, with the declassification it did or did not do."""
        sub = _subtype(edge.kind)
        parts = ["pseudonymisation"] if edge.masking else []
        if not edge.masking or sub in _AGGREGATING:
            parts.append(_LABELS_FR.get(sub, edge.kind.lower() or "copie"))
        text = ", ".join(parts)
        threshold = self.secret.get(edge.target.dataset)
        if sub in _AGGREGATING and threshold is not None:
            if threshold >= self.min_count:
                text += f" sous secret statistique, seuil {threshold}"
            else:
                text += f", secret statistique insuffisant (seuil {threshold} < {self.min_count})"
        relaxes = edge.masking or (self.protected(edge) and state.personal)
        if relaxes and state.sealed:
            text += ", sans effet : secret légal"
        elif self.protected(edge) and state.personal and state.exclusion:
            text += ", sans effet : champ d'exclusion"
        return text


def propagate(
    edges: Iterable[ColumnEdge],
    declared: Mapping[ColumnRef, Tag],
    *,
    secret: Mapping[DatasetRef, int] | None = None,
    min_count: int = 11,
    removed: Collection[ColumnRef] = (),
    columns: Mapping[DatasetRef, Iterable[str]] | None = None,
    legal_secret: Collection[DatasetRef] = (),
    aggregate_level: int = 4,
) -> dict[ColumnRef, DerivedTag]:
    """Derive every column's tag from the declared tags along column lineage.

    Args:
        edges: Column edges; an edge whose target column is ``""`` is a dataset-level edge and
            feeds every known column of its target dataset.
        declared: Declared tags (authoritative for their column).
        secret: ``minCount`` of the ``statisticalSecret`` facet, per dataset that applies it.
        min_count: Minimum cell count for an aggregation to declassify
            (``security.min_cell_count``).
        removed: Columns that no longer exist: no tag, and edges into or out of them are ignored.
        columns: Known columns per dataset (schema facet), so that dataset-level edges reach
            columns that have no column-level edge (a ``count(*)``).
        legal_secret: Datasets under a legal secret: their columns, and all derived from them, are
            never relaxed by pseudonymisation or aggregation.
        aggregate_level: Level a declared personal tag reaches once aggregated under the secret.

    Returns:
        One :class:`DerivedTag` per column with a known tag, in column order.

    Raises:
        GovernanceError: A level outside 1..4, or ``min_count`` below 1.
    """
    if min_count < 1:
        raise GovernanceError(
            f"min_count must be at least 1; found {min_count}.",
            fix="set security.min_cell_count (LAKE__SECURITY__MIN_CELL_COUNT) to 1 or more",
        )
    _check_level(aggregate_level, "aggregate_level")
    for ref, tag in declared.items():
        _check_level(tag.level, f"declared tag of {ref}", ref)
    rules = _Rules(secret or {}, min_count, aggregate_level)
    gone = set(removed)
    incoming, outgoing = _index(edges, declared, gone, columns or {})
    sealed_ds = set(legal_secret)

    state = {
        ref: rules.declared(tag, ref.dataset in sealed_ds)
        for ref, tag in declared.items()
        if ref not in gone
    }
    queue = deque(sorted(t for t in incoming if t not in state))
    queued = set(queue)
    while queue:
        col = queue.popleft()
        queued.discard(col)
        new: _State | None = None
        for edge in incoming[col]:
            src = state.get(edge.source)
            if src is not None:
                carried = rules.transfer(edge, src)
                new = carried if new is None else _meet(new, carried)
        if new is None:
            continue
        if col.dataset in sealed_ds:
            new = new._replace(sealed=True)
        if state.get(col) != new:
            state[col] = new
            for target in outgoing.get(col, ()):
                if target not in declared and target not in queued:
                    queue.append(target)
                    queued.add(target)

    paths = _paths(state, declared, incoming, rules)
    result: dict[ColumnRef, DerivedTag] = {}
    for col in sorted(state):
        if col in declared:
            result[col] = DerivedTag(state[col].tag, True, None, "étiquette déclarée")
        else:
            path = paths[col]
            result[col] = DerivedTag(
                state[col].tag, False, path, _reason_fr(col, path, state, incoming, rules)
            )
    return result


def explain_fr(col: ColumnRef, derived: DerivedTag) -> str:
    """One French line: the tag, then where it comes from.

    Example: ``niveau 1, données personnelles — hérité de silver/consular_register.birth_date
    via gold/inscrits_par_pays (agrégation)``.
    """
    tag = derived.tag
    head = f"niveau {tag.level}"
    if tag.personal:
        head += ", données personnelles"
    if tag.exclusion:
        head += ", champ d'exclusion"
    if derived.declared:
        return f"{head} — étiquette déclarée pour {col}"
    return f"{head} — {derived.reason_fr}"


def table_levels(derived: Mapping[ColumnRef, DerivedTag | Tag]) -> dict[DatasetRef, Tag]:
    """A dataset's tag: the most restrictive of its columns' tags."""
    by_table: dict[DatasetRef, list[Tag]] = defaultdict(list)
    for ref, value in derived.items():
        by_table[ref.dataset].append(value.tag if isinstance(value, DerivedTag) else value)
    return {ds: most_restrictive(tags) for ds, tags in sorted(by_table.items())}


def _check_level(level: int, what: str, ref: ColumnRef | None = None) -> None:
    if level not in (1, 2, 3, 4):
        raise GovernanceError(
            f"{what}: exposure level must be 1, 2, 3 or 4; found {level!r}.",
            fix="correct the column's sensitivity level in its contract (1, 2, 3 or 4)"
            if ref
            else f"pass {what} 1, 2, 3 or 4",
            table=ref.dataset.name if ref else None,
            column=ref.column if ref else None,
        )


def _index(
    edges: Iterable[ColumnEdge],
    declared: Mapping[ColumnRef, Tag],
    gone: set[ColumnRef],
    columns: Mapping[DatasetRef, Iterable[str]],
) -> tuple[dict[ColumnRef, list[ColumnEdge]], dict[ColumnRef, list[ColumnRef]]]:
    """Edges into each column (dataset-level edges expanded), and the columns each one feeds."""
    column_edges: list[ColumnEdge] = []
    level_edges: list[ColumnEdge] = []
    for e in set(edges):
        if e.source.column == "" or e.source in gone or e.target in gone:
            continue
        (level_edges if e.target.column == "" else column_edges).append(e)
    known: dict[DatasetRef, set[str]] = defaultdict(set)
    for ds, names in columns.items():
        known[ds].update(names)
    for ref in [*declared, *(e.target for e in column_edges), *(e.source for e in column_edges)]:
        known[ref.dataset].add(ref.column)
    for e in level_edges:
        for name in known.get(e.target.dataset, ()):
            target = ColumnRef(e.target.dataset, name)
            if target not in gone:
                column_edges.append(replace(e, target=target))
    incoming: dict[ColumnRef, list[ColumnEdge]] = defaultdict(list)
    outgoing: dict[ColumnRef, set[ColumnRef]] = defaultdict(set)
    for e in sorted(set(column_edges)):
        incoming[e.target].append(e)
        outgoing[e.source].add(e.target)
    return dict(incoming), {k: sorted(v) for k, v in outgoing.items()}


def _paths(
    state: Mapping[ColumnRef, _State],
    declared: Mapping[ColumnRef, Tag],
    incoming: Mapping[ColumnRef, list[ColumnEdge]],
    rules: _Rules,
) -> dict[ColumnRef, tuple[ColumnEdge, ...]]:
    """For each inherited tag, the shortest acyclic path from a declared column explaining it.

    Preferred edges into a column carry exactly its final tag (or, when inputs combine, the most
    restrictive contribution). Columns are settled by increasing path length, preferred edges
    first, any edge from a tagged column when no preferred one can be reached (cycles); ties go to
    the smallest path in edge order.
    """

    def rank(t: Tag) -> tuple[bool, int, bool]:
        return (not t.exclusion, t.level, not t.personal)

    preferred: dict[ColumnRef, set[ColumnEdge]] = {}
    for col, edges in incoming.items():
        if col not in state or col in declared:
            continue
        carried = {e: rules.transfer(e, state[e.source]).tag for e in edges if e.source in state}
        exact = {e for e, t in carried.items() if t == state[col].tag}
        best = min(map(rank, carried.values()))
        preferred[col] = exact or {e for e, t in carried.items() if rank(t) == best}

    paths: dict[ColumnRef, tuple[ColumnEdge, ...]] = {c: () for c in state if c in declared}
    pending = sorted(preferred)
    while pending:
        for only_preferred in (True, False):
            options: dict[ColumnRef, tuple[ColumnEdge, ...]] = {}
            for col in pending:
                found = [
                    (*paths[e.source], e)
                    for e in incoming[col]
                    if e.source in paths and (e in preferred[col] or not only_preferred)
                ]
                if found:
                    options[col] = min(found, key=lambda p: (len(p), p))
            if options:
                break
        if not options:  # unreachable: every tag comes from a declared column
            break
        shortest = min(len(p) for p in options.values())
        for col, path in options.items():
            if len(path) == shortest:
                paths[col] = path
        pending = [c for c in pending if c not in paths]
    return paths


def _reason_fr(
    col: ColumnRef,
    path: tuple[ColumnEdge, ...],
    state: Mapping[ColumnRef, _State],
    incoming: Mapping[ColumnRef, list[ColumnEdge]],
    rules: _Rules,
) -> str:
    hops = []
    for i, edge in enumerate(path):
        where = str(edge.target.dataset) if i == len(path) - 1 else str(edge.target)
        hops.append(f"{where} ({rules.label_fr(edge, state[edge.source])})")
    text = f"hérité de {path[0].source} via {', '.join(hops)}"
    carried = state[path[0].source]
    for edge in path:
        carried = rules.transfer(edge, carried)
    final = state[col]
    missing_level = carried.level > final.level
    missing_personal = final.personal and not carried.personal
    missing_exclusion = final.exclusion and not carried.exclusion
    others = []
    for edge in incoming.get(col, ()):
        if edge.source not in state or edge == path[-1]:
            continue
        c = rules.transfer(edge, state[edge.source])
        if (
            (missing_level and c.level == final.level)
            or (missing_personal and c.personal)
            or (missing_exclusion and c.exclusion)
        ):
            others.append(str(edge.source))
    if others:
        text += f" ; restriction combinée avec {', '.join(sorted(set(others)))}"
    return text
