"""What an account may open in ``lake serve``: pages per exposure level and owning direction.

The rules (docs/serve.md), with the seed's levels 1 (habilités internes) .. 4 (tous):

- a **domain's quality review** is open to the directions owning one of its sources and to the
  accounts whose level is at most the domain's (the most restrictive level of its sources'
  contracts); only an owning direction records decisions;
- a **table** is shown as ``lake export view --audience <level>`` shows it (same functions:
  derived tags, `visible_columns`, `apply_plan`): open to an account whose level is at most the
  table's (its most restrictive column) or that owns the table's sources; anything else is
  refused with HTTP 403, never an empty page;
- **internal documents** (dashboard, opportunity study, cloud framework, lineage, GX Data Docs)
  are for ministry staff: levels 1 and 2;
- the **catalogue** lists only the tables the account may open.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.errors import AppError, Forbidden
from app.web.accounts import Account
from lake.contracts import Contract
from lake.settings import Settings

INTERNAL_LEVEL = 2  # "ouvert à tout interne du MEAE"


def domain_sources(contracts: Mapping[str, Contract], domain: str) -> list[Contract]:
    """The contracts of a business domain."""
    return [c for c in contracts.values() if c.domain == domain]


def domain_level(contracts: Mapping[str, Contract], domain: str) -> int:
    """The most restrictive exposure level of the domain's sources (1 when none is known)."""
    levels = [c.exposure_level for c in domain_sources(contracts, domain)]
    return min(levels) if levels else 1


def owns_domain(account: Account, contracts: Mapping[str, Contract], domain: str) -> bool:
    """The account speaks for a direction owning one of the domain's sources."""
    return any(account.owns(c.owner) for c in domain_sources(contracts, domain))


def may_read_domain(account: Account, contracts: Mapping[str, Contract], domain: str) -> bool:
    """An owner, or an account cleared for the domain's most restrictive level."""
    return owns_domain(account, contracts, domain) or account.level <= domain_level(
        contracts, domain
    )


def require_internal(account: Account, what: str) -> None:
    """Refuse internal documents to external and public readers (levels 3 and 4).

    Raises:
        Forbidden: The account's level is above 2.
    """
    if account.level > INTERNAL_LEVEL:
        raise Forbidden(
            f"{what} est un document interne au ministère : votre compte est de niveau "
            f"{account.level}.",
            fix="demandez un compte de niveau 1 ou 2 à l'administrateur des données",
        )


@dataclass
class TableView:
    """A table as an account may see it."""

    table: str
    level: int
    owners: tuple[str, ...]
    columns: list[str]
    rows: list[list[str]]
    decisions: list[Any]
    total_rows: int


def table_owners(settings: Settings, table: str, contracts: Mapping[str, Contract]) -> list[str]:
    """The owning directions of a table: its source's contract, or a gold table's sources'."""
    from lake.delta_reader import open_table
    from lake.storage import table_uri

    layer, _, name = table.partition("/")
    if layer != "gold":
        return [contracts[name].owner] if name in contracts else []
    meta = open_table(settings, table_uri(settings, "gold", name)).metadata()
    sources = [s.strip() for s in meta.configuration.get("lake.sources", "").split(",")]
    return sorted({contracts[s].owner for s in sources if s in contracts})


def table_view(
    settings: Settings,
    table: str,
    account: Account,
    contracts: Mapping[str, Contract],
    *,
    limit: int = 50,
) -> TableView:
    """The first ``limit`` rows of ``table`` as ``lake export view --audience <level>`` gives them.

    Raises:
        Forbidden: The table's level is more restrictive than the account's and the account
            owns none of its sources; or a column has no known sensitivity (nothing is shown
            rather than guessing).
        AppError: The table name is not ``layer/name`` of a data layer.
    """
    from governance.lineage.model import DatasetRef
    from governance.sensitivity.export import apply_plan, visible_columns
    from governance.sensitivity.tags import derived_tags, load_graph
    from lake.delta_reader import open_table
    from lake.keys import pseudonymisation_key
    from lake.storage import openlineage_dataset, table_uri

    layer, _, name = table.partition("/")
    if layer not in ("bronze", "silver", "gold") or not name or "/" in name:
        raise AppError(f"Table {table!r} is not layer/name of bronze, silver or gold.")
    uri = table_uri(settings, layer, name)  # type: ignore[arg-type]
    ref = DatasetRef(*openlineage_dataset(uri))
    derived = derived_tags(settings, load_graph(settings), contracts)
    tags = {c.column: d for c, d in derived.items() if c.dataset == ref}
    frame = open_table(settings, uri).to_pyarrow_table().to_pandas()
    missing = [c for c in frame.columns if c not in tags and not c.startswith("_")]
    owners = table_owners(settings, table, contracts)
    if missing or not tags:
        raise Forbidden(
            f"La sensibilité de {', '.join(missing) or 'toutes les colonnes'} de {table} est "
            "inconnue : la table n'est pas montrée.",
            fix="relancez la chaîne avec le lignage actif pour que les étiquettes soient dérivées",
        )
    level = min(d.tag.level for d in tags.values())
    owner = any(account.owns(o) for o in owners)
    if account.level > level and not owner:
        raise Forbidden(
            f"La table {table} est de niveau {level} : votre compte (niveau {account.level}) "
            "ne peut pas la consulter.",
            fix="demandez l'accès à la direction propriétaire",
        )
    frame = frame[[c for c in frame.columns if c in tags]]
    plan = visible_columns(tags, account.level)
    view = apply_plan(frame, plan, key=pseudonymisation_key(settings))
    rows = [["" if _missing(v) else str(v) for v in row] for row in view.head(limit).values]
    return TableView(
        table=table,
        level=level,
        owners=tuple(owners),
        columns=[str(c) for c in view.columns],
        rows=rows,
        decisions=list(plan.decisions),
        total_rows=len(view),
    )


def visible_tables(
    account: Account, tables: Sequence[Mapping[str, Any]]
) -> list[Mapping[str, Any]]:
    """The catalogue's tables the account may open (level, or owner of the table)."""
    return [
        t
        for t in tables
        if (isinstance(t.get("level"), int) and account.level <= t["level"])
        or any(account.owns(o.strip()) for o in str(t.get("owner") or "").split(",") if o.strip())
    ]


def _missing(value: Any) -> bool:
    try:
        return bool(value != value) or value is None  # NaN or None
    except (TypeError, ValueError):
        return False
