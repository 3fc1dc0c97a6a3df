"""The vendored reference files are the official ones, unchanged, on every clone.

``reference/SHA256SUMS`` records the SHA-256 of each official file as given in
``../shared/reference/``; every vendored copy is checked against it wherever the repository is
cloned (no skip), and the record itself against ``../shared/reference/`` where that folder is
beside the repository.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from conftest import REPO

SHARED = REPO.parent / "shared" / "reference"
VENDORED = REPO / "reference"
SUMS = VENDORED / "SHA256SUMS"
# Where a shared file is vendored when not under reference/ with the same relative path.
ELSEWHERE = {
    "insee-cog-pays-territoires-2025.csv": REPO
    / "ingestion/data/insee_cog_pays_territoires_2025.csv"
}
NOT_VENDORED = {"README.md", "SHA256SUMS"}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def recorded() -> dict[str, str]:
    """Relative path (as under ../shared/reference) -> recorded SHA-256."""
    sums: dict[str, str] = {}
    for line in SUMS.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            digest, rel = line.split("  ", 1)
            sums[rel] = digest
    return sums


def vendored_path(rel: str) -> Path:
    return ELSEWHERE.get(rel, VENDORED / rel)


def test_every_vendored_file_has_its_official_checksum() -> None:
    sums = recorded()
    assert len(sums) >= 100
    wrong = [rel for rel, digest in sums.items() if sha256(vendored_path(rel)) != digest]
    assert wrong == [], f"vendored copies changed: {wrong}"


def test_nothing_is_vendored_that_the_record_does_not_name() -> None:
    sums = recorded()
    vendored = {
        str(p.relative_to(VENDORED))
        for p in VENDORED.rglob("*")
        if p.is_file() and p.relative_to(VENDORED).parts[0] not in NOT_VENDORED
    }
    assert vendored - set(sums) == set(), "files under reference/ missing from SHA256SUMS"


def test_the_record_is_the_shared_reference_where_it_is_beside_the_repository() -> None:
    # Beside the repository (the project's machines) the record must be the shared folder exactly;
    # elsewhere the record, committed with the copies, is the reference the first test used.
    if SHARED.is_dir():
        shared = {str(p.relative_to(SHARED)): sha256(p) for p in SHARED.rglob("*") if p.is_file()}
        assert recorded() == shared
    else:
        assert SUMS.is_file()
