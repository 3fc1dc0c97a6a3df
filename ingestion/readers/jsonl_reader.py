"""JSON-lines extracts: one object per line, whose keys are the headers.

The header is the keys of the first object; a line that is not an object, an empty object, an
object with keys outside the header, or a line too long is malformed. Nested values are kept as
their JSON text.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from ingestion.errors import ExtractError
from ingestion.readers.records import Chunk, Layout, Malformed, layout_for
from ingestion.readers.text_lines import Line, decoded_lines, overlong_line
from lake.contracts import Contract


def _json_line(line: Line) -> tuple[dict[str, object] | None, Malformed | None]:
    """A JSON line as an object, or why it is malformed."""
    if line.overlong is not None:
        return None, overlong_line(line)
    try:
        obj = json.loads(line.text)
    except (ValueError, RecursionError):  # bad JSON, 4300+ digit numbers, deep nesting
        return None, Malformed(line.number, line.text, "ligne JSON illisible (invalid JSON)")
    if not isinstance(obj, dict):
        return None, Malformed(line.number, line.text, "ligne JSON qui n'est pas un objet")
    return obj, None


def _text(value: object) -> str:
    """A non-string JSON value as text: nested values as their JSON, scalars with str()."""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def read_jsonl(contract: Contract, path: Path, chunk_rows: int) -> tuple[Layout, Iterator[Chunk]]:
    """The layout of a JSON-lines extract and its chunks of at most ``chunk_rows`` records.

    Raises:
        ExtractError: The file holds no JSON object, or a line is not in the contract's
            encoding (raised while the chunks are read).
    """
    lines = decoded_lines(contract, path)
    first: tuple[int, dict[str, object]] | None = None
    pending: list[Malformed] = []
    for line in lines:
        if line.overlong is None and not line.text.strip():
            continue
        obj, bad = _json_line(line)
        if obj is not None and not obj:
            bad = Malformed(line.number, line.text, "objet JSON sans clé (empty object)")
        if bad is not None:
            pending.append(bad)
            continue
        assert obj is not None
        first = (line.number, obj)
        break
    if first is None:
        raise ExtractError(
            path,
            "no JSON object in the file (it is empty or unreadable); expected one JSON object "
            "per line"
            + (
                f", found {len(pending)} unreadable line(s) from line {pending[0].line}"
                if pending
                else ""
            )
            + ".",
            fix="re-export the extract as JSON lines",
            source=contract.source,
        )
    header = [str(k) for k in first[1]]
    layout = layout_for(contract, header, path, line=first[0])

    keys = frozenset(header)

    def as_values(obj: dict[str, object]) -> list[str | None] | None:
        if not obj.keys() <= keys:
            return None
        get = obj.get
        # a string as it is (the usual value, tested first), null as None, the rest as text
        return [
            v if (v := get(h)).__class__ is str else None if v is None else _text(v) for h in header
        ]

    def chunks() -> Iterator[Chunk]:
        chunk = Chunk([], list(pending))
        first_values = as_values(first[1])
        assert first_values is not None
        chunk.records.append((first[0], first_values))
        for line in lines:
            if line.overlong is None and not line.text.strip():
                continue
            obj, bad = _json_line(line)
            values = as_values(obj) if obj is not None else None
            if bad is None and values is None:
                bad = Malformed(
                    line.number,
                    line.text,
                    "ligne JSON qui n'est pas un objet aux clés de l'en-tête",
                )
            if bad is not None:
                chunk.malformed.append(bad)
                continue
            assert values is not None
            chunk.records.append((line.number, values))
            if len(chunk.records) >= chunk_rows:
                yield chunk
                chunk = Chunk([], [])
        yield chunk

    return layout, chunks()
