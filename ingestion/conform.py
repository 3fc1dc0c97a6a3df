"""Bronze strings -> typed silver values, as pure DataFrame transforms (no IO, no session).

Every parse is a ``try_*`` expression, so one bad value never fails a batch under Spark 4's ANSI
mode: it becomes null, and the delivered text stays beside it (``__raw_<col>``). Which values are
wrong, and what happens to their rows, is the quality gate's business (``quality.rules``: type,
required, allowed values, ranges, patterns, reference, business rules), so every rejection is
counted by Great Expectations and named by its rule.

- text: trimmed; a value equal to a contract null marker becomes null;
- integer / decimal: the contract's decimal separator; thousands separators (the contract's, plus
  spaces, no-break and narrow no-break spaces) removed;
- date: the contract's formats, tried in order (Spark patterns, e.g. ``dd/MM/yyyy``);
- boolean: oui/non, o/n, vrai/faux, true/false, 1/0;
- country: joined to a lookup of the batch's distinct values (:mod:`ingestion.countries`):
  ISO 3166-1 alpha-3 + French label + status (``unknown``/``ambiguous`` for the gate);
- pseudonymised columns: HMAC-SHA256 (key from the settings) of the upper-cased value, computed
  in Spark SQL from its definition H((K^opad) || H((K^ipad) || m)).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from lake.contracts import Column as ColumnSpec
from lake.contracts import Contract
from lake.gates import RAW_PREFIX

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

_SPACES = "\u00a0\u202f\u2009 "
_TRUE = ("oui", "o", "vrai", "true", "1", "yes", "y")
_FALSE = ("non", "n", "faux", "false", "0", "no")
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


def conform(
    df: DataFrame, contract: Contract, countries: DataFrame | None, key: bytes
) -> DataFrame:
    """Type every contract column of a bronze DataFrame.

    Typing never drops or rejects a row: a value that cannot be read becomes null, and the
    cleaned text stays beside it in ``__raw_<col>`` so the quality gate (``quality.gate``) can
    tell "missing" from "unreadable" and show what was delivered. The gate drops those columns
    before anything is written.

    Args:
        df: Bronze rows (strings + provenance).
        contract: The source contract.
        countries: Lookup ``(raw, iso3, label_fr, status, reason_fr)`` of the batch's distinct
            country values, or None when the contract has no country column.
        key: The pseudonymisation key.

    Returns:
        Provenance, the typed contract columns (countries add ``<col>_label`` and
        ``<col>_status``), ``_row_hash`` over the typed business values, and ``__raw_<col>``.
    """
    from pyspark.sql import functions as F

    raw_cols = {
        c.name: (cleaned(c.name, contract) if c.name in df.columns else F.lit(None).cast("string"))
        for c in contract.columns
    }
    staged = df.select(
        *[F.col(c) for c in df.columns if c.startswith("_")],
        *[raw_cols[c.name].alias(f"{RAW_PREFIX}{c.name}") for c in contract.columns],
    )
    for spec in contract.columns:
        if spec.type != "country":
            continue
        assert countries is not None, "a contract with country columns needs the lookup"
        lookup = countries.select(
            F.col("raw").alias(f"{RAW_PREFIX}{spec.name}"),
            F.col("iso3").alias(f"__iso3_{spec.name}"),
            F.col("label_fr").alias(f"__label_{spec.name}"),
            F.col("status").alias(f"__status_{spec.name}"),
        )
        staged = staged.join(F.broadcast(lookup), on=f"{RAW_PREFIX}{spec.name}", how="left")

    typed: list[Column] = []
    for spec in contract.columns:
        value = _typed(spec, F.col(f"{RAW_PREFIX}{spec.name}"), contract)
        typed.append(value.alias(spec.name))
        if spec.type == "country":
            typed += [
                F.col(f"__label_{spec.name}").alias(f"{spec.name}_label"),
                F.col(f"__status_{spec.name}").alias(f"{spec.name}_status"),
            ]
    provenance = [F.col(c) for c in df.columns if c.startswith("_")]
    raws = [F.col(f"{RAW_PREFIX}{c.name}") for c in contract.columns]
    result = staged.select(*provenance, *typed, *raws)
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


def _typed(spec: ColumnSpec, raw: Column, contract: Contract) -> Column:
    """The typed value of a column (null when the text cannot be read)."""
    from pyspark.sql import functions as F

    if spec.type == "integer":
        return parse_number(raw, contract, "bigint")
    if spec.type == "decimal":
        return parse_number(raw, contract, DECIMAL_TYPE)
    if spec.type == "date":
        return parse_date(raw, contract)
    if spec.type == "boolean":
        return parse_boolean(raw)
    if spec.type == "country":
        return F.col(f"__iso3_{spec.name}")
    return raw
