"""Create the project's virtualenv fast, reusing a cached one for the dependencies.

Standard library only: it runs before anything is installed.

Two environments:

- ``<cache>/venvs/<key>``: every third-party dependency (``pyproject.toml`` + ``constraints.txt``,
  dev extra included). The key hashes those two files and the Python version, so any change
  builds a new one and an unchanged project reuses it from any clone (CI's fresh clone too).
- ``.venv`` in the checkout: a thin venv whose site-packages points at the cached one (a ``.pth``
  file) and holds the project itself, installed editable. It takes seconds to create.

Usage: ``python3 tools/bootstrap_venv.py`` (``make setup`` runs it). Prints the .venv path.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = f"{sys.version_info.major}.{sys.version_info.minor}"


def cache_dir() -> Path:
    explicit = os.environ.get("LAKE_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser().resolve()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser().resolve() / "meae-datalake"


def requirements() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [*project["dependencies"], *project["optional-dependencies"]["dev"]]


def deps_key() -> str:
    digest = hashlib.sha256()
    digest.update(PY.encode())
    digest.update("\n".join(requirements()).encode())
    digest.update((ROOT / "constraints.txt").read_bytes())
    return f"py{PY}-{digest.hexdigest()[:16]}"


def site_packages(venv: Path) -> Path:
    return venv / "lib" / f"python{PY}" / "site-packages"


def say(msg: str) -> None:
    print(f"[setup] {msg}", file=sys.stderr, flush=True)


def ensure_deps_venv() -> Path:
    venvs = cache_dir() / "venvs"
    venvs.mkdir(parents=True, exist_ok=True)
    venv = venvs / deps_key()
    marker = venv / ".complete"
    with open(venvs / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two clones setting up at once build it once
        if marker.is_file():
            (venv / ".last-used").touch()
            return venv
        if venv.exists():
            shutil.rmtree(venv)
        say(f"Installing the Python dependencies into {venv} (a few minutes, once)...")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
        subprocess.run([*pip, "install", "-q", "--upgrade", "pip"], check=True)
        subprocess.run(
            [*pip, "install", "-q", "-c", str(ROOT / "constraints.txt"), *requirements()],
            check=True,
        )
        marker.write_text(deps_key())
        (venv / ".last-used").touch()
        _prune(venvs, keep=venv)
    return venv


def _prune(venvs: Path, *, keep: Path, max_idle_days: int = 14) -> None:
    """Delete dependency venvs no clone has used for two weeks (each weighs 1-2 GB).

    A clone still pointing at a deleted one rebuilds it at its next `make`.
    """
    import time

    limit = time.time() - max_idle_days * 86400
    for other in venvs.iterdir():
        stamp = other / ".last-used"
        if other == keep or not other.is_dir():
            continue
        used = stamp.stat().st_mtime if stamp.exists() else other.stat().st_mtime
        if used < limit:
            say(f"Removing unused dependency venv {other.name}")
            shutil.rmtree(other, ignore_errors=True)


def ensure_project_venv(deps: Path) -> Path:
    venv = ROOT / ".venv"
    stamp = venv / ".deps"
    # The project's own metadata (entry points...) lives in pyproject.toml: a change reinstalls.
    wanted = f"{deps}\n{hashlib.sha256((ROOT / 'pyproject.toml').read_bytes()).hexdigest()}"
    if stamp.is_file() and stamp.read_text() == wanted and (venv / "bin" / "lake").exists():
        return venv
    if venv.exists():
        shutil.rmtree(venv)
    say(f"Creating {venv} on top of the cached dependencies...")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    # Executed by site.py at start-up: makes the cached venv's packages (and their own .pth
    # files) importable from this venv.
    pth = site_packages(venv) / "_meae_datalake_deps.pth"
    pth.write_text(f"import site; site.addsitedir({str(site_packages(deps))!r})\n")
    subprocess.run(
        [
            str(deps / "bin" / "python"),
            "-m",
            "pip",
            "--disable-pip-version-check",
            "--python",
            str(venv / "bin" / "python"),
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-e",
            str(ROOT),
        ],
        check=True,
    )
    stamp.write_text(wanted)
    return venv


def main() -> int:
    if sys.version_info < (3, 11):  # noqa: UP036 - runs under whatever python3 the machine has
        print(f"Python >= 3.11 is needed; this is {PY} ({sys.executable}).", file=sys.stderr)
        return 1
    deps = ensure_deps_venv()
    venv = ensure_project_venv(deps)
    print(venv)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
