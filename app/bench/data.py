"""The extracts a benchmark runs on: generated once per size and seed, reused by later runs.

``rows`` counts data lines across every source and both deliveries (7 silos x 2 files), so
``rows=2_000_000`` writes about 143,000 lines per file. Three inboxes are derived from it:

- ``base``: both deliveries of every silo (the first run, the rerun, I/O, the peer);
- ``small``: the same at ``rows / scale_factor`` (the 1x point of the scaling scenario);
- ``incremental``: ``base`` (hard links, already ingested) plus a third delivery per silo of
  1 % of a file's lines, generated with another seed and dated a month later.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ingestion.generator import SOURCES, generate_delivery

DELIVERIES = (1, 2)
MIN_FILE_ROWS = 30  # the generator needs one line per planted defect
INCREMENT_DATE = "2026-03-16"


@dataclass(frozen=True)
class Inbox:
    """A directory of extracts (``<dir>/<source>/<delivery>/<file>``) and its size."""

    path: Path
    rows_per_file: int
    files: int
    lines: int
    bytes: int

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["path"] = str(self.path)
        data["mib"] = float(f"{self.bytes / 2**20:.4g}")
        return data


def rows_per_file(rows: int, sources: tuple[str, ...] = SOURCES) -> int:
    """Data lines per file for ``rows`` lines across sources and deliveries (at least 30)."""
    return max(MIN_FILE_ROWS, rows // (len(sources) * len(DELIVERIES)))


def _measure(path: Path, per_file: int) -> Inbox:
    files = [p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")]
    return Inbox(path, per_file, len(files), 0, sum(p.stat().st_size for p in files))


def generate(root: Path, per_file: int, *, seed: int, sources: tuple[str, ...] = SOURCES) -> Inbox:
    """Both deliveries of ``sources`` at ``per_file`` lines, under ``root`` (reused when done)."""
    done = root / ".complete"
    if not done.is_file():
        shutil.rmtree(root, ignore_errors=True)
        for source in sources:
            for delivery in DELIVERIES:
                generate_delivery(
                    source, delivery, per_file, root / source / f"delivery-{delivery}", seed=seed
                )
        done.write_text(f"{per_file} {seed} {','.join(sources)}\n")
    inbox = _measure(root, per_file)
    return Inbox(inbox.path, per_file, inbox.files, per_file * inbox.files, inbox.bytes)


def increment(base: Inbox, root: Path, *, seed: int, sources: tuple[str, ...] = SOURCES) -> Inbox:
    """``base`` plus a third, 1 % delivery per source (its own lines counted in ``lines``)."""
    per_file = max(MIN_FILE_ROWS, base.rows_per_file // 100)
    shutil.rmtree(root, ignore_errors=True)
    for path in base.path.rglob("*"):
        if path.is_file() and not path.name.startswith("."):
            target = root / path.relative_to(base.path)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(path, target)
    added = 0
    for source in sources:
        target = root / source / "delivery-3"
        for path in generate_delivery(source, 2, per_file, target, seed=seed + 1):
            stem = path.name.rsplit("_", 1)[0]
            dated = path.with_name(f"{stem}_{INCREMENT_DATE}{path.suffix}")
            path.rename(dated)
            added += dated.stat().st_size
    return Inbox(root, per_file, len(sources), per_file * len(sources), added)
