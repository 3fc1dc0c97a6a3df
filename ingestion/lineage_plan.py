"""Column lineage of the chain's own transforms, as :mod:`lake.lineage` plain data.

The openlineage-spark listener sees Spark plans; through a Delta MERGE, a ``withColumn`` or a
filter its column lineage is incomplete or wrong (OpenLineage #3613, #3820, #3942). The chain
knows exactly what it does, so each step describes itself:

- landing -> bronze: each bronze column is a delivered header, unchanged (strings); provenance
  columns come from the file itself;
- bronze -> silver: each contract column is typed from its bronze text (``TRANSFORMATION``),
  pseudonymised ones with ``masking``; a country adds its label and status; the row hash reads
  every business column;
- silver -> gold: the declared lineage of each indicator (:data:`ingestion.gold.INDICATORS`).

Declared is not trusted blindly: :func:`check_observed` compares a declaration with the lineage
of the DataFrame a step writes, read from Spark's analysed plan (:mod:`lake.plan_lineage`), and
fails the step when they disagree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ingestion.bronze import PROVENANCE
from ingestion.errors import LineageMismatchError
from ingestion.indicators import Indicator
from ingestion.runlog import RunRecord
from lake.contracts import Contract
from lake.lineage import ColumnSource, DatasetIO
from lake.settings import Settings
from lake.storage import table_uri

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

_SPARK_TYPES = {
    "string": "string",
    "integer": "bigint",
    "decimal": "decimal(18,2)",
    "date": "date",
    "boolean": "boolean",
    "country": "string",
}
_QUARANTINE_COLUMNS = (
    ("_source", "string"),
    ("_batch_id", "string"),
    ("stage", "string"),
    ("_file_uri", "string"),
    ("_line", "bigint"),
    ("column", "string"),
    ("value", "string"),
    ("reason", "string"),
    ("rule", "string"),
    ("raw", "string"),
    ("failures", "array"),
)


def _provenance() -> list[tuple[str, str]]:
    types = {"_line": "bigint", "_delivered_at": "timestamp", "_ingested_at": "timestamp"}
    return [(name, types.get(name, "string")) for name in PROVENANCE]


def _quarantine_io(settings: Settings, contract: Contract, record: RunRecord) -> DatasetIO:
    return DatasetIO(
        uri=table_uri(settings, "quarantine", contract.source),
        columns=_QUARANTINE_COLUMNS,
        source=contract.source,
        rows=record.quarantined,
    )


def landing_io(contract: Contract, record: RunRecord) -> DatasetIO:
    """The delivered file, with the contract's headers as its columns."""
    headers = [(c.source_name, "string") for c in contract.columns]
    headers += [(extra, "string") for extra in record.extra_columns]
    return DatasetIO(uri=record.file_uri or "", columns=headers, source=contract.source)


def bronze_step(
    settings: Settings, contract: Contract, record: RunRecord | None = None
) -> tuple[list[DatasetIO], list[DatasetIO]]:
    """Inputs and outputs of landing -> bronze for one delivered file."""
    if record is None or not record.file_uri:
        return [], [
            DatasetIO(uri=table_uri(settings, "bronze", contract.source), source=contract.source)
        ]
    landing = landing_io(contract, record)
    lineage: dict[str, list[ColumnSource]] = {
        c.name: [ColumnSource(landing.uri, c.source_name, description="en-tête livré")]
        for c in contract.columns
    }
    for extra in record.extra_columns:
        lineage[f"extra_{extra.lower()}"] = [ColumnSource(landing.uri, extra)]
    columns = [(c.name, "string") for c in contract.columns]
    columns += [(f"extra_{e.lower()}", "string") for e in record.extra_columns]
    bronze = DatasetIO(
        uri=table_uri(settings, "bronze", contract.source),
        columns=columns + _provenance(),
        lineage=lineage,
        source=contract.source,
        rows=record.rows_out,
    )
    quarantine = _quarantine_io(settings, contract, record)
    return [landing], [bronze, quarantine]


def silver_step(
    settings: Settings,
    contract: Contract,
    record: RunRecord | None = None,
    assertions: Sequence[Mapping[str, Any]] = (),
) -> tuple[list[DatasetIO], list[DatasetIO]]:
    """Inputs and outputs of bronze -> silver for one batch (through the MERGE)."""
    bronze = table_uri(settings, "bronze", contract.source)
    source = DatasetIO(
        uri=bronze,
        columns=[(c.name, "string") for c in contract.columns] + _provenance(),
        source=contract.source,
        assertions=assertions,
        rows=record.rows_in if record else None,
    )
    if record is None:
        return [source], []
    lineage: dict[str, list[ColumnSource]] = {}
    columns: list[tuple[str, str]] = []
    for name, kind in _provenance():
        lineage[name] = [ColumnSource(bronze, name)]
        columns.append((name, kind))
    for col in contract.columns:
        if col.pseudonymise:
            how = ColumnSource(bronze, col.name, "DIRECT/TRANSFORMATION", True, "HMAC-SHA256")
        elif col.type == "string":
            how = ColumnSource(bronze, col.name, "DIRECT/TRANSFORMATION", description="nettoyé")
        else:
            how = ColumnSource(
                bronze, col.name, "DIRECT/TRANSFORMATION", description=f"typé {col.type}"
            )
        lineage[col.name] = [how]
        columns.append((col.name, _SPARK_TYPES[col.type]))
        if col.type == "country":
            for suffix in ("label", "status"):
                lineage[f"{col.name}_{suffix}"] = [
                    ColumnSource(
                        bronze, col.name, "DIRECT/TRANSFORMATION", description="référentiel pays"
                    )
                ]
                columns.append((f"{col.name}_{suffix}", "string"))
    lineage["_row_hash"] = [
        ColumnSource(bronze, c.name, "DIRECT/TRANSFORMATION", True, "SHA-256 des valeurs")
        for c in contract.columns
    ]
    columns.append(("_row_hash", "string"))
    silver = DatasetIO(
        uri=table_uri(settings, "silver", contract.source),
        columns=columns,
        lineage=lineage,
        source=contract.source,
        rows=record.rows_out,
    )
    quarantine = _quarantine_io(settings, contract, record)
    return [source], [silver, quarantine]


def gold_step(
    settings: Settings,
    indicator: Indicator,
    owner: str,
    record: RunRecord | None = None,
    *,
    min_cell_count: int,
    columns: Sequence[tuple[str, str]] = (),
    assertions: Sequence[Mapping[str, Any]] = (),
) -> tuple[list[DatasetIO], list[DatasetIO]]:
    """Inputs and outputs of silver -> gold for one indicator."""
    first = indicator.sources[0]
    silver = table_uri(settings, "silver", first)
    inputs = [DatasetIO(uri=table_uri(settings, "silver", s), source=s) for s in indicator.sources]
    if record is None:
        return inputs, []
    gold = DatasetIO(
        uri=table_uri(settings, "gold", indicator.name),
        columns=columns,
        lineage={
            out: [ColumnSource(silver, col, kind) for col, kind in ins]
            for out, ins in indicator.lineage.items()
        },
        description=indicator.description,
        owner=owner,
        rows=record.rows_out,
        assertions=assertions,
        statistical_secret=min_cell_count if indicator.personal else None,
        count_columns=indicator.measures if indicator.personal else (),
    )
    return inputs, [gold]


def check_observed(
    declared: Mapping[str, Sequence[tuple[str, str]]],
    table: DataFrame,
    inputs: Mapping[str, DataFrame],
    *,
    dataset: str,
    key: Sequence[str],
    uri: str,
    layer: str,
    fix: str,
    batch_id: str | None = None,
) -> None:
    """Fail when ``declared`` disagrees with the lineage of ``table``'s analysed plan.

    What "agree" means is :func:`lake.plan_lineage.disagreements`'s: per output column, the same
    direct input columns with the same subtype (a count of rows declared on the input's key),
    and every declared indirect edge present in the plan. No Spark job runs.

    Raises:
        LineageMismatchError: naming the table, each column that disagrees, its declared and
            its observed inputs, and ``fix``.
    """
    from lake.plan_lineage import describe, disagreements, observed_lineage

    found = disagreements(declared, observed_lineage(table, inputs), dataset=dataset, key=key)
    if not found:
        return
    raise LineageMismatchError(
        f"{layer.capitalize()} table {uri}: its declared column lineage disagrees with Spark's "
        f"analysed plan (input {dataset}) on {len(found)} column(s): "
        + "; ".join(describe(d) for d in found)
        + ".",
        columns=[d.column for d in found],
        declared={d.column: d.declared for d in found},
        observed={d.column: d.observed for d in found},
        fix=fix,
        source=dataset,
        layer=layer,
        table=uri,
        batch_id=batch_id,
    )


def silver_declared(
    settings: Settings, contract: Contract, record: RunRecord, bronze_columns: Sequence[str]
) -> dict[str, list[tuple[str, str]]]:
    """The bronze -> silver column lineage :func:`silver_step` declares, as ``(bronze column,
    TYPE/SUBTYPE)`` per silver column, for a batch whose bronze rows have ``bronze_columns``.

    A contract column the batch's bronze does not have is null in silver: its declared edge is
    dropped (its silver column then has no input, as the plan shows).
    """
    present = set(bronze_columns)
    _, outputs = silver_step(settings, contract, record)
    return {
        column: [(s.column, s.kind) for s in sources if s.column in present]
        for column, sources in outputs[0].lineage.items()
    }


def check_silver(
    settings: Settings, contract: Contract, record: RunRecord, bronze: DataFrame, rows: DataFrame
) -> None:
    """Fail the batch when :func:`silver_step`'s lineage is not what ``rows`` (the batch's typed
    rows, as merged into silver) read from ``bronze`` (its bronze rows), per the analysed plan.

    Raises:
        LineageMismatchError: see :func:`check_observed`.
    """
    check_observed(
        silver_declared(settings, contract, record, bronze.columns),
        rows,
        {"bronze": bronze},
        dataset="bronze",
        key=contract.primary_key,
        uri=table_uri(settings, "silver", contract.source),
        layer="silver",
        fix="update silver_step in ingestion/lineage_plan.py, or the typing "
        "(ingestion/conform.py), so that both say which bronze columns feed each silver column",
        batch_id=record.batch_id,
    )
