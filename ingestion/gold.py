"""Gold: business indicators per domain, recomputed from silver at each run.

Each indicator is declared once (:data:`INDICATORS`) with its French description, its grain and
its sources, and is a pure function of the silver DataFrames. Tables about people apply the
statistical secret: a cell counting fewer than ``security.min_cell_count`` people is suppressed
(count null, ``secret_statistique`` true) so nobody can be singled out. Gold tables are rewritten
whole (``overwrite``): a rerun gives the same rows, older versions stay readable.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ingestion.runlog import IngestionError, RunRecord, now
from lake import delta_io
from lake.contracts import get_contract
from lake.gates import TableGate
from lake.lineage import LineageSink, NoLineage
from lake.settings import Settings
from lake.storage import table_uri

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Indicator:
    """A gold table: what it means, at which grain, from which sources."""

    name: str
    domain: str
    description: str
    grain: tuple[str, ...]
    sources: tuple[str, ...]
    build: Callable[[Mapping[str, DataFrame], Settings], DataFrame]
    personal: bool = False
    # Columns that count or sum something (never negative; reviewed by the gold gate).
    measures: tuple[str, ...] = ()
    # Column lineage, declared because the project knows its transforms (Spark's listener is
    # unreliable here): gold column -> (silver column, OpenLineage TYPE/SUBTYPE) of the first
    # source. Counts of rows come from the source's key.
    lineage: Mapping[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)


def _suppress_small(df: DataFrame, count: str, threshold: int) -> DataFrame:
    from pyspark.sql import functions as F

    small = F.col(count) < threshold
    return df.withColumn("secret_statistique", small).withColumn(
        count, F.when(small, F.lit(None)).otherwise(F.col(count))
    )


def _adoptions(silver: Mapping[str, DataFrame], _: Settings) -> DataFrame:
    from pyspark.sql import functions as F

    return (
        silver["adoptions"]
        .groupBy(
            F.col("country_of_origin").alias("pays_iso3"),
            F.col("country_of_origin_label").alias("pays"),
            F.col("year").alias("annee"),
            F.col("age_band").alias("tranche_age"),
        )
        .agg(F.count("*").alias("adoptions"))
    )


def _registered(silver: Mapping[str, DataFrame], settings: Settings) -> DataFrame:
    from pyspark.sql import functions as F

    counts = (
        silver["consular_register"]
        .groupBy(
            F.col("country").alias("pays_iso3"),
            F.col("country_label").alias("pays"),
            F.col("consular_post").alias("poste_consulaire"),
        )
        .agg(F.count("*").alias("inscrits"))
    )
    return _suppress_small(counts, "inscrits", settings.security.min_cell_count)


def _pvt(silver: Mapping[str, DataFrame], _: Settings) -> DataFrame:
    from pyspark.sql import functions as F

    return (
        silver["pvt_visas"]
        .groupBy(
            F.col("partner_country").alias("pays_iso3"),
            F.col("partner_country_label").alias("pays"),
            F.col("year").alias("annee"),
        )
        .agg(F.sum("visas_issued").alias("visas_delivres"))
    )


def _aid(silver: Mapping[str, DataFrame], _: Settings) -> DataFrame:
    from pyspark.sql import functions as F

    return (
        silver["development_aid"]
        .groupBy(
            F.col("country").alias("pays_iso3"),
            F.col("country_label").alias("pays"),
            F.col("dac_sector").alias("secteur_cad"),
            F.year("start_date").alias("annee"),
        )
        .agg(F.sum("amount_eur").alias("montant_eur"), F.count("*").alias("projets"))
    )


_SEVERITY = {"vert": 1, "jaune": 2, "orange": 3, "rouge": 4}


def _severity(colour: Column) -> Column:
    from pyspark.sql import functions as F

    expr = F.lit(None)
    for name, level in _SEVERITY.items():
        expr = F.when(colour == name, F.lit(level)).otherwise(expr)
    return expr


def _vigilance(silver: Mapping[str, DataFrame], _: Settings) -> DataFrame:
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    advice = silver["travel_advice"].filter(F.col("effective_date") <= F.current_date())
    latest = Window.partitionBy("country", "zone").orderBy(F.col("effective_date").desc())
    current = advice.withColumn("__r", F.row_number().over(latest)).filter("__r = 1")
    by_level = {v: k for k, v in _SEVERITY.items()}
    level = F.max(_severity(F.col("colour")))
    colour = F.lit(None)
    for lvl, name in by_level.items():
        colour = F.when(F.col("niveau") == lvl, F.lit(name)).otherwise(colour)
    return (
        current.groupBy(F.col("country").alias("pays_iso3"), F.col("country_label").alias("pays"))
        .agg(
            level.alias("niveau"),
            F.count("*").alias("zones"),
            F.max("effective_date").alias("depuis"),
        )
        .withColumn("couleur_la_plus_severe", colour)
    )


def _civil_status(silver: Mapping[str, DataFrame], _: Settings) -> DataFrame:
    from pyspark.sql import functions as F

    return (
        silver["civil_status"]
        .groupBy(
            F.col("consular_post").alias("poste_consulaire"),
            F.col("act_type").alias("type_acte"),
            F.col("year").alias("annee"),
        )
        .agg(F.count("*").alias("actes"))
    )


INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        "adoptions_par_pays_annee_age",
        "adoption",
        "Nombre d'adoptions internationales par pays d'origine, année et tranche d'âge "
        "de l'enfant.",
        ("pays_iso3", "annee", "tranche_age"),
        ("adoptions",),
        _adoptions,
        measures=("adoptions",),
        lineage={
            "pays_iso3": (("country_of_origin", "DIRECT/IDENTITY"),),
            "pays": (("country_of_origin_label", "DIRECT/IDENTITY"),),
            "annee": (("year", "DIRECT/IDENTITY"),),
            "tranche_age": (("age_band", "DIRECT/IDENTITY"),),
            "adoptions": (
                ("adoption_id", "DIRECT/AGGREGATION"),
                ("country_of_origin", "INDIRECT/GROUP_BY"),
                ("year", "INDIRECT/GROUP_BY"),
                ("age_band", "INDIRECT/GROUP_BY"),
            ),
        },
    ),
    Indicator(
        "inscrits_par_pays_poste",
        "administration des Français",
        "Nombre de Français inscrits au registre par pays et poste consulaire ; les "
        "cellules comptant trop peu de personnes pour protéger l'anonymat sont masquées "
        "(secret statistique, seuil security.min_cell_count).",
        ("pays_iso3", "poste_consulaire"),
        ("consular_register",),
        _registered,
        personal=True,
        measures=("inscrits",),
        lineage={
            "pays_iso3": (("country", "DIRECT/IDENTITY"),),
            "pays": (("country_label", "DIRECT/IDENTITY"),),
            "poste_consulaire": (("consular_post", "DIRECT/IDENTITY"),),
            "inscrits": (
                ("registration_id", "DIRECT/AGGREGATION"),
                ("country", "INDIRECT/GROUP_BY"),
                ("consular_post", "INDIRECT/GROUP_BY"),
            ),
            "secret_statistique": (("registration_id", "DIRECT/AGGREGATION"),),
        },
    ),
    Indicator(
        "pvt_par_pays_annee",
        "mobilité",
        "Visas vacances-travail délivrés par pays partenaire et année.",
        ("pays_iso3", "annee"),
        ("pvt_visas",),
        _pvt,
        measures=("visas_delivres",),
        lineage={
            "pays_iso3": (("partner_country", "DIRECT/IDENTITY"),),
            "pays": (("partner_country_label", "DIRECT/IDENTITY"),),
            "annee": (("year", "DIRECT/IDENTITY"),),
            "visas_delivres": (
                ("visas_issued", "DIRECT/AGGREGATION"),
                ("partner_country", "INDIRECT/GROUP_BY"),
                ("year", "INDIRECT/GROUP_BY"),
            ),
        },
    ),
    Indicator(
        "aide_par_pays_secteur_annee",
        "aide au développement",
        "Montants d'aide publique au développement (euros) et nombre de projets par "
        "pays, secteur CAD de l'OCDE et année de début.",
        ("pays_iso3", "secteur_cad", "annee"),
        ("development_aid",),
        _aid,
        measures=("montant_eur", "projets"),
        lineage={
            "pays_iso3": (("country", "DIRECT/IDENTITY"),),
            "pays": (("country_label", "DIRECT/IDENTITY"),),
            "secteur_cad": (("dac_sector", "DIRECT/IDENTITY"),),
            "annee": (("start_date", "DIRECT/TRANSFORMATION"),),
            "montant_eur": (
                ("amount_eur", "DIRECT/AGGREGATION"),
                ("country", "INDIRECT/GROUP_BY"),
                ("dac_sector", "INDIRECT/GROUP_BY"),
                ("start_date", "INDIRECT/GROUP_BY"),
            ),
            "projets": (
                ("project_id", "DIRECT/AGGREGATION"),
                ("country", "INDIRECT/GROUP_BY"),
                ("dac_sector", "INDIRECT/GROUP_BY"),
                ("start_date", "INDIRECT/GROUP_BY"),
            ),
        },
    ),
    Indicator(
        "vigilance_actuelle_par_pays",
        "sécurité des voyageurs",
        "Niveau de vigilance en vigueur par pays : la couleur la plus sévère parmi ses "
        "zones (vert < jaune < orange < rouge).",
        ("pays_iso3",),
        ("travel_advice",),
        _vigilance,
        measures=("zones",),
        lineage={
            "pays_iso3": (("country", "DIRECT/IDENTITY"),),
            "pays": (("country_label", "DIRECT/IDENTITY"),),
            "niveau": (
                ("colour", "DIRECT/AGGREGATION"),
                ("effective_date", "INDIRECT/FILTER"),
            ),
            "zones": (
                ("zone", "DIRECT/AGGREGATION"),
                ("effective_date", "INDIRECT/FILTER"),
            ),
            "depuis": (("effective_date", "DIRECT/AGGREGATION"),),
            "couleur_la_plus_severe": (
                ("colour", "DIRECT/AGGREGATION"),
                ("effective_date", "INDIRECT/FILTER"),
            ),
        },
    ),
    Indicator(
        "actes_etat_civil_par_poste_type_annee",
        "état civil",
        "Nombre d'actes d'état civil dressés par poste, type d'acte et année.",
        ("poste_consulaire", "type_acte", "annee"),
        ("civil_status",),
        _civil_status,
        measures=("actes",),
        lineage={
            "poste_consulaire": (("consular_post", "DIRECT/IDENTITY"),),
            "type_acte": (("act_type", "DIRECT/IDENTITY"),),
            "annee": (("year", "DIRECT/IDENTITY"),),
            "actes": (
                ("act_id", "DIRECT/AGGREGATION"),
                ("consular_post", "INDIRECT/GROUP_BY"),
                ("act_type", "INDIRECT/GROUP_BY"),
                ("year", "INDIRECT/GROUP_BY"),
            ),
        },
    ),
)


def build_gold(
    spark: SparkSession,
    settings: Settings,
    *,
    run_id: str,
    gate: TableGate,
    sources: set[str] | None = None,
    lineage: LineageSink | None = None,
    progress: Progress = lambda _: None,
) -> list[RunRecord]:
    """Recompute every indicator whose sources have a silver table (and, if given, one of
    ``sources`` among them).

    Each new content is reviewed by ``gate`` (``quality.gate.GoldGate``) before it replaces the
    old one; a blocked indicator keeps its previous version and is logged as blocked. Each
    indicator recomputed is reported to ``lineage`` with its declared column lineage.
    """
    sink = lineage or NoLineage()
    records = []
    for indicator in INDICATORS:
        if sources is not None and not sources & set(indicator.sources):
            continue
        uris = {s: table_uri(settings, "silver", s) for s in indicator.sources}
        if not all(delta_io.table_exists(spark, u) for u in uris.values()):
            continue
        records.append(_build_one(spark, settings, indicator, uris, run_id, gate, sink, progress))
    return records


def _build_one(
    spark: SparkSession,
    settings: Settings,
    indicator: Indicator,
    uris: dict[str, str],
    run_id: str,
    gate: TableGate,
    sink: LineageSink,
    progress: Progress,
) -> RunRecord:
    from ingestion.lineage_plan import gold_step

    started = now()
    uri = table_uri(settings, "gold", indicator.name)
    first = get_contract(settings.root, indicator.sources[0])
    record = RunRecord(
        run_id=run_id,
        batch_id=f"gold-{indicator.name}-{run_id}",
        source=",".join(indicator.sources),
        layer="gold",
        status="failed",
        started_at=started,
        file_uri=uri,
    )
    inputs = {s: delta_io.table_version(spark, u) for s, u in uris.items()}
    if _built_from(spark, uri) == inputs:
        record.status = "skipped"
        record.finished_at = now()
        record.table_version = delta_io.table_version(spark, uri)
        record.message = "silver inchangé depuis le dernier calcul"
        progress(f"  gold/{indicator.name}: silver unchanged, skipped")
        return record
    job = f"gold.{indicator.name}"
    read, _ = gold_step(settings, indicator, first.owner, min_cell_count=0)
    step_run = sink.start(job, run_id=run_id, inputs=read)
    try:
        silver = {s: delta_io.read_table(spark, u, version=inputs[s]) for s, u in uris.items()}
        record.rows_in = sum(df.count() for df in silver.values())
        table = indicator.build(silver, settings).persist()
        try:
            if set(table.columns) != set(indicator.lineage):
                raise IngestionError(
                    f"Gold indicator {indicator.name}: its declared lineage names "
                    f"{sorted(indicator.lineage)} but it produces {sorted(table.columns)}.",
                    fix="update Indicator.lineage in ingestion/gold.py with the transform",
                )
            verdict = gate(
                table,
                name=indicator.name,
                # reviewed with the business domain (and owner) of its first source
                domain=first.domain,
                grain=indicator.grain,
                count_columns=indicator.measures,
                secret=indicator.personal,
                run_id=run_id,
            )
            columns = [(f.name, f.dataType.simpleString()) for f in table.schema.fields]
            version = None
            if not verdict.blocked:
                version = _write(spark, uri, indicator, table, run_id, inputs)
        finally:
            table.unpersist()
    except BaseException as exc:
        sink.fail(job, step_run, error=f"{type(exc).__name__}: {exc}", inputs=read)
        raise
    verdict.record(version)
    record.quality = verdict.decision
    record.status = "succeeded"
    record.finished_at = now()
    if version is None:
        record.table_version = (
            delta_io.table_version(spark, uri) if delta_io.table_exists(spark, uri) else None
        )
        record.message = "indicateur retenu par la revue de qualité : " + " ; ".join(
            verdict.reasons
        )
        sink.complete(job, step_run, inputs=read, outputs=[])
        progress(f"  gold/{indicator.name}: BLOCKED by quality review")
        return record
    record.table_version = version
    record.rows_out = delta_io.read_table(spark, uri, version=version).count()
    record.message = indicator.description
    read, written = gold_step(
        settings,
        indicator,
        first.owner,
        record,
        min_cell_count=settings.security.min_cell_count,
        columns=columns,
        assertions=verdict.assertions,
    )
    sink.complete(job, step_run, inputs=read, outputs=written)
    progress(
        f"  gold/{indicator.name}: {record.rows_out} rows from {record.rows_in} silver rows "
        f"(quality {verdict.decision})"
    )
    return record


def _write(
    spark: SparkSession,
    uri: str,
    indicator: Indicator,
    table: DataFrame,
    run_id: str,
    inputs: dict[str, int],
) -> int:
    _describe(spark, uri, indicator, table)
    return delta_io.write_table(
        table,
        uri,
        mode="overwrite",
        merge_schema=True,
        commit_info={
            "run_id": run_id,
            "silver_versions": inputs,
            "grain": list(indicator.grain),
            "sources": list(indicator.sources),
        },
    )


def _built_from(spark: SparkSession, uri: str) -> dict[str, int] | None:
    """The silver versions the current gold table was computed from (None if unknown)."""
    import json

    if not delta_io.table_exists(spark, uri):
        return None
    for commit in delta_io.history(spark, uri, limit=5):
        if commit["operation"] == "WRITE" and commit["userMetadata"]:
            versions = json.loads(commit["userMetadata"]).get("silver_versions")
            return {k: int(v) for k, v in versions.items()} if versions else None
    return None


def _describe(spark: SparkSession, uri: str, indicator: Indicator, table: DataFrame) -> None:
    """Create the table with its French description, grain and sources as table metadata."""

    def quote(text: str) -> str:
        return text.replace("\\", "\\\\").replace("'", "\\'")

    if delta_io.table_exists(spark, uri):
        return
    delta_io.write_table(table.limit(0), uri, mode="error")
    spark.sql(
        f"ALTER TABLE delta.`{uri}` SET TBLPROPERTIES ("
        f"'comment' = '{quote(indicator.description)}', "
        f"'lake.domain' = '{quote(indicator.domain)}', "
        f"'lake.grain' = '{quote(','.join(indicator.grain))}', "
        f"'lake.sources' = '{quote(','.join(indicator.sources))}')"
    )
