"""What a person does to a draft contract in the tests: every TODO filled with a plain value."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import REPO

FILLED = {
    "domain": "Test",
    "owner": "DGM",
    "description": "Extrait de test.",
    "exposure_level": "2",
    "years": "5",
    "end": "purge",
}


def fill_todos(text: str) -> str:
    """Every ``key: TODO`` line of a draft with a value (comments kept)."""

    def fill(match: re.Match[str]) -> str:
        return f"{match.group(1)}{match.group(2)}: {FILLED[match.group(2)]}"

    return re.sub(r"^(\s*)(\w+): TODO", fill, text, flags=re.MULTILINE)


def first_delivery(source: str) -> Path:
    """The bundled first delivery of a silo (samples/<source>/delivery-1/<file>)."""
    return next((REPO / "samples" / source / "delivery-1").iterdir())
