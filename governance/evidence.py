"""What the dashboard's indicators rest on, read back from disk: page stamps and published schemas.

A deliverable counts only while it is true of the lake, not because a file exists:

- **Page stamps.** Beside a governance page (the A15 study, the A09 cloud framework)
  :func:`write_stamp` records when it was generated and the Delta version and last commit of every
  table it described (``<page stem>.stamp.json``). :func:`freshness` compares a stamp with the
  catalogue as it is now: the page is current only when it described at least one table and no
  table has been committed to, created or removed since. Versions are compared, not clocks, so a
  writer whose clock differs from the reporting machine's cannot make a stale page look current.
- **Published schemas.** :func:`published_schemas` counts the Table Schemas where the open-data
  export publishes them (``<name>.schema.json`` beside ``<name>.csv``): a schema counts when it is
  a valid Table Schema (:func:`lake.table_schema.schema_problems`) and describes the CSV's header.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lake.pages.french import as_utc, format_date_fr
from lake.table_schema import schema_problems

__all__ = [
    "STAMP_SUFFIX",
    "Freshness",
    "PageStamp",
    "PublishedSchemas",
    "freshness",
    "published_schemas",
    "read_stamp",
    "stamp_path",
    "write_stamp",
]

STAMP_SUFFIX = ".stamp.json"


@dataclass(frozen=True)
class PageStamp:
    """When a page was generated and which table versions it described.

    Attributes:
        page: The page's file name.
        generated_at: When the page was written (UTC).
        tables: Delta version of each table described, by ``<layer>/<name>``.
    """

    page: str
    generated_at: dt.datetime
    tables: Mapping[str, int]


@dataclass(frozen=True)
class Freshness:
    """Whether a page describes the lake as it is, and why (French lines for the dashboard)."""

    current: bool
    details: tuple[str, ...]


@dataclass(frozen=True)
class PublishedSchemas:
    """The Table Schemas found where the open-data export publishes them.

    Attributes:
        valid: Names (``<name>`` of ``<name>.schema.json``) of the valid schemas, sorted.
        refused: ``<name>.schema.json : <why>`` for each schema that does not count, sorted.
    """

    valid: tuple[str, ...] = ()
    refused: tuple[str, ...] = ()


def stamp_path(page: Path) -> Path:
    """The stamp beside ``page``: ``etude/index.html`` -> ``etude/index.stamp.json``."""
    return page.with_name(page.stem + STAMP_SUFFIX)


def write_stamp(page: Path, catalog: Mapping[str, Any], generated_at: dt.datetime) -> Path:
    """Record beside ``page`` the table versions it was generated from.

    Args:
        page: The page just written.
        catalog: The catalogue the page was computed from (`Catalog.to_dict`); reads each
            table's ``layer``, ``name``, ``version`` and ``updated_at``.
        generated_at: When the page was generated.

    Returns:
        The stamp's path.
    """
    tables = {
        f"{t['layer']}/{t['name']}": {
            "version": int(t["version"]),
            "updated_at": t.get("updated_at"),
        }
        for t in catalog.get("tables") or ()
    }
    data = {
        "page": page.name,
        "generated_at": as_utc(generated_at).isoformat(),
        "tables": dict(sorted(tables.items())),
    }
    out = stamp_path(page)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return out


def read_stamp(page: Path) -> PageStamp | None:
    """The stamp beside ``page``; None when it is missing or unreadable (the page then counts
    as not done, which is what a page nobody can date is)."""
    try:
        data = json.loads(stamp_path(page).read_text(encoding="utf-8"))
        return PageStamp(
            page=str(data["page"]),
            generated_at=as_utc(dt.datetime.fromisoformat(data["generated_at"])),
            tables={str(k): int(v["version"]) for k, v in data["tables"].items()},
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def freshness(stamp: PageStamp | None, catalog: Mapping[str, Any]) -> Freshness:
    """Whether the page of ``stamp`` describes the tables of ``catalog`` as they are now.

    Args:
        stamp: The page's stamp (:func:`read_stamp`); None when there is none.
        catalog: The current catalogue (`Catalog.to_dict`).

    Returns:
        Current when the stamp described at least one table and every table of the catalogue
        has the version the stamp recorded, no more and no fewer tables; otherwise not current,
        with each table changed since, in French.
    """
    if stamp is None:
        return Freshness(False, ("Document absent, ou produit sans trace de génération.",))
    generated = f"Produit le {format_date_fr(stamp.generated_at, time=True)}"
    now = {f"{t['layer']}/{t['name']}": t for t in catalog.get("tables") or ()}
    if not stamp.tables:
        return Freshness(False, (f"{generated} sur un lac sans aucune table.",))
    changed = []
    for key, table in sorted(now.items()):
        version = int(table["version"])
        if key not in stamp.tables:
            changed.append(f"{key} : table apparue depuis (version {version}).")
        elif version != stamp.tables[key]:
            when = _when(table.get("updated_at"))
            at = f" le {format_date_fr(when, time=True)}" if when else ""
            changed.append(
                f"{key} : modifiée{at} (version {version}, le document décrit la version "
                f"{stamp.tables[key]})."
            )
    changed += [f"{key} : table disparue depuis." for key in sorted(set(stamp.tables) - set(now))]
    if changed:
        return Freshness(False, (f"{generated} : périmé, les données ont changé depuis.", *changed))
    return Freshness(
        True, (f"{generated}, à jour des {len(now)} tables du lac (versions Delta identiques).",)
    )


def published_schemas(folder: Path) -> PublishedSchemas:
    """The Table Schemas published in ``folder`` (the open-data export's), valid or not.

    A ``<name>.schema.json`` counts when it parses, is a valid Table Schema and its field names
    are, in order, the header of ``<name>.csv`` beside it (the data it describes is published).
    """
    valid, refused = [], []
    for path in sorted(folder.glob("*.schema.json")) if folder.is_dir() else ():
        name = path.name[: -len(".schema.json")]
        why = _schema_refusal(path, folder / f"{name}.csv")
        if why:
            refused.append(f"{path.name} : {why}")
        else:
            valid.append(name)
    return PublishedSchemas(tuple(valid), tuple(refused))


def _schema_refusal(path: Path, data: Path) -> str | None:
    try:
        descriptor = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return f"illisible ({exc})"
    problems = schema_problems(descriptor)
    if problems:
        return "schéma invalide : " + " ; ".join(problems)
    if not data.is_file():
        return f"aucune donnée publiée à côté ({data.name} absent)"
    try:
        with data.open(encoding="utf-8", newline="") as f:
            header = next(csv.reader(f), [])
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        return f"{data.name} illisible ({exc})"
    fields = [f["name"] for f in descriptor["fields"]]
    if header != fields:
        return f"les champs {fields} ne sont pas l'en-tête de {data.name} {header}"
    return None


def _when(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return as_utc(value)
    if isinstance(value, str) and value:
        try:
            return as_utc(dt.datetime.fromisoformat(value))
        except ValueError:
            return None
    return None
