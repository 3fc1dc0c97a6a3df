"""The A08/A11 catalogue: every table of the lake, by business domain and exposure level.

Tables and their facts (rows, bytes, version, last commit, schema, properties) come from the store
(:mod:`governance.catalog.scan`). Bronze, silver and quarantine tables are described by their
source contract. A gold table is described by its Delta metadata (description, ``lake.sources``);
its domain and owners are those of its sources' contracts (``lake.domain`` only when no source
contract is known), so that a business domain is counted once whatever the layer, as the quality
reviews group them.

A column's tag is the most restrictive of its contract declaration and of its derived tag (when
tag propagation was run). In quarantine, the columns that hold delivered values (``value``,
``raw``, ``failures``) carry the strictest tag of the whole contract. A table's exposure level is
the most restrictive of its columns' tags and, for a contract-backed table, of the contract's
``exposure_level``; a table with no tag at all is *non classé*. The quality score is
``100 × (1 − rows_rejected / rows_reviewed)`` of the table's latest review.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from governance.catalog.scan import (
    CATALOG_LAYERS,
    TableFacts,
    latest_quality,
    list_tables,
    read_quality_rows,
    scan_table,
)
from governance.lineage.model import ColumnRef, DatasetRef, Tag
from governance.sensitivity.propagation import DerivedTag, explain_fr, most_restrictive
from lake.contracts import Column, Contract
from lake.errors import TableError
from lake.settings import Settings
from lake.storage import openlineage_dataset

if TYPE_CHECKING:
    from governance.lineage.graph import LineageGraph

__all__ = [
    "CATALOG_LAYERS",
    "Catalog",
    "CatalogSummary",
    "ColumnEntry",
    "TableEntry",
    "build_catalog",
]

# Quarantine columns that carry delivered values, whatever the column they came from.
_QUARANTINE_VALUES = ("value", "raw", "failures")
_Tags = Mapping[str, tuple[ColumnRef, DerivedTag]]


@dataclass(frozen=True)
class ColumnEntry:
    """One column of a catalogued table and its sensitivity.

    Attributes:
        declared: The tag the source contract declares (bronze, silver, quarantine).
        pseudonymised: Silver holds an HMAC pseudonym instead of the value.
        derived: The tag propagation gave the column along lineage, when it was run.
        derived_fr: Why, in French (`explain_fr`).
    """

    name: str
    type: str
    description: str = ""
    declared: Tag | None = None
    pseudonymised: bool = False
    derived: Tag | None = None
    derived_fr: str = ""

    @property
    def tag(self) -> Tag | None:
        """The effective tag: the most restrictive of declared and derived; None if neither."""
        tags = [t for t in (self.declared, self.derived) if t is not None]
        return most_restrictive(tags) if tags else None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary with stable keys."""
        return {
            "name": self.name,
            "type": self.type,
            "description": self.description,
            "declared": _tag_dict(self.declared),
            "pseudonymised": self.pseudonymised,
            "derived": _tag_dict(self.derived),
            "derived_fr": self.derived_fr,
            "tag": _tag_dict(self.tag),
        }


@dataclass(frozen=True)
class TableEntry:
    """One Delta table of the lake, as the catalogue describes it."""

    layer: str
    name: str
    uri: str
    domain: str
    owner: str
    description: str
    sources: tuple[str, ...]
    rows: int | None
    size_bytes: int
    version: int
    updated_at: dt.datetime | None
    columns: tuple[ColumnEntry, ...]
    contract_level: int | None = None
    quality_score: float | None = None
    quality_reviewed_at: dt.datetime | None = None
    created_at: dt.datetime | None = None

    @property
    def key(self) -> str:
        """``<layer>/<name>``, as lineage and the quality history name the table."""
        return f"{self.layer}/{self.name}"

    @property
    def tag(self) -> Tag | None:
        """Most restrictive of the columns' tags and the contract level; None if untagged."""
        tags = [c.tag for c in self.columns if c.tag is not None]
        if self.contract_level is not None:
            tags.append(Tag(self.contract_level))
        return most_restrictive(tags) if tags else None

    @property
    def level(self) -> int | None:
        """Exposure level 1 (habilités) .. 4 (tous); None when the table is not classified."""
        return self.tag.level if self.tag else None

    @property
    def personal(self) -> bool:
        """The table holds personal data (RGPD)."""
        return bool(self.tag and self.tag.personal)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary with stable keys."""
        return {
            "layer": self.layer,
            "name": self.name,
            "uri": self.uri,
            "domain": self.domain,
            "owner": self.owner,
            "description": self.description,
            "sources": list(self.sources),
            "rows": self.rows,
            "size_bytes": self.size_bytes,
            "version": self.version,
            "updated_at": _iso(self.updated_at),
            "created_at": _iso(self.created_at),
            "level": self.level,
            "personal": self.personal,
            "exclusion": bool(self.tag and self.tag.exclusion),
            "quality_score": self.quality_score,
            "quality_reviewed_at": _iso(self.quality_reviewed_at),
            "columns": [c.to_dict() for c in self.columns],
        }


@dataclass(frozen=True)
class CatalogSummary:
    """The A08/A11 indicators of the catalogue."""

    domains: tuple[str, ...]
    per_level: Mapping[int, int]
    unclassified: int
    per_layer: Mapping[str, int]
    personal: int
    rows: int
    size_bytes: int


@dataclass(frozen=True)
class Catalog:
    """Every table of the lake, sorted by layer then name, with what could not be read."""

    tables: tuple[TableEntry, ...]
    generated_at: dt.datetime
    warnings: tuple[str, ...] = ()

    @property
    def summary(self) -> CatalogSummary:
        """Domains covered, tables per exposure level and per layer, totals."""
        levels = [t.level for t in self.tables]
        return CatalogSummary(
            domains=tuple(sorted({t.domain for t in self.tables if t.domain})),
            per_level={n: levels.count(n) for n in (1, 2, 3, 4)},
            unclassified=levels.count(None),
            per_layer={
                layer: sum(t.layer == layer for t in self.tables) for layer in CATALOG_LAYERS
            },
            personal=sum(t.personal for t in self.tables),
            rows=sum(t.rows or 0 for t in self.tables),
            size_bytes=sum(t.size_bytes for t in self.tables),
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary with stable keys (``generated_at``, ``summary``...)."""
        s = self.summary
        return {
            "generated_at": _iso(self.generated_at),
            "summary": {
                "tables": len(self.tables),
                "domains": list(s.domains),
                "domain_count": len(s.domains),
                "tables_per_level": {str(k): v for k, v in s.per_level.items()},
                "unclassified": s.unclassified,
                "tables_per_layer": dict(s.per_layer),
                "personal_tables": s.personal,
                "rows": s.rows,
                "size_bytes": s.size_bytes,
            },
            "tables": [t.to_dict() for t in self.tables],
            "warnings": list(self.warnings),
        }


def build_catalog(
    settings: Settings,
    *,
    contracts: Mapping[str, Contract],
    graph: LineageGraph | None,
    derived: Mapping[ColumnRef, DerivedTag] | None,
    quality_rows: Sequence[Mapping[str, Any]] | None = None,
    now: dt.datetime | None = None,
) -> Catalog:
    """Describe every Delta table of the lake's bronze, silver, gold and quarantine layers.

    Args:
        settings: Lake settings (storage backend, bucket or local root).
        contracts: Source contracts by source id (`lake.contracts.load_contracts`).
        graph: Lineage; gives a gold table without ``lake.sources`` its upstream silver tables,
            and its description and owners when neither Delta metadata nor contracts do.
        derived: Propagated tags (`governance.sensitivity.propagation.propagate`); None leaves
            gold tables unclassified.
        quality_rows: Rows of ``meta/quality_results``; None reads that table.
        now: Generation time; UTC now when None.

    Returns:
        The catalogue; ``warnings`` names each table skipped (unreadable by delta-rs) or
        without a contract.

    Raises:
        StorageError: The store cannot be listed or read.
    """
    from deltalake.exceptions import DeltaError

    warnings: list[str] = []
    quality = latest_quality(read_quality_rows(settings) if quality_rows is None else quality_rows)
    tags: dict[DatasetRef, dict[str, tuple[ColumnRef, DerivedTag]]] = {}
    for col, tag in (derived or {}).items():
        tags.setdefault(col.dataset, {})[col.column] = (col, tag)
    entries = []
    for layer, name in list_tables(settings):
        try:
            facts = scan_table(settings, layer, name)
        except (ValueError, TableError, DeltaError) as exc:
            # One unreadable table (bad name, broken log) must not hide the others.
            warnings.append(f"{layer}/{name} : table ignorée ({exc}).")
            continue
        contract = contracts.get(name) if layer != "gold" else None
        if layer != "gold" and contract is None:
            warnings.append(f"{layer}/{name} : aucun contrat de source « {name} ».")
        ref = DatasetRef(*openlineage_dataset(facts.uri))
        found = _pick(tags, ref)
        score, reviewed_at = quality.get(f"{layer}/{name}", (None, None))
        entries.append(
            TableEntry(
                **_describe(layer, name, facts, contract, contracts, graph, ref),
                rows=facts.rows,
                size_bytes=facts.size_bytes,
                version=facts.version,
                updated_at=facts.updated_at,
                columns=_columns(facts, layer, contract, tags[found] if found else {}),
                quality_score=score,
                quality_reviewed_at=reviewed_at,
                created_at=facts.created_at,
            )
        )
    return Catalog(tuple(entries), now or dt.datetime.now(dt.UTC), tuple(warnings))


def _describe(
    layer: str,
    name: str,
    facts: TableFacts,
    contract: Contract | None,
    contracts: Mapping[str, Contract],
    graph: LineageGraph | None,
    ref: DatasetRef,
) -> dict[str, Any]:
    """URI, domain, owner, description, sources and contract level of a table."""
    base: dict[str, Any] = {"layer": layer, "name": name, "uri": facts.uri}
    if layer != "gold":
        if contract is None:
            return {**base, "domain": "", "owner": "", "description": "", "sources": (name,)}
        description = contract.description
        if layer == "quarantine":
            description = f"Lignes rejetées de la source « {contract.title} ». {description}"
        return {
            **base,
            "domain": contract.domain,
            "owner": contract.owner,
            "description": description,
            "sources": (name,),
            "contract_level": contract.exposure_level,
        }
    sources = tuple(s.strip() for s in facts.properties.get("lake.sources", "").split(","))
    sources = tuple(s for s in sources if s)
    lineage = _pick(graph.datasets, ref) if graph is not None else None
    info = graph.datasets[lineage] if graph is not None and lineage is not None else None
    if not sources and graph is not None and lineage is not None:
        upstream = {_layer_name(e.source) for e in graph.dataset_edges if e.target == lineage}
        sources = tuple(sorted(n for lay, n in upstream if lay == "silver"))
    known = [contracts[s] for s in sources if s in contracts]
    owners = [c.owner for c in known] or list(info.owners if info else ())
    return {
        **base,
        "domain": known[0].domain if known else facts.properties.get("lake.domain", ""),
        "owner": ", ".join(dict.fromkeys(owners)),
        "description": facts.description or (info.description if info else ""),
        "sources": sources,
    }


def _columns(
    facts: TableFacts, layer: str, contract: Contract | None, derived: _Tags
) -> tuple[ColumnEntry, ...]:
    """The schema's columns with their declared and derived tags."""
    strictest = most_restrictive(_tag(c) for c in contract.columns) if contract else None
    columns = []
    for name, kind in facts.columns:
        spec = _spec(contract, name) if contract is not None else None
        declared = _tag(spec) if spec is not None else None
        if layer == "quarantine":
            declared = strictest if name in _QUARANTINE_VALUES else None
        found = derived.get(name)
        columns.append(
            ColumnEntry(
                name=name,
                type=kind,
                description=spec.description if spec is not None and spec.name == name else "",
                declared=declared,
                pseudonymised=bool(spec is not None and spec.pseudonymise and layer == "silver"),
                derived=found[1].tag if found else None,
                derived_fr=explain_fr(*found) if found else "",
            )
        )
    return tuple(columns)


def _spec(contract: Contract, name: str) -> Column | None:
    """The contract column behind ``name``: itself, or the country behind its label/status."""
    for col in contract.columns:
        if col.name == name or (
            col.type == "country" and name in (f"{col.name}_label", f"{col.name}_status")
        ):
            return col
    return None


def _tag(col: Column) -> Tag:
    s = col.sensitivity
    return Tag(s.level, s.personal, s.exclusion)


def _pick(refs: Iterable[DatasetRef], expected: DatasetRef) -> DatasetRef | None:
    """The lineage dataset that is the table at ``expected``.

    The same namespace and name as the lake gives it, else the only dataset whose name ends with
    ``<layer>/<table>`` (another namespace spelling); None when there is none, or several.
    """
    known = set(refs)
    if expected in known:
        return expected
    tail = "/".join(_layer_name(expected))
    near = [r for r in known if r.name.rstrip("/") == tail or r.name.endswith("/" + tail)]
    return near[0] if len(near) == 1 else None


def _layer_name(ref: DatasetRef) -> tuple[str, str]:
    parts = ref.name.rstrip("/").split("/")
    return (parts[-2] if len(parts) > 1 else "", parts[-1])


def _tag_dict(tag: Tag | None) -> dict[str, Any] | None:
    if tag is None:
        return None
    return {"level": tag.level, "personal": tag.personal, "exclusion": tag.exclusion}


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None
