"""Suggest sensitivity tags for columns, from their values and their names, with evidence.

The scanner never decides: it returns :class:`Suggestion` objects that a person accepts or rejects
(``governance.sensitivity.suggestions``). It runs every detector
(:mod:`governance.sensitivity.detectors`: rule id, French label, suggested tag, checksum) on
every column. A value detector fires when its hit rate among the non-empty values reaches
``min_hit_rate``: a column of random 9-digit ids passes the SIREN Luhn check about one time in ten,
which stays far below the threshold. A column whose *name* alone matches gives a weaker suggestion
(``confidence="name"``) rather than nothing.

Examples shown in the evidence are masked (:func:`mask`): the scanner never echoes a full value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any, Literal

from governance.sensitivity.detectors import (
    DETECTOR_BY_RULE,
    DETECTORS,
    Checksum,
    Detector,
    name_tokens,
)

__all__ = [
    "CONFIDENCE_RANK",
    "DETECTORS",
    "DETECTOR_BY_RULE",
    "MASK_CHAR",
    "MAX_EXAMPLES",
    "Checksum",
    "Confidence",
    "Detector",
    "Evidence",
    "Suggestion",
    "mask",
    "name_tokens",
    "scan_column",
    "scan_table",
]

Confidence = Literal["name", "value", "value+name"]


CONFIDENCE_RANK: dict[str, int] = {"name": 0, "value": 1, "value+name": 2}
MAX_EXAMPLES = 3
MASK_CHAR = "•"


@dataclass(frozen=True)
class Evidence:
    """Why one detector points at one column.

    Attributes:
        rule: Detector id (``nir``, ``email``...).
        label_fr: What the detector looks for, in French.
        column: The column scanned.
        hits: Non-empty values the detector recognised.
        sample_size: Non-empty values scanned (nulls and blanks excluded).
        hit_rate: ``hits / sample_size`` rounded to 4 decimals (0.0 for an empty column).
        examples: At most three recognised values, masked.
        name_match: The column name matches the detector's name patterns.
        checksum: ``validated`` when each hit passed its check key, ``none`` when the format has
            no key (passport) or the detector has no checksum.
        confidence: ``value``, ``name`` or ``value+name``: what fired.
        level: Exposure level this evidence suggests (1 = most restricted).
        personal: Whether this evidence points at personal data (RGPD).
        note_fr: A caveat for the reviewer, in French, if any.
    """

    rule: str
    label_fr: str
    column: str
    hits: int
    sample_size: int
    hit_rate: float
    examples: tuple[str, ...]
    name_match: bool
    checksum: Checksum
    confidence: Confidence
    level: int
    personal: bool
    note_fr: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (examples as a list)."""
        data = {f: getattr(self, f) for f in self.__dataclass_fields__}
        data["examples"] = list(self.examples)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Evidence:
        """The inverse of :meth:`to_dict`."""
        values = {f: data[f] for f in cls.__dataclass_fields__ if f in data}
        values["examples"] = tuple(values.get("examples", ()))
        return cls(**values)


@dataclass(frozen=True)
class Suggestion:
    """A suggested sensitivity tag for one column, and the evidence behind it.

    The most restrictive evidence wins for ``level``; ``personal`` is true when any evidence is
    personal; ``confidence`` is the strongest of the evidence. ``evidence`` is ordered with the
    decisive evidence first.
    """

    source: str
    column: str
    level: int
    personal: bool
    evidence: list[Evidence]
    confidence: Confidence

    @classmethod
    def from_evidence(cls, source: str, column: str, evidence: Sequence[Evidence]) -> Suggestion:
        """Combine the evidence of one column into one suggestion (evidence must not be empty)."""
        if not evidence:
            raise ValueError(f"no evidence for column {column!r}; nothing to suggest")
        ordered = sorted(evidence, key=_evidence_order)
        strongest = max(ordered, key=lambda e: CONFIDENCE_RANK[e.confidence])
        return cls(
            source=source,
            column=column,
            level=min(e.level for e in ordered),
            personal=any(e.personal for e in ordered),
            evidence=ordered,
            confidence=strongest.confidence,
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            "source": self.source,
            "column": self.column,
            "level": self.level,
            "personal": self.personal,
            "confidence": self.confidence,
            "evidence": [e.to_dict() for e in self.evidence],
        }


def _evidence_order(e: Evidence) -> tuple[int, bool, int, float, str]:
    return (e.level, not e.personal, -CONFIDENCE_RANK[e.confidence], -e.hit_rate, e.rule)


def mask(value: str) -> str:
    """Hide most of a value: the first and last two characters stay (one each when short).

    Values of four characters or fewer are hidden entirely, so the result never shows a whole
    value.
    """
    n = len(value)
    keep = 0 if n <= 4 else 1 if n <= 8 else 2
    return value[:keep] + MASK_CHAR * (n - 2 * keep) + (value[n - keep :] if keep else "")


def scan_column(
    name: str, values: Sequence[str | None], *, min_hit_rate: float = 0.6
) -> list[Evidence]:
    """Run every detector on one column.

    Args:
        name: The column name (its words are matched against each detector's name patterns).
        values: The column's values as text; ``None`` and blank values are left out of the sample.
        min_hit_rate: Share of non-empty values a detector must recognise to fire on values
            (0 < rate <= 1).

    Returns:
        One :class:`Evidence` per detector that fired on values, on the name, or both, most
        restrictive first. Empty when nothing points at sensitive data.

    Raises:
        ValueError: ``min_hit_rate`` is outside (0, 1].
    """
    if not 0 < min_hit_rate <= 1:
        raise ValueError(f"min_hit_rate must be in (0, 1]; found {min_hit_rate!r}")
    sample = [v.strip() for v in values if v is not None and v.strip()]
    tokens = name_tokens(name)
    found: list[Evidence] = []
    for det in DETECTORS:
        name_match = det.name_matches(tokens)
        hits = [v for v in sample if det.match(v)]
        rate = len(hits) / len(sample) if sample else 0.0
        on_values = bool(hits) and rate >= min_hit_rate and (name_match or not det.needs_name)
        if not (on_values or name_match):
            continue
        level, personal, note = det.suggested_tag(tokens)
        found.append(
            Evidence(
                rule=det.rule,
                label_fr=det.label_fr,
                column=name,
                hits=len(hits),
                sample_size=len(sample),
                hit_rate=round(rate, 4),
                examples=tuple(mask(v) for v in islice(dict.fromkeys(hits), MAX_EXAMPLES)),
                name_match=name_match,
                checksum=det.checksum,
                confidence="value+name" if on_values and name_match else
                "value" if on_values else "name",
                level=level,
                personal=personal,
                note_fr=note,
            )
        )  # fmt: skip
    return sorted(found, key=_evidence_order)


def scan_table(
    columns: Mapping[str, Sequence[str | None]],
    *,
    source: str = "",
    min_hit_rate: float = 0.6,
) -> list[Suggestion]:
    """Scan every column of a table and combine each column's evidence into one suggestion.

    Every value is checked by every detector: for a large table pass a sample (a few thousand
    rows read as text), not the whole extract.

    Args:
        columns: Column name -> values as text (``None`` for nulls), in table order.
        source: The source id the table belongs to (recorded on each suggestion; required by
            :func:`governance.sensitivity.suggestions.record`).
        min_hit_rate: See :func:`scan_column`.

    Returns:
        One suggestion per column with evidence, in the order of ``columns``.
    """
    suggestions = []
    for name, values in columns.items():
        evidence = scan_column(name, values, min_hit_rate=min_hit_rate)
        if evidence:
            suggestions.append(Suggestion.from_evidence(source, name, evidence))
    return suggestions
