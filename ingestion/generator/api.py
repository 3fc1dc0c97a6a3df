"""The public API: write a delivery or all of them, the manifest of the planted defects."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from ingestion.generator.emit import composition, emit
from ingestion.generator.specs import (
    DELIVERY_DATES,
    MIN_ROWS,
    SOURCES,
    SPECS,
    file_name,
    spec_for,
)


def _check(delivery: int, rows: int) -> None:
    """Refuse a delivery other than 1 or 2, or fewer rows than planted defects need."""
    if delivery not in DELIVERY_DATES:
        raise ValueError(f"delivery must be 1 or 2; got {delivery!r}")
    if rows < MIN_ROWS:
        raise ValueError(
            f"rows must be >= {MIN_ROWS} so that every planted defect has a line of its own; "
            f"got {rows}"
        )


def generate_delivery(
    source: str, delivery: int, rows: int, out_dir: Path, *, seed: int = 2021
) -> list[Path]:
    """Write the files of one delivery of a silo.

    Args:
        source: One of :data:`SOURCES`.
        delivery: 1 (first extract) or 2 (later extract: repeats, updates, new rows, and for
            ``adoptions`` / ``development_aid`` an added and a renamed column).
        rows: Number of data lines (>= 30; the header and an xlsx title row are not counted).
        out_dir: Directory to write into (created if missing).
        seed: Same seed and rows give byte-identical files.

    Returns:
        The paths written (one file per delivery), named ``<source>_<delivery date>.<ext>``.

    Raises:
        ValueError: Unknown source (the message lists the valid ones), delivery or rows.
    """
    spec = spec_for(source)
    _check(delivery, rows)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / file_name(source, delivery)
    partial = path.with_name(path.name + ".part")  # never leave a half-written extract behind
    try:
        emit(spec, delivery, rows, seed, partial)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return [path]


def generate_all(out_dir: Path, *, rows: int = 100, seed: int = 2021) -> dict[str, list[Path]]:
    """Write both deliveries of every source under ``out_dir/<source>/delivery-<n>/``.

    Args:
        out_dir: Root directory (created if missing).
        rows: Data lines per file (>= 30).
        seed: Seed of every source's stream.

    Returns:
        Source id -> its files, delivery 1 first.
    """
    return {
        source: [
            path
            for delivery in (1, 2)
            for path in generate_delivery(
                source, delivery, rows, out_dir / source / f"delivery-{delivery}", seed=seed
            )
        ]
        for source in SOURCES
    }


def planted_defects(source: str, delivery: int, rows: int, *, seed: int = 2021) -> list[dict]:
    """The manifest of the defects planted in one delivery, from the code that writes it.

    Each entry has ``source``, ``delivery``, ``file``, ``line`` (1-based physical line for CSV
    and JSON lines, row number for xlsx), ``column`` (contract column, None for a whole-line
    defect), ``kind``, ``value`` (the raw text planted; the whole line for whole-line defects)
    and ``expected`` (``quarantine``, ``typed`` with ``expected_value``, ``flagged``,
    ``dropped_duplicate`` or ``reported``). Duplicates add ``duplicate_of``: the delivery and
    line of the row they repeat.

    Raises:
        ValueError: Unknown source, delivery or rows, as :func:`generate_delivery`.
    """
    spec = spec_for(source)
    _check(delivery, rows)
    return emit(spec, delivery, rows, seed, None)


def manifest(rows: int, seed: int) -> dict[str, Any]:
    """The document written as ``MANIFEST.json`` next to the generated deliveries.

    Args:
        rows: Data lines per file.
        seed: Seed of every source's stream.

    Returns:
        The seed, rows and delivery dates, the count of each defect kind, and per delivery its
        file, composition and defects.
    """
    deliveries: list[dict[str, Any]] = []
    kinds: Counter[str] = Counter()
    for source in SOURCES:
        for delivery in (1, 2):
            defects = planted_defects(source, delivery, rows, seed=seed)
            kinds.update(d["kind"] for d in defects)
            name = file_name(source, delivery)
            deliveries.append(
                {
                    "source": source,
                    "delivery": delivery,
                    "file": name,
                    "path": f"{source}/delivery-{delivery}/{name}",
                    **composition(SPECS[source], delivery, rows),
                    "expected": dict(sorted(Counter(d["expected"] for d in defects).items())),
                    "defects": defects,
                }
            )
    return {
        "generator": "ingestion.generator",
        "seed": seed,
        "rows": rows,
        "delivery_dates": {str(k): d.isoformat() for k, d in DELIVERY_DATES.items()},
        "kinds": dict(sorted(kinds.items())),
        "deliveries": deliveries,
    }
