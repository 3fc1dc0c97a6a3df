"""The physical lines of a text extract (CSV, JSON lines), decoded, with bounded memory.

A file is read line by line (split on LF) with the contract's encoding; the first line loses its
BOM. A line longer than :data:`MAX_LINE_BYTES` is never held whole: it comes out as a preview of
its first characters with its size, and becomes a malformed line (the whole line stays in the
landing copy). A byte the encoding cannot decode refuses the file, naming the line and the byte.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ingestion.errors import ExtractError
from ingestion.readers.records import Malformed
from lake.contracts import Contract

# A delivered line longer than this is malformed: no silo writes megabyte lines, and reading one
# whole would let a single line exhaust the driver's memory.
MAX_LINE_BYTES = 1 << 20
# What a malformed overlong line keeps of its text (the whole line stays in the landing copy).
OVERLONG_PREVIEW_CHARS = 4096


@dataclass(frozen=True)
class Line:
    """One physical line of the file: its 1-based number and its decoded text."""

    number: int
    text: str
    # Bytes of a line longer than MAX_LINE_BYTES (its text is then only a preview), else None.
    overlong: int | None = None


def decoded_lines(contract: Contract, path: Path) -> Iterator[Line]:
    """Physical lines (split on LF), decoded, without their line end; bounded memory."""
    with open(path, "rb") as handle:
        number = 0
        while True:
            line = read_line(handle, number + 1, contract, path)
            if line is None:
                return
            number = line.number
            yield line


def read_line(handle: BinaryIO, number: int, contract: Contract, path: Path) -> Line | None:
    """The next physical line of ``handle`` as line ``number`` (None at the end of the file).

    Raises:
        ExtractError: The line is not in the contract's encoding.
    """
    raw = handle.readline(MAX_LINE_BYTES + 1)
    if not raw:
        return None
    if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
        first, size = raw, len(raw)
        while not raw.endswith(b"\n"):  # skip the rest of the line, block by block
            raw = handle.readline(MAX_LINE_BYTES)
            if not raw:
                break
            size += len(raw)
        size -= raw.endswith(b"\n")  # the line end is not part of the line
        return overlong_preview(contract, number, first, size)
    return decode_line(contract, path, number, raw)


def overlong_preview(contract: Contract, number: int, first: bytes, size: int) -> Line:
    """The preview :class:`Line` of an overlong line whose first bytes are ``first``."""
    head = first[: OVERLONG_PREVIEW_CHARS * 4].decode(contract.encoding, "replace")
    if number == 1:
        head = head.removeprefix("\ufeff")
    return Line(number, head[:OVERLONG_PREVIEW_CHARS], overlong=size)


def decode_line(contract: Contract, path: Path, number: int, raw: bytes) -> Line:
    """Line ``number`` decoded from its bytes ``raw`` (line end included or not).

    Raises:
        ExtractError: ``raw`` is not in the contract's encoding (names the line and the byte).
    """
    try:
        text = raw.decode(contract.encoding)
    except UnicodeDecodeError as exc:
        raise ExtractError(
            path,
            f"line {number}, byte {exc.start + 1}: not valid {contract.encoding} "
            f"(found byte 0x{raw[exc.start]:02x}).",
            fix=f"check the encoding declared in {contract.path} (encoding: {contract.encoding})",
            source=contract.source,
            line=number,
        ) from None
    if number == 1 and text.startswith("\ufeff"):
        text = text[1:]
    return Line(number, text.rstrip("\r\n"))


def overlong_line(line: Line) -> Malformed:
    """The malformed line an overlong ``line`` becomes (its preview as raw text)."""
    return Malformed(
        line.number,
        line.text,
        f"ligne trop longue : {line.overlong} octets, au plus {MAX_LINE_BYTES} "
        f"(line too long; the {OVERLONG_PREVIEW_CHARS} first characters are kept)",
    )
