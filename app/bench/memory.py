"""Peak memory of a process tree (the driver JVM and the Python processes), sampled from /proc.

A background thread walks the tree under a root pid every few hundred milliseconds and keeps the
largest resident set seen, per kind of process. In local mode the executors run inside the driver
JVM, so "JVM" is the driver and its executors together. Linux only (reads ``/proc``); elsewhere
the peaks stay at zero and ``available`` is False.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_PROC = Path("/proc")


@dataclass
class MemoryPeaks:
    """Largest resident memory seen, in MiB (sums over the processes of each kind)."""

    jvm_mib: float = 0.0
    python_mib: float = 0.0
    total_mib: float = 0.0
    samples: int = 0
    available: bool = True

    def as_dict(self) -> dict[str, float | int | bool]:
        return {
            "jvm_mib": round(self.jvm_mib, 1),
            "python_mib": round(self.python_mib, 1),
            "total_mib": round(self.total_mib, 1),
            "samples": self.samples,
            "available": self.available,
        }


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces, so split after the last ')'
        fields = stat[stat.rfind(")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def tree(root: int) -> list[int]:
    """``root`` and every process below it."""
    children = _children_map()
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def rss_by_kind(pids: list[int]) -> tuple[float, float]:
    """(JVM MiB, Python and other MiB) resident for ``pids``."""
    jvm = other = 0.0
    for pid in pids:
        try:
            comm = (_PROC / str(pid) / "comm").read_text().strip()
            pages = int((_PROC / str(pid) / "statm").read_text().split()[1])
        except (OSError, ValueError, IndexError):
            continue
        mib = pages * _PAGE / 2**20
        if comm == "java":
            jvm += mib
        else:
            other += mib
    return jvm, other


class PeakSampler:
    """Context manager sampling the peak memory of ``root``'s process tree in a thread.

    ``root`` may be set after entering (a subprocess started inside the block).
    """

    def __init__(self, root: int | None = None, *, interval_s: float = 0.25) -> None:
        self.root = root
        self.interval_s = interval_s
        self.peaks = MemoryPeaks(available=_PROC.is_dir())
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="bench-memory", daemon=True)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sample()  # one last look

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.sample()

    def sample(self) -> None:
        if self.root is None or not self.peaks.available:
            return
        jvm, other = rss_by_kind(tree(self.root))
        peaks = self.peaks
        peaks.jvm_mib = max(peaks.jvm_mib, jvm)
        peaks.python_mib = max(peaks.python_mib, other)
        peaks.total_mib = max(peaks.total_mib, jvm + other)
        peaks.samples += 1
