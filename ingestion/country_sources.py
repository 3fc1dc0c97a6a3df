"""The places of the country referential, built from its three sources.

Sources, all shipped with the code (nothing is fetched):

- the INSEE COG 2025 list of foreign countries and territories
  (``data/insee_cog_pays_territoires_2025.csv``, copied unchanged): French names, official names,
  INSEE codes, ISO codes, the parent country of each territory;
- ISO 3166-1 and ISO 3166-3 (countries that no longer exist) through ``pycountry``: English short,
  official and common names, and their French translations shipped by pycountry (Debian
  iso-codes), plus the ISO codes INSEE lacks (Porto Rico, Nouvelle-Calédonie...);
- ``data/country_aliases.csv``: a short curated list of administrative and usual spellings that
  neither source gives (USA variants, RDC, Grande-Bretagne, Hollande...), each with its origin.

:func:`build_places` turns them into :class:`PlaceTables`: every :class:`Place` with its status and
French reason, the codes that name it, and the three tiers of name keys that
:class:`ingestion.countries.CountryReferential` matches against (full names, derived forms,
ISO 3166-3 names).

Decisions, from the data:

- Status ``territory`` means a non-sovereign place *with* an ISO 3166-1 code of its own (or, for
  INSEE's "Territoires espagnols en Afrique du Nord" and "Territoires portugais de l'océan
  Atlantique", the parent's code, as INSEE gives it): INSEE rows with a parent country or
  ``actual_id`` != 1, the foreign territories INSEE only lists inside a group (Porto Rico ->
  PRI, with the group's INSEE code 99432) and French overseas places (Nouvelle-Calédonie -> NCL,
  no INSEE country code since INSEE counts them as France).
- Status ``no_iso_code`` means a known place without an ISO 3166-1 code, so ``iso3`` is None:
  Kosovo (INSEE 99157; no user-assigned XKX is invented), INSEE territory groups without a code
  (e.g. "Territoires norvégiens en Atlantique Nord"), and countries that no longer exist. The
  INSEE 2025 file carries no historical rows, so "Tchécoslovaquie", "URSS", "Yougoslavie",
  "Zaïre"... are recognised from ISO 3166-3 and their reason names the successor ISO gives, if a
  single one; mapping them to today's country is a business decision left to the data owner.
  Names still in use for a current state are aliases of it, not history: "Burma" (MMR),
  "East Timor" (TLS), "RFA" (DEU), "France métropolitaine" (FRA).
- Labels are INSEE's, unchanged (typographic apostrophe: "Côte d’Ivoire"). For places INSEE
  does not list on their own, the label is INSEE's spelling inside its group's official name, or
  the COG name of the French overseas collectivity; for ISO 3166-3 entries it is pycountry's
  French name.
"""

from __future__ import annotations

import csv
import gettext
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Literal

import pycountry

from ingestion.country_names import country_key, historic_label, name_forms, without_article

Status = Literal["ok", "territory", "no_iso_code", "unknown", "ambiguous"]

INSEE_FILE = "insee_cog_pays_territoires_2025.csv"
ALIASES_FILE = "country_aliases.csv"
INSEE_CODE = re.compile(r"99\d{3}")

# Foreign places that ISO 3166-1 codes on their own while the INSEE list only names them inside a
# group (last field: the group's INSEE code), and French overseas places, which INSEE counts as
# France (no INSEE country code). iso3 -> (label_fr, INSEE code of the parent country, group).
# Labels follow INSEE's spelling in the group's official name, or the COG name for France.
_TERRITORIES_OUTSIDE_INSEE: dict[str, tuple[str, str, str | None]] = {
    "AIA": ("Anguilla", "99132", "99425"),
    "BMU": ("Bermudes", "99132", "99425"),
    "CYM": ("Îles Caïmans", "99132", "99425"),
    "MSR": ("Montserrat", "99132", "99425"),
    "TCA": ("Îles Turks-et-Caïcos", "99132", "99425"),
    "VGB": ("Îles Vierges britanniques", "99132", "99425"),
    "FLK": ("Îles Malouines", "99132", "99427"),
    "SGS": ("Géorgie-du-Sud-et-les-îles-Sandwich-du-Sud", "99132", "99427"),
    "GGY": ("Guernesey", "99132", "99161"),
    "IMN": ("Île de Man", "99132", "99161"),
    "JEY": ("Jersey", "99132", "99161"),
    "PRI": ("Porto Rico", "99404", "99432"),
    "VIR": ("Îles Vierges des États-Unis", "99404", "99432"),
    "ASM": ("Îles Samoa américaines", "99404", "99505"),
    "GUM": ("Guam", "99404", "99505"),
    "MNP": ("Îles Mariannes du Nord", "99404", "99505"),
    "UMI": ("Îles mineures éloignées des États-Unis", "99404", "99505"),
    "SJM": ("Svalbard et île Jan Mayen", "99103", "99159"),
    "BVT": ("Île Bouvet", "99103", "99363"),
    "CCK": ("Îles Cocos", "99501", "99265"),
    "CXR": ("Île Christmas", "99501", "99265"),
    "HMD": ("Îles Heard-et-MacDonald", "99501", "99265"),
    "NFK": ("Île Norfolk", "99501", "99522"),
    "TKL": ("Tokelau", "99502", "99519"),
    "GLP": ("Guadeloupe", "99100", None),
    "MTQ": ("Martinique", "99100", None),
    "GUF": ("Guyane", "99100", None),
    "REU": ("La Réunion", "99100", None),
    "MYT": ("Mayotte", "99100", None),
    "SPM": ("Saint-Pierre-et-Miquelon", "99100", None),
    "BLM": ("Saint-Barthélemy", "99100", None),
    "MAF": ("Saint-Martin (partie française)", "99100", None),
    "WLF": ("Wallis-et-Futuna", "99100", None),
    "PYF": ("Polynésie française", "99100", None),
    "NCL": ("Nouvelle-Calédonie", "99100", None),
    "ATF": ("Terres australes et antarctiques françaises", "99100", None),
}

_FRANCE_INSEE = "99100"


@dataclass(frozen=True)
class Place:
    """One place of the referential; ``ident`` tells places apart when detecting ambiguity."""

    ident: str
    iso3: str | None
    iso2: str | None
    label_fr: str
    insee_code: str | None
    status: Status
    reason_fr: str | None


@dataclass(frozen=True)
class PlaceTables:
    """What :func:`build_places` makes of the sources.

    Attributes:
        places: Every place, by ident (its ISO alpha-3, ``INSEE:<code>`` or
            ``ISO3166-3:<alpha-4>``).
        codes: ISO alpha-2 and alpha-3 codes, INSEE codes and unreused ISO 3166-3 alpha-3 codes,
            each to the ident it names.
        tiers: Name keys to idents: full names, derived forms, ISO 3166-3 names (first hit wins).
        source_note: The sources and their sizes, in French, for the reports.
    """

    places: dict[str, Place]
    codes: dict[str, str]
    tiers: tuple[dict[str, set[str]], ...]
    source_note: str


def _read_csv(text: str) -> Iterator[dict[str, str]]:
    # The alias file documents itself in '#' lines, which the csv module does not know.
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    yield from csv.DictReader(io.StringIO("\n".join(lines)))


class _Index:
    """Keys -> set of place idents, for one matching tier."""

    def __init__(self) -> None:
        self.keys: dict[str, set[str]] = {}

    def add(self, name: str | None, ident: str) -> None:
        if name:
            key = country_key(name)
            if key:
                self.keys.setdefault(key, set()).add(ident)


def build_places(insee_csv: str, aliases_csv: str) -> PlaceTables:
    """Build the places, codes and key tiers from the text of the INSEE file and the alias file.

    Args:
        insee_csv: The INSEE COG list of foreign countries and territories, as CSV text.
        aliases_csv: The curated aliases (``alias,code``; ``#`` lines are comments).

    Returns:
        The tables :class:`ingestion.countries.CountryReferential` matches against.

    Raises:
        ValueError: An alias contradicts the sources, is an ISO code, or names a code the
            referential does not know.
    """
    french = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["fr"])
    french_historic = gettext.translation("iso3166-3", pycountry.LOCALES_DIR, languages=["fr"])
    insee_rows = list(_read_csv(insee_csv))
    by_insee = {row["code"]: row for row in insee_rows}
    places: dict[str, Place] = {}
    codes: dict[str, str] = {}
    full, derived, historic = _Index(), _Index(), _Index()

    def canonical(row: dict[str, str]) -> bool:
        return row["actual_id"] == "1" and not row["parent_code"]

    # An ISO code shared by a country and a territory row (ESP, PRT) belongs to the country.
    iso_owner: dict[str, str] = {}
    for row in sorted(insee_rows, key=lambda r: not canonical(r)):
        if row["iso3_code"]:
            iso_owner.setdefault(row["iso3_code"], row["code"])

    for row in insee_rows:
        iso3, iso2, code = row["iso3_code"] or None, row["iso2_code"] or None, row["code"]
        ident = iso3 if iso3 and iso_owner[iso3] == code else f"INSEE:{code}"
        status, reason = _insee_status(row, by_insee)
        places[ident] = Place(ident, iso3, iso2, row["name"], code, status, reason)
        codes[code] = ident
        if ident == iso3 and iso3 and iso2:
            codes[iso3], codes[iso2] = ident, ident
        full.add(row["name"], ident)
        full.add(row["official_name"], ident)

    for iso3, (label, parent, group) in _TERRITORIES_OUTSIDE_INSEE.items():
        if iso3 in places:
            continue
        country = pycountry.countries.get(alpha_3=iso3)
        iso2 = country.alpha_2 if country else None
        places[iso3] = Place(
            iso3,
            iso3,
            iso2,
            label,
            group,
            "territory",
            _outside_reason(label, iso3, parent, group, by_insee),
        )
        codes[iso3] = iso3
        if iso2:
            codes[iso2] = iso3
        full.add(label, iso3)

    for country in pycountry.countries:
        iso3 = country.alpha_3
        if iso3 not in places:
            # A code a newer pycountry adds before this module knows its parent.
            label = french.gettext(country.name)
            places[iso3] = Place(
                iso3,
                iso3,
                country.alpha_2,
                label,
                None,
                "territory",
                f"{label} : absent du référentiel INSEE, code ISO 3166 {iso3}",
            )
            codes[iso3], codes[country.alpha_2] = iso3, iso3
        for attribute in ("name", "official_name", "common_name"):
            english = getattr(country, attribute, None)
            if english:
                for name in (english, french.gettext(english)):
                    whole, short = name_forms(name)
                    for form in whole:
                        full.add(form, iso3)
                    for form in short:
                        derived.add(form, iso3)

    historic_codes: dict[str, str] = {}
    for country in pycountry.historic_countries:
        ident = f"ISO3166-3:{country.alpha_4}"
        label = historic_label(french_historic.gettext(country.name))
        places[ident] = Place(
            ident,
            None,
            None,
            label,
            None,
            "no_iso_code",
            _historic_reason(label, country, places, codes),
        )
        # Old alpha-3 codes still turn up in archives; ISO reused one of them (ATF) and several
        # old alpha-2 codes (SK, GE, CS...), which therefore stay unmatched as codes.
        historic_codes.setdefault(country.alpha_3, ident)
        for name in (country.name, french_historic.gettext(country.name)):
            whole, short = name_forms(name)
            for form in [*whole, *short, name.partition(",")[0]]:
                historic.add(form, ident)

    for code, ident in historic_codes.items():
        codes.setdefault(code, ident)

    # Names without their leading article ("L'État de Palestine" -> "État de Palestine").
    for key, idents in list(full.keys.items()):
        bare = without_article(key)
        if bare:
            for ident in idents:
                derived.keys.setdefault(bare, set()).add(ident)

    aliases = list(_read_csv(aliases_csv))
    for alias in aliases:
        _add_alias(alias["alias"], alias["code"], full, codes, places)

    note = (
        f"INSEE COG 2025 pays et territoires étrangers ({len(insee_rows)} lignes) ; "
        f"ISO 3166-1 et ISO 3166-3 via pycountry {metadata.version('pycountry')} ; "
        f"{len(aliases)} alias curés ({ALIASES_FILE})"
    )
    return PlaceTables(places, codes, (full.keys, derived.keys, historic.keys), note)


def _insee_status(
    row: dict[str, str], by_insee: dict[str, dict[str, str]]
) -> tuple[Status, str | None]:
    label, code, iso3 = row["name"], row["code"], row["iso3_code"]
    parent = by_insee.get(row["parent_code"]) if row["parent_code"] else None
    if row["actual_id"] == "1" and parent is None:
        if iso3:
            return "ok", None
        return "no_iso_code", f"{label} : pays sans code ISO 3166 (code INSEE {code})"
    where = (
        f"territoire non souverain (pays de rattachement : {parent['name']})"
        if parent
        else "territoire non souverain sans pays de rattachement"
    )
    if not iso3:
        return "no_iso_code", f"{label} : {where}, sans code ISO 3166 propre (code INSEE {code})"
    if parent is not None and parent["iso3_code"] == iso3:
        return "territory", (
            f"{label} : {where}, codé {iso3} comme son pays de rattachement en ISO 3166"
        )
    return "territory", f"{label} : {where}, avec son propre code ISO 3166 ({iso3})"


def _outside_reason(
    label: str, iso3: str, parent: str, group: str | None, by_insee: dict[str, dict[str, str]]
) -> str:
    if parent == _FRANCE_INSEE:
        return (
            f"{label} : outre-mer français, avec son propre code ISO 3166 ({iso3}) ; hors de "
            "la liste des pays de l'INSEE (partie de la France)"
        )
    reason = (
        f"{label} : territoire non souverain (pays de rattachement : "
        f"{by_insee[parent]['name']}), avec son propre code ISO 3166 ({iso3})"
    )
    if group:
        reason += f" ; code INSEE du groupe « {by_insee[group]['name']} » ({group})"
    return reason


def _historic_reason(
    label: str, country: Any, places: dict[str, Place], codes: dict[str, str]
) -> str:
    alpha_4: str = country.alpha_4
    year = str(getattr(country, "withdrawal_date", ""))[:4]
    gone = (
        f"{label} : pays ou territoire qui n'existe plus (retiré de l'ISO 3166-1 en {year}, "
        f"ISO 3166-3 {alpha_4})"
    )
    # ISO 3166-3: the last two letters are the successor's alpha-2, "AA" when it kept the old
    # one, "HH"/"XX" when there is no single successor.
    successor = alpha_4[:2] if alpha_4[2:] == "AA" else alpha_4[2:]
    ident = codes.get(successor)
    if ident is None:
        return gone + " ; pas de successeur unique, le pays actuel dépend du lieu"
    place = places[ident]
    return gone + f" ; successeur selon l'ISO 3166-3 : {place.label_fr} ({place.iso3})"


def _add_alias(
    alias: str, target: str, full: _Index, codes: dict[str, str], places: dict[str, Place]
) -> None:
    key = country_key(alias)
    if alias.strip().upper() in codes:
        raise ValueError(f"alias {alias!r} is a code, matched before any alias")
    idents: set[str] = set()
    for code in target.split("|"):
        if len(code) == 3:
            ident = code  # an ISO 3166-1 alpha-3 is its place's ident
        elif len(code) == 4:
            ident = f"ISO3166-3:{code}"
        else:
            ident = codes.get(code, "") if INSEE_CODE.fullmatch(code) else ""
        if ident not in places:
            raise ValueError(f"alias {alias!r}: unknown code {code!r}")
        idents.add(ident)
    known = full.keys.get(key)
    if known is not None and known != idents:
        raise ValueError(f"alias {alias!r} -> {target} contradicts the sources ({sorted(known)})")
    full.keys[key] = idents
