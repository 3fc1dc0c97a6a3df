"""Deterministic extracts of the seven business silos, with their defects planted on purpose.

The lake has no real silo data, so this package writes realistic exports the way each silo
delivers them (CSV in Latin-1, cp1252 or UTF-8 with or without BOM, ``;`` or ``,``, decimal
commas, no-break spaces, an Excel sheet with a title row, JSON lines) and plants every defect
class the ingestion must handle at fixed positions, so that each one exists for any
``rows >= 30``:

- each source has an ordered list of plants; with ``n`` plants, plant ``j`` replaces data line
  ``(j + 1) * rows // (n + 1)``; a duplicate copies the nearest earlier data line left clean;
- every other line is *clean*: it follows its source contract exactly (INSEE country names,
  declared date formats, allowed values, no null in a required column, unique key), so the only
  rows that end in quarantine, flagged or dropped are the ones in the manifest;
- delivery 2 repeats a third of the clean rows of delivery 1 (three of them changed, so the MERGE
  has updates) and then adds new rows; ``adoptions`` and ``development_aid`` also add a column
  and rename one (the contract lists the new header in ``aliases``).

Clean rows come from one ``random.Random`` stream per (seed, source), read in the same order by
both deliveries, so delivery 2 can repeat rows of delivery 1 without holding a file in memory.
:func:`planted_defects` runs the very code of :func:`generate_delivery` with writing switched off
(and stops after the last planted line). Personal data is fake but realistic: common French names,
e-mails on the reserved ``example.*`` domains, phones in ``+33 6 00`` / ``+33 7 00``.

Modules, one reason to change each:

- ``vocabularies``: names, posts, countries, referentials and their weights;
- ``rows``: the clean row stream of each silo, and how a repeated row is updated;
- ``defects``: what a planted defect is, the rule that catches it, where it sits in a file;
- ``specs``: how each silo delivers (format, encoding, headers) and its list of plants;
- ``writers``: a row's delivered values, and the CSV / JSON lines / XLSX (openpyxl) sinks;
- ``emit``: one delivery written row by row, and its manifest;
- ``api``: :func:`generate_delivery`, :func:`generate_all`, :func:`planted_defects`, the
  ``MANIFEST.json`` document; ``__main__``: the command line.

``python -m ingestion.generator samples --rows 60`` rebuilds the bundled samples and their
``MANIFEST.json``.
"""

from __future__ import annotations

from ingestion.generator.api import generate_all, generate_delivery, planted_defects
from ingestion.generator.specs import SOURCES

__all__ = ["SOURCES", "generate_all", "generate_delivery", "planted_defects"]
