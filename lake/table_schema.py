"""The Table Schema rules (Frictionless, the format of schema.data.gouv.fr), checked without
frictionless.

Any stage can ask whether a descriptor is a valid Table Schema: quality writes them, governance
counts the ones published next to the open data. The rules are the specification's
(https://specs.frictionlessdata.io/table-schema/) as frictionless 5 applies them: ``fields`` is
an array of objects with a unique ``name`` and a known ``type``; each constraint is one the type
supports, with a value of the right kind; ``primaryKey`` and ``foreignKeys`` name fields of the
schema; ``missingValues`` are strings. Two rules are stricter than frictionless, because a
schema that breaks them describes nothing a re-user can check: at least one field, and no empty
field name. ``tests/lake/test_table_schema.py`` compares every verdict with frictionless.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["FIELD_TYPES", "schema_problems"]

FIELD_TYPES: tuple[str, ...] = (
    *("any", "array", "boolean", "date", "datetime", "duration", "geojson", "geopoint"),
    *("integer", "list", "number", "object", "string", "time", "year", "yearmonth"),
)
_ORDERED = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
_LENGTH = ("minLength", "maxLength")
# Constraints each type supports (frictionless 5), plus the spec's ``unique`` for every type.
_BASE = frozenset({"required", "unique", "enum"})
_CONSTRAINTS: Mapping[str, frozenset[str]] = {
    **dict.fromkeys(FIELD_TYPES, _BASE),
    **dict.fromkeys(("date", "datetime", "integer", "number"), _BASE | set(_ORDERED)),
    **dict.fromkeys(("time", "year", "yearmonth"), _BASE | set(_ORDERED)),
    **dict.fromkeys(("array", "object"), _BASE | set(_LENGTH)),
    "list": frozenset({"required", "unique", *_LENGTH}),
    "string": _BASE | {"pattern", *_LENGTH},
}


def schema_problems(descriptor: Any) -> list[str]:
    """What makes ``descriptor`` an invalid Table Schema, one sentence each; [] when valid.

    Args:
        descriptor: The parsed JSON of a ``*.schema.json`` file.

    Returns:
        The problems in the order met, each naming the field or property concerned.
    """
    if not isinstance(descriptor, Mapping):
        return [f"a Table Schema is a JSON object; found {type(descriptor).__name__}"]
    fields = descriptor.get("fields")
    if not isinstance(fields, list):
        found = "nothing" if fields is None else type(fields).__name__
        return [f"'fields' must be an array of field descriptors; found {found}"]
    if not fields:
        return ["'fields' is empty: the schema describes no column"]
    problems: list[str] = []
    names: list[str] = []
    for i, field in enumerate(fields):
        problems += _field_problems(i, field, names)
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        problems.append(f"field names are not unique: {', '.join(duplicates)}")
    missing = descriptor.get("missingValues", [""])
    if not isinstance(missing, list) or not all(isinstance(v, str) for v in missing):
        problems.append(f"'missingValues' must be an array of strings; found {missing!r}")
    if "primaryKey" in descriptor:
        problems += _names_problems("primaryKey", descriptor["primaryKey"], names)
    keys = descriptor.get("foreignKeys", [])
    if not isinstance(keys, list):
        problems.append(f"'foreignKeys' must be an array; found {keys!r}")
        keys = []
    for i, key in enumerate(keys):
        where = f"foreignKeys[{i}]"
        if not isinstance(key, Mapping) or not isinstance(key.get("reference"), Mapping):
            problems.append(f"{where} must be an object with 'fields' and 'reference'")
            continue
        problems += _names_problems(f"{where}.fields", key.get("fields"), names)
        if not _name_list(key["reference"].get("fields")):
            problems.append(f"{where}.reference.fields must name one or more fields")
    return problems


def _field_problems(index: int, field: Any, names: list[str]) -> list[str]:
    if not isinstance(field, Mapping):
        return [f"fields[{index}] must be an object; found {type(field).__name__}"]
    name = field.get("name")
    if not isinstance(name, str) or not name:
        return [f"fields[{index}] has no name (a non-empty string is required)"]
    names.append(name)
    problems = [
        f"field {name!r}: {key!r} must be a string"
        for key in ("title", "description", "format")
        if key in field and not isinstance(field[key], str)
    ]
    kind = field.get("type", "string")
    if kind not in FIELD_TYPES:
        return [*problems, f"field {name!r}: type {kind!r} is not a Table Schema type"]
    constraints = field.get("constraints", {})
    if not isinstance(constraints, Mapping):
        return [*problems, f"field {name!r}: 'constraints' must be an object"]
    for key, value in constraints.items():
        if key not in _CONSTRAINTS[kind]:
            problems.append(f"field {name!r}: constraint {key!r} is not supported by type {kind!r}")
        elif key in ("required", "unique") and not isinstance(value, bool):
            problems.append(f"field {name!r}: constraint {key!r} must be true or false")
        elif key in _LENGTH and (type(value) is not int or value < 0):
            problems.append(f"field {name!r}: constraint {key!r} must be an integer >= 0")
        elif key == "pattern" and not isinstance(value, str):
            problems.append(f"field {name!r}: constraint 'pattern' must be a string")
        elif key == "enum" and not isinstance(value, list):
            problems.append(f"field {name!r}: constraint 'enum' must be an array")
    return problems


def _name_list(value: Any) -> list[str] | None:
    """A field name or an array of them as a list; None when it is neither (or empty)."""
    if isinstance(value, str) and value:
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def _names_problems(where: str, value: Any, names: list[str]) -> list[str]:
    given = _name_list(value)
    if given is None:
        return [f"{where!r} must be a field name or an array of field names; found {value!r}"]
    unknown = [n for n in given if n not in names]
    if unknown:
        return [f"{where!r} names fields the schema does not have: {', '.join(unknown)}"]
    return []
