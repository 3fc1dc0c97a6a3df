"""The gold indicators of the lake: each declared once, a pure function of silver DataFrames.

Each :class:`Indicator` carries its French description, its grain, its sources and its declared
column lineage; :mod:`ingestion.gold` builds, reviews and writes them, and
:mod:`ingestion.lineage_plan` describes their lineage. Tables about people apply the statistical
secret: a cell counting fewer than ``security.min_cell_count`` people is suppressed (count null,
``secret_statistique`` true) so nobody can be singled out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lake.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame


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
    # source. Counts of rows come from the source's key. Checked at every run against the
    # lineage of the built DataFrame's analysed plan (ingestion.lineage_plan.check_observed).
    lineage: Mapping[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    # How each grain column reads on a source's silver rows (SQL over the silver columns), for
    # gold to recompute only the groups whose rows changed (decision 0013). Declared where the
    # lineage cannot say it: a grain column the lineage maps to one column of the first source
    # as DIRECT/IDENTITY needs no declaration (see grain_on).
    grain_sources: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # Why the indicator is always recomputed whole (empty: it may be recomputed by group).
    whole_only: str = ""

    def grain_on(self, source: str) -> dict[str, str] | None:
        """Each grain column as a SQL expression over ``source``'s silver rows, or None when one
        cannot be told (then the indicator is recomputed whole).

        A silver row feeds exactly the gold rows whose grain equals these expressions on it,
        which is what lets gold recompute only the groups of the rows that changed.
        """
        declared = self.grain_sources.get(source, {})
        mapped = {}
        for column in self.grain:
            if column in declared:
                mapped[column] = declared[column]
                continue
            edges = self.lineage.get(column, ())
            if source != self.sources[0] or len(edges) != 1 or edges[0][1] != "DIRECT/IDENTITY":
                return None
            mapped[column] = f"`{edges[0][0]}`"
        return mapped


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
        grain_sources={"development_aid": {"annee": "year(`start_date`)"}},
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
        whole_only="le niveau en vigueur dépend de la date du jour, pas seulement des lignes "
        "de silver modifiées",
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
