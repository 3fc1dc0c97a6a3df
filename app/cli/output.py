"""What every ``lake`` subcommand prints the same way: JSON for scripts (``--json``)."""

from __future__ import annotations

import json
from typing import Any


def print_json(data: Any) -> None:
    """Print ``data`` as indented JSON (UTF-8 text kept as is; dates and paths as strings)."""
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str))
