"""The field vocabulary both directions share: Table Schema types, formats and values, patterns,
strptime date formats as Spark patterns, Spark types as Table Schema types, and column names.

What changes here is a mapping between type systems (Table Schema, the lake's contracts, Spark),
not how a schema is read or written.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from lake.table_schema import FIELD_TYPES as FIELD_TYPES  # re-exported: the spec's types

# What ingestion.conform.parse_boolean accepts, compared lower-cased (quality does not import it).
LAKE_TRUE = frozenset({"oui", "o", "vrai", "true", "1", "yes", "y"})
LAKE_FALSE = frozenset({"non", "n", "faux", "false", "0", "no"})

_NUM = r"-?\d+(?:\.\d+)?"
_JSON_OBJECT, _JSON_ARRAY = r"\{[\s\S]*\}", r"\[[\s\S]*\]"
_DATETIME = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?"
_DURATION = r"P(?:\d+Y)?(?:\d+M)?(?:\d+W)?(?:\d+D)?(?:T(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d+)?S)?)?"
# (type, format) -> the pattern a string column gets in the contract (None: no check possible).
TEXT_PATTERNS: dict[tuple[str, str], str | None] = {
    ("string", "email"): r"[^@\s]+@[^@\s]+\.[^@\s]+",
    ("string", "uri"): r"[A-Za-z][A-Za-z0-9+.\-]*:\S+",
    ("string", "uuid"): r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}",
    ("string", "binary"): r"[A-Za-z0-9+/]*={0,2}",
    ("datetime", "default"): _DATETIME,
    ("time", "default"): r"\d{2}:\d{2}:\d{2}(?:\.\d+)?",
    ("year", "default"): r"\d{4}",
    ("yearmonth", "default"): r"\d{4}-(?:0[1-9]|1[0-2])",
    ("geopoint", "default"): rf"{_NUM}\s*,\s*{_NUM}",
    ("geopoint", "array"): rf"\[\s*{_NUM}\s*,\s*{_NUM}\s*\]",
    ("geopoint", "object"): _JSON_OBJECT,
    ("geojson", "default"): _JSON_OBJECT,
    ("geojson", "topojson"): _JSON_OBJECT,
    ("object", "default"): _JSON_OBJECT,
    ("array", "default"): _JSON_ARRAY,
    ("duration", "default"): _DURATION,
}
STRPTIME_TO_SPARK = {"Y": "yyyy", "y": "yy", "m": "MM", "d": "dd", "B": "MMMM", "b": "MMM"}
STRPTIME_TO_SPARK |= {"j": "DDD", "H": "HH", "M": "mm", "S": "ss", "%": "%"}
SPARK_TYPES = {"string": "string", "date": "date", "boolean": "boolean"}
SPARK_TYPES |= dict.fromkeys(("bigint", "int", "long", "smallint", "tinyint"), "integer")
SPARK_TYPES |= dict.fromkeys(("double", "float"), "number")
SPARK_TYPES |= dict.fromkeys(("timestamp", "timestamp_ntz"), "datetime")
_SPARK_PREFIXES = {"decimal": "number", "varchar(": "string", "char(": "string"}
_SPARK_PREFIXES |= {"array<": "array", "struct<": "object", "map<": "object"}


def snake_case(text: str) -> str:
    """``coordonneesXY`` -> ``coordonnees_xy``, ``Date d'été`` -> ``date_d_ete`` (ASCII)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    split = re.sub(r"([a-z0-9])([A-Z])|([A-Z]+)([A-Z][a-z])", r"\1\3_\2\4", ascii_text)
    name = re.sub(r"[^A-Za-z0-9]+", "_", split).strip("_").lower()
    return name if re.match(r"[a-z]", name) else f"c_{name}".rstrip("_")


def spark_date_format(fmt: str) -> str | None:
    """A strptime format (``%d/%m/%Y``) as a Spark pattern (``dd/MM/yyyy``); None if impossible."""
    out = []
    for token in re.findall(r"%.?|[A-Za-z]+|'|[^%A-Za-z']+", fmt):
        if token.startswith("%"):
            if token[1:] not in STRPTIME_TO_SPARK:
                return None
            out.append(STRPTIME_TO_SPARK[token[1:]])
        elif token == "'":
            out.append("''")
        else:  # letters are pattern symbols in Spark: quote them to keep them literal
            out.append(f"'{token}'" if token[0].isalpha() else token)
    return "".join(out)


def table_schema_type(spark_type: str) -> str | None:
    """The Table Schema type of a Spark simple type string (``decimal(18,2)`` -> ``number``).

    Returns:
        The type, or None when Table Schema has no equivalent.
    """
    simple = spark_type.strip().lower()
    return SPARK_TYPES.get(simple) or next(
        (t for prefix, t in _SPARK_PREFIXES.items() if simple.startswith(prefix)), None
    )


def missing_value(marker: Any) -> str:
    """A missingValues entry: a string (v1) or ``{"value": ..., "label": ...}`` (v2)."""
    return str(marker["value"]) if isinstance(marker, dict) else str(marker)


def text_value(value: Any) -> str:
    """An enum value as the contract's text (booleans as ``true`` / ``false``)."""
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def number_value(value: Any) -> int | float | None:
    """A numeric bound as a number (an integer when whole); None if it is not one."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else number
