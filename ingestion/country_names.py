"""Spellings of country names turned into matching keys and name forms.

The country referential (:mod:`ingestion.countries`) compares keys, not spellings:
:func:`country_key` folds accents, case and punctuation ("Côte d'Ivoire", "COTE D IVOIRE" and
"Cote-d'Ivoire" give one key). ISO writes many names inverted ("Corée, République de"):
:func:`name_forms` reads them in natural order as well, :func:`historic_label` does the same for
the label of a country that no longer exists, and :func:`without_article` drops a leading article
("la", "le", "les", "l'", "the"). Stdlib only.
"""

from __future__ import annotations

import re
import unicodedata

_ARTICLES = frozenset({"LA", "LE", "LES", "L", "THE"})
# Last word of the second half of ISO's inverted names ("Corée, République de").
_PREPOSITIONS = frozenset({"DE", "DU", "DES", "D", "LA", "L", "OF", "THE"})
# Words showing that the second half of "X, Y" only qualifies X ("Cocos (Keeling), Îles"), unlike
# "Virgin Islands, British" where X alone would name two places.
_QUALIFIERS = frozenset(
    [
        "REPUBLIC",
        "REPUBLIQUE",
        "STATE",
        "STATES",
        "ETAT",
        "FEDERATION",
        "PROVINCE",
        "KINGDOM",
        "ROYAUME",
        "ISLAND",
        "ISLANDS",
        "ILE",
        "ILES",
        "UNION",
    ]
)
# Letters NFKD leaves whole; without this "Færøerne" would lose letters instead of accents.
_TRANSLITERATION = str.maketrans({"Œ": "OE", "Æ": "AE", "Ø": "O", "Ð": "D", "Þ": "TH", "Ł": "L"})
_NON_ALNUM = re.compile(r"[\W_]+")


def country_key(text: str) -> str:
    """Normalise a country spelling for matching.

    NFKD decomposition, accents dropped, upper case, every run of non-alphanumeric characters
    turned into one space, trimmed.

    Args:
        text: Any spelling.

    Returns:
        The key, e.g. "COTE D IVOIRE" for "Côte d'Ivoire", "COTE D IVOIRE" or "Cote-d'Ivoire".
    """
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NON_ALNUM.sub(" ", bare.upper().translate(_TRANSLITERATION)).strip()


def without_article(key: str) -> str | None:
    """The key without its leading article ("LA", "LE", "LES", "L", "THE").

    Args:
        key: A key made by :func:`country_key`.

    Returns:
        The rest of the key, or None when it does not start with an article followed by a name.
    """
    first, _, rest = key.partition(" ")
    return rest if first in _ARTICLES and rest else None


def name_forms(name: str) -> tuple[list[str], list[str]]:
    """(full forms, derived forms) of an ISO name.

    ISO writes many names inverted ("Corée, République de", "Cocos (Keeling), Îles"): the derived
    forms read them in natural order and keep the head alone. An appositive second half
    ("Virgin Islands, British") gives nothing, since the head alone would name several places.

    Args:
        name: An ISO 3166 name, in English or French.

    Returns:
        The name itself, and its derived forms (none when it is not inverted).
    """
    head, comma, tail = name.partition(",")
    tail_words = country_key(tail).split()
    inverted = bool(tail_words) and (
        tail_words[-1] in _PREPOSITIONS or bool(_QUALIFIERS.intersection(tail_words))
    )
    if not comma or not inverted:
        return [name], []
    return [name], [f"{tail.strip()} {head.strip()}", head.strip()]


def historic_label(french: str) -> str:
    """The label of an ISO 3166-3 entry, from its French name.

    Args:
        french: pycountry's French name, possibly inverted ("Zaïre, République du").

    Returns:
        The name in natural order when its second half ends with a preposition, else its head.
    """
    head, comma, tail = french.partition(",")
    if not comma:
        return french
    tail_words = country_key(tail).split()
    if tail_words and tail_words[-1] in _PREPOSITIONS:
        return f"{tail.strip()} {head.strip()}"
    return head.strip()
