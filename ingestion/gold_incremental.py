"""Incremental gold: which groups of an indicator changed since its last build, and the new table.

A gold indicator aggregates silver rows by group. When only some silver rows changed since the
build the gold table holds, only the groups those rows fall in can change: they are read from
each silver table's Change Data Feed (every inserted and deleted row, and both images of an
updated one, between the version gold was built from and the current one), recomputed with the
indicator's own ``build`` on the silver rows of those groups only - so the statistical secret
is applied exactly as in a full recompute - and put in place of their old rows. Groups left
with no silver row disappear. The result is the table a full recompute would give
(decision 0013); whenever that cannot be shown, the plan says why and gold recomputes whole.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ingestion.indicators import Indicator
from lake import delta_io
from lake.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

# Silver commits whose changed rows the feed records as they are. Anything else in the range
# (an overwrite, a schema change, a restore, the feed being switched on) means a full recompute.
_FEED_OPERATIONS = frozenset(
    {"MERGE", "DELETE", "UPDATE", "OPTIMIZE", "VACUUM START", "VACUUM END", "REORG"}
)
# Gold commits that change no row: gold is still what its last build wrote.
_NO_ROW_OPERATIONS = frozenset(
    {
        "OPTIMIZE",
        "VACUUM START",
        "VACUUM END",
        "REORG",
        "SET TBLPROPERTIES",
        "UNSET TBLPROPERTIES",
        "CHANGE COLUMN",
    }
)
# Above this many groups the new table is written whole rather than by a predicate per group:
# Spark's generated code for a longer chain of null-safe comparisons grows past what its
# compiler takes (it then logs an error and interprets the predicate); a gold table is small.
MAX_REPLACED_GROUPS = 16


@dataclass(frozen=True)
class Plan:
    """How gold computes one indicator at this run.

    Attributes:
        groups: The changed groups (one column per grain column), or None: recompute whole.
        count: How many groups changed (0 when whole).
        reason: Why it is recomputed whole, in English (progress); empty when incremental.
        raison: The same in French (run log).
    """

    groups: DataFrame | None
    count: int = 0
    reason: str = ""
    raison: str = ""
    values: tuple[tuple[Any, ...], ...] = ()

    @property
    def incremental(self) -> bool:
        return self.groups is not None


def _whole(reason: str, raison: str) -> Plan:
    return Plan(groups=None, reason=reason, raison=raison)


def built_from(spark: SparkSession, uri: str) -> dict[str, int] | None:
    """The silver versions the gold table's rows were computed from, or None when unknown: no
    build recorded, or a later commit that changed rows without saying from what."""
    if not delta_io.table_exists(spark, uri):
        return None
    for commit in delta_io.history(spark, uri, limit=50):
        meta = json.loads(commit["userMetadata"]) if commit["userMetadata"] else {}
        versions = meta.get("silver_versions") if isinstance(meta, dict) else None
        if versions:
            return {k: int(v) for k, v in versions.items()}
        if commit["operation"] not in _NO_ROW_OPERATIONS:
            return None
    return None


def plan(
    spark: SparkSession,
    indicator: Indicator,
    uris: dict[str, str],
    built: dict[str, int] | None,
    inputs: dict[str, int],
    *,
    enabled: bool = True,
) -> Plan:
    """The groups of ``indicator`` whose silver rows changed between the versions gold was
    ``built`` from and ``inputs``, or why the indicator must be recomputed whole.

    Reads each changed source's Change Data Feed (one small Spark job per source) and collects
    the distinct grain values of its rows: a gold table is small, and so is this set. No group
    (silver committed without changing a row: a compaction, a merge of known rows) means gold is
    still right: the caller skips it.
    """
    from functools import reduce

    if not enabled:
        return _whole("gold.incremental is false", "gold.incremental = false")
    if indicator.whole_only:
        return _whole("always recomputed whole", indicator.whole_only)
    grains = {s: indicator.grain_on(s) for s in indicator.sources}
    unmapped = [s for s, grain in grains.items() if grain is None]
    if unmapped:
        return _whole(
            f"its grain is not a function of silver/{unmapped[0]}'s columns",
            f"sa maille ne se lit pas sur les colonnes de silver/{unmapped[0]}",
        )
    if built is None or set(built) != set(inputs):
        return _whole("no earlier build recorded", "pas de calcul précédent connu pour ces sources")
    frames = []
    for source, uri in uris.items():
        start, end = built[source] + 1, inputs[source]
        if start > end + 1:
            return _whole(
                f"silver/{source} is older than gold's last build",
                f"silver/{source} est antérieur au dernier calcul",
            )
        if start > end:
            continue
        grain = grains[source] or {}
        covered = _feed_covers(spark, uri, start, end)
        if covered:
            return _whole(f"silver/{source}: {covered[0]}", f"silver/{source} : {covered[1]}")
        changes = delta_io.read_changes(spark, uri, start=start, end=end)
        frames.append(changes.selectExpr(*[f"{sql} AS `{g}`" for g, sql in grain.items()]))
    if not frames:
        return Plan(groups=spark.createDataFrame([], _grain_schema(spark, indicator, uris)))
    changed = reduce(lambda a, b: a.unionByName(b), frames).distinct()
    try:
        rows = changed.collect()
    except Exception as exc:  # a change file vacuumed since, a log entry removed...
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        return _whole(
            f"its change feed cannot be read ({first})",
            f"le flux des changements de silver ne se lit plus ({first})",
        )
    groups = spark.createDataFrame(rows, changed.schema)
    return Plan(groups=groups, count=len(rows), values=tuple(tuple(r) for r in rows))


def _grain_schema(spark: SparkSession, indicator: Indicator, uris: dict[str, str]) -> Any:
    """The grain's types as the first source's silver gives them (for an empty set of groups)."""
    source = indicator.sources[0]
    grain = indicator.grain_on(source) or {g: "CAST(NULL AS STRING)" for g in indicator.grain}
    silver = delta_io.read_table(spark, uris[source]).limit(0)
    return silver.selectExpr(*[f"{sql} AS `{g}`" for g, sql in grain.items()]).schema


def _feed_covers(spark: SparkSession, uri: str, start: int, end: int) -> tuple[str, str] | None:
    """None when the Change Data Feed holds every change of versions ``start``..``end``; else
    why not (English, French)."""
    if delta_io.properties_of(spark, uri).get("delta.enableChangeDataFeed") != "true":
        return ("no change data feed", "pas de flux des changements (Change Data Feed)")
    commits = {
        int(c["version"]): c for c in delta_io.history(spark, uri, limit=end - start + 1 + 20)
    }
    missing = [v for v in range(start, end + 1) if v not in commits]
    if missing:
        return (
            f"versions {missing[0]}..{missing[-1]} no longer in its log",
            f"versions {missing[0]} à {missing[-1]} absentes de son journal",
        )
    for version in range(start, end + 1):
        commit = commits[version]
        operation = commit["operation"]
        mode = commit["operationParameters"].get("mode", "")
        if operation == "WRITE" and mode == "Append":
            continue
        if operation not in _FEED_OPERATIONS:
            shown = f"{operation} ({mode})" if mode else operation
            return (
                f"version {version} is a {shown}, not a change by row",
                f"la version {version} est un {shown}, pas une modification par ligne",
            )
    return None


def rows_of_groups(silver: DataFrame, grain: dict[str, str], groups: DataFrame) -> DataFrame:
    """The silver rows that fall in ``groups`` (grain compared null-safely: ``<=>``)."""
    from functools import reduce

    from pyspark.sql import functions as F

    keys = groups.select(*[F.col(f"`{g}`").alias(f"__grain_{i}") for i, g in enumerate(grain)])
    matched = [
        F.expr(sql).eqNullSafe(F.col(f"__grain_{i}")) for i, sql in enumerate(grain.values())
    ]
    return silver.join(F.broadcast(keys), reduce(lambda a, b: a & b, matched), "left_semi")


def outside_groups(table: DataFrame, grain: tuple[str, ...], groups: DataFrame) -> DataFrame:
    """The rows of ``table`` whose grain is not one of ``groups`` (null-safe)."""
    from functools import reduce

    from pyspark.sql import functions as F

    keys = groups.select(*[F.col(f"`{g}`").alias(f"__grain_{i}") for i, g in enumerate(grain)])
    matched = [F.col(f"`{g}`").eqNullSafe(F.col(f"__grain_{i}")) for i, g in enumerate(grain)]
    return table.join(F.broadcast(keys), reduce(lambda a, b: a & b, matched), "left_anti")


def replace_predicate(grain: tuple[str, ...], values: tuple[tuple[Any, ...], ...]) -> str | None:
    """A SQL predicate matching exactly the rows of these groups (``<=>``, so null grain values
    match), or None when a value has no literal here or there are too many groups."""
    if not values or len(values) > MAX_REPLACED_GROUPS:
        return None
    clauses = []
    for row in values:
        parts = []
        for column, value in zip(grain, row, strict=True):
            literal = _literal(value)
            if literal is None:
                return None
            parts.append(f"`{column}` <=> {literal}")
        clauses.append("(" + " AND ".join(parts) + ")")
    return " OR ".join(clauses)


def _literal(value: Any) -> str | None:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value}L" if abs(value) > 2**31 - 1 else str(value)
    if isinstance(value, Decimal):
        return f"{value}BD"
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, dt.datetime):
        return None  # time zones make a timestamp literal ambiguous: written whole instead
    if isinstance(value, dt.date):
        return f"DATE'{value.isoformat()}'"
    return None


@dataclass
class Change:
    """What this run computes for one indicator: the whole table, or its changed groups.

    Attributes:
        plan: The plan it follows (why whole, or which groups).
        table: The new table when incremental: the old rows of the other groups and the
            recomputed ones (the gate reviews all of it); None when recomputed whole.
        recomputed: The changed groups' new rows (persisted), what the write replaces them with.
    """

    plan: Plan
    table: DataFrame | None = None
    recomputed: DataFrame | None = None

    @property
    def incremental(self) -> bool:
        return self.table is not None

    def release(self) -> None:
        """Free the recomputed rows' cache."""
        if self.recomputed is not None:
            self.recomputed.unpersist()

    def said(self, rows: int | None) -> str:
        """One line for the progress output."""
        if self.incremental:
            return f"incremental: {self.plan.count} changed group(s) recomputed of {rows}"
        return f"recomputed whole: {self.plan.reason}"

    def said_fr(self, rows: int | None) -> str:
        """The same for the run log, in French."""
        if self.incremental:
            return (
                f"calcul incrémental : {self.plan.count} groupe(s) modifié(s) recalculé(s) "
                f"sur {rows}"
            )
        return f"recalcul complet : {self.plan.raison}"


def changes(
    spark: SparkSession,
    settings: Settings,
    indicator: Indicator,
    uri: str,
    silver: dict[str, DataFrame],
    whole: DataFrame,
    found: Plan,
) -> Change:
    """The new content of ``indicator``'s gold table at ``uri``: by group when ``found`` (the
    :func:`plan`) allows it, else whole (``whole``, the indicator built on all of ``silver``).

    ``silver`` is each source read at the version the plan was made for; the old rows are read
    at the gold table's current version, so the new table does not move when gold is written.
    """
    if found.groups is None:
        return Change(found)
    old = delta_io.read_table(spark, uri, version=delta_io.table_version(spark, uri))
    if _types(old) != _types(whole):
        return Change(
            _whole(
                "its columns changed since its last build",
                "ses colonnes ont changé depuis le dernier calcul",
            )
        )
    rows = {
        source: rows_of_groups(frame, indicator.grain_on(source) or {}, found.groups)
        for source, frame in silver.items()
    }
    recomputed = indicator.build(rows, settings).persist()
    # the grain declared per source must be what the build groups by: a recomputed row outside
    # the changed groups would mean it is not, and only a full recompute is then right
    if outside_groups(recomputed, indicator.grain, found.groups).limit(1).count():
        recomputed.unpersist()
        return Change(
            _whole(
                "a recomputed row falls outside the changed groups (Indicator.grain_sources)",
                "une ligne recalculée sort des groupes modifiés (Indicator.grain_sources)",
            )
        )
    table = outside_groups(old, indicator.grain, found.groups).unionByName(recomputed)
    return Change(found, table, recomputed)


def _types(frame: DataFrame) -> dict[str, str]:
    return {f.name: f.dataType.simpleString() for f in frame.schema.fields}
