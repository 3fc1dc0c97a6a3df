"""The PII detectors: what each kind of sensitive value looks like, in values and in column names.

Each detector has a rule id, a French label and the tag it suggests (exposure level, MISSION.md,
and the personal-data flag). Identifiers that carry a checksum (NIR, IBAN, SIREN, SIRET) are
validated with python-stdnum, so look-alikes with a wrong key are not counted. Dates and
capitalised words are not personal on their own, so the birth-date and person-name detectors
need the column name to agree. How detectors are run and their evidence combined is
:mod:`governance.sensitivity.pii`'s business.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from stdnum import iban as std_iban
from stdnum.fr import nir as std_nir
from stdnum.fr import siren as std_siren
from stdnum.fr import siret as std_siret

Checksum = Literal["validated", "none"]


# --- value matchers ---------------------------------------------------------------------------


def _stdnum_valid(module: Any) -> Callable[[str], bool]:
    """A matcher that compacts with stdnum (dashes turned into spaces first) and validates.

    Not every stdnum ``compact`` strips dashes (the NIR's and SIREN's only strip spaces and dots),
    so dashes become spaces first; ``is_valid`` then checks length, format and check key.
    """

    def match(value: str) -> bool:
        return bool(module.is_valid(module.compact(value.replace("-", " "))))

    return match


_PASSPORT = re.compile(r"^\d{2}[A-Z]{2}\d{5}$")
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}$"
)
_FR_PHONE = re.compile(r"^0[1-9](?:[ .-]?\d{2}){4}$")
# One digit (or one bracketed area code) per repetition keeps the match linear (no ReDoS).
_INTL_PHONE = re.compile(r"^(?:\+|00)[1-9](?:[ .-]?(?:\d|\(\d{1,4}\)))+$")
_DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d")
_OLDEST_BIRTH_YEARS = 130
_PARTICLES = re.compile(
    r"^(?:de|du|des|d|da|di|do|dos|das|del|della|van|von|der|den|le|la|les|el|al|ben|bin|ibn|y)$"
)


def _is_passport(value: str) -> bool:
    return bool(_PASSPORT.match(value.replace(" ", "").upper()))


def _is_email(value: str) -> bool:
    return len(value) <= 254 and bool(_EMAIL.match(value))


def _is_phone(value: str) -> bool:
    """French national numbers (10 digits from 0[1-9]) or international ones (+ or 00, E.164).

    International numbers count 8 to 15 digits (E.164's maximum), country code included, once a
    French-style trunk ``(0)`` is dropped; +33 numbers must have exactly 9 digits after the code.
    """
    if _FR_PHONE.match(value):
        return True
    body = value.replace("(0)", "", 1)
    if not _INTL_PHONE.match(body):
        return False
    digits = re.sub(r"\D", "", body)
    if body.startswith("00"):
        digits = digits[2:]
    if not 8 <= len(digits) <= 15:
        return False
    return not digits.startswith("33") or (len(digits) == 11 and digits[2] != "0")


def _is_birth_date(value: str) -> bool:
    text = value[:10] if re.match(r"^\d{4}-\d{2}-\d{2}[T ]", value) else value
    for fmt in _DATE_FORMATS:
        try:
            day = datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        today = date.today()
        return today.year - _OLDEST_BIRTH_YEARS <= day.year and day <= today
    return False


def _is_person_name(value: str) -> bool:
    """One to five words, each a capitalised alphabetic word (accents, hyphens, apostrophes)."""
    words = value.split()
    if not 1 <= len(words) <= 5 or len(value) > 80:
        return False
    capitalised = 0
    for word in words:
        for part in re.split(r"[-'’]", word):
            if part.islower() and _PARTICLES.match(part):
                continue
            if not part.isalpha() or not part[0].isupper():
                return False
            capitalised += 1
    return capitalised > 0


# --- column names ------------------------------------------------------------------------------


def name_tokens(name: str) -> tuple[str, ...]:
    """Lower-case, accent-free words of a column name (snake_case, kebab, camelCase, spaces)."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)
    plain = unicodedata.normalize("NFKD", spaced).encode("ascii", "ignore").decode().lower()
    return tuple(t for t in re.split(r"[^a-z0-9]+", plain) if t)


def _tokens(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"^(?:{pattern})$")


# A generic "nom"/"name" is a person's name only when nothing says it names something else.
_NOT_A_PERSON = _tokens(
    r"pays|country|ville|city|commune|region|departement|fichier|file|postes?|posts?|societe|"
    r"company|entreprise|organi[sz]ation|org|projet|project|produit|product|service|host|domain|"
    r"table|colonne|column|champ|field|banque|bank|etablissement|partenaire|partner|programme|"
    r"program|site|rue|street|voie|agence|agency|direction|bureau|raison|commercial|marque|brand|"
    r"document|doc|acte|act|type|categorie|category"
)
_PLACE = _tokens(r"pays|country|lieu|place|ville|city|commune|departement|region|nationalites?")
_GENERIC_NAME = _tokens(r"noms?|names?")
_INDIVIDUAL = _tokens(r"ei|eirl|(auto|micro)?entrepreneurs?|individuel(le)?s?|physiques?")


@dataclass(frozen=True)
class Detector:
    """One kind of sensitive value: how to recognise it and which tag it suggests."""

    rule: str
    label_fr: str
    level: int
    personal: bool
    names: re.Pattern[str]
    match: Callable[[str], bool]
    checksum: Checksum
    needs_name: bool = False
    note_fr: str | None = None
    unless: re.Pattern[str] | None = None

    def name_matches(self, tokens: Sequence[str]) -> bool:
        """Whether a word of the column name matches, and no other word says it is something else.

        ``unless`` voids a match (``pays_de_naissance`` is a country, not a birth date); for
        person names only the generic ``nom``/``name`` can be voided (``nom_pays``), never an
        unambiguous ``prenom`` or ``last_name``.
        """
        hit = [t for t in tokens if self.names.match(t)]
        if not hit or self.unless is None:
            return bool(hit)
        if self.rule == "person_name" and not all(_GENERIC_NAME.match(t) for t in hit):
            return True
        return not any(self.unless.match(t) for t in tokens)

    def suggested_tag(self, tokens: Sequence[str]) -> tuple[int, bool, str | None]:
        """Exposure level, personal flag and note for a column whose name has ``tokens``.

        A SIREN or SIRET of individual entrepreneurs (``siren_ei``) identifies a person.
        """
        if self.rule in ("siren", "siret") and any(_INDIVIDUAL.match(t) for t in tokens):
            note = "le nom de colonne désigne des entrepreneurs individuels : personnes physiques"
            return 2, True, note
        return self.level, self.personal, self.note_fr


DETECTORS: tuple[Detector, ...] = (
    Detector(
        "nir", "Numéro de sécurité sociale (NIR)", 1, True,
        _tokens(r"nir|nirpp|nss|ssn|insee|(num|no|n)?secu|securite|secsoc|numsecu"),
        _stdnum_valid(std_nir), "validated",
    ),
    Detector(
        "iban", "Coordonnées bancaires (IBAN)", 1, True,
        _tokens(r"iban|ibans|rib|bban"), _stdnum_valid(std_iban), "validated",
    ),
    Detector(
        "passport", "Numéro de passeport français", 1, True,
        _tokens(r"passeports?|passports?|numpasseport|passportnumber"), _is_passport, "none",
        note_fr="format seul (2 chiffres, 2 lettres, 5 chiffres) : le numéro de passeport n'a "
        "pas de clé de contrôle",
    ),
    Detector(
        "email", "Adresse électronique", 1, True,
        _tokens(r"e?mails?|courriels?|mel|adressemail|emailaddress"), _is_email, "none",
    ),
    Detector(
        "phone", "Numéro de téléphone", 1, True,
        _tokens(r"tel|tels|telephones?|phones?|mobiles?|portables?|gsm|fax|cell|phonenumber"),
        _is_phone, "none",
    ),
    Detector(
        "person_name", "Nom ou prénom de personne", 1, True,
        _tokens(r"noms?|names?|prenoms?|lastname|firstname|surname|forename|givenname|fullname|"
                r"patronymes?|nomfamille|nomusage|nomnaissance"),
        _is_person_name, "none", needs_name=True, unless=_NOT_A_PERSON,
    ),
    Detector(
        "birth_date", "Date de naissance", 2, True,
        _tokens(r"naissance|naiss|birth|birthdate|birthday|dob|ddn|datenaissance|datenaiss"),
        _is_birth_date, "none", needs_name=True,
        note_fr="une date seule n'est pas personnelle : c'est le nom de colonne qui l'indique",
        unless=_PLACE,
    ),
    Detector(
        "siren", "Numéro SIREN (identifiant d'entreprise)", 3, False,
        _tokens(r"siren|sirens|numsiren"), _stdnum_valid(std_siren), "validated",
    ),
    Detector(
        "siret", "Numéro SIRET (identifiant d'établissement)", 3, False,
        _tokens(r"siret|sirets|numsiret"), _stdnum_valid(std_siret), "validated",
    ),
)  # fmt: skip
DETECTOR_BY_RULE: dict[str, Detector] = {d.rule: d for d in DETECTORS}
