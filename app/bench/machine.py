"""What the figures were measured on: cores, memory, CPU model, load, and library versions."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = (
    "pyspark",
    "delta-spark",
    "great-expectations",
    "openlineage-python",
    "deltalake",
    "polars",
    "pyarrow",
    "minio",
)


def _first(path: str, prefix: str) -> str | None:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(prefix):
                return line.split(":", 1)[1].strip()
    except OSError:
        return None
    return None


def _java_version() -> str | None:
    try:
        done = subprocess.run(
            ["java", "-version"], capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    lines = (done.stderr or done.stdout).splitlines()
    return lines[0].strip() if lines else None


def machine() -> dict[str, Any]:
    """Cores, RAM, CPU model, load averages, OS and Python of this machine."""
    mem_kb = _first("/proc/meminfo", "MemTotal")
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "cores": os.cpu_count(),
        "ram_gib": round(int(mem_kb.split()[0]) / 2**20, 1) if mem_kb else None,
        "cpu_model": _first("/proc/cpuinfo", "model name") or platform.processor() or None,
        "load_average": [round(x, 2) for x in load],
        "os": platform.platform(),
        "python": platform.python_version(),
        "java": _java_version(),
    }


def versions() -> dict[str, str | None]:
    """Installed versions of the libraries the figures depend on."""
    found: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found
