"""How each of the seven silos delivers its extract, and the defects planted in it.

A :class:`Spec` mirrors the silo's contract (format, encoding, delimiter, columns and headers,
the header renamed and the column added in delivery 2) and lists its plants in order.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date

from ingestion.generator.defects import Plant, copy_line, plant, rekey
from ingestion.generator.rows import (
    Row,
    adoption_rows,
    aid_rows,
    civil_rows,
    consular_rows,
    hr_rows,
    pvt_rows,
    shift_date,
    travel_rows,
    update_aid,
    update_hr,
    update_pvt,
    update_travel,
)
from ingestion.generator.vocabularies import NBSP, NNBSP

SOURCES: tuple[str, ...] = (
    "consular_register",
    "adoptions",
    "pvt_visas",
    "civil_status",
    "travel_advice",
    "development_aid",
    "hr_agents",
)
MIN_ROWS = 30
DELIVERY_DATES: dict[int, date] = {1: date(2026, 1, 15), 2: date(2026, 2, 16)}


@dataclass(frozen=True)
class Spec:
    """How one silo delivers its extract (mirrors its contract) and what is planted in it."""

    source: str
    fmt: str  # csv | xlsx | json
    encoding: str
    columns: tuple[str, ...]
    headers: tuple[str, ...]
    rows: Callable[[random.Random], Iterator[Row]]
    update: Callable[[Row], Row]
    updated_column: str
    plants: tuple[Plant, ...]
    delimiter: str = ";"
    newline: str = "\n"
    iso_dates: bool = False
    renamed: tuple[str, str] | None = None  # (column, its header in delivery 2)
    added: str | None = None  # header added in delivery 2
    title: str | None = None  # xlsx: the title row above the header
    sheet: str = "Feuil1"

    @property
    def ext(self) -> str:
        """File extension of the delivered file."""
        return {"csv": "csv", "xlsx": "xlsx", "json": "jsonl"}[self.fmt]

    @property
    def first_line(self) -> int:
        """Line (CSV, JSONL) or row (XLSX) number of the first data record."""
        return {"csv": 2, "xlsx": 3, "json": 1}[self.fmt]


_CONSULAR = Spec(
    source="consular_register",
    fmt="csv",
    encoding="utf-8-sig",
    columns=("registration_id", "last_name", "first_name", "birth_date", "email", "phone",
             "address", "country", "consular_post", "registration_date"),
    headers=("Numéro d'inscription", "Nom", "Prénom", "Date de naissance", "Courriel",
             "Téléphone", "Adresse", "Pays de résidence", "Poste consulaire",
             "Date d'inscription"),
    rows=consular_rows,
    update=shift_date("registration_date", 1096, cap=date(2025, 12, 31)),
    updated_column="registration_date",
    plants=(
        plant("country_variant", "country", "typed", "COTE D IVOIRE", expected_value="CIV",
              also={"consular_post": "Consulat général de France à Abidjan",
                    "address": "Rue des Jardins, Cocody, Abidjan"}),
        plant("null_marker", "email", "typed", "", expected_value=None),
        plant("country_without_iso", "country", "flagged", "Kosovo",
              also={"consular_post": "Ambassade de France au Kosovo",
                    "address": "12 rue Ismail Qemali, Pristina"}),
        plant("bad_date", "birth_date", "quarantine", "04/23/1987"),
        plant("malformed_field_count", None, "quarantine", shape="split",
              also={"address": "Appartement 12; Résidence du Parc"}),
        plant("territory", "country", "flagged", "Hong Kong",
              also={"consular_post": "Consulat général de France à Hong Kong et Macao",
                    "address": "88 Queen's Road East, Wan Chai, Hong Kong"}),
        copy_line(),
        plant("country_variant", "country", "typed", "Etats-Unis", expected_value="USA",
              also={"consular_post": "Consulat général de France à New York",
                    "address": "310 West 86th Street, New York"}),
        plant("unknown_country", "country", "quarantine", "Atlantide"),
        plant("unterminated_quote", None, "quarantine", shape="open_quote",
              also={"address": '"Résidence Les Pins, bâtiment C'}),
        plant("null_in_required", "last_name", "quarantine", ""),
        plant("business_rule", "birth_date", "quarantine", "14/02/2015",
              also={"registration_date": "03/01/2010"}, rule="registration_after_birth"),
        plant("business_rule", "birth_date", "quarantine", "02/03/1850",
              rule="birth_date_plausible"),
        rekey("registration_date"),
    ),
)  # fmt: skip

_ADOPTIONS = Spec(
    source="adoptions",
    fmt="csv",
    encoding="latin-1",
    columns=("adoption_id", "country_of_origin", "year", "age_band", "procedure", "judgment_date"),
    headers=("N° dossier", "Pays d'origine", "Année", "Tranche d'âge", "Procédure",
             "Date du jugement"),
    rows=adoption_rows,
    update=shift_date("judgment_date", 45),
    updated_column="judgment_date",
    plants=(
        plant("null_marker", "judgment_date", "typed", "NC", expected_value=None),
        plant("country_variant", "country_of_origin", "typed", "Cote-d'Ivoire",
              expected_value="CIV"),
        plant("null_marker", "age_band", "typed", "X", expected_value=None),
        plant("bad_number", "year", "quarantine", "2O19"),
        copy_line(),
        plant("null_marker", "procedure", "typed", "N/A", expected_value=None),
        plant("not_allowed", "age_band", "quarantine", "18 mois"),
        plant("null_in_required", "country_of_origin", "quarantine", "NC"),
        plant("bad_date", "judgment_date", "quarantine", "15/13/2019"),
        plant("business_rule", "year", "quarantine", "2099", rule="year_not_future"),
        plant("null_marker", "judgment_date", "typed", "", expected_value=None),
        rekey("judgment_date"),
    ),
    renamed=("country_of_origin", "Pays de naissance de l'enfant"),
    added="Commentaire",
)  # fmt: skip

_PVT = Spec(
    source="pvt_visas",
    fmt="xlsx",
    encoding="utf-8",
    columns=("partner_country", "year", "visas_issued"),
    headers=("Pays partenaire", "Année", "Visas délivrés"),
    rows=pvt_rows,
    update=update_pvt,
    updated_column="visas_issued",
    plants=(
        plant("thousands_separator", "visas_issued", "typed", f"1{NBSP}250", expected_value=1250),
        plant("territory", "partner_country", "flagged", "Hong Kong"),
        plant("thousands_separator", "visas_issued", "typed", f"2{NNBSP}100", expected_value=2100),
        plant("bad_number", "visas_issued", "quarantine", "env. 300"),
        plant("country_variant", "partner_country", "typed", "NOUVELLE ZELANDE",
              expected_value="NZL"),
        plant("thousands_separator", "visas_issued", "typed", "1 020", expected_value=1020),
        plant("business_rule", "year", "quarantine", "2099", rule="year_not_future"),
        rekey("visas_issued"),
    ),
    title="Programmes vacances-travail (PVT) – visas délivrés par pays partenaire et par année",
    sheet="PVT",
)  # fmt: skip

_CIVIL = Spec(
    source="civil_status",
    fmt="csv",
    encoding="cp1252",
    columns=("act_id", "consular_post", "act_type", "year", "registered_on"),
    headers=("Identifiant acte", "Poste", "Type d’acte", "Année", "Date d’enregistrement"),
    rows=civil_rows,
    update=shift_date("registered_on", 14),
    updated_column="registered_on",
    plants=(
        plant("not_allowed", "act_type", "quarantine", "divorce"),
        plant("malformed_field_count", None, "quarantine", shape="split",
              also={"consular_post": "Ambassade de France au Bénin, section consulaire"}),
        copy_line(),
        plant("bad_date", "registered_on", "quarantine", "2021-13-02"),
        plant("null_in_required", "consular_post", "quarantine", ""),
        plant("business_rule", "year", "quarantine", "2024", also={"registered_on": "2019-05-02"},
              rule="registered_after_event_year"),
        plant("unterminated_quote", None, "quarantine", shape="open_quote",
              also={"consular_post": '"Consulat général de France à Genève'}),
        rekey("registered_on"),
    ),
    delimiter=",",
    newline="\r\n",
    iso_dates=True,
)  # fmt: skip

_TRAVEL = Spec(
    source="travel_advice",
    fmt="json",
    encoding="utf-8",
    columns=("country", "zone", "colour", "effective_date"),
    headers=("pays", "zone", "couleur", "date_effet"),
    rows=travel_rows,
    update=update_travel,
    updated_column="colour",
    plants=(
        plant("country_variant", "country", "typed", "Côte d'Ivoire", expected_value="CIV",
              also={"zone": "Nord et frontières avec le Mali et le Burkina"}),
        Plant("invalid_json", None, "quarantine", shape="cut_json"),
        plant("markup_text", "zone", "typed", "<b>Zones frontalières</b>",
              expected_value="<b>Zones frontalières</b>"),
        plant("not_allowed", "colour", "quarantine", "orange foncé"),
        copy_line(),
        plant("territory", "country", "flagged", "Groenland",
              also={"zone": "Ensemble du territoire"}),
        plant("bad_date", "effective_date", "quarantine", "15/03/2025"),
        plant("country_variant", "country", "typed", "United Kingdom", expected_value="GBR",
              also={"zone": "Irlande du Nord"}),
        plant("null_in_required", "zone", "quarantine", ""),
        plant("business_rule", "effective_date", "typed", "2099-01-01",
              expected_value="2099-01-01", rule="effective_not_far_future"),
        rekey("colour"),
    ),
)  # fmt: skip

_AID = Spec(
    source="development_aid",
    fmt="csv",
    encoding="utf-8",
    columns=("project_id", "title", "country", "dac_sector", "amount_eur", "start_date",
             "end_date"),
    headers=("Identifiant projet", "Intitulé", "Pays bénéficiaire", "Code secteur CAD",
             "Montant (EUR)", "Date de début", "Date de fin"),
    rows=aid_rows,
    update=update_aid,
    updated_column="amount_eur",
    plants=(
        plant("decimal_comma", "amount_eur", "typed", "12500,75", expected_value=12500.75),
        plant("formula_text", "title", "typed", "=SUM(A1)", expected_value="=SUM(A1)"),
        plant("thousands_separator", "amount_eur", "typed", "1 250 000,00",
              expected_value=1250000.0),
        plant("unknown_country", "country", "quarantine", "Afrique de l'Ouest (régional)"),
        copy_line(),
        plant("thousands_separator", "amount_eur", "typed", f"87{NBSP}500,50",
              expected_value=87500.5),
        plant("bad_number", "amount_eur", "quarantine", "45 000 €"),
        plant("country_variant", "country", "typed", "Senegal", expected_value="SEN"),
        plant("markup_text", "title", "typed", "<b>Appui</b> à la santé maternelle",
              expected_value="<b>Appui</b> à la santé maternelle"),
        plant("bad_date", "end_date", "quarantine", "2024-09-15"),
        plant("thousands_separator", "amount_eur", "typed", f"3{NNBSP}400{NNBSP}000",
              expected_value=3400000.0),
        plant("null_in_required", "amount_eur", "quarantine", ""),
        plant("business_rule", "end_date", "quarantine", "01/01/2023",
              also={"start_date": "01/06/2024"}, rule="end_after_start"),
        plant("business_rule", "amount_eur", "typed", "750 000 000,00", expected_value=750000000.0,
              rule="amount_plausible"),
        rekey("amount_eur"),
    ),
    renamed=("amount_eur", "Montant engagé (EUR)"),
    added="Commentaire",
)  # fmt: skip

_HR = Spec(
    source="hr_agents",
    fmt="csv",
    encoding="utf-8",
    columns=("agent_id", "last_name", "first_name", "grade", "posting", "posting_country",
             "monthly_pay_eur", "start_date"),
    headers=("Matricule", "Nom", "Prénom", "Grade", "Affectation", "Pays d'affectation",
             "Rémunération mensuelle brute (EUR)", "Date de prise de poste"),
    rows=hr_rows,
    update=update_hr,
    updated_column="grade",
    plants=(
        plant("decimal_comma", "monthly_pay_eur", "typed", "3412,57", expected_value=3412.57),
        plant("country_variant", "posting_country", "typed", "USA", expected_value="USA",
              also={"posting": "Ambassade de France à Washington"}),
        plant("thousands_separator", "monthly_pay_eur", "typed", f"4{NBSP}125,30",
              expected_value=4125.3),
        plant("bad_number", "monthly_pay_eur", "quarantine", "3.412,57"),
        plant("country_without_iso", "posting_country", "flagged", "Kosovo",
              also={"posting": "Ambassade de France à Pristina"}),
        copy_line(),
        plant("bad_date", "start_date", "quarantine", "1er septembre 2019"),
        plant("country_variant", "posting_country", "typed", "ROYAUME UNI", expected_value="GBR",
              also={"posting": "Ambassade de France à Londres"}),
        plant("null_in_required", "grade", "quarantine", ""),
        plant("business_rule", "start_date", "quarantine", "01/09/2099", rule="start_not_future"),
        rekey("grade"),
    ),
)  # fmt: skip

SPECS: dict[str, Spec] = {
    s.source: s for s in (_CONSULAR, _ADOPTIONS, _PVT, _CIVIL, _TRAVEL, _AID, _HR)
}


def spec_for(source: str) -> Spec:
    """The specification of ``source``.

    Raises:
        ValueError: Unknown source; the message lists the valid ones.
    """
    try:
        return SPECS[source]
    except KeyError:
        raise ValueError(
            f"unknown source {source!r}; valid sources: {', '.join(SOURCES)}"
        ) from None


def file_name(source: str, delivery: int) -> str:
    """The name a silo gives its delivery, e.g. ``adoptions_2026-01-15.csv``."""
    spec = spec_for(source)
    return f"{source}_{DELIVERY_DATES[delivery].isoformat()}.{spec.ext}"
