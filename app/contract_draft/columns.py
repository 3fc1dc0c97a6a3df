"""Inferring what each delivered column is: its lake name, null markers, type, key, values, range.

Pure functions over a column's text values (no IO). Every rule is written for the silos' real
defects: a type, a "required" or a "not in the future" is inferred when nearly every value agrees
(:data:`RARE`), and the few that disagree are named as what the first review will quarantine,
not allowed to change the verdict. Numbers and dates are read with the lake's own rules
(``ingestion.conform``): the contract's decimal separator, spaces, no-break and narrow no-break
spaces as thousands separators, Spark date patterns.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations

# A share of values that disagrees this little is a defect for the review, not another type.
RARE = 0.03
# At most this many distinct texts make a column a closed list of allowed values.
MAX_ALLOWED = 12
# Spelled "no value" by the silos (NC = non communiqué, X = secret statistique...).
NULL_MARKER_CANDIDATES = ("NC", "N/C", "X", "N/A", "NA", "n/a", "ND", "N.D.", "-", "--", "?",
                          "null", "NULL", "None", "néant", "Néant", "s.o.", "S.O.")  # fmt: skip
# Spark date patterns the lake reads, with their Python equivalent.
DATE_PATTERNS: dict[str, str] = {
    "dd/MM/yyyy": "%d/%m/%Y",
    "yyyy-MM-dd": "%Y-%m-%d",
    "dd-MM-yyyy": "%d-%m-%Y",
    "dd.MM.yyyy": "%d.%m.%Y",
    "yyyy/MM/dd": "%Y/%m/%d",
    "MM/dd/yyyy": "%m/%d/%Y",
}
_DATE_SHAPE = re.compile(r"^\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}$")
_SPACES = " \u00a0\u202f\u2009"
_INTEGER = re.compile(r"^[+-]?\d+$")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")
_DECIMAL_DOT = re.compile(r"^[+-]?\d+\.\d+$")
_GROUPED = re.compile(r"^[+-]?\d{1,3}(?:[ \u00a0\u202f\u2009]\d{3})+(?:[,.]\d+)?$")
_TRUE = ("oui", "o", "vrai", "true", "yes")
_FALSE = ("non", "n", "faux", "false", "no")
_YEAR_WORDS = re.compile(r"(^|_)(annee|year|an|exercice|millesime)(_|$)")
_ID_WORDS = re.compile(r"(^|_)(id|identifiant|numero|num|no|n|matricule|code|ref|reference)(_|$)")


@dataclass
class ColumnGuess:
    """What the draft says about one column, with a reason for each choice."""

    header: str
    name: str
    type: str = "string"
    why_type: str = ""
    nullable: bool = True
    why_nullable: str = ""
    allowed: tuple[str, ...] = ()
    why_allowed: str = ""
    minimum: float | None = None
    why_range: str = ""
    date_formats: list[tuple[str, int]] = field(default_factory=list)
    decimal: str | None = None
    country_share: float | None = None
    not_future: tuple[int, int] | None = None  # (values in the future, dated values)
    year_future: tuple[int, int] | None = None  # (years after this one, years) of a year column
    suspects: list[str] = field(default_factory=list)


def lake_name(header: str) -> str:
    """The lake's spelling of a delivered header: ASCII, lower case, words joined by ``_``.

    ``N° dossier`` -> ``n_dossier``; ``Montant (EUR)`` -> ``montant_eur``.
    """
    plain = unicodedata.normalize("NFKD", header).encode("ascii", "ignore").decode().lower()
    words = [w for w in re.split(r"[^a-z0-9]+", plain) if w]
    name = "_".join(words)
    if not name or not name[0].isalpha():
        name = f"col_{name}" if name else "col"
    return name


def unique_names(headers: Sequence[str]) -> list[str]:
    """:func:`lake_name` of each header, numbered when two give the same name."""
    names: list[str] = []
    for header in headers:
        base = lake_name(header)
        name, n = base, 2
        while name in names:
            name, n = f"{base}_{n}", n + 1
        names.append(name)
    return names


def null_markers(columns: dict[str, list[str | None]]) -> tuple[list[str], list[str]]:
    """The file's null markers and why: a candidate spelling that stands in a column whose other
    values are numbers or dates (``NC`` among years is no value, not a year)."""
    found: dict[str, str] = {}
    for header, values in columns.items():
        texts = [v.strip() for v in values if v is not None and v.strip()]
        counts = Counter(texts)
        others = [t for t in texts if t not in NULL_MARKER_CANDIDATES]
        typed = bool(others) and _typed_share(others) >= 1 - RARE
        closed = bool(others) and len(set(others)) <= MAX_ALLOWED < len(others)
        for marker in NULL_MARKER_CANDIDATES:
            if marker not in counts or marker in found:
                continue
            if typed:
                found[marker] = (
                    f"{marker!r} x{counts[marker]} in « {header} », whose other values are "
                    "numbers or dates"
                )
            elif closed and counts[marker] <= max(1, len(texts) * RARE):
                found[marker] = (
                    f"{marker!r} x{counts[marker]} in « {header} », a closed list of "
                    f"{len(set(others))} other values"
                )
    markers = ["", *found]
    reasons = ["an empty cell is no value", *found.values()]
    return markers, reasons


def _typed_share(texts: Sequence[str]) -> float:
    ok = sum(1 for t in texts if _number(t, ",") is not None or _number(t, ".") is not None
             or _date_pattern(t) is not None)  # fmt: skip
    return ok / len(texts)


def _number(text: str, decimal: str) -> float | None:
    """``text`` read as a number the way the lake does (None when it is not one)."""
    stripped = text.strip()
    if _GROUPED.match(stripped):
        stripped = "".join(c for c in stripped if c not in _SPACES)
    if _INTEGER.match(stripped):
        return float(stripped)
    pattern = _DECIMAL_COMMA if decimal == "," else _DECIMAL_DOT
    if pattern.match(stripped):
        return float(stripped.replace(",", "."))
    return None


def _date_pattern(text: str) -> str | None:
    if not _DATE_SHAPE.match(text):
        return None
    for pattern, py in DATE_PATTERNS.items():
        try:
            dt.datetime.strptime(text, py)
        except ValueError:
            continue
        return pattern
    return None


def infer_column(
    header: str,
    name: str,
    values: Sequence[str | None],
    markers: Sequence[str],
    *,
    is_country: dict[str, bool] | None = None,
    today: dt.date | None = None,
) -> ColumnGuess:
    """Infer one column from its delivered values.

    Args:
        header: The delivered header.
        name: The lake name for it.
        values: The column's values as text, ``None`` for a missing cell.
        markers: The file's null markers.
        is_country: Distinct value -> recognised by the country referential (None: not checked).
        today: The day "in the future" is measured from (default: today).
    """
    guess = ColumnGuess(header=header, name=name)
    marker_set = {m.strip() for m in markers}
    texts = [v.strip() if v is not None else "" for v in values]
    present = [t for t in texts if t not in marker_set]
    nulls = len(texts) - len(present)
    _nullability(guess, nulls, len(texts))
    # The silo wrote "no value" on purpose (X, N/A...): an empty value is allowed here. Not when
    # the marker is also a value of the column (NC is New Caledonia among countries).
    spelled = sorted({t for t in texts if t in marker_set and t and not (is_country or {}).get(t)})
    if spelled and not guess.nullable:
        guess.nullable = True
        guess.why_nullable = f"the silo writes {', '.join(map(repr, spelled))} for no value here"
    if not present:
        guess.why_type = "every value is empty or a null marker: typed as text until one is seen"
        return guess
    typed = (
        _as_boolean(guess, present)
        or _as_number(guess, present)
        or bool(guess.why_type)  # digits named as a code: text, said why
        or _as_date(guess, present, today or dt.date.today())
        or _as_country(guess, present, is_country)
    )
    if not typed:
        guess.why_type = "text: values are neither numbers, dates, booleans nor countries"
    if guess.type == "string":
        _allowed(guess, present)
    if guess.type == "integer" and _YEAR_WORDS.search(name):
        years = [int(v) for t in present if (v := _number(t, ",")) is not None]
        this_year = (today or dt.date.today()).year
        guess.year_future = (sum(1 for y in years if y > this_year), len(years))
    return guess


def _nullability(guess: ColumnGuess, nulls: int, total: int) -> None:
    if nulls == 0:
        guess.nullable = False
        guess.why_nullable = f"no empty value in {total} rows"
    elif nulls / max(total, 1) <= RARE:
        guess.nullable = False
        guess.why_nullable = (
            f"{nulls} empty value(s) in {total} rows: rare enough to be defects the review "
            "quarantines; set true if the column may be empty"
        )
    else:
        guess.why_nullable = f"{nulls} of {total} rows have no value"


def _misfits(guess: ColumnGuess, bad: list[str], total: int, what: str) -> str:
    if not bad:
        return ""
    shown = ", ".join(repr(b) for b in list(dict.fromkeys(bad))[:3])
    guess.suspects.extend(bad)
    return f"; {len(bad)} of {total} not {what} ({shown}): the review will quarantine them"


def _as_boolean(guess: ColumnGuess, present: list[str]) -> bool:
    lowered = {t.lower() for t in present}
    if lowered <= set(_TRUE) | set(_FALSE) and lowered & set(_TRUE) and lowered & set(_FALSE):
        guess.type = "boolean"
        guess.why_type = f"every value is one of {', '.join(sorted(lowered))}"
        return True
    return False


def _as_number(guess: ColumnGuess, present: list[str]) -> bool:
    if any(len(t) > 1 and t[0] == "0" and t[1].isdigit() for t in present):
        return False  # leading zeros: a code, kept as text
    if _ID_WORDS.search(guess.name) and all(_INTEGER.match(t) for t in present[:1000]):
        guess.why_type = "text: digits, but the name says a code or an identifier (no arithmetic)"
        return False
    best = None
    for decimal in (",", "."):
        read = [_number(t, decimal) for t in present]
        ok = sum(v is not None for v in read)
        if best is None or ok > best[1]:
            best = (decimal, ok, read)
    assert best is not None
    decimal, ok, read = best
    if ok < len(present) * (1 - RARE) or ok == 0:
        return False
    numbers = [v for v in read if v is not None]
    fractional = [t for t, v in zip(present, read, strict=True) if v is not None and decimal in t]
    grouped = sum(1 for t in present if _GROUPED.match(t.strip()))
    bad = [t for t, v in zip(present, read, strict=True) if v is None]
    if fractional:
        guess.type, guess.decimal = "decimal", decimal
        guess.why_type = (
            f"{ok} of {len(present)} values are numbers, {len(fractional)} with a decimal "
            f"{'comma' if decimal == ',' else 'point'} (e.g. {fractional[0]!r})"
        )
    else:
        guess.type = "integer"
        guess.why_type = f"{ok} of {len(present)} values are whole numbers"
    if grouped:
        guess.why_type += f"; {grouped} written with thousands separators (spaces)"
    guess.why_type += _misfits(guess, bad, len(present), "numbers")
    low, high = min(numbers), max(numbers)
    guess.why_range = f"observed from {_show(low)} to {_show(high)}"
    if low >= 0:
        guess.minimum = 0
        guess.why_range += "; never negative, so minimum 0 (set a maximum if one is known)"
    return True


def _show(value: float) -> str:
    return str(int(value)) if value.is_integer() else str(value)


def _as_date(guess: ColumnGuess, present: list[str], today: dt.date) -> bool:
    counts: Counter[str] = Counter()
    parsed: list[dt.date] = []
    bad = []
    for text in present:
        pattern = _date_pattern(text)  # day first: dd/MM/yyyy is tried before MM/dd/yyyy
        if pattern is None:
            bad.append(text)
            continue
        counts[pattern] += 1
        parsed.append(dt.datetime.strptime(text, DATE_PATTERNS[pattern]).date())
    if sum(counts.values()) < len(present) * (1 - RARE) or not counts:
        return False
    guess.type = "date"
    # A second format counts when several values use it: one odd value is a defect.
    guess.date_formats = [(p, n) for p, n in counts.most_common() if n > 1 or len(counts) == 1]
    kept = {p for p, _ in guess.date_formats}
    odd = [t for t in present if (p := _date_pattern(t)) is not None and p not in kept]
    bad += odd
    for p in set(counts) - kept:
        del counts[p]
    shown = ", ".join(f"{p} ({n})" for p, n in counts.most_common())
    guess.why_type = f"{sum(counts.values())} of {len(present)} values are dates: {shown}"
    guess.why_type += _misfits(guess, bad, len(present), "dates")
    future = sum(1 for d in parsed if d > today)
    guess.not_future = (future, len(parsed))
    first, last = min(parsed), max(parsed)
    guess.why_range = f"observed from {first.isoformat()} to {last.isoformat()}"
    return True


def _as_country(guess: ColumnGuess, present: list[str], is_country: dict[str, bool] | None) -> bool:
    if not is_country:
        return False
    known = [t for t in present if is_country.get(t)]
    share = len(known) / len(present)
    if share < 0.8 or all(len(t) <= 1 for t in present):
        return False
    guess.type = "country"
    guess.country_share = share
    unknown = [t for t in present if not is_country.get(t)]
    guess.why_type = (
        f"{len(known)} of {len(present)} values ({share:.0%}) are countries of the lake's "
        "referential (INSEE COG + ISO 3166)"
    )
    guess.why_type += _misfits(guess, unknown, len(present), "recognised")
    return True


def _allowed(guess: ColumnGuess, present: list[str]) -> None:
    counts = Counter(present)
    if len(counts) > MAX_ALLOWED or len(present) < 3 * len(counts):
        return
    # A value seen once where every other is seen often is likely a typo: left out, named.
    common = [v for v, n in counts.items() if n > 1]
    rare = [v for v, n in counts.items() if n == 1]
    if len(rare) > 1:
        return  # several values seen once: open text, not a list
    if not common or (rare and min(counts[v] for v in common) < 3):
        common, rare = list(counts), []
    guess.allowed = tuple(sorted(common))
    guess.why_allowed = (
        f"{len(counts)} distinct value(s) in {len(present)} rows: a closed list "
        f"(seen: {', '.join(f'{v} x{counts[v]}' for v in sorted(common))})"
    )
    if rare:
        guess.suspects.extend(rare)
        guess.why_allowed += (
            f"; left out, seen once each: {', '.join(repr(v) for v in rare)} (typo? add if valid)"
        )


@dataclass(frozen=True)
class KeyCandidate:
    """Columns whose values identify a row, and how well they did on the file."""

    columns: tuple[str, ...]
    repeated: int  # rows (after exact duplicates) whose key value was already seen
    nulls: int
    rows: int

    @property
    def strict(self) -> bool:
        return self.repeated == 0 and self.nulls == 0


def key_candidates(
    names: Sequence[str],
    rows: Sequence[Sequence[str | None]],
    markers: Sequence[str],
    *,
    types: dict[str, str],
    exclude: frozenset[str] = frozenset(),
    limit: int = 5,
) -> list[KeyCandidate]:
    """Candidate primary keys, smallest first: one column, then pairs, then triples.

    Exact duplicate rows are dropped first (the lake drops them too). A candidate is unique and
    non-null on the file, or nearly (:data:`RARE`: an updated row delivered twice, a missing id);
    strict ones come first, then identifier-looking names, then the order of the columns.
    A single column must look like an identifier (:func:`_looks_like_id`); decimals, booleans
    and ``exclude`` (personal data) are not tried.
    """
    marker_set = {m.strip() for m in markers}
    distinct_rows = list(dict.fromkeys(tuple((v or "").strip() for v in r) for r in rows))
    n = len(distinct_rows)
    if not n:
        return []
    columns = [[row[i] for row in distinct_rows] for i in range(len(names))]
    idlike = {
        i for i, name in enumerate(names) if _looks_like_id(name, columns[i], types.get(name))
    }
    usable = [i for i, name in enumerate(names) if _key_part(i, name, idlike, types, exclude)]
    found: list[KeyCandidate] = []
    ranks: dict[tuple[str, ...], tuple[bool, bool, int, tuple[int, ...]]] = {}
    for size in (1, 2, 3):
        for combo in combinations(usable, size):
            if size == 1 and combo[0] not in idlike:
                continue  # a unique date, amount or name on one file is chance, not a key
            seen: set[tuple[str, ...]] = set()
            repeated = nulls = 0
            for row in distinct_rows:
                key = tuple(row[i] for i in combo)
                if any(k in marker_set for k in key):
                    nulls += 1
                    continue
                if key in seen:
                    repeated += 1
                seen.add(key)
            if repeated + nulls <= max(1, n * RARE) and (repeated + nulls < n):
                if any(set(c.columns) <= {names[i] for i in combo} for c in found):
                    continue  # a smaller candidate already inside this one
                found.append(KeyCandidate(tuple(names[i] for i in combo), repeated, nulls, n))
                ranks[found[-1].columns] = (not set(combo) & idlike, not found[-1].strict,
                                            repeated + nulls, combo)  # fmt: skip
        if found:
            break
    found.sort(key=lambda c: ranks[c.columns])
    return found[:limit]


def _key_part(
    index: int, name: str, idlike: set[int], types: dict[str, str], exclude: frozenset[str]
) -> bool:
    """Whether a column may be part of a key: not an amount, a count, a yes/no, a category, or
    personal data (unless its name says it is an identifier)."""
    if _ID_WORDS.search(name):
        return True
    kind = types.get(name)
    if name in exclude or kind in ("decimal", "boolean", "category"):
        return False
    return kind != "integer" or index in idlike or bool(_YEAR_WORDS.search(name))


def _looks_like_id(name: str, values: Sequence[str], ctype: str | None) -> bool:
    """An identifier: its name says so, or its values are codes (digits, one or two lengths)."""
    if _ID_WORDS.search(name):
        return True
    if ctype not in ("string", "integer", None):
        return False
    filled = [v for v in values if v]
    return (
        bool(filled)
        and all(any(c.isdigit() for c in v) for v in filled)
        and (len({len(v) for v in filled}) <= 2 and ctype == "string")
    )
