"""What leaves the lake, for whom: column plans per audience and the open-data export.

Enforcement (:func:`visible_columns`, :func:`apply_plan`): for an audience level 1..4 (MISSION.md:
1 habilités internes, 2 tout interne, 3 externes habilités, 4 tous), a column is

- **dropped** when it is a field of exclusion, whatever the audience (it never leaves the lake);
- **kept** when its level is at least the audience's (level 2 is visible to audiences 1 and 2);
- **masked** (HMAC-SHA256 pseudonym, as silver computes them) when it is a join key the caller
  names in ``keys`` and the pseudonymised tag (level ``max(level, 2)``) is visible to the
  audience: in practice a level-1 key shown to all staff (audience 2). Pseudonyms stay personal
  data, so a masked key is never enough for audiences 3 and 4;
- **dropped** otherwise.

Open data (:func:`export_opendata`) is stricter: every column must be level 4, not personal and
not excluded, or nothing is written and :class:`~governance.errors.ExportRefused` names each
offending column with its lineage. The export writes ``<name>.csv`` (UTF-8, comma, CRLF, RFC 4180
quoting), ``<name>.schema.json`` (the caller's Table Schema) and ``<name>.dcat.jsonld`` (DCAT-AP),
each through a temporary file renamed into place.

CSV injection (OWASP): a *text* cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage
return gets a leading ``'``. Numbers (int, float, Decimal values) are never touched, so ``-1`` in a
numeric column stays ``-1``; a numeric-looking *string* (``"-1"``, ``"+33 1 43 17 53 53"``) is
neutralised like any other text, because the rule must not depend on guessing what a string means:
numbers belong in numeric columns.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
import math
import os
import re
import tempfile
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TextIO

from governance.errors import ExportRefused, GovernanceError
from governance.lineage.model import ColumnRef, DatasetRef, Tag
from governance.sensitivity.propagation import PSEUDONYMISED_LEVEL, DerivedTag, explain_fr

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "AUDIENCES_FR",
    "ColumnDecision",
    "ColumnPlan",
    "ExportFiles",
    "apply_plan",
    "export_opendata",
    "neutralise_cell",
    "visible_columns",
    "write_view_csv",
]

Action = Literal["keep", "mask", "drop"]
AUDIENCES_FR = {1: "habilités internes", 2: "tout interne", 3: "externes habilités", 4: "tous"}
ETALAB_2 = "Licence Ouverte / Open Licence version 2.0"
ETALAB_2_URI = "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}


@dataclass(frozen=True)
class ColumnDecision:
    """What happens to one column for one audience, and why (French)."""

    column: str
    action: Action
    tag: Tag
    reason_fr: str


@dataclass(frozen=True)
class ColumnPlan:
    """Per-column decisions for one audience, in column order."""

    audience: int
    decisions: tuple[ColumnDecision, ...]

    def columns(self, action: Action) -> tuple[str, ...]:
        """The columns with that action."""
        return tuple(d.column for d in self.decisions if d.action == action)

    def action(self, column: str) -> Action:
        """The action for ``column``; ``drop`` for a column the plan does not know."""
        return next((d.action for d in self.decisions if d.column == column), "drop")


@dataclass(frozen=True)
class ExportFiles:
    """The three files of an open-data export."""

    csv: Path
    schema: Path
    dcat: Path
    rows: int


def visible_columns(
    columns: Mapping[str, DerivedTag | Tag], audience: int, *, keys: Collection[str] = ()
) -> ColumnPlan:
    """Decide keep / mask / drop for each column for an audience.

    Args:
        columns: Tag of each column, by name, in table order.
        audience: Exposure level of the audience, 1 (habilités) .. 4 (tous).
        keys: Join keys: masked rather than dropped when a pseudonym is visible to the audience.

    Raises:
        GovernanceError: The audience or a column level is not 1..4.
    """
    _check_audience(audience)
    decisions = []
    for name, value in columns.items():
        tag = value.tag if isinstance(value, DerivedTag) else value
        if tag.level not in AUDIENCES_FR:
            raise GovernanceError(
                f"Column {name!r}: exposure level must be 1, 2, 3 or 4; found {tag.level!r}."
            )
        who = f"l'audience {audience} ({AUDIENCES_FR[audience]})"
        if tag.exclusion:
            action: Action = "drop"
            reason = "champ d'exclusion : retiré de toute vue et de tout export"
        elif tag.level >= audience:
            action, reason = "keep", f"niveau {tag.level} visible par {who}"
        elif name in keys and max(tag.level, PSEUDONYMISED_LEVEL) >= audience:
            action = "mask"
            reason = (
                f"clé de jointure pseudonymisée : niveau {tag.level} réservé aux "
                f"{AUDIENCES_FR[tag.level]}, le pseudonyme est visible par {who}"
            )
        else:
            action = "drop"
            reason = f"retiré : niveau {tag.level} ({AUDIENCES_FR[tag.level]}) fermé à {who}"
        decisions.append(ColumnDecision(name, action, tag, reason))
    return ColumnPlan(audience, tuple(decisions))


def apply_plan(rows: pd.DataFrame, plan: ColumnPlan, *, key: bytes | None = None) -> pd.DataFrame:
    """The rows an audience may see: kept columns as they are, masked ones pseudonymised.

    A masked value is the HMAC-SHA256 (hex) of its upper-cased text, as silver pseudonymises, so
    masked keys join with silver's pseudonyms; nulls stay null.

    Args:
        rows: The table's rows.
        plan: From :func:`visible_columns`.
        key: The pseudonymisation key (``lake.keys.pseudonymisation_key``), needed to mask.

    Raises:
        GovernanceError: A column of ``rows`` is not in the plan, or a column must be masked and
            no key was given.
    """
    planned = {d.column for d in plan.decisions}
    unknown = [c for c in rows.columns if c not in planned]
    if unknown:
        raise GovernanceError(
            f"Columns {unknown} have no decision in the plan for audience {plan.audience}; "
            "expected every column of the rows to be planned.",
            fix="Tag these columns (declare them or complete their lineage); rebuild the plan.",
        )
    masked = [c for c in plan.columns("mask") if c in rows.columns]
    if masked and not key:
        raise GovernanceError(
            f"Columns {masked} must be pseudonymised for audience {plan.audience}; no key given.",
            fix="Pass key=lake.keys.pseudonymisation_key(settings).",
        )
    out = rows[[c for c in rows.columns if plan.action(c) != "drop"]].copy()
    for col in masked:
        assert key is not None
        out[col] = out[col].map(lambda v: None if _missing(v) else _pseudonym(v, key))
    return out


def export_opendata(
    table: DatasetRef,
    frame: pd.DataFrame,
    derived: Mapping[str, DerivedTag],
    out_dir: Path,
    *,
    table_schema: dict[str, Any],
    title: str,
    description: str,
    publisher: str = "Ministère de l'Europe et des Affaires étrangères",
    keywords: Sequence[str] = (),
    license: str = ETALAB_2,
    issued: date | None = None,
    modified: datetime | None = None,
    mode: Literal["error", "overwrite"] = "error",
) -> ExportFiles:
    """Write an open-data distribution of ``frame``: CSV, Table Schema and DCAT-AP JSON-LD.

    Args:
        table: The lake table exported (its last path segment names the files).
        frame: The rows, columns in the order of ``table_schema``.
        derived: Tag of each column, by name
            (from :func:`~governance.sensitivity.propagation.propagate`).
        out_dir: Directory of the three files (created if missing).
        table_schema: Frictionless Table Schema of the CSV, written as is.
        title: ``dct:title`` (French).
        description: ``dct:description`` (French).
        publisher: ``foaf:name`` of the publisher.
        keywords: ``dcat:keyword`` values.
        license: License name or URI; the Etalab 2.0 name maps to its URI.
        issued: ``dct:issued``; today (UTC) if None.
        modified: ``dct:modified``; now (UTC) if None.
        mode: ``error`` refuses to replace existing files, ``overwrite`` replaces them.

    Returns:
        The paths written and the number of rows.

    Raises:
        ExportRefused: A column is not level 4, is personal, is excluded or has no tag; nothing
            is written.
        GovernanceError: Bad name, mode or schema, or the files exist with ``mode="error"``.
    """
    if mode not in ("error", "overwrite"):
        raise GovernanceError(f"mode must be 'error' or 'overwrite'; found {mode!r}.")
    columns = [str(c) for c in frame.columns]
    _refuse_unless_open(table, columns, derived)
    name = table.name.rstrip("/").rsplit("/", 1)[-1]
    if not _SAFE_NAME.match(name):
        raise GovernanceError(
            f"Table name {name!r} cannot name export files; expected [A-Za-z0-9_.-]."
        )
    fields = [f.get("name") for f in table_schema.get("fields", []) if isinstance(f, dict)]
    if fields != columns:
        raise GovernanceError(
            f"The Table Schema of {table} does not describe the exported columns: "
            f"expected fields {columns}, found {fields}.",
            fix="Build the schema from the exported frame's columns, in order.",
        )
    paths = {ext: out_dir / f"{name}.{ext}" for ext in ("csv", "schema.json", "dcat.jsonld")}
    existing = [str(p) for p in paths.values() if p.exists()]
    if existing and mode == "error":
        raise GovernanceError(
            f"Export files already exist: {existing}.", fix="Pass mode='overwrite' to replace them."
        )
    stamp = (modified or datetime.now(UTC)).replace(microsecond=0)
    out_dir.mkdir(parents=True, exist_ok=True)
    staged: dict[Path, Path] = {}
    try:
        staged[paths["csv"]] = _stage(out_dir, lambda f: _write_csv(f, columns, frame))
        staged[paths["schema.json"]] = _stage(out_dir, lambda f: _write_json(f, table_schema))
        dcat = _dcat(
            table,
            paths,
            title=title,
            description=description,
            publisher=publisher,
            keywords=keywords,
            license=license,
            issued=issued or stamp.date(),
            modified=stamp,
            byte_size=staged[paths["csv"]].stat().st_size,
        )
        staged[paths["dcat.jsonld"]] = _stage(out_dir, lambda f: _write_json(f, dcat))
    except BaseException:
        for tmp in staged.values():
            tmp.unlink(missing_ok=True)
        raise
    # Every file is complete before the first rename, so a failure above leaves no export.
    for final, tmp in staged.items():
        os.replace(tmp, final)
    return ExportFiles(paths["csv"], paths["schema.json"], paths["dcat.jsonld"], len(frame))


def neutralise_cell(value: object) -> str:
    """One CSV cell as text: numbers as numbers, text protected against formula injection."""
    value = _plain(value)
    if _missing(value) or (isinstance(value, Decimal) and value.is_nan()):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isinf(value):
            return "INF" if value > 0 else "-INF"
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    text = value if isinstance(value, str) else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _refuse_unless_open(
    table: DatasetRef, columns: Sequence[str], derived: Mapping[str, DerivedTag]
) -> None:
    offending = []
    for col in columns:
        tag = derived.get(col)
        if tag is None:
            offending.append(f"{col} : sensibilité inconnue (ni déclarée, ni héritée du lignage)")
        elif tag.tag.level != 4 or tag.tag.personal or tag.tag.exclusion:
            offending.append(f"{col} : {explain_fr(ColumnRef(table, col), tag)}")
    if offending:
        raise ExportRefused(
            f"Export open data de {table} refusé : {len(offending)} colonne(s) ne sont pas "
            "ouvertes à tous (niveau 4, sans données personnelles ni champ d'exclusion) — "
            + " ; ".join(offending),
            offending=offending,
            fix="Retirer ces colonnes (apply_plan pour l'audience 4) ou les agréger sous secret "
            "statistique avant l'export, ou corriger leur étiquette déclarée.",
        )


def _check_audience(audience: int) -> None:
    if audience not in AUDIENCES_FR:
        raise GovernanceError(
            f"Audience must be an exposure level 1, 2, 3 or 4; found {audience!r}."
        )


def _missing(value: object) -> bool:
    import pandas as pd

    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _plain(value: object) -> object:
    """A numpy scalar as the Python value it holds (datetime64 as a pandas Timestamp)."""
    import numpy as np
    import pandas as pd

    if isinstance(value, np.datetime64):
        return pd.NaT if np.isnat(value) else pd.Timestamp(value)
    return value.item() if isinstance(value, np.generic) else value


def _pseudonym(value: object, key: bytes) -> str:
    return hmac.new(key, str(value).upper().encode("utf-8"), hashlib.sha256).hexdigest()


def _rows(columns: Sequence[str], frame: pd.DataFrame) -> Iterator[list[str]]:
    yield [neutralise_cell(c) for c in columns]
    for row in frame.itertuples(index=False, name=None):
        yield [neutralise_cell(v) for v in row]


def write_view_csv(path: Path, frame: pd.DataFrame) -> None:
    """Write a view as CSV with every cell neutralised (formula injection), like open data."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        _write_csv(f, [str(c) for c in frame.columns], frame)


def _write_csv(f: TextIO, columns: Sequence[str], frame: pd.DataFrame) -> None:
    # csv's defaults are RFC 4180: CRLF, double quote, quotes only where needed.
    csv.writer(f, lineterminator="\r\n").writerows(_rows(columns, frame))


def _write_json(f: TextIO, data: Mapping[str, Any]) -> None:
    f.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def _stage(out_dir: Path, write: Callable[[TextIO], None]) -> Path:
    """Write through ``write(file)`` into a temporary file of ``out_dir``; return its path."""
    fd, name = tempfile.mkstemp(dir=out_dir, prefix=".export-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            write(f)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


def _dcat(
    table: DatasetRef,
    paths: Mapping[str, Path],
    *,
    title: str,
    description: str,
    publisher: str,
    keywords: Sequence[str],
    license: str,
    issued: date,
    modified: datetime,
    byte_size: int,
) -> dict[str, Any]:
    def fr(text: str) -> dict[str, str]:
        return {"@value": text, "@language": "fr"}

    licence: dict[str, Any] = {"@type": "dct:LicenseDocument", "dct:title": license}
    if license == ETALAB_2:
        licence["@id"] = ETALAB_2_URI
    elif "://" in license:
        licence["@id"] = license
    issued_type = "xsd:dateTime" if isinstance(issued, datetime) else "xsd:date"
    csv_name = paths["csv"].name
    return {
        "@context": _CONTEXT,
        "@type": "dcat:Dataset",
        "dct:identifier": table.name,
        "dct:title": fr(title),
        "dct:description": fr(description),
        "dct:publisher": {"@type": "foaf:Organization", "foaf:name": publisher},
        "dct:issued": {"@value": issued.isoformat(), "@type": issued_type},
        "dct:modified": {"@value": modified.isoformat(), "@type": "xsd:dateTime"},
        "dct:language": {"@id": "http://publications.europa.eu/resource/authority/language/FRA"},
        "dcat:keyword": [fr(k) for k in keywords],
        "dct:license": licence,
        "dcat:distribution": [
            {
                "@type": "dcat:Distribution",
                "dct:title": fr(f"{title} (CSV)"),
                "dcat:accessURL": {"@id": csv_name},
                "dcat:downloadURL": {"@id": csv_name},
                "dct:format": "text/csv",
                "dcat:mediaType": "text/csv",
                "dcat:byteSize": {"@value": str(byte_size), "@type": "xsd:nonNegativeInteger"},
                "dct:conformsTo": {"@id": paths["schema.json"].name},
                "dct:license": licence,
            }
        ],
    }
