"""What the chain's tables mean, for the catalog: one :class:`~lake.catalog_registry.TableEntry`
per bronze, silver, quarantine and gold table, from the contracts and the indicators.

Comments are the contracts' French descriptions (a gold column takes the description of the
silver column it comes from, per the indicator's declared lineage); the ``lake.*`` properties
say who owns the table, its exposure level (the seed's levels 1 to 4; a gold table takes the
strictest of its sources until a review lowers it, as in the catalogue), whether it holds
personal data, and which columns are more sensitive than the table. :func:`register_tables` is
what the chain calls after a run: best-effort, like lineage (the data is written either way).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from ingestion.indicators import INDICATORS, Indicator
from lake.catalog_registry import TableEntry, catalog_active, register
from lake.contract_model import Column, Contract
from lake.errors import LakeError
from lake.settings import Settings
from lake.storage import table_uri

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# The chain's own columns, the same in every source's tables.
CHAIN_COLUMNS = {
    "_source": "Source (identifiant du contrat)",
    "_batch_id": "Lot d'ingestion (source + empreinte du fichier livré)",
    "_file_uri": "Copie du fichier livré dans landing/",
    "_file_sha256": "Empreinte SHA-256 du fichier livré",
    "_line": "Ligne du fichier livré",
    "_delivered_at": "Date de livraison du fichier",
    "_ingested_at": "Date d'ingestion en bronze",
    "_quarantined_at": "Date de mise en quarantaine",
    "_updated_at": "Date de dernière mise à jour en silver",
    "stage": "Étape qui a écarté la ligne (bronze ou silver)",
    "column": "Colonne en cause",
    "value": "Valeur en cause (masquée si sensible)",
    "reason": "Raison de l'écart, en clair",
    "rule": "Règle de qualité en cause",
    "raw": "Texte brut de la ligne livrée",
    "failures": "Toutes les règles échouées par la ligne",
}


def contract_properties(contract: Contract) -> dict[str, str]:
    """The ``lake.*`` properties of a source's tables."""
    sensitive = [
        f"{c.name} (niveau {c.sensitivity.level}"
        + (", personnel" if c.sensitivity.personal else "")
        + (", exclusion" if c.sensitivity.exclusion else "")
        + ")"
        for c in contract.columns
        if c.sensitivity.level < contract.exposure_level
        or c.sensitivity.personal
        or c.sensitivity.exclusion
    ]
    return {
        "lake.owner": contract.owner,
        "lake.domain": contract.domain,
        "lake.source": contract.source,
        "lake.exposure_level": str(_strictest(contract)),
        "lake.personal_data": str(contract.personal).lower(),
        "lake.sensitive_columns": ", ".join(sensitive) or "aucune",
        "lake.retention": f"{contract.retention.years} ans, puis {contract.retention.end}",
    }


def _strictest(contract: Contract) -> int:
    return min([contract.exposure_level, *(c.sensitivity.level for c in contract.columns)])


def _column_comment(col: Column) -> str:
    unit = f" ({col.unit})" if col.unit else ""
    return f"{col.description}{unit}"


def source_entries(settings: Settings, contract: Contract) -> list[TableEntry]:
    """The bronze, silver and quarantine tables of one source."""
    columns = {c.name: _column_comment(c) for c in contract.columns}
    chain = {k: v for k, v in CHAIN_COLUMNS.items() if k.startswith("_")}
    props = contract_properties(contract)
    title = contract.title
    return [
        TableEntry(
            "bronze",
            contract.source,
            table_uri(settings, "bronze", contract.source),
            f"{title} : lignes livrées, telles quelles (texte), avec leur provenance. "
            f"{contract.description}",
            {**chain, **columns},
            props,
        ),
        TableEntry(
            "silver",
            contract.source,
            table_uri(settings, "silver", contract.source),
            f"{title} : données typées, contrôlées et dédoublonnées. {contract.description}",
            {**chain, **columns},
            props,
        ),
        TableEntry(
            "quarantine",
            contract.source,
            table_uri(settings, "quarantine", contract.source),
            f"{title} : lignes écartées (mal formées ou refusées par la revue qualité), "
            "avec la raison.",
            dict(CHAIN_COLUMNS),
            props,
        ),
    ]


def gold_entry(
    settings: Settings, indicator: Indicator, contracts: dict[str, Contract]
) -> TableEntry:
    """The gold table of one indicator."""
    sources = [contracts[s] for s in indicator.sources if s in contracts]
    columns: dict[str, str] = {}
    for gold_col, origins in indicator.lineage.items():
        for silver_col, _kind in origins:
            for contract in sources:
                try:
                    columns.setdefault(gold_col, _column_comment(contract.column(silver_col)))
                except KeyError:
                    continue
    for measure in indicator.measures:
        columns.setdefault(measure, f"Mesure : {measure.replace('_', ' ')}")
    columns.setdefault("secret_statistique", "Vrai quand la case est masquée (secret statistique)")
    levels = [_strictest(c) for c in sources] or [2]
    props = {
        "lake.owner": ", ".join(sorted({c.owner for c in sources})) or "DNUM",
        "lake.domain": indicator.domain,
        "lake.source": ", ".join(indicator.sources),
        "lake.exposure_level": str(min(levels)),
        "lake.personal_data": str(indicator.personal).lower(),
        "lake.grain": ",".join(indicator.grain),  # the gold writer's own format
    }
    return TableEntry(
        "gold",
        indicator.name,
        table_uri(settings, "gold", indicator.name),
        indicator.description,
        columns,
        props,
    )


def entries(
    settings: Settings, contracts: Iterable[Contract], *, tables: Sequence[str] | None = None
) -> list[TableEntry]:
    """Every table of these sources (and the indicators built from them), or only ``tables``
    (``layer/name``, as :func:`ingestion.pipeline.tables_written` lists them)."""
    by_source = {c.source: c for c in contracts}
    found = [e for c in by_source.values() for e in source_entries(settings, c)]
    found += [
        gold_entry(settings, i, by_source) for i in INDICATORS if set(i.sources) & set(by_source)
    ]
    if tables is None:
        return found
    wanted = set(tables)
    return [e for e in found if f"{e.layer}/{e.name}" in wanted]


def register_tables(
    spark: SparkSession,
    settings: Settings,
    contracts: Iterable[Contract],
    *,
    tables: Sequence[str] | None = None,
    run_id: str | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> int:
    """Register the tables of a run in the catalog; best-effort (a failure is one warning line).

    Returns:
        How many tables are registered (0 when the session has no catalog).
    """
    if not (settings.catalog.enabled and settings.catalog.register) or not catalog_active(spark):
        return 0
    try:
        done = register(
            spark,
            entries(settings, contracts, tables=tables),
            commit_info={"run_id": run_id, "job": "catalog"} if run_id else None,
            progress=progress,
        )
        return len(done)
    except LakeError as exc:
        progress(f"warning: tables not registered in the catalog: {exc}")
        return 0
