"""A data subject (one person), named by business values, and where the lake holds them.

The subject is given as ``column=value`` criteria from a contract (the business key, e.g.
``registration_id=...``, or ``last_name``, ``first_name`` and ``birth_date`` together). The
values are typed exactly as ingestion types them (:func:`ingestion.conform.conform`: trimmed,
dates in the contract's formats, pseudonymised columns turned into their HMAC pseudonym), so
the match in silver - which holds pseudonyms - and in bronze - which holds the delivered text -
is the same match. Every matching row gives its business key; every bronze row with that key,
in every delivery, is the subject's, and so are the quarantine rows at those lines and the
malformed lines whose raw text contains the key.

Matching values live in memory only: nothing here writes them anywhere.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ingestion.conform import conform
from ingestion.silver import country_lookup
from lake import copies, delta_io
from lake.contracts import Contract
from lake.settings import Settings
from lake.storage import lake_root
from lifecycle.errors import SubjectError
from lifecycle.traces import Needles, StoreTraces

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

Location = tuple[str, int]


@dataclass(frozen=True)
class Subject:
    """Criteria naming one person: ``(column, value)`` pairs, values as delivered."""

    criteria: tuple[tuple[str, str], ...]

    @classmethod
    def parse(cls, texts: Sequence[str]) -> Subject:
        """``["registration_id=FR-1"]`` or ``["last_name=Dupont,first_name=Jean", ...]``."""
        pairs: list[tuple[str, str]] = []
        for text in texts:
            for part in text.split(","):
                column, sep, value = part.partition("=")
                if not sep or not column.strip() or not value.strip():
                    raise SubjectError(
                        f"Subject criterion {part!r} is not COLUMN=VALUE.",
                        fix="name the person like --subject registration_id=FR-2021-000123",
                    )
                pairs.append((column.strip(), value.strip()))
        if not pairs:
            raise SubjectError("No subject given.", fix="pass --subject COLUMN=VALUE")
        return cls(tuple(sorted(pairs)))

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(c for c, _ in self.criteria)

    def reference(self, key: bytes) -> str:
        """A keyed digest of the request: lets the DPO check later that a given request was
        handled, without the certificate holding the person's identifiers."""
        text = "\u001f".join(f"{c}={v}" for c, v in self.criteria).upper()
        return "subj-" + hmac.new(key, text.encode(), hashlib.sha256).hexdigest()[:24]


def sources_for(subject: Subject, contracts: Mapping[str, Contract]) -> list[Contract]:
    """The contracts whose columns hold every criterion of ``subject``."""
    found = [
        c
        for c in contracts.values()
        if all(col in {x.name for x in c.columns} for col in subject.columns)
    ]
    if not found:
        raise SubjectError(
            f"No contract has all the columns {', '.join(subject.columns)}.",
            fix="use the column names of a contract (contracts/<source>.yaml), e.g. its "
            "primary key",
        )
    return sorted(found, key=lambda c: c.source)


@dataclass
class SourceMatch:
    """Where one source holds the subject (keys and locations stay in memory)."""

    contract: Contract
    keys: list[tuple[Any, ...]] = field(default_factory=list, repr=False)
    locations: list[Location] = field(default_factory=list, repr=False)
    bronze_rows: int = 0
    silver_rows: int = 0
    quarantine_rows: int = 0
    # current rows per table of the registry (key of the table -> rows of the person)
    rows: dict[str, int] = field(default_factory=dict)
    typed: dict[str, Any] = field(default_factory=dict, repr=False)
    # what a scan of every object of the registry's stores found (set by the caller)
    traces: list[StoreTraces] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return bool(self.keys or self.locations or any(t.holding for t in self.traces))

    def landing_lines(self) -> dict[str, list[int]]:
        """Landing object URI -> the subject's line numbers in it."""
        lines: dict[str, list[int]] = {}
        for uri, line in self.locations:
            lines.setdefault(uri, []).append(line)
        return {uri: sorted(set(found)) for uri, found in sorted(lines.items())}

    def keys_frame(self, spark: SparkSession) -> DataFrame:
        from pyspark.sql.types import StructType

        silver_schema = {f.name: f.dataType for f in _typed_schema(spark, self.contract)}
        schema = StructType()
        for name in self.contract.primary_key:
            schema.add(name, silver_schema[name])
        return spark.createDataFrame(self.keys, schema)

    def locations_frame(self, spark: SparkSession) -> DataFrame:
        return spark.createDataFrame(self.locations, "_file_uri string, _line long")


def _typed_schema(spark: SparkSession, contract: Contract) -> Any:
    one = spark.createDataFrame([tuple(None for _ in contract.columns)], _raw_schema(contract))
    return conform(one, contract, _empty_countries(spark), b"0" * 32).schema.fields


def _raw_schema(contract: Contract) -> str:
    return ", ".join(f"`{c.name}` string" for c in contract.columns)


def _empty_countries(spark: SparkSession) -> DataFrame:
    return spark.createDataFrame(
        [], "raw string, iso3 string, label_fr string, status string, reason_fr string"
    )


def typed_criteria(
    spark: SparkSession, contract: Contract, subject: Subject, key: bytes
) -> dict[str, Any]:
    """The criteria as ingestion types them (dates, pseudonyms, countries)."""
    given = dict(subject.criteria)
    raw = spark.createDataFrame(
        [tuple(given.get(c.name) for c in contract.columns)], _raw_schema(contract)
    )
    countries = country_lookup(spark, raw, contract)
    row = conform(raw, contract, countries, key).first()
    assert row is not None
    typed = {}
    for column, value in given.items():
        if row[column] is None:
            spec = contract.column(column)
            raise SubjectError(
                f"{contract.source}: {value!r} cannot be read as the {spec.type} of column "
                f"{column!r}.",
                fix=f"give it as the silo delivers it (dates: {', '.join(contract.date_formats)})",
                source=contract.source,
                column=column,
            )
        typed[column] = row[column]
    return typed


def _condition(typed: Mapping[str, Any]) -> Column:
    from functools import reduce

    from pyspark.sql import functions as F

    return reduce(lambda a, b: a & b, [F.col(c) == F.lit(v) for c, v in typed.items()])


def _versions(spark: SparkSession, uri: str) -> list[int | None]:
    """The current version (``None``) then every older one, newest first."""
    if not delta_io.table_exists(spark, uri):
        return []
    return [None, *range(delta_io.table_version(spark, uri) - 1, -1, -1)]


def _loadable(spark: SparkSession, uri: str, version: int | None, read: Any) -> list[Any]:
    """``read(frame)`` on one version of ``uri``; [] when time travel cannot load it any more
    (log entries truncated, data files vacuumed). The current version must load."""
    try:
        return list(read(delta_io.read_table(spark, uri, version=version)))
    except Exception:
        if version is None:
            raise
        return []


def match_source(
    spark: SparkSession, settings: Settings, contract: Contract, subject: Subject, key: bytes
) -> SourceMatch:
    """Find the subject's keys and bronze/quarantine locations in one source: in every table
    of the registry (:func:`lake.copies.tables`: hot and archived), in every version time
    travel can still load. Counts are those of the current hot tables and of the archive."""
    from pyspark.sql import functions as F

    match = SourceMatch(contract)
    typed = typed_criteria(spark, contract, subject, key)
    match.typed = typed
    condition = _condition(typed)
    pk = list(contract.primary_key)
    stores = copies.tables(settings, contract.source)
    uris = {s.key: f"{lake_root(settings)}/{s.key}" for s in stores}

    def conformed(raw: DataFrame) -> DataFrame:
        return conform(raw, contract, country_lookup(spark, raw, contract), key)

    keys: set[tuple[Any, ...]] = set()
    for store in stores:
        if store.layer not in ("bronze", "silver"):
            continue
        uri = uris[store.key]
        for version in _versions(spark, uri):

            def read(frame: DataFrame, layer: str = store.layer) -> list[Any]:
                frame = conformed(frame) if layer == "bronze" else frame
                return frame.filter(condition).select(*pk).distinct().collect()

            keys |= {tuple(r) for r in _loadable(spark, uri, version, read)}
    keys = {k for k in keys if all(v is not None for v in k)}
    match.keys = sorted(keys, key=lambda k: tuple(str(v) for v in k))
    locations: set[Location] = set()
    for store in stores:
        if store.layer != "bronze":
            continue
        uri = uris[store.key]
        for version in _versions(spark, uri):

            def lines(frame: DataFrame) -> list[Any]:
                bronze = conformed(frame)
                hits = bronze.filter(condition).select("_file_uri", "_line")
                if keys:
                    by_key = bronze.join(
                        F.broadcast(match.keys_frame(spark)), on=pk, how="left_semi"
                    )
                    hits = hits.union(by_key.select("_file_uri", "_line"))
                return hits.distinct().collect()

            found = {(r[0], int(r[1])) for r in _loadable(spark, uri, version, lines)}
            if version is None:
                match.rows[store.key] = len(found)
            locations |= found
    needles = [str(v) for k in keys for v in k if isinstance(v, str)]
    given = [v for _, v in subject.criteria]
    for store in stores:
        uri = uris[store.key]
        if store.layer != "quarantine" or not delta_io.table_exists(spark, uri):
            continue
        quarantine = delta_io.read_table(spark, uri)
        raw_hit = F.lit(False)
        if needles:
            raw_hit = raw_hit | F.array_contains(
                F.array(*[F.instr(F.col("raw"), n) > 0 for n in needles]), True
            )
        raw_hit = raw_hit | F.array_min(F.array(*[F.instr(F.col("raw"), v) > 0 for v in given]))
        malformed = quarantine.filter(F.col("raw").isNotNull() & raw_hit)
        locations |= {(r[0], int(r[1])) for r in malformed.select("_file_uri", "_line").collect()}
    for store in stores:
        uri = uris[store.key]
        if store.layer == "bronze" or not delta_io.table_exists(spark, uri):
            continue
        table = delta_io.read_table(spark, uri)
        if store.layer == "silver":
            match.rows[store.key] = (
                table.join(match.keys_frame(spark), on=pk, how="inner").count() if keys else 0
            )
        elif locations:
            match.rows[store.key] = table.join(
                spark.createDataFrame(sorted(locations), "_file_uri string, _line long"),
                on=["_file_uri", "_line"],
                how="inner",
            ).count()
    hot = {s.layer: match.rows.get(s.key, 0) for s in stores if s.role != "archive"}
    match.bronze_rows = hot.get("bronze", 0)
    match.silver_rows = hot.get("silver", 0)
    match.quarantine_rows = hot.get("quarantine", 0)
    match.locations = sorted(locations)
    return match


def needles_of(match: SourceMatch, subject: Subject) -> Needles:
    """What names the person in a stored text: their business keys and pseudonyms (whole
    words), or every criterion together (as given and as typed) when none is a key."""
    pk = set(match.contract.primary_key)
    identifiers = {str(v) for k in match.keys for v in k if v is not None and len(str(v)) >= 4}
    given = dict(subject.criteria)
    typed = match.typed
    if pk <= set(given):
        identifiers |= {given[c] for c in pk} | {str(typed[c]) for c in pk if c in typed}
    pseudonymised = {c.name for c in match.contract.columns if c.pseudonymise}
    identifiers |= {str(typed[c]) for c in pseudonymised if c in typed}
    together: list[tuple[str, ...]] = []
    if not pk <= set(given):
        together.append(tuple(given.values()))
        together.append(tuple(str(v) for v in typed.values()))
    return Needles(frozenset(i for i in identifiers if len(i) >= 4), tuple(together))
