"""The lifecycle journal ``meta/lifecycle_log`` and the erasure certificates.

One row per action on one table (or landing file) and batch: request id, kind (``retention``,
``erasure``), source, what was done, how many rows or lines, the table versions before and
after, when, and who (OS user and host; ``lake audit`` shows them beside the table versions).
Never a value: the journal is what the DPO shows an auditor. Written and read with delta-rs,
like the run log and the quality history (:mod:`lake.meta_tables`).

The journal is also what keeps reconciliation true after data left the lake on purpose: for
each batch, the rows a table holds now plus the rows the journal says were removed from it equal
the run log's counts.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import socket
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lake import meta_tables
from lake.meta_tables import ColumnKind, MetaTable
from lake.settings import Settings

LIFECYCLE_TABLE = "lifecycle_log"

FIELDS: tuple[tuple[str, ColumnKind], ...] = (
    ("request_id", "string"),
    ("kind", "string"),
    ("at", "timestamp"),
    ("source", "string"),
    ("table", "string"),
    ("batch_id", "string"),
    ("action", "string"),
    ("rows", "int64"),
    ("version_before", "int64"),
    ("version_after", "int64"),
    ("detail", "string"),
    ("user", "string"),
    ("host", "string"),
)

LIFECYCLE_LOG = MetaTable(LIFECYCLE_TABLE, FIELDS)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def append(settings: Settings, rows: Sequence[Mapping[str, Any]]) -> None:
    """Append journal rows (mappings with the keys of :data:`FIELDS`); ``user`` and ``host``
    default to this process's."""
    if not rows:
        return
    who = {"user": _user(), "host": socket.gethostname()}
    meta_tables.append(settings, LIFECYCLE_LOG, [{**who, **row} for row in rows])


def read(settings: Settings) -> list[dict[str, Any]]:
    """Every journal row, oldest first ([] before the first action)."""
    rows = meta_tables.read(settings, LIFECYCLE_LOG)
    return sorted(rows, key=lambda r: (r["at"], r["request_id"], r["table"] or ""))


def removed_per_batch(rows: Sequence[Mapping[str, Any]], table: str) -> dict[str, int]:
    """Rows the journal says left ``table`` (``layer/name``), per batch id."""
    removed: dict[str, int] = {}
    for row in rows:
        if row["table"] == table and row["action"] in ("delete", "archive") and row["batch_id"]:
            removed[row["batch_id"]] = removed.get(row["batch_id"], 0) + int(row["rows"] or 0)
    return removed


def write_certificate(directory: Path, certificate: Mapping[str, Any]) -> tuple[Path, Path]:
    """Write the certificate as JSON (machines) and Markdown (the DPO); returns both paths."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = directory / f"certificat-{certificate['request_id']}"
    json_path = stem.with_suffix(".json")
    json_path.write_text(json.dumps(certificate, indent=2, ensure_ascii=False, default=str) + "\n")
    md_path = stem.with_suffix(".md")
    md_path.write_text(certificate_markdown(certificate), encoding="utf-8")
    return json_path, md_path


def certificate_markdown(c: Mapping[str, Any]) -> str:
    """The certificate in French, for the DPO (no personal value: counts, tables, versions)."""
    lines = [
        f"# Certificat d'effacement {c['request_id']}",
        "",
        f"- Demande : référence {c['subject_reference']} (empreinte de la demande, sans "
        "identifiant de la personne)",
        f"- Effacement terminé le {c['finished_at']}",
        f"- Sources concernées : {', '.join(c['sources']) or 'aucune'}",
        f"- Historique : versions antérieures purgées (conservation {c['vacuum_retain_hours']} h), "
        "retour arrière (time travel) impossible avant l'effacement",
        "",
        "| Table ou fichier | Action | Lignes | Version avant | Version après |",
        "|---|---|---:|---:|---:|",
    ]
    for change in c["changes"]:
        lines.append(
            f"| {change['table']} | {change['action']} | {change['rows']} | "
            f"{_blank(change['version_before'])} | {_blank(change['version_after'])} |"
        )
    if c.get("landing_files"):
        lines += ["", "Fichiers de dépôt réécrits, lignes de la personne vidées :", ""]
        lines += [
            f"- {f['uri']} : {f['lines_blanked']} ligne(s) effacée(s)" for f in c["landing_files"]
        ]
    if c.get("stores_checked"):
        lines += [
            "",
            "Emplacements vérifiés (chaque objet lu ; nombre d'objets où figurait la personne "
            "avant et après) :",
            "",
            "| Emplacement | Rôle | Objets lus | Avant | Lignes effacées | Après |",
            "|---|---|---:|---:|---:|---:|",
        ]
        lines += [
            f"| {s['store']} | {s['role']} | {s['objects_scanned']} | "
            f"{s['objects_holding_before']} | {s['rows_removed']} | {s['objects_holding_after']} |"
            for s in c["stores_checked"]
        ]
    if c.get("views_withdrawn"):
        lines += ["", "Vues publiées retirées (à republier depuis la table effacée) :", ""]
        lines += [f"- {key}" for key in c["views_withdrawn"]]
    if c.get("lineage_unhandled"):
        lines += ["", "Jeux de données que le lignage signale et que le lac ne sait pas traiter :"]
        lines += [f"- {name}" for name in c["lineage_unhandled"]]
    if c.get("outside_lake"):
        lines += ["", "Hors du lac (à traiter par le service qui les détient) :", ""]
        lines += [f"- {item}" for item in c["outside_lake"]]
    return "\n".join(lines) + "\n"


def _blank(value: object) -> str:
    return "" if value is None else str(value)
