"""Right of access (RGPD art. 15): everything the lake holds on one person, with its origin.

For each source holding the person: the rows as delivered (bronze, with the landing file, line
and delivery date), the current record (silver; pseudonymised columns are shown as "pseudonymisé"
with the value delivered beside it, since the person may see their own data), the quarantine
rows with their reason, and the gold indicators the person is counted in. Written as JSON and as
a French HTML page (values escaped), both under ``reports/rgpd/`` - a file the DPO hands over,
which holds personal data: it is written with mode 600.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingestion.gold import INDICATORS
from lake import copies, delta_io
from lake.contracts import load_contracts
from lake.keys import pseudonymisation_key
from lake.objects import ObjectStore
from lake.settings import Settings
from lake.storage import lake_root, table_uri
from lifecycle.subjects import SourceMatch, Subject, match_source, needles_of, sources_for
from lifecycle.traces import scan

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def gather(spark: SparkSession, settings: Settings, subject: Subject) -> dict[str, Any]:
    """Everything held on ``subject``, per source and layer."""
    key = pseudonymisation_key(settings)
    contracts = load_contracts(settings.root)
    sources = []
    store = ObjectStore(settings)
    for contract in sources_for(subject, contracts):
        match = match_source(spark, settings, contract, subject, key)
        match.traces = scan(
            store, copies.source_stores(settings, contract.source), needles_of(match, subject)
        )
        if not match.found:
            continue
        entry: dict[str, Any] = {
            "source": contract.source,
            "title": contract.title,
            "owner": contract.owner,
            "retention": f"{contract.retention.years} ans, puis {contract.retention.end}",
        }
        locations = match.locations_frame(spark)
        entry["delivered"] = _delivered(
            spark, table_uri(settings, "bronze", contract.source), match
        )
        # the cold copies retention made (archive/<layer>/<source>): still the person's data
        entry["archived"] = _delivered(spark, _archived(settings, "bronze", contract.source), match)
        entry["archived_records"] = _records(
            spark, _archived(settings, "silver", contract.source), match
        )
        entry["stores"] = [t.as_dict() for t in match.traces if t.holding]
        entry["current"] = _records(spark, table_uri(settings, "silver", contract.source), match)
        q_uri = table_uri(settings, "quarantine", contract.source)
        entry["quarantine"] = []
        if delta_io.table_exists(spark, q_uri):
            entry["quarantine"] = [
                _plain(r.asDict())
                for r in delta_io.read_table(spark, q_uri)
                .join(locations, on=["_file_uri", "_line"], how="left_semi")
                .select("_file_uri", "_line", "stage", "column", "reason")
                .collect()
            ]
        entry["counted_in"] = [
            {"indicator": f"gold/{i.name}", "description": i.description}
            for i in INDICATORS
            if contract.source in i.sources
        ]
        sources.append(entry)
    return {
        "subject_reference": subject.reference(key),
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "sources": sources,
    }


def _archived(settings: Settings, layer: str, source: str) -> str:
    return f"{lake_root(settings)}/{copies.archive_key(settings, layer, source)}"


def _delivered(spark: SparkSession, uri: str, match: SourceMatch) -> list[dict[str, Any]]:
    """The person's rows of a bronze table (hot or archived) as delivered, with their origin."""
    if not match.locations or not delta_io.table_exists(spark, uri):
        return []
    bronze = delta_io.read_table(spark, uri)
    columns = [c.name for c in match.contract.columns if c.name in bronze.columns]
    return [
        _plain(r.asDict())
        for r in bronze.join(
            match.locations_frame(spark), on=["_file_uri", "_line"], how="left_semi"
        )
        .select("_file_uri", "_line", "_delivered_at", *columns)
        .orderBy("_delivered_at", "_line")
        .collect()
    ]


def _records(spark: SparkSession, uri: str, match: SourceMatch) -> list[dict[str, Any]]:
    """The person's records of a silver table (hot or archived), pseudonyms shown as such."""
    if not match.keys or not delta_io.table_exists(spark, uri):
        return []
    pk = list(match.contract.primary_key)
    pseudonymised = [c.name for c in match.contract.columns if c.pseudonymise]
    silver = delta_io.read_table(spark, uri).join(match.keys_frame(spark), on=pk, how="left_semi")
    records = []
    for row in silver.collect():
        record = _plain(row.asDict())
        for name in pseudonymised:
            if record.get(name) is not None:
                record[name] = "pseudonymisé"
        records.append(
            {k: v for k, v in record.items() if not k.startswith("_") or k == "_file_uri"}
        )
    return records


def _plain(record: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else v)
        for k, v in record.items()
    }


def write(directory: Path, export: dict[str, Any]) -> tuple[Path, Path]:
    """Write the export (JSON and HTML, mode 600); returns both paths."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = directory / f"acces-{export['subject_reference']}"
    paths = (stem.with_suffix(".json"), stem.with_suffix(".html"))
    texts = (json.dumps(export, indent=2, ensure_ascii=False, default=str) + "\n", page(export))
    for path, text in zip(paths, texts, strict=True):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
    return paths


def _table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "<p>Aucune donnée.</p>"
    heads = list(rows[0])
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in heads)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_text(r.get(h)))}</td>" for h in heads) + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _text(value: object) -> str:
    return "" if value is None else str(value)


def page(export: dict[str, Any]) -> str:
    """The export as a French HTML page (every value escaped, no script)."""
    parts = [
        "<!doctype html><html lang='fr'><head><meta charset='utf-8'>",
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
        "style-src 'unsafe-inline'\">",
        "<title>Droit d'accès - données détenues</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #999;padding:.2em .5em}</style></head><body>",
        "<h1>Vos données dans le lac de données du ministère</h1>",
        f"<p>Référence de la demande : {html.escape(export['subject_reference'])}. "
        f"Document établi le {html.escape(export['generated_at'])}.</p>",
    ]
    if not export["sources"]:
        parts.append("<p>Le lac ne détient aucune donnée correspondant à la demande.</p>")
    for source in export["sources"]:
        parts += [
            f"<h2>{html.escape(source['title'])}</h2>",
            f"<p>Service responsable : {html.escape(source['owner'])}. Durée de conservation : "
            f"{html.escape(source['retention'])}.</p>",
            "<h3>Telles que transmises par le service (fichier, ligne, date de dépôt)</h3>",
            _table(source["delivered"]),
            "<h3>Fiche à jour</h3>",
            _table(source["current"]),
            "<h3>Archivées à la fin de la durée d'utilité administrative</h3>",
            _table(source.get("archived", []) + source.get("archived_records", [])),
            "<h3>Lignes mises de côté par le contrôle qualité</h3>",
            _table(source["quarantine"]),
            "<h3>Statistiques où vous êtes compté(e) (sans vous identifier)</h3>",
            "<ul>"
            + "".join(
                f"<li>{html.escape(c['indicator'])} : {html.escape(c['description'])}</li>"
                for c in source["counted_in"]
            )
            + "</ul>",
        ]
    parts.append("</body></html>")
    return "\n".join(parts)
