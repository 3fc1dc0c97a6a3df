"""A draft contract from one delivered file: the sample, each column's guess, key, sensitivity.

This is where the stages meet for inference, hence its place in ``app/``: the country referential
comes from ``ingestion`` and the PII scanner from ``governance``; the rules on values are in
:mod:`app.contract_draft.columns`, the reading of the file in :mod:`app.contract_draft.sniff`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

from app.contract_draft.columns import (
    DATE_PATTERNS,
    RARE,
    ColumnGuess,
    KeyCandidate,
    infer_column,
    key_candidates,
    null_markers,
    unique_names,
)
from app.contract_draft.sniff import Choice, Sample, read_sample

# PII detectors whose values the lake should pseudonymise (a person's identifiers as text).
_PSEUDONYMISE = frozenset({"email", "phone", "person_name", "nir", "passport", "iban"})
_SOURCE = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass
class Draft:
    """Everything inferred from one file, ready to be written as a contract and a rules file."""

    source: str
    sample: Sample
    columns: list[ColumnGuess]
    markers: list[str]
    why_markers: list[str]
    decimal: Choice
    thousands: Choice
    date_formats: Choice
    keys: list[KeyCandidate]
    sensitivity: dict[str, tuple[int, bool, bool, str]] = field(default_factory=dict)
    today: dt.date = field(default_factory=dt.date.today)
    # (later column, earlier column, rows where it is earlier, rows with both dates)
    date_orders: list[tuple[str, str, int, int]] = field(default_factory=list)

    @property
    def suggested_level(self) -> int:
        """The most restrictive level the PII scanner suggests (2 when it found nothing)."""
        return min((s[0] for s in self.sensitivity.values()), default=2)


def source_id(path: Path) -> str:
    """A source id from a file name: ``adoptions_2026-01-15.csv`` -> ``adoptions``."""
    stem = re.sub(r"[_-]?\d{4}-\d{2}-\d{2}.*$", "", path.stem)
    from app.contract_draft.columns import lake_name

    return lake_name(stem or path.stem)


def infer(path: Path, *, source: str | None = None, today: dt.date | None = None) -> Draft:
    """Read ``path`` and infer its contract.

    Raises:
        DraftError: The file cannot be read (see :func:`app.contract_draft.sniff.read_sample`).
        ValueError: ``source`` is not a lake identifier.
    """
    from ingestion.countries import CountryReferential

    sid = source or source_id(path)
    if not _SOURCE.match(sid):
        raise ValueError(
            f"source id {sid!r} must be lower-case letters, digits and '_', starting with a letter"
        )
    sample = read_sample(path)
    day = today or dt.date.today()
    names = unique_names(sample.headers)
    by_header = {h: sample.column(i) for i, h in enumerate(sample.headers)}
    markers, why_markers = null_markers(by_header)
    referential = CountryReferential.load()
    guesses = []
    for i, (header, name) in enumerate(zip(sample.headers, names, strict=True)):
        values = sample.column(i)
        distinct = {(v or "").strip() for v in values} - {""}
        recognised = {v: referential.match(v).status != "unknown" for v in distinct}
        guesses.append(
            infer_column(header, name, values, markers, is_country=recognised, today=day)
        )
    # A closed list (allowed values) is a category: an attribute of a row, not part of its key.
    types = {g.name: "category" if g.allowed else g.type for g in guesses}
    draft = Draft(
        source=sid,
        sample=sample,
        columns=guesses,
        markers=markers,
        why_markers=why_markers,
        decimal=_decimal(guesses),
        thousands=Choice(
            " ",
            "spaces, no-break (U+00A0) and narrow no-break (U+202F) spaces are always removed "
            "from numbers; ' ' names the usual one",
        ),
        date_formats=_date_formats(guesses),
        keys=[],
        today=day,
    )
    _sensitivity(draft)
    draft.date_orders = _date_orders(draft)
    personal = frozenset(n for n, (_, p, _, _) in draft.sensitivity.items() if p)
    draft.keys = key_candidates(names, sample.rows, markers, types=types, exclude=personal)
    for key in draft.keys[:1]:
        for col in draft.columns:
            if col.name in key.columns and col.nullable:
                col.nullable = False
                col.why_nullable = "part of the primary key"
    return draft


def _decimal(guesses: list[ColumnGuess]) -> Choice:
    used = {g.decimal for g in guesses if g.decimal}
    cols = [g.header for g in guesses if g.decimal]
    if used == {"."}:
        return Choice(".", f"decimal point in « {'», «'.join(cols)} »")
    if "," in used:
        return Choice(",", f"decimal comma in « {'», «'.join(c for c in cols)} »")
    return Choice(",", "no decimal number in the file; the comma is the French usage")


def _date_formats(guesses: list[ColumnGuess]) -> Choice:
    totals: dict[str, int] = {}
    where: dict[str, list[str]] = {}
    for g in guesses:
        for pattern, n in g.date_formats:
            totals[pattern] = totals.get(pattern, 0) + n
            where.setdefault(pattern, []).append(g.header)
    if not totals:
        return Choice(["dd/MM/yyyy"], "no date in the file; dd/MM/yyyy is the French usage")
    ordered = sorted(totals, key=lambda p: -totals[p])
    why = "; ".join(f"{p}: {totals[p]} value(s) in « {'», «'.join(where[p])} »" for p in ordered)
    return Choice(ordered, why + " (tried in this order)")


def _date_orders(draft: Draft) -> list[tuple[str, str, int, int]]:
    """Pairs of date columns where one is (nearly) never before the other: end after start,
    registration after birth. Each pair is measured on the rows where both dates read."""
    formats = [DATE_PATTERNS[p] for p in draft.date_formats.value]  # type: ignore[attr-defined]
    dated = [(i, g) for i, g in enumerate(draft.columns) if g.type == "date"]
    parsed = {g.name: [_parse_date(v, formats) for v in draft.sample.column(i)] for i, g in dated}
    found = []
    for first, second in combinations([g for _, g in dated], 2):
        pairs = [(a, b) for a, b in zip(parsed[first.name], parsed[second.name], strict=True)
                 if a is not None and b is not None]  # fmt: skip
        if len(pairs) < 10:
            continue
        for later, earlier, wrong in (
            (second, first, sum(1 for a, b in pairs if b < a)),
            (first, second, sum(1 for a, b in pairs if a < b)),
        ):
            if wrong <= int(len(pairs) * RARE) and any(a != b for a, b in pairs):
                found.append((later.name, earlier.name, wrong, len(pairs)))
                break
    return found


def _parse_date(value: str | None, formats: list[str]) -> dt.date | None:
    for fmt in formats:
        try:
            return dt.datetime.strptime((value or "").strip(), fmt).date()
        except ValueError:
            continue
    return None


def _sensitivity(draft: Draft) -> None:
    """The PII scanner's suggestion for each column, with its evidence in words."""
    from governance.sensitivity.pii import scan_table

    columns = {g.header: draft.sample.column(i) for i, g in enumerate(draft.columns)}
    by_header = {g.header: g for g in draft.columns}
    for suggestion in scan_table(columns, source=draft.source):
        best = suggestion.evidence[0]
        guess = by_header[suggestion.column]
        evidence = "; ".join(
            f"{e.rule} ({e.label_fr}): "
            + (f"{e.hits}/{e.sample_size} values" if e.confidence != "name" else "")
            + (" + " if e.confidence == "value+name" else "")
            + ("column name" if e.name_match else "")
            + (f", e.g. {', '.join(e.examples)}" if e.examples else "")
            for e in suggestion.evidence
        )
        pseudo = (
            guess.type == "string"
            and suggestion.personal
            and best.rule in _PSEUDONYMISE
            and best.confidence != "name"
        )
        draft.sensitivity[guess.name] = (suggestion.level, suggestion.personal, pseudo, evidence)


def not_future_rule(guess: ColumnGuess) -> bool:
    """Whether a date column gets a "not in the future" rule: (nearly) no value is."""
    if guess.not_future is None:
        return False
    future, dated = guess.not_future
    return dated > 0 and future <= max(0, int(dated * RARE))


def year_rule(guess: ColumnGuess) -> bool:
    """Whether a year column gets a "not after this year" rule: (nearly) no value is."""
    if guess.year_future is None:
        return False
    future, years = guess.year_future
    return years > 0 and future <= max(0, int(years * RARE))


__all__ = ["Draft", "infer", "not_future_rule", "read_sample", "source_id", "year_rule"]
