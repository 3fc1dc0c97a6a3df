"""CSV extracts at native speed: blocks of lines split by Arrow, the same records as line by line.

The rules are those of :mod:`~ingestion.readers.csv_reader` (one record per physical line, header
on ``header_row``, empty lines skipped, malformed lines with their raw text and reason), and the
result is the same, line for line (``tests/ingestion/test_csv_native.py`` checks it on generated
messy files). What changes is how the work is done:

- the file is read in blocks of about :data:`BLOCK_BYTES` cut at a line end, decoded with the
  contract's encoding in one call, and split into lines by Arrow (``split_pattern``); blocks are
  parsed by a small pool of threads (Arrow's kernels release the GIL), in file order;
- a line without the quote character, a carriage return or a NUL byte is split on the delimiter
  by Arrow: for such a line that is exactly what Python's ``csv`` module does;
- a line whose quotes are well formed (every quoted field closed, nothing after a closing quote)
  is split by one ``csv.reader`` over all such lines of the block, which cannot run past a line;
- any other line (an unterminated quote, text after a closing quote, a carriage return or a NUL
  inside the line) is split alone by :func:`~ingestion.readers.csv_reader.split_line`, as before,
  so an unterminated quote quarantines its own line and never swallows the next ones;
- a block holding a line longer than :data:`~ingestion.readers.text_lines.MAX_LINE_BYTES`, or a
  byte the encoding cannot decode, is read line by line with the old rules (a preview for the
  overlong line; the error naming the line and the byte). A longer line than a block is skipped
  while it is read, never held whole.

Records come out as Arrow tables (``_line`` then one string column per bronze column): bronze
writes them to Parquet without turning every value into a Python object.
"""

from __future__ import annotations

import csv
import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from ingestion.errors import ExtractError
from ingestion.readers import text_lines
from ingestion.readers.csv_reader import csv_reason, parse_header, split_line
from ingestion.readers.records import Chunk, Layout, Malformed, layout_for
from ingestion.readers.text_lines import Line, decode_line, overlong_line, overlong_preview
from lake.contracts import Contract

if TYPE_CHECKING:
    import pyarrow as pa

# Bytes read per block: large enough for Arrow's kernels to pay off, small enough that a few
# blocks in flight stay a few MiB of memory.
BLOCK_BYTES = 1 << 20
# Python's str.isspace() characters other than LF (lines are split on LF): a line made only of
# them is blank, as ``not text.strip()`` says in the line-by-line reader.
_BLANK = (
    r"^[\t\x{0b}\x{0c}\r\x{1c}-\x{1f} \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}"
    r"\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]*$"
)


def _threads() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def _re2(char: str) -> str:
    """``char`` for a RE2 character class or pattern (hex escape: safe for any character)."""
    return rf"\x{{{ord(char):x}}}"


@dataclass
class _Block:
    """Complete lines of the file (``data`` ends at a line end, or the end of the file)."""

    first: int
    data: bytes = b""
    overlong: Line | None = None


@dataclass
class _Parsed:
    """Records (Arrow tables, each in line order) and malformed lines of one or more blocks."""

    tables: list[pa.Table] = field(default_factory=list)
    malformed: list[Malformed] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(t.num_rows for t in self.tables)

    def add(self, other: _Parsed) -> None:
        self.tables += other.tables
        self.malformed += other.malformed


def read_csv_native(
    contract: Contract, path: Path, chunk_rows: int
) -> tuple[Layout, Iterator[Chunk]]:
    """The layout of a CSV extract and its chunks of at most ``chunk_rows`` records.

    Raises:
        ExtractError: The header is missing, overlong or unreadable, or a line is not in the
            contract's encoding (raised while the chunks are read).
    """
    handle = open(path, "rb")  # noqa: SIM115 - closed by the chunks' generator
    try:
        header: list[str] | None = None
        number = 0
        while number < contract.header_row:
            line = text_lines.read_line(handle, number + 1, contract, path)
            if line is None:
                break
            number = line.number
            if number == contract.header_row:
                header = parse_header(contract, path, line)
        if not header or header == [""]:
            raise ExtractError(
                path,
                f"no header at line {contract.header_row} (the file is empty or shorter).",
                fix=f"check header_row in {contract.path}",
                source=contract.source,
                line=contract.header_row,
            )
        layout = layout_for(contract, header, path, line=contract.header_row)
    except BaseException:
        handle.close()
        raise
    parser = _BlockParser(contract, path, layout.columns)

    def chunks() -> Iterator[Chunk]:
        with handle, ThreadPoolExecutor(_threads(), thread_name_prefix="csv-block") as pool:
            pending: deque[Future[_Parsed]] = deque()
            gathered = _Parsed()
            for block in _blocks(contract, handle, number + 1):
                pending.append(pool.submit(parser.parse, block))
                if len(pending) > _threads():
                    gathered.add(pending.popleft().result())
                    if gathered.rows >= chunk_rows:
                        yield from _chunks(gathered, chunk_rows, parser)
                        gathered = _Parsed()
            while pending:
                gathered.add(pending.popleft().result())
            yield from _chunks(gathered, chunk_rows, parser)

    return layout, chunks()


def _chunks(parsed: _Parsed, chunk_rows: int, parser: _BlockParser) -> Iterator[Chunk]:
    """Chunks of at most ``chunk_rows`` records, in line order (at least one, maybe empty)."""
    import pyarrow as pa

    tables = [t for t in parsed.tables if t.num_rows]
    table = pa.concat_tables(tables) if tables else parser.empty()
    lines = table.column("_line").to_numpy()
    if len(lines) > 1 and (lines[1:] < lines[:-1]).any():  # a block's quoted lines come after
        table = table.take(lines.argsort(kind="stable"))
    malformed = sorted(parsed.malformed, key=lambda m: m.line)
    start = 0
    while True:
        yield Chunk(malformed=malformed, table=table.slice(start, chunk_rows))
        malformed = []
        start += chunk_rows
        if start >= table.num_rows:
            return


def _blocks(contract: Contract, handle: BinaryIO, first: int) -> Iterator[_Block]:
    """The rest of the file from line ``first``, as blocks of complete lines; bounded memory.

    A line still open after :data:`~ingestion.readers.text_lines.MAX_LINE_BYTES` is overlong:
    it is skipped as it is read and comes out as its own block with a preview.
    """
    number, buf = first, b""
    while True:
        data = handle.read(BLOCK_BYTES)
        if not data:
            if buf:
                yield _Block(number, buf)
            return
        buf += data
        cut = buf.rfind(b"\n")
        if cut >= 0:
            yield _Block(number, buf[: cut + 1])
            number += buf.count(b"\n", 0, cut + 1)
            buf = buf[cut + 1 :]
        if len(buf) <= text_lines.MAX_LINE_BYTES:
            continue
        # an overlong line: keep what the preview needs, count the rest up to its line end
        # what the line-by-line reader's first readline holds: MAX_LINE_BYTES + 1 bytes
        head, size = buf[: text_lines.MAX_LINE_BYTES + 1], len(buf)
        buf = b""
        while True:
            data = handle.read(BLOCK_BYTES)
            if not data:
                break
            end = data.find(b"\n")
            if end >= 0:
                size += end
                buf = data[end + 1 :]
                break
            size += len(data)
        yield _Block(number, overlong=overlong_preview(contract, number, head, size))
        number += 1


class _BlockParser:
    """Parses one block of lines into an Arrow table and malformed lines (thread-safe)."""

    def __init__(self, contract: Contract, path: Path, columns: list[str]) -> None:
        import pyarrow as pa

        self.contract, self.path, self.columns = contract, path, columns
        self.width = len(columns)
        self.schema = pa.schema([("_line", pa.int64())] + [(c, pa.string()) for c in columns])
        quote, delim = _re2(contract.quote), _re2(contract.delimiter)
        self._special = rf"[{quote}\r\x{{0}}]"
        quoted = rf"{quote}(?:[^{quote}\r\x{{0}}]|{quote}{quote})*{quote}"
        field_ = rf"(?:{quoted}|[^{quote}{delim}\r\x{{0}}]*)"
        self._clean = rf"^{field_}(?:{delim}{field_})*$"
        if csv.field_size_limit() < text_lines.MAX_LINE_BYTES:  # as split_line does
            csv.field_size_limit(text_lines.MAX_LINE_BYTES)
        self._utf8 = contract.encoding.lower().replace("_", "-") in ("utf-8", "utf8", "utf-8-sig")

    def empty(self) -> pa.Table:
        return self.schema.empty_table()

    def parse(self, block: _Block) -> _Parsed:
        if block.overlong is not None:
            return _Parsed(malformed=[overlong_line(block.overlong)])
        try:
            decoded = block.data.decode("utf-8" if self._utf8 else self.contract.encoding)
        except UnicodeDecodeError:
            return self._line_by_line(block)  # raises the error naming the line and byte
        utf8 = block.data if self._utf8 else decoded.encode("utf-8")
        del decoded
        if len(block.data) > text_lines.MAX_LINE_BYTES and self._has_overlong(block.data):
            return self._line_by_line(block)
        return self._vectorised(block.first, utf8)

    @staticmethod
    def _has_overlong(data: bytes) -> bool:
        import pyarrow as pa
        import pyarrow.compute as pc

        lines = pc.split_pattern(pa.array([data], pa.large_binary()), b"\n").flatten()
        return bool(pc.max(pc.binary_length(lines)).as_py() > text_lines.MAX_LINE_BYTES)

    def _line_by_line(self, block: _Block) -> _Parsed:
        """The block with the rules of the line-by-line reader (rare: errors, overlong lines)."""
        parsed = _Parsed()
        lines: list[tuple[int, list[str | None]]] = []
        raws = block.data.split(b"\n")
        if block.data.endswith(b"\n"):
            raws.pop()
        for offset, raw in enumerate(raws):
            number = block.first + offset
            if len(raw) > text_lines.MAX_LINE_BYTES:
                first = raw[: text_lines.MAX_LINE_BYTES + 1]
                line = overlong_preview(self.contract, number, first, len(raw))
                parsed.malformed.append(overlong_line(line))
                continue
            line = decode_line(self.contract, self.path, number, raw)
            self._one_line(line.number, line.text, lines, parsed.malformed)
        parsed.tables.append(self._table(lines))
        return parsed

    def _one_line(
        self,
        number: int,
        text: str,
        records: list[tuple[int, list[str | None]]],
        malformed: list[Malformed],
    ) -> None:
        if not text.strip():
            return
        try:
            values = split_line(text, self.contract)
        except csv.Error as exc:
            malformed.append(Malformed(number, text, csv_reason(exc)))
            return
        if len(values) != self.width:
            malformed.append(Malformed(number, text, _wrong_count(len(values), self.width)))
            return
        records.append((number, list(values)))

    def _table(self, records: list[tuple[int, list[str | None]]]) -> pa.Table:
        return Chunk(records).table(self.columns)

    def _vectorised(self, first: int, utf8: bytes) -> _Parsed:
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        offsets = pa.py_buffer(np.array([0, len(utf8)], dtype=np.int64))
        text = pa.LargeStringArray.from_buffers(1, offsets, pa.py_buffer(utf8))
        lines = pc.split_pattern(text, "\n").flatten()
        if utf8.endswith(b"\n"):
            lines = lines.slice(0, len(lines) - 1)
        numbers = pa.array(np.arange(first, first + len(lines), dtype=np.int64))
        if self.contract.encoding.lower() == "utf-8-sig":  # each line's decode drops one BOM
            lines = pc.replace_substring_regex(
                lines, pattern="^\ufeff", replacement="", max_replacements=1
            )
        lines = pc.utf8_rtrim(lines, characters="\r")
        keep = pc.invert(pc.match_substring_regex(lines, _BLANK))
        special = pc.match_substring_regex(lines, self._special)
        parsed = _Parsed()
        plain = pc.and_(keep, pc.invert(special))
        self._plain(pc.filter(numbers, plain), pc.filter(lines, plain), parsed)
        quoted = pc.and_(keep, special)
        if pc.any(quoted).as_py():
            self._quoted(pc.filter(numbers, quoted), pc.filter(lines, quoted), parsed)
        return parsed

    def _plain(self, numbers: pa.Array, lines: pa.Array, parsed: _Parsed) -> None:
        """Lines without quote, CR or NUL: split on the delimiter (what csv would do)."""
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        fields = pc.split_pattern(lines, self.contract.delimiter)
        counts = pc.list_value_length(fields)
        ok = pc.equal(counts, self.width)
        if not pc.all(ok).as_py():
            bad = pc.invert(ok)
            for number, text, count in zip(
                pc.filter(numbers, bad).to_pylist(),
                pc.filter(lines, bad).to_pylist(),
                pc.filter(counts, bad).to_pylist(),
                strict=True,
            ):
                parsed.malformed.append(Malformed(number, text, _wrong_count(count, self.width)))
            fields, numbers = pc.filter(fields, ok), pc.filter(numbers, ok)
        flat = fields.flatten()
        rows = len(numbers)
        columns = [
            flat.take(pa.array(np.arange(j, rows * self.width, self.width)))
            for j in range(self.width)
        ]
        arrays = [numbers.cast(pa.int64())] + [c.cast(pa.string()) for c in columns]
        parsed.tables.append(pa.Table.from_arrays(arrays, schema=self.schema))

    def _quoted(self, numbers: pa.Array, lines: pa.Array, parsed: _Parsed) -> None:
        """Lines with quotes: one csv.reader over the well-formed ones, the rest one by one."""
        import pyarrow.compute as pc

        clean = pc.match_substring_regex(lines, self._clean)
        records: list[tuple[int, list[str | None]]] = []
        clean_lines = pc.filter(lines, clean).to_pylist()
        clean_numbers = pc.filter(numbers, clean).to_pylist()
        rows = list(
            csv.reader(
                clean_lines,
                delimiter=self.contract.delimiter,
                quotechar=self.contract.quote,
                strict=True,
            )
        )
        if len(rows) != len(clean_lines):  # cannot happen with closed quotes; stay exact anyway
            for number, text in zip(clean_numbers, clean_lines, strict=True):
                self._one_line(number, text, records, parsed.malformed)
        else:
            for number, text, values in zip(clean_numbers, clean_lines, rows, strict=True):
                if len(values) != self.width:
                    parsed.malformed.append(
                        Malformed(number, text, _wrong_count(len(values), self.width))
                    )
                else:
                    records.append((number, list(values)))
        dirty = pc.invert(clean)
        for number, text in zip(
            pc.filter(numbers, dirty).to_pylist(), pc.filter(lines, dirty).to_pylist(), strict=True
        ):
            self._one_line(number, text, records, parsed.malformed)
        parsed.tables.append(self._table(records))


def _wrong_count(found: int, width: int) -> str:
    return f"nombre de champs incorrect : {found} au lieu de {width} (wrong field count)"


__all__ = ["BLOCK_BYTES", "read_csv_native"]
