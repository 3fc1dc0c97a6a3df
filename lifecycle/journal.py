"""The lifecycle journal ``meta/lifecycle_log`` and the erasure certificates.

One row per action on one table (or landing file) and batch: request id, kind (``retention``,
``erasure``), source, what was done, how many rows or lines, the table versions before and
after, when, and who (OS user and host; ``lake audit`` shows them beside the table versions).
Never a value: the journal is what the DPO shows an auditor. Written and read with delta-rs,
like the run log and the quality history.

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

from lake.settings import Settings
from lake.storage import table_uri

LIFECYCLE_TABLE = "lifecycle_log"

FIELDS: tuple[tuple[str, str], ...] = (
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


def _arrow_schema() -> Any:
    import pyarrow as pa

    types = {"string": pa.string(), "timestamp": pa.timestamp("us", tz="UTC"), "int64": pa.int64()}
    return pa.schema([(name, types[kind]) for name, kind in FIELDS])


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def append(settings: Settings, rows: Sequence[Mapping[str, Any]]) -> None:
    """Append journal rows (mappings with the keys of :data:`FIELDS`)."""
    if not rows:
        return
    import pyarrow as pa
    from deltalake import write_deltalake

    from lake.delta_reader import storage_options, to_delta_rs_uri

    names = [n for n, _ in FIELDS]
    who = {"user": _user(), "host": socket.gethostname()}
    data = pa.Table.from_pylist(
        [{n: row.get(n, who.get(n)) for n in names} for row in rows], schema=_arrow_schema()
    )
    options = storage_options(settings)
    if options:
        options["aws_conditional_put"] = "etag"
    try:
        write_deltalake(
            to_delta_rs_uri(table_uri(settings, "meta", LIFECYCLE_TABLE)),
            data,
            mode="append",
            schema_mode="merge",  # a journal written before a column was added still appends
            storage_options=options or None,
        )
    except OSError as exc:
        from lake.storage import explain_storage_failure

        raise explain_storage_failure(exc, settings) from exc


def read(settings: Settings) -> list[dict[str, Any]]:
    """Every journal row, oldest first ([] before the first action)."""
    from lake.delta_reader import open_table
    from lake.errors import TableError

    try:
        table = open_table(settings, table_uri(settings, "meta", LIFECYCLE_TABLE))
    except TableError:
        return []
    rows = table.to_pyarrow_table().to_pylist()
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
    if c.get("lineage_unhandled"):
        lines += ["", "Jeux de données que le lignage signale et que le lac ne sait pas traiter :"]
        lines += [f"- {name}" for name in c["lineage_unhandled"]]
    if c.get("outside_lake"):
        lines += ["", "Hors du lac (à traiter par le service qui les détient) :", ""]
        lines += [f"- {item}" for item in c["outside_lake"]]
    return "\n".join(lines) + "\n"


def _blank(value: object) -> str:
    return "" if value is None else str(value)
