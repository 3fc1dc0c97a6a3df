"""Headless Chromium for the tests: find it, screenshot a page, check the PNG is not blank."""

from __future__ import annotations

import os
import shutil
import signal
import struct
import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
WIDTH, HEIGHT = 1280, 2000
TIMEOUT_S = 90
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Bytes per pixel by PNG colour type, for 8-bit channels (grey, RGB, palette, grey+alpha, RGBA).
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def browser() -> str | None:
    """The first Chromium-like binary on PATH, if any."""
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


def require_browser() -> str:
    """The Chromium binary the rendering tests need; their failure (never a skip) without one.

    ``make test`` installs Debian's Chromium first (``make browser``), so a missing browser means
    the suite was started another way on a machine without it: that checks nothing, so it fails.
    """
    found = browser()
    if found is None:
        pytest.fail(
            f"no Chromium binary on PATH (looked for {', '.join(BROWSERS)}): run the suite with "
            "`make test`, which installs it (`make browser`: apt-get install -y chromium)",
            pytrace=False,
        )
    return found


@dataclass(frozen=True)
class Png:
    """What the checks need from a PNG file."""

    width: int
    height: int
    size: int
    distinct_rows: int


def read_png(path: Path) -> Png:
    """Check the PNG structure and count its distinct (filtered) scanlines.

    A uniform image compresses to the same few scanlines whatever filter the encoder chose,
    so the count tells a blank screenshot from one with content without unfiltering pixels.
    """
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path.name}: not a PNG (starts with {data[:8]!r})"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert (kind, length) == (b"IHDR", 13), f"{path.name}: first chunk is {kind!r}, not IHDR"
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", data[16:29])
    assert (depth, interlace) == (8, 0), f"{path.name}: unexpected depth/interlace"
    idat, pos = bytearray(), 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"{path.name}: bad CRC in chunk {kind!r}"
        if kind == b"IDAT":
            idat += body
        pos += 12 + length
        if kind == b"IEND":
            break
    raw = zlib.decompress(bytes(idat))
    stride = 1 + width * CHANNELS[colour]
    assert len(raw) == height * stride, f"{path.name}: pixel data truncated"
    rows = {raw[i : i + stride] for i in range(0, len(raw), stride)}
    return Png(width, height, len(data), len(rows))


def screenshot(binary: str, page: Path, png: Path) -> Png:
    """Screenshot ``page`` with headless Chromium; kill its whole process group on timeout."""
    command = [
        binary,
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        f"--user-data-dir={png.parent / (png.stem + '-profile')}",
        f"--screenshot={png}",
        f"--window-size={WIDTH},{HEIGHT}",
        page.resolve().as_uri(),
    ]
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own group, so a hung browser's helpers go with it
    )
    try:
        output, _ = proc.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"Chromium took more than {TIMEOUT_S} s to screenshot {page.name}.")
    tail = output.decode(errors="replace")[-2000:]
    assert proc.returncode == 0, f"Chromium exited with {proc.returncode}:\n{tail}"
    assert png.is_file(), f"Chromium wrote no screenshot of {page.name}:\n{tail}"
    return read_png(png)
