"""Emission: one delivery of a silo, written row by row, and the manifest of its defects.

Clean rows come from one ``random.Random`` stream per (seed, source), read in the same order by
both deliveries, so delivery 2 can repeat rows of delivery 1 without holding a file in memory.
With no path, :func:`emit` writes nothing and stops after the last planted line: the manifest
comes from the very code that writes the file.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ingestion.generator.defects import NO_VALUE, RULE_OF_KIND, layout
from ingestion.generator.rows import Row
from ingestion.generator.specs import DELIVERY_DATES, Spec, file_name
from ingestion.generator.vocabularies import COMMENTS, UPDATE_COMMENT
from ingestion.generator.writers import RAW, TextSink, XlsxSink, cells_of, jsonable


def _pick(
    stream: Iterator[Row], wanted: Iterator[int], keep: frozenset[int], kept: dict[int, Row]
) -> Iterator[tuple[int, Row]]:
    """The clean rows at the increasing indices ``wanted``, keeping those in ``keep``."""
    current, row = -1, {}
    for index in wanted:
        while current < index:
            row = next(stream)
            current += 1
            if current in keep:
                kept[current] = row
        yield index, row


def emit(spec: Spec, delivery: int, rows: int, seed: int, path: Path | None) -> list[dict]:
    """Write one delivery to ``path`` (or nothing when None) and return its defect manifest.

    Args:
        spec: The silo.
        delivery: 1 or 2.
        rows: Data lines of the file.
        seed: Seed of the silo's row stream.
        path: File to write; None computes the manifest only.

    Returns:
        The manifest entries of the delivery, in line order (see
        :func:`ingestion.generator.planted_defects`).
    """
    placed = layout(spec.plants, rows)
    name = file_name(spec.source, delivery)
    first = spec.first_line
    entries: list[dict[str, Any]] = []

    def note(
        line: int,
        column: str | None,
        plant_kind: str,
        value: Any,
        expected: str,
        expected_value: Any = NO_VALUE,
        duplicate_of: int | None = None,
        rule: str | None = None,
    ) -> None:
        entry = {
            "source": spec.source,
            "delivery": delivery,
            "file": name,
            "line": line,
            "column": column,
            "kind": plant_kind,
            "value": value,
            "expected": expected,
        }
        if expected_value is not NO_VALUE:
            entry["expected_value"] = expected_value
        if duplicate_of is not None:
            entry["duplicate_of"] = {"delivery": 1, "line": duplicate_of}
        caught_by = rule or RULE_OF_KIND.get(plant_kind)
        if caught_by is not None:
            entry["rule"] = f"{spec.source}.{caught_by.format(column=column)}"
        entries.append(entry)

    headers = list(spec.headers)
    if spec.title:
        note(1, None, "title_row", spec.title, "reported")
    if delivery == 2 and spec.renamed:
        column, header = spec.renamed
        headers[spec.columns.index(column)] = header
        note(first - 1, column, "renamed_column", header, "reported")
    if delivery == 2 and spec.added:
        headers.append(spec.added)
        note(first - 1, None, "added_column", spec.added, "reported")

    sink: TextSink | XlsxSink
    if spec.fmt == "xlsx":
        sink = XlsxSink(spec, headers, path, DELIVERY_DATES[delivery], rows)
    else:
        sink = TextSink(spec, headers, path)
    stream = spec.rows(random.Random(f"{seed}:{spec.source}"))
    kept: dict[int, Row] = {}
    try:
        if delivery == 1:
            last = rows - 1 if path else max(placed.plants)
            for index, row in _pick(stream, iter(range(last + 1)), placed.refs, kept):
                hit = placed.plants.get(index)
                if hit is None:
                    sink.row(cells_of(spec, row))
                    continue
                plant, ref = hit
                line = first + index
                if plant.shape == "row":
                    sink.row(cells_of(spec, {**row, **plant.set}))
                    assert plant.column is not None
                    value = plant.set[plant.column]
                    note(line, plant.column, plant.kind, value, plant.expected,
                         plant.expected_value, rule=plant.rule)  # fmt: skip
                elif plant.shape == "cut_json":  # the closing brace is lost
                    text = sink.render(cells_of(spec, row))[:-1]
                    sink.raw(text)
                    note(line, None, plant.kind, text, plant.expected)
                elif plant.shape in ("split", "open_quote"):  # the value goes in unquoted
                    ((target, raw),) = plant.set.items()
                    text = sink.render(cells_of(spec, {**row, target: RAW})).replace(RAW, raw)
                    sink.raw(text)
                    note(line, None, plant.kind, text, plant.expected)
                elif plant.shape == "copy":
                    assert ref is not None
                    text = sink.render(cells_of(spec, kept[ref]))
                    sink.raw(text)
                    note(line, None, plant.kind, text, plant.expected, duplicate_of=first + ref)
                else:  # rekey: an earlier key, another value; the later line wins
                    assert ref is not None and plant.column is not None
                    new = spec.update(kept[ref])
                    cells = cells_of(spec, new)
                    sink.row(cells)
                    value = str(cells[spec.columns.index(plant.column)])
                    note(line, plant.column, plant.kind, value, plant.expected,
                         jsonable(new[plant.column]), duplicate_of=first + ref)  # fmt: skip
        else:
            h = len(placed.repeats)
            stop = rows if path else max(placed.updates) + 1
            wanted = iter((*placed.repeats, *range(rows, 2 * rows - h))[:stop])
            comments = COMMENTS.get(spec.source, ("",))
            for position, (index, row) in enumerate(_pick(stream, wanted, frozenset(), kept)):
                comment = comments[position % len(comments)]
                if position in placed.updates:
                    row = spec.update(row)
                    column = spec.updated_column
                    value = str(cells_of(spec, row)[spec.columns.index(column)])
                    note(first + position, column, "duplicate_key", value, "typed",
                         jsonable(row[column]), duplicate_of=first + index)  # fmt: skip
                    comment = UPDATE_COMMENT.get(spec.source, "")
                cells = cells_of(spec, row)
                sink.row([*cells, comment] if spec.added else cells)
    finally:
        sink.close()
    return entries


def composition(spec: Spec, delivery: int, rows: int) -> dict[str, int]:
    """How many data lines of a delivery are new, repeated from delivery 1, or updated."""
    if delivery == 1:
        return {"data_lines": rows, "repeated_from_delivery_1": 0, "updated": 0, "new": rows}
    h = len(layout(spec.plants, rows).repeats)
    return {"data_lines": rows, "repeated_from_delivery_1": h - 3, "updated": 3, "new": rows - h}
