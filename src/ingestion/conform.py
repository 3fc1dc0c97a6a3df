"""Bronze strings -> typed silver values, as pure DataFrame transforms (no IO, no session).

Every parse is a ``try_*`` expression, so one bad value never fails a batch under Spark 4's ANSI
mode: it becomes a *failure* (column, value, reason in French) carried in the ``_failures`` array
of the row, and rows with failures go to quarantine instead of silver.

- text: trimmed; a value equal to a contract null marker becomes null;
- integer / decimal: the contract's decimal separator; thousands separators (the contract's, plus
  spaces, no-break and narrow no-break spaces) removed;
- date: the contract's formats, tried in order (Spark patterns, e.g. ``dd/MM/yyyy``);
- boolean: oui/non, o/n, vrai/faux, true/false, 1/0;
- country: joined to a lookup of the batch's distinct values (:mod:`ingestion.countries`):
  ISO 3166-1 alpha-3 + French label + status; unknown or ambiguous names fail;
- pseudonymised columns: HMAC-SHA256 (key from the settings) of the upper-cased value, computed
  in Spark SQL from its definition H((K^opad) || H((K^ipad) || m)).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from lake.contracts import Column as ColumnSpec
from lake.contracts import Contract

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

_SPACES = "\u00a0\u202f\u2009 "
_TRUE = ("oui", "o", "vrai", "true", "1", "yes", "y")
_FALSE = ("non", "n", "faux", "false", "0", "no")
MASK = "<masqué>"
DECIMAL_TYPE = "decimal(18,2)"


def cleaned(column: str, contract: Contract) -> Column:
    """Trimmed text, null when empty or equal to a null marker."""
    from pyspark.sql import functions as F

    value = F.trim(F.col(f"`{column}`"))
    markers = [m.strip() for m in contract.null_markers]
    return F.when(value.isNull() | (value == "") | value.isin(markers), F.lit(None)).otherwise(
        value
    )


def parse_number(raw: Column, contract: Contract, sql_type: str) -> Column:
    """French-style number text -> number (null when it cannot be read)."""
    from pyspark.sql import functions as F

    separators = set(_SPACES)
    if contract.thousands and contract.thousands != contract.decimal:
        separators.add(contract.thousands)
    pattern = "[" + "".join("\\" + c if c in r"\^]-[" else c for c in sorted(separators)) + "]"
    digits = F.regexp_replace(raw, pattern, "")
    if contract.decimal == ",":
        digits = F.regexp_replace(digits, ",", ".")
    return digits.try_cast(sql_type)


def parse_date(raw: Column, contract: Contract) -> Column:
    """Date text -> date, trying the contract's formats in order."""
    from pyspark.sql import functions as F

    # pyspark 4.0 has no try_to_date: a timestamp at midnight (UTC session) then its date.
    parsed = [F.to_date(F.try_to_timestamp(raw, F.lit(fmt))) for fmt in contract.date_formats]
    return F.coalesce(*parsed)


def parse_boolean(raw: Column) -> Column:
    from pyspark.sql import functions as F

    lowered = F.lower(raw)
    return F.when(lowered.isin(list(_TRUE)), F.lit(True)).when(
        lowered.isin(list(_FALSE)), F.lit(False)
    )


def hmac_sha256(value: Column, key: bytes) -> Column:
    """HMAC-SHA256 of ``value`` (string) as 64 hex digits, in Spark SQL only."""
    from pyspark.sql import functions as F

    block = 64
    if len(key) > block:
        key = hashlib.sha256(key).digest()
    key = key.ljust(block, b"\0")
    inner_pad = bytes(b ^ 0x36 for b in key)
    outer_pad = bytes(b ^ 0x5C for b in key)
    inner = F.sha2(F.concat(F.lit(inner_pad), F.encode(value, "UTF-8")), 256)
    return F.sha2(F.concat(F.lit(outer_pad), F.unhex(inner)), 256)


def _failure(condition: Column, spec: ColumnSpec, raw: Column, reason: str | Column) -> Column:
    from pyspark.sql import functions as F

    shown = F.lit(MASK) if _sensitive(spec) else raw
    reason_col = reason if not isinstance(reason, str) else F.lit(reason)
    return F.when(
        condition,
        F.struct(
            F.lit(spec.name).alias("column"), shown.alias("value"), reason_col.alias("reason")
        ),
    )


def _sensitive(spec: ColumnSpec) -> bool:
    return spec.sensitivity.personal or spec.sensitivity.level == 1


def _formats_fr(contract: Contract) -> str:
    return ", ".join(
        f.replace("dd", "jj").replace("yyyy", "aaaa").replace("MM", "mm")
        for f in contract.date_formats
    )


def conform(
    df: DataFrame, contract: Contract, countries: DataFrame | None, key: bytes
) -> DataFrame:
    """Type every contract column of a bronze DataFrame and collect failures.

    Args:
        df: Bronze rows (strings + provenance).
        contract: The source contract.
        countries: Lookup ``(raw, iso3, label_fr, status, reason_fr)`` of the batch's distinct
            country values, or None when the contract has no country column.
        key: The pseudonymisation key.

    Returns:
        Provenance, the typed contract columns (countries add ``<col>_label`` and
        ``<col>_status``), ``_row_hash`` over the typed business values, and ``_failures``.
    """
    from pyspark.sql import functions as F

    raw_cols = {
        c.name: (cleaned(c.name, contract) if c.name in df.columns else F.lit(None).cast("string"))
        for c in contract.columns
    }
    staged = df.select(
        *[F.col(c) for c in df.columns if c.startswith("_")],
        *[raw_cols[c.name].alias(f"__raw_{c.name}") for c in contract.columns],
    )
    country_specs = [c for c in contract.columns if c.type == "country"]
    for spec in country_specs:
        assert countries is not None, "a contract with country columns needs the lookup"
        lookup = countries.select(
            F.col("raw").alias(f"__raw_{spec.name}"),
            F.col("iso3").alias(f"__iso3_{spec.name}"),
            F.col("label_fr").alias(f"__label_{spec.name}"),
            F.col("status").alias(f"__status_{spec.name}"),
            F.col("reason_fr").alias(f"__reason_{spec.name}"),
        )
        staged = staged.join(F.broadcast(lookup), on=f"__raw_{spec.name}", how="left")

    typed: list[Column] = []
    failures: list[Column] = []
    for spec in contract.columns:
        raw = F.col(f"__raw_{spec.name}")
        value, parse_failed, reason = _typed(spec, raw, contract)
        if spec.type == "country":
            status = F.col(f"__status_{spec.name}")
            typed += [
                value.alias(spec.name),
                F.col(f"__label_{spec.name}").alias(f"{spec.name}_label"),
                status.alias(f"{spec.name}_status"),
            ]
            failures.append(
                _failure(
                    raw.isNotNull() & status.isin("unknown", "ambiguous"),
                    spec,
                    raw,
                    F.col(f"__reason_{spec.name}"),
                )
            )
        else:
            typed.append(value.alias(spec.name))
            if parse_failed is not None:
                failures.append(_failure(parse_failed, spec, raw, reason))
        if not spec.nullable:
            failures.append(_failure(raw.isNull(), spec, raw, "valeur obligatoire manquante"))
        if spec.allowed:
            failures.append(
                _failure(
                    raw.isNotNull() & ~raw.isin(list(spec.allowed)),
                    spec,
                    raw,
                    "valeur hors de la liste autorisée (" + ", ".join(spec.allowed) + ")",
                )
            )
        if spec.minimum is not None and spec.type in ("integer", "decimal"):
            failures.append(
                _failure(
                    value < F.lit(spec.minimum),
                    spec,
                    raw,
                    f"valeur inférieure au minimum {spec.minimum:g}",
                )
            )
        if spec.maximum is not None and spec.type in ("integer", "decimal"):
            failures.append(
                _failure(
                    value > F.lit(spec.maximum),
                    spec,
                    raw,
                    f"valeur supérieure au maximum {spec.maximum:g}",
                )
            )

    provenance = [F.col(c) for c in df.columns if c.startswith("_")]
    result = (
        staged.select(*provenance, *typed, F.array(*failures).alias("__all_failures"))
        if failures
        else staged.select(
            *provenance,
            *typed,
            F.array()
            .cast("array<struct<column:string,value:string,reason:string>>")
            .alias("__all_failures"),
        )
    )
    result = result.withColumn(
        "_failures", F.filter("__all_failures", lambda f: f.isNotNull())
    ).drop("__all_failures")
    for spec in contract.columns:
        if spec.pseudonymise:
            result = result.withColumn(spec.name, hmac_sha256(F.upper(F.col(spec.name)), key))
    # After pseudonymisation: the row hash must not be an unkeyed hash of personal data.
    business = [c.name for c in contract.columns]
    return result.withColumn(
        "_row_hash",
        F.sha2(
            F.concat_ws(
                "\u001f", *[F.coalesce(F.col(c).cast("string"), F.lit("\u0000")) for c in business]
            ),
            256,
        ),
    )


def _typed(spec: ColumnSpec, raw: Column, contract: Contract) -> tuple[Column, Column | None, str]:
    """(typed value, condition meaning 'could not parse', French reason)."""
    if spec.type == "integer":
        value = parse_number(raw, contract, "bigint")
        return value, raw.isNotNull() & value.isNull(), "nombre entier illisible"
    if spec.type == "decimal":
        value = parse_number(raw, contract, DECIMAL_TYPE)
        return (
            value,
            raw.isNotNull() & value.isNull(),
            (f"nombre illisible (séparateur décimal attendu : « {contract.decimal} »)"),
        )
    if spec.type == "date":
        value = parse_date(raw, contract)
        return (
            value,
            raw.isNotNull() & value.isNull(),
            (f"date illisible (formats attendus : {_formats_fr(contract)})"),
        )
    if spec.type == "boolean":
        value = parse_boolean(raw)
        return value, raw.isNotNull() & value.isNull(), "valeur oui/non illisible"
    if spec.type == "country":
        from pyspark.sql import functions as F

        return F.col(f"__iso3_{spec.name}"), None, ""
    return raw, None, ""
