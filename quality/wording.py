"""French wording of quality-review results, for the business units that read the reports.

Pure functions, no IO: one sentence per failed rule, "12 lignes (0,4 %) ont une date de naissance
postérieure à la date d'inscription", and the words for severities, decisions and trends. Numbers
and dates are written by the lake's page toolkit (:mod:`lake.pages.french`): decimal comma,
narrow no-break space as thousands separator and before ``%``, dates in words.

A rule's ``message`` is written for the plural ("ont une valeur illisible..."); when exactly one
line fails, :func:`sentence_for` puts the verb (and what directly follows it) in the singular, so
the sentence reads "1 ligne (moins de 0,1 %) a une valeur illisible...".
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from lake.pages.french import as_utc, format_count_fr, format_int_fr, format_percent_fr

__all__ = [
    "DECISION_WORDS",
    "SEVERITY_WORDS",
    "TREND_WORDS",
    "as_utc",  # re-exported: quality.scoring reads review times through this module
    "decision_words",
    "format_percent_fr",  # re-exported: quality.scoring writes its trend sentence with it
    "is_line_predicate",
    "observed_text",
    "sentence_for",
    "severity_words",
    "share_percent",
]

SEVERITY_WORDS: Mapping[tuple[str, str], str] = {
    ("blocking", "row"): "bloquant : lignes écartées",
    ("blocking", "table"): "bloquant : livraison retenue",
    ("warning", "row"): "avertissement : lignes conservées",
    ("warning", "table"): "avertissement : lignes conservées",
}

TREND_WORDS: Mapping[str, tuple[str, str]] = {  # arrow (decorative), words
    "up": ("↗", "en hausse"),
    "down": ("↘", "en baisse"),
    "stable": ("→", "stable"),
    "none": ("·", "pas encore de tendance"),
}

DECISION_WORDS: Mapping[str, tuple[str, str]] = {
    "promoted": ("promue", "les lignes conformes ont été publiées dans le lac."),
    "promoted_with_warnings": (
        "promue avec avertissements",
        "les lignes ont été publiées dans le lac ; des points restent à vérifier.",
    ),
    "blocked": ("bloquée", "la livraison est retenue : rien n'a été publié."),
}


def share_percent(result: Mapping[str, Any]) -> float | None:
    """The share of lines a failed rule concerns, in percent, if it can be known.

    Counted over every line examined (``element_count``), not over the non-empty values GX uses
    for ``unexpected_percent``: "x % des lignes" must mean x % of the delivery.
    """
    count, total = result.get("unexpected_count"), result.get("element_count")
    if count is not None and total:
        return 100.0 * count / total
    percent = result.get("unexpected_percent")
    return None if percent is None else float(percent)


# Third-person plural -> singular when the "-ent" -> "-e" rule of regular verbs does not apply.
_IRREGULAR = {
    "ont": "a", "sont": "est", "font": "fait", "vont": "va", "doivent": "doit", "peuvent": "peut",
    "contiennent": "contient", "viennent": "vient", "comprennent": "comprend", "prennent": "prend",
}  # fmt: skip
_INVARIABLE = {
    "dans", "sans", "sous", "plus", "très", "mais", "pas", "hors", "vers", "après", "depuis",
    "moins", "alors", "toujours", "jamais", "déjà", "encore", "des", "les", "ses", "leurs",
}  # fmt: skip
_FEMININE = {"valeur", "date", "clé", "ligne", "référence", "année", "catégorie", "durée"}
_FEMININE_ENDINGS = ("tion", "sion", "té", "ée", "ure", "ence", "ance")
_ELIDED = re.compile(r"^([nsl]['’])(.+)$")


def _possessive(noun: str) -> str:
    if noun[:1].lower() in "aeiouyhéèêàâîôû":
        return "son"
    bare = noun.lower()
    return "sa" if bare in _FEMININE or bare.endswith(_FEMININE_ENDINGS) else "son"


def _singular(predicate: str) -> str:
    """Put a plural predicate ("n'ont pas de valeur", "partagent leur valeur") in the singular.

    Only the verb and what directly follows it change: the verb, the possessive after it
    ("leur" -> "sa"/"son", "leurs" -> "ses") and the attribute after "sont" ("sont vides" ->
    "est vide"). Anything else is left as written.
    """
    words = predicate.split(" ")
    i = 0
    while i < len(words) and words[i] in ("ne", "se", "en", "y"):
        i += 1
    if i >= len(words):
        return predicate
    elided = _ELIDED.match(words[i])
    prefix, verb = (elided.group(1), elided.group(2)) if elided else ("", words[i])
    if verb in _IRREGULAR:
        single = _IRREGULAR[verb]
    elif verb.endswith("ent") and len(verb) > 4:
        single = verb[:-2]
    else:
        return predicate
    if i > 0 and words[i - 1] in ("ne", "se") and single[:1] in "aeiouyhéè":
        prefix = words[i - 1][0] + "'"  # "ne sont" -> "n'est"
        del words[i - 1]
        i -= 1
    words[i] = prefix + single
    j = i + 1
    if verb == "sont":
        while j < len(words) and words[j] in ("pas", "plus", "jamais", "toujours", "encore"):
            j += 1
        word = words[j] if j < len(words) else ""
        if len(word) > 3 and word.endswith("s") and word not in _INVARIABLE:
            words[j] = word[:-1]
    elif j < len(words) and words[j] == "leurs":
        words[j] = "ses"
    elif j + 1 < len(words) and words[j] == "leur":
        words[j] = _possessive(words[j + 1])
    return " ".join(words)


def is_line_predicate(result: Mapping[str, Any]) -> bool:
    """Whether the message completes "N lignes ..." (row rules, or a table rule worded so)."""
    message = str(result.get("message") or "").strip()
    return result.get("scope") == "row" or message[:1].islower()


def sentence_for(result: Mapping[str, Any]) -> str:
    """The sentence a business reader sees for one failed rule.

    Row rules: count, share and predicate ("12 lignes (0,4 %) ont une date de naissance
    postérieure à la date d'inscription"). Table rules: their own sentence, with the counts when
    GX gave them ("Plus de 50 % des lignes sont rejetées : la livraison entière est retenue
    (620 lignes sur 1 000, soit 62 %)").

    Args:
        result: One expectation result (``message``, ``scope``, ``unexpected_count``,
            ``element_count``, ``unexpected_percent``).
    """
    message = str(result.get("message") or "").strip().rstrip(".").strip()
    if not message:
        message = f"ne respectent pas le contrôle {result.get('rule_id') or 'sans nom'}"
    count = result.get("unexpected_count")
    share = share_percent(result)
    if is_line_predicate(result):
        if count is None:
            return f"Des lignes {message}"
        predicate = message if count >= 2 else _singular(message)
        pct = f" ({format_percent_fr(share)})" if share is not None else ""
        return f"{format_count_fr(int(count), 'ligne')}{pct} {predicate}"
    total = result.get("element_count")
    if count is not None and total:
        lines = format_count_fr(int(count), "ligne")
        share_text = f", soit {format_percent_fr(share)}" if share is not None else ""
        return f"{message} ({lines} sur {format_int_fr(int(total))}{share_text})"
    return message


def observed_text(result: Mapping[str, Any]) -> str | None:
    """What GX observed for a whole-table rule, as text ("0", "2031-01-01"); None otherwise."""
    raw = result.get("observed_value")
    if raw is None or is_line_predicate(result):
        return None
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return str(raw)
    if isinstance(value, bool) or value is None:
        return str(raw)
    if isinstance(value, int):
        return format_int_fr(value)
    return str(value) if isinstance(value, float | str) else str(raw)


def severity_words(severity: str, scope: str) -> str:
    """The severity of a failed rule in words ("bloquant : lignes écartées"...)."""
    return SEVERITY_WORDS.get((severity, scope), f"gravité « {severity} »")


def decision_words(decision: str) -> tuple[str, str]:
    """The decision of a review in words, and what it means for the data."""
    return DECISION_WORDS.get(decision, (f"décision « {decision} »", ""))
