"""CSV files safe to open in a spreadsheet: every cell as text, formulas neutralised.

CSV injection (OWASP): a *text* cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage
return gets a leading ``'``. Numbers (int, float, Decimal values) are never touched, so ``-1`` in a
numeric column stays ``-1``; a numeric-looking *string* (``"-1"``, ``"+33 1 43 17 53 53"``) is
neutralised like any other text, because the rule must not depend on guessing what a string means:
numbers belong in numeric columns. The files are UTF-8, comma, CRLF, with RFC 4180 quoting; the
open-data export (:mod:`governance.sensitivity.export`) and the views per audience use them.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    import pandas as pd

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: object) -> str:
    """One CSV cell as text: numbers as numbers, text protected against formula injection."""
    value = _plain(value)
    if is_missing(value) or (isinstance(value, Decimal) and value.is_nan()):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isinf(value):
            return "INF" if value > 0 else "-INF"
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    text = value if isinstance(value, str) else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_view_csv(path: Path, frame: pd.DataFrame) -> None:
    """Write a view as CSV with every cell neutralised (formula injection), like open data."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        write_csv(f, [str(c) for c in frame.columns], frame)


def write_csv(f: TextIO, columns: Sequence[str], frame: pd.DataFrame) -> None:
    """Write the header ``columns`` and the rows of ``frame`` to ``f``, every cell neutralised."""
    # csv's defaults are RFC 4180: CRLF, double quote, quotes only where needed.
    csv.writer(f, lineterminator="\r\n").writerows(_rows(columns, frame))


def is_missing(value: object) -> bool:
    """Whether a cell holds no value: None, pandas' NA or NaT, or a float NaN."""
    import pandas as pd

    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _plain(value: object) -> object:
    """A numpy scalar as the Python value it holds (datetime64 as a pandas Timestamp)."""
    import numpy as np
    import pandas as pd

    if isinstance(value, np.datetime64):
        return pd.NaT if np.isnat(value) else pd.Timestamp(value)
    return value.item() if isinstance(value, np.generic) else value


def _rows(columns: Sequence[str], frame: pd.DataFrame) -> Iterator[list[str]]:
    yield [neutralise_cell(c) for c in columns]
    for row in frame.itertuples(index=False, name=None):
        yield [neutralise_cell(v) for v in row]
