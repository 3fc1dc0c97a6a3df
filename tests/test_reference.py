"""The vendored reference files are the shared ones, unchanged."""

from __future__ import annotations

import pytest

from conftest import REPO

SHARED = REPO.parent / "shared" / "reference"
VENDORED = REPO / "reference"


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/reference is not beside the repo")
@pytest.mark.parametrize("folder", ["openlineage-spec", "table-schema-irve"])
def test_vendored_reference_files_equal_the_shared_ones(folder: str) -> None:
    shared = sorted(
        p.relative_to(SHARED / folder) for p in (SHARED / folder).rglob("*") if p.is_file()
    )
    vendored = sorted(
        p.relative_to(VENDORED / folder) for p in (VENDORED / folder).rglob("*") if p.is_file()
    )
    assert vendored == shared
    for rel in shared:
        assert (VENDORED / folder / rel).read_bytes() == (SHARED / folder / rel).read_bytes(), rel
