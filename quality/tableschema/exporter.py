"""Table Schema export: a silver table (from its contract) or a gold table (from its Spark
columns) described as a Table Schema, ready to publish next to the data.

Pure Python: no Spark, no frictionless at run time (the tests use frictionless to check what is
produced).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lake.contracts import Column, Contract
from quality.errors import SchemaError
from quality.tableschema.field_types import SPARK_TYPES, table_schema_type

TABLE_SCHEMA = "https://specs.frictionlessdata.io/schemas/table-schema.json"
HEX64 = "[0-9a-f]{64}"
COUNTRY_STATUSES = ("ok", "territory", "no_iso_code")  # unknown/ambiguous go to quarantine
# Columns bronze adds and silver keeps (ingestion.bronze.PROVENANCE, in order).
PROVENANCE: tuple[tuple[str, str, str], ...] = (
    ("_source", "string", "Identifiant de la source (contrat) qui a livré la ligne."),
    ("_batch_id", "string", "Lot de livraison : la source et le début de l'empreinte du fichier."),
    ("_file_uri", "string", "Emplacement du fichier livré dans la zone d'atterrissage du lac."),
    ("_file_sha256", "string", "Empreinte SHA-256 du fichier livré (64 caractères hexadécimaux)."),
    ("_line", "integer", "Numéro de la ligne dans le fichier livré."),
    ("_delivered_at", "datetime", "Date et heure de livraison du fichier."),
    ("_ingested_at", "datetime", "Date et heure d'écriture de la ligne dans la couche bronze."),
)
ROW_HASH = "_row_hash"


def schema_for_contract(contract: Contract) -> dict[str, Any]:
    """The Table Schema of a source's silver table: provenance, typed columns, row hash.

    Field names are the silver column names; each business field's ``title`` is the header the
    silo delivers. Pseudonymised columns are described as HMAC-SHA256 pseudonyms.
    """
    fields = [
        _field(name, ftype, text, required=True, pattern=HEX64 if name == "_file_sha256" else None)
        for name, ftype, text in PROVENANCE
    ]
    for col in contract.columns:
        fields += _silver_fields(col)
    fields.append(
        _field(
            ROW_HASH,
            "string",
            "Empreinte SHA-256 des valeurs métier typées de la ligne (détecte les modifications).",
            required=True,
            pattern=HEX64,
        )
    )
    description = (
        f"{contract.description}\n\nTable silver du lac : valeurs typées et conformes au contrat "
        f"« {contract.source} », une ligne par clé (la version livrée la plus récente) ; les "
        "colonnes préfixées par « _ » retracent la provenance de chaque ligne."
    )
    return _schema(
        f"silver.{contract.source}", contract.title, description, fields, contract.primary_key
    )


def _silver_fields(col: Column) -> list[dict[str, Any]]:
    text = col.description.strip() + (f" Unité : {col.unit}." if col.unit else "")
    label = col.source_name
    required = not col.nullable
    if col.pseudonymise:
        text += (
            " Pseudonyme : HMAC-SHA256 (64 caractères hexadécimaux) de la valeur en majuscules ; "
            "la valeur d'origine n'est pas conservée."
        )
        return [_field(col.name, "string", text, title=label, required=required, pattern=HEX64)]
    if col.type == "country":
        iso = f"{text} Code ISO 3166-1 alpha-3, vide pour un lieu sans code ISO (no_iso_code)."
        status = (
            f"Rapprochement de « {label} » au référentiel des pays : ok, territory (territoire "
            "avec son code ISO) ou no_iso_code (lieu connu sans code ISO)."
        )
        return [
            _field(col.name, "string", iso, title=label, pattern="[A-Z]{3}"),
            _field(f"{col.name}_label", "string", f"Nom du pays de « {label} » selon l'Insee."),
            _field(
                f"{col.name}_status", "string", status, required=required, enum=COUNTRY_STATUSES
            ),
        ]
    ftype = {"integer": "integer", "decimal": "number"}.get(col.type, col.type)
    constraints: dict[str, Any] = {"required": required, "unique": col.unique}
    if col.allowed and col.type in ("string", "integer", "decimal"):
        constraints["enum"] = list(col.allowed)
    if col.type in ("integer", "decimal"):
        constraints.update(minimum=col.minimum, maximum=col.maximum)
    if col.type == "string":
        constraints.update(pattern=col.pattern, minLength=col.min_length, maxLength=col.max_length)
    return [_field(col.name, ftype, text, title=label, **constraints)]


def schema_for_fields(
    name: str,
    title: str,
    description: str,
    fields: Sequence[tuple[str, str, str | None, bool]],
    primary_key: Sequence[str],
) -> dict[str, Any]:
    """The Table Schema of a gold table, from its Spark columns.

    Args:
        name: Table name (lower case, ``-._/`` allowed), e.g. ``gold.adoptions_par_pays``.
        title: Short French title.
        description: French description of the table (what one row is).
        fields: ``(column, Spark simple type string, French description or None, nullable)``.
        primary_key: The columns identifying a row.

    Raises:
        SchemaError: A Spark type has no Table Schema equivalent, a column is declared twice or
            a key column is not a field.
    """
    out: list[dict[str, Any]] = []
    for column, spark_type, text, nullable in fields:
        ftype = table_schema_type(spark_type)
        if ftype is None:
            raise SchemaError(
                name,
                f"column {column!r}: Spark type {spark_type!r} has no Table Schema equivalent; "
                f"expected one of: {', '.join(SPARK_TYPES)}, decimal(p,s), array<..>, "
                "struct<..>, map<..>.",
                fix=f"cast {column} to one of these types where the table is built",
                field=column,
            )
        if any(f["name"] == column for f in out):
            raise SchemaError(
                name,
                f"column {column!r} is declared twice.",
                fix="give each column of the table its own name",
                field=column,
            )
        out.append(_field(column, ftype, text, required=not nullable))
    missing = [k for k in primary_key if k not in {f["name"] for f in out}]
    if missing:
        names = ", ".join(f["name"] for f in out)
        raise SchemaError(
            name,
            f"primary key {missing[0]!r} is not a column; expected one of: {names}.",
            fix="name key columns the table has (an indicator's grain, a contract's primary_key)",
            field=missing[0],
        )
    return _schema(name, title, description, out, primary_key)


def _field(
    name: str, ftype: str, text: str | None, *, title: str | None = None, **constraints: Any
) -> dict[str, Any]:
    field: dict[str, Any] = {"name": name}
    if title and title != name:
        field["title"] = title
    if text:
        field["description"] = text
    field["type"] = ftype
    kept = {k: v for k, v in constraints.items() if v is not None and v is not False}
    if "enum" in kept:
        kept["enum"] = list(kept["enum"])
    if kept:
        field["constraints"] = kept
    return field


def _schema(
    name: str, title: str, description: str, fields: list[dict[str, Any]], key: Sequence[str]
) -> dict[str, Any]:
    return {
        "$schema": TABLE_SCHEMA,
        "name": name,
        "title": title,
        "description": description,
        "fields": fields,
        "primaryKey": list(key),
        "missingValues": [""],
    }
