"""The source-contract model: what a validated contract says, as plain frozen dataclasses.

A contract describes one silo extract: how the silo delivers it (format, encoding, separators,
date formats, null markers, header row), what each column is (type, nullability, French
description, unit, key, reference, sensitivity, pseudonymisation) and how long the data is kept
(DUA). This module holds the model and the vocabularies a contract may use; every package reads
it. Loading and validating a YAML file is :mod:`lake.contracts`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Format = Literal["csv", "xlsx", "json"]
ColumnType = Literal["string", "integer", "decimal", "date", "boolean", "country"]
RetentionEnd = Literal["purge", "anonymise", "archive"]

FORMATS: tuple[str, ...] = ("csv", "xlsx", "json")
COLUMN_TYPES: tuple[str, ...] = ("string", "integer", "decimal", "date", "boolean", "country")
RETENTION_ENDS: tuple[str, ...] = ("purge", "anonymise", "archive")
ENCODINGS: tuple[str, ...] = ("utf-8", "utf-8-sig", "latin-1", "cp1252")
REFERENCES: tuple[str, ...] = ("iso3166",)
DIRECTIONS: tuple[str, ...] = ("DFAE", "DGM", "CDCS", "DRH", "DNUM", "DAF", "DCP", "DGP", "SG")
EXPOSURE_LEVELS: dict[int, str] = {
    1: "accès habilités internes au MEAE",
    2: "ouvert à tout interne du MEAE",
    3: "ouvert aux externes habilités",
    4: "ouvert à tous",
}


@dataclass(frozen=True)
class Sensitivity:
    """Who may see a column (exposure level, MISSION.md) and what kind of data it is."""

    level: int = 2
    personal: bool = False
    exclusion: bool = False


@dataclass(frozen=True)
class Column:
    """One column of a source, as the lake types and documents it."""

    name: str
    type: ColumnType
    description: str
    source_name: str
    aliases: tuple[str, ...] = ()
    nullable: bool = True
    unit: str | None = None
    reference: str | None = None
    allowed: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    pattern: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    unique: bool = False
    sensitivity: Sensitivity = field(default_factory=Sensitivity)
    pseudonymise: bool = False

    @property
    def header_names(self) -> tuple[str, ...]:
        """Every header under which the silo has delivered this column."""
        return (self.source_name, *self.aliases)


@dataclass(frozen=True)
class Retention:
    """The DUA (durée d'utilité administrative) and what happens at its end (A12)."""

    years: int
    end: RetentionEnd
    from_column: str | None = None


@dataclass(frozen=True)
class Contract:
    """A validated source contract."""

    path: Path
    source: str
    title: str
    domain: str
    owner: str
    description: str
    format: Format
    encoding: str
    delimiter: str
    quote: str
    decimal: str
    thousands: str
    date_formats: tuple[str, ...]
    null_markers: tuple[str, ...]
    header_row: int
    sheet: str | None
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    retention: Retention
    exposure_level: int
    legal_secret: bool

    def column(self, name: str) -> Column:
        """The column called ``name`` (KeyError if none)."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    def header_map(self) -> dict[str, str]:
        """Delivered header (normalised) -> contract column name, aliases included."""
        return {normalise_header(h): col.name for col in self.columns for h in col.header_names}

    @property
    def personal(self) -> bool:
        """True when any column holds personal data (RGPD)."""
        return any(c.sensitivity.personal for c in self.columns)


def normalise_header(text: str) -> str:
    """Compare headers without case, surrounding spaces or a BOM."""
    return " ".join(text.replace("\ufeff", "").strip().lower().split())
