"""The single-machine peer: bronze -> silver with polars + ``deltalake`` (delta-rs), no Spark.

How a small team would write the lake's bronze -> silver step without a cluster, on the same
files and into the same MinIO, so the ratio compares engines, not parsers:

- the extracts are parsed by the lake's own parser (:func:`ingestion.readers.read_extract`; polars
  reads neither the xlsx silo nor Latin-1 CSV by itself) and appended to ``bronze/<source>`` with
  delta-rs;
- typing follows the contract with polars expressions (null markers, French numbers, the
  contract's date formats, booleans, countries through the lake's referential on the distinct
  values, HMAC-SHA256 pseudonyms with :mod:`hmac` since polars has none);
- the latest version of each key is kept and MERGEd into ``silver/<source>`` with delta-rs.

No quality review, quarantine, run log or lineage: it is a peer of the bare baseline, and the
report compares it with both our governed chain and the bare Spark one.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingestion.landing import delivery_time
from ingestion.pipeline import inbox_files, select_contracts
from ingestion.readers import read_extract
from lake.contracts import Column, Contract
from lake.delta_reader import storage_options, to_delta_rs_uri
from lake.keys import pseudonymisation_key
from lake.settings import Settings
from lake.storage import table_uri

if TYPE_CHECKING:
    import polars as pl

_SPACES = "\u00a0\u202f\u2009 "
_TRUE = ["oui", "o", "vrai", "true", "1", "yes", "y"]
_FALSE = ["non", "n", "faux", "false", "0", "no"]
_STRFTIME = {"yyyy": "%Y", "MM": "%m", "dd": "%d", "HH": "%H", "mm": "%M", "ss": "%S"}


def strftime(spark_pattern: str) -> str:
    """``dd/MM/yyyy`` -> ``%d/%m/%Y`` (the patterns the contracts use)."""
    return re.sub("yyyy|MM|dd|HH|mm|ss", lambda m: _STRFTIME[m.group(0)], spark_pattern)


def run_peer(settings: Settings, *, sources: Sequence[str] | None = None) -> dict[str, Any]:
    """Ingest the inbox of ``settings`` into bronze and silver with polars + delta-rs."""
    started = time.perf_counter()
    key = pseudonymisation_key(settings)
    options = storage_options(settings)
    files = rows = 0
    for contract in select_contracts(settings, sources):
        for index, path in enumerate(inbox_files(settings, contract)):
            bronze = _bronze(contract, path, f"{contract.source}-{index}")
            _append_bronze(settings, contract.source, bronze, options)
            typed = _typed(bronze, contract, key)
            rows += _merge(settings, contract, _latest(typed, contract), options)
            files += 1
    return {"seconds": time.perf_counter() - started, "files": files, "rows_merged": rows}


def _bronze(contract: Contract, path: Path, batch: str) -> pl.DataFrame:
    import polars as pl

    layout, chunks = read_extract(contract, path)
    frames = []
    for chunk in chunks:
        if not chunk.row_count:
            continue
        frame = pl.from_arrow(chunk.table(layout.columns))
        assert isinstance(frame, pl.DataFrame)  # a table gives a frame, never a series
        frames.append(frame)
    df = (
        pl.concat(frames)
        if frames
        else pl.DataFrame(schema={"_line": pl.Int64, **dict.fromkeys(layout.columns, pl.Utf8)})
    )
    return df.with_columns(
        pl.lit(contract.source).alias("_source"),
        pl.lit(batch).alias("_batch_id"),
        pl.lit(str(path)).alias("_file_uri"),
        pl.lit(delivery_time(path)).dt.replace_time_zone(None).alias("_delivered_at"),
    )


def _cleaned(name: str, contract: Contract, present: bool) -> pl.Expr:
    import polars as pl

    if not present:
        return pl.lit(None, dtype=pl.Utf8)
    value = pl.col(name).str.strip_chars()
    markers = [m.strip() for m in contract.null_markers]
    return (
        pl.when(value.is_null() | (value == "") | value.is_in(markers)).then(None).otherwise(value)
    )


def _number(raw: pl.Expr, contract: Contract, integer: bool) -> pl.Expr:
    import polars as pl

    separators = set(_SPACES)
    if contract.thousands and contract.thousands != contract.decimal:
        separators.add(contract.thousands)
    digits = raw.str.replace_all("[" + re.escape("".join(sorted(separators))) + "]", "")
    if contract.decimal == ",":
        digits = digits.str.replace_all(",", ".", literal=True)
    if integer:
        return digits.cast(pl.Int64, strict=False)
    return digits.cast(pl.Float64, strict=False).round(2)


def _value(spec: Column, raw: pl.Expr, contract: Contract) -> pl.Expr:
    import polars as pl

    if spec.type == "integer":
        return _number(raw, contract, integer=True)
    if spec.type == "decimal":
        return _number(raw, contract, integer=False)
    if spec.type == "date":
        return pl.coalesce(
            [raw.str.to_date(strftime(f), strict=False) for f in contract.date_formats]
        )
    if spec.type == "boolean":
        lowered = raw.str.to_lowercase()
        return pl.when(lowered.is_in(_TRUE)).then(True).when(lowered.is_in(_FALSE)).then(False)
    return raw


def _countries(df: pl.DataFrame, spec: Column) -> pl.DataFrame:
    import polars as pl

    from ingestion.countries import CountryReferential

    values = [v for v in df.get_column(spec.name).unique().to_list() if v is not None]
    matches = CountryReferential.load().match_many(values)
    lookup = pl.DataFrame(
        {
            spec.name: list(matches),
            "__iso3": [m.iso3 for m in matches.values()],
            f"{spec.name}_label": [m.label_fr for m in matches.values()],
            f"{spec.name}_status": [m.status for m in matches.values()],
        },
        schema={
            spec.name: pl.Utf8,
            "__iso3": pl.Utf8,
            f"{spec.name}_label": pl.Utf8,
            f"{spec.name}_status": pl.Utf8,
        },
    )
    joined = df.join(lookup, on=spec.name, how="left")
    return joined.with_columns(pl.col("__iso3").alias(spec.name)).drop("__iso3")


def _typed(bronze: pl.DataFrame, contract: Contract, key: bytes) -> pl.DataFrame:
    import polars as pl

    provenance = [c for c in bronze.columns if c.startswith("_")]
    df = bronze.select(
        *provenance,
        *[
            _cleaned(c.name, contract, c.name in bronze.columns).alias(c.name)
            for c in contract.columns
        ],
    )
    for spec in contract.columns:
        if spec.type == "country":
            df = _countries(df, spec)
    df = df.with_columns(
        [_value(s, pl.col(s.name), contract).alias(s.name) for s in contract.columns]
    )
    for spec in contract.columns:
        if spec.pseudonymise:
            values = df.get_column(spec.name).to_list()
            df = df.with_columns(
                pl.Series(
                    spec.name,
                    [
                        None
                        if v is None
                        else hmac.new(key, v.upper().encode(), hashlib.sha256).hexdigest()
                        for v in values
                    ],
                    dtype=pl.Utf8,
                )
            )
    business = [c.name for c in contract.columns]
    return df.with_columns(
        pl.concat_str(
            [pl.col(c).cast(pl.Utf8).fill_null("\u0000") for c in business], separator="\u001f"
        )
        .hash()
        .reinterpret(signed=True)  # Delta has no unsigned integers
        .alias("_row_hash")
    )


def _latest(typed: pl.DataFrame, contract: Contract) -> pl.DataFrame:
    keys = list(contract.primary_key)
    return (
        typed.sort(["_delivered_at", "_line"])
        .unique(subset=[*keys, "_row_hash"], keep="first", maintain_order=True)
        .unique(subset=keys, keep="last", maintain_order=True)
    )


def _append_bronze(
    settings: Settings, source: str, df: pl.DataFrame, options: dict[str, str]
) -> None:
    from deltalake import write_deltalake

    write_deltalake(
        to_delta_rs_uri(table_uri(settings, "bronze", source)),
        df.to_arrow(),
        mode="append",
        schema_mode="merge",
        storage_options=options,
    )


def _merge(
    settings: Settings, contract: Contract, df: pl.DataFrame, options: dict[str, str]
) -> int:
    from deltalake import DeltaTable, write_deltalake
    from deltalake.exceptions import TableNotFoundError

    uri = to_delta_rs_uri(table_uri(settings, "silver", contract.source))
    try:
        table = DeltaTable(uri, storage_options=options)
    except TableNotFoundError:
        write_deltalake(uri, df.to_arrow(), storage_options=options)
        return df.height
    predicate = " AND ".join(f"t.{k} = s.{k}" for k in contract.primary_key)
    metrics = (
        table.merge(df.to_arrow(), predicate=predicate, source_alias="s", target_alias="t")
        .when_matched_update_all(
            predicate="t._row_hash <> s._row_hash AND s._delivered_at >= t._delivered_at"
        )
        .when_not_matched_insert_all()
        .execute()
    )
    return int(metrics.get("num_source_rows", df.height))
