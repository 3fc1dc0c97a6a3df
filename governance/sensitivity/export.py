"""What leaves the lake, for whom: the open-data export (and, re-exported, the column plans per
audience from :mod:`governance.sensitivity.audience` and the safe CSV cells from
:mod:`governance.sensitivity.safe_csv`).

Open data (:func:`export_opendata`) is stricter than any audience plan: every column must be
level 4, not personal and not excluded, or nothing is written and
:class:`~governance.errors.ExportRefused` names each offending column with its lineage. The export
writes ``<name>.csv`` (UTF-8, comma, CRLF, RFC 4180 quoting, formulas neutralised),
``<name>.schema.json`` (the caller's Table Schema) and ``<name>.dcat.jsonld`` (DCAT-AP 3.0.1,
built by :mod:`governance.sensitivity.dcat`, validated by
:mod:`~governance.sensitivity.dcat_shapes`), each through a temporary file renamed
into place. A catalogue record that does not validate against the DCAT-AP shapes is refused
(:class:`~governance.errors.CatalogueRecordInvalid`) and nothing is published.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TextIO

from governance.errors import ExportRefused, GovernanceError
from governance.lineage.model import ColumnRef, DatasetRef
from governance.sensitivity.audience import (
    AUDIENCES_FR,
    ColumnDecision,
    ColumnPlan,
    apply_plan,
    visible_columns,
)
from governance.sensitivity.dcat import ETALAB_2, catalogue_record
from governance.sensitivity.dcat_shapes import require_valid
from governance.sensitivity.propagation import DerivedTag, explain_fr
from governance.sensitivity.safe_csv import neutralise_cell, write_csv, write_view_csv

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


_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class ExportFiles:
    """The three files of an open-data export, and the record's DCAT-AP warnings.

    ``warnings`` are the recommended DCAT-AP properties the record lacks (one plain line each);
    they do not refuse an export, violations do.
    """

    csv: Path
    schema: Path
    dcat: Path
    rows: int
    warnings: tuple[str, ...] = ()


def export_opendata(
    table: DatasetRef,
    frame: pd.DataFrame,
    derived: Mapping[str, DerivedTag],
    out_dir: Path,
    *,
    table_schema: dict[str, Any],
    title: str,
    description: str,
    base_url: str,
    contact_email: str,
    contact_name: str = "Ministère de l'Europe et des Affaires étrangères, données ouvertes",
    themes: Sequence[str] = ("GOVE",),
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
        base_url: Absolute URL of the folder where the files are published (``[export]
            base_url``); the record's access and download URLs are under it.
        contact_email: E-mail of the record's contact point (``[export] contact_email``).
        contact_name: Name of the record's contact point.
        themes: EU data-theme codes of the dataset
            (:func:`~governance.sensitivity.dcat.themes_for_domain`).
        publisher: ``foaf:name`` of the publisher.
        keywords: ``dcat:keyword`` values.
        license: License name or URI; the Etalab 2.0 name maps to its SPDX IRI.
        issued: ``dct:issued``; today (UTC) if None.
        modified: ``dct:modified``; now (UTC) if None.
        mode: ``error`` refuses to replace existing files, ``overwrite`` replaces them.

    Returns:
        The paths written, the number of rows and the record's DCAT-AP warnings.

    Raises:
        ExportRefused: A column is not level 4, is personal, is excluded or has no tag; nothing
            is written.
        CatalogueRecordInvalid: The DCAT-AP record does not validate against the official
            shapes and the lake's rules (each violation named); nothing is written.
        GovernanceError: Bad name, mode or schema, or the files exist with ``mode="error"``.
    """
    if mode not in ("error", "overwrite"):
        raise GovernanceError(
            f"mode must be 'error' or 'overwrite'; found {mode!r}.",
            fix="pass mode='error' or mode='overwrite'",
        )
    columns = [str(c) for c in frame.columns]
    _refuse_unless_open(table, columns, derived)
    name = table.name.rstrip("/").rsplit("/", 1)[-1]
    if not _SAFE_NAME.match(name):
        raise GovernanceError(
            f"Table name {name!r} cannot name export files; expected [A-Za-z0-9_.-].",
            fix="export the table under a name made of letters, digits, '.', '-' and '_'",
            table=table.name,
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
        staged[paths["csv"]] = _stage(out_dir, lambda f: write_csv(f, columns, frame))
        staged[paths["schema.json"]] = _stage(out_dir, lambda f: _write_json(f, table_schema))
        dcat = catalogue_record(
            name,
            identifier=table.name,
            base_url=base_url,
            title=title,
            description=description,
            publisher=publisher,
            contact_name=contact_name,
            contact_email=contact_email,
            themes=themes,
            keywords=keywords,
            license=license,
            issued=issued or stamp.date(),
            modified=stamp,
            byte_size=staged[paths["csv"]].stat().st_size,
        )
        check = require_valid(dcat, table=table.name)
        staged[paths["dcat.jsonld"]] = _stage(out_dir, lambda f: _write_json(f, dcat))
    except BaseException:
        for tmp in staged.values():
            tmp.unlink(missing_ok=True)
        raise
    # Every file is complete before the first rename, so a failure above leaves no export.
    for final, tmp in staged.items():
        os.replace(tmp, final)
    return ExportFiles(
        paths["csv"], paths["schema.json"], paths["dcat.jsonld"], len(frame), check.warnings
    )


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
