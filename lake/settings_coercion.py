"""Typing and checking settings values, whatever layer they come from.

The TOML file, the ``LAKE__SECTION__KEY`` environment variables and the ``overrides`` of
:func:`lake.settings.load_settings` all give raw values; :func:`typed_values` turns those of one
section into the types its dataclass declares (``"0"`` -> ``0``, ``"yes"`` -> ``True``, a path
string -> :class:`~pathlib.Path`, a ``Literal`` checked against its choices) and raises one
:class:`ConfigError` naming the layer, the key, what was expected and how to fix it.
:func:`rooted` resolves a section's relative paths against the project root.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from lake.errors import ConfigError

ENV_PREFIX = "LAKE__"


def typed_values(
    cls: type, values: Mapping[str, Any], *, origin: str, section: str
) -> dict[str, Any]:
    """The values of one section, each converted to the type ``cls`` declares for it.

    Args:
        cls: The section's dataclass.
        values: Raw ``{key: value}`` pairs.
        origin: Where they come from: a file path, ``"environment"`` or ``"overrides"``.
        section: The section's name, for messages.

    Raises:
        ConfigError: A key is unknown or a value has the wrong type.
    """
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    typed: dict[str, Any] = {}
    for key, value in values.items():
        if key not in hints:
            raise ConfigError(
                f"{origin}: unknown setting {section}.{key}.",
                fix=f"valid keys of [{section}]: {', '.join(names)}",
                path=None if origin in ("environment", "overrides") else origin,
                key=f"{section}.{key}",
            )
        typed[key] = _coerce(value, hints[key], where=f"{origin}: {section}.{key}")
    return typed


def _coerce(value: Any, hint: Any, *, where: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if (value is None or value == "") and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _coerce(value, inner[0], where=where)
    if origin is Literal:
        if value not in args:
            allowed = ", ".join(repr(a) for a in args)
            raise _invalid(where, f"{where} is {value!r}; expected one of {allowed}.")
        return value
    if origin in (Mapping, dict) or hint is Mapping:
        if not isinstance(value, Mapping):
            raise _invalid(where, f'{where} must be a table of key = "value" pairs.')
        return {str(k): str(v) for k, v in value.items()}
    if hint is bool:
        if isinstance(value, bool):
            return value
        lowered = str(value).strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise _invalid(where, f"{where} is {value!r}; expected true or false.")
    if hint in (int, float):
        if isinstance(value, bool):
            raise _invalid(where, f"{where} is {value!r}; expected a number.")
        try:
            return hint(value)
        except (TypeError, ValueError):
            kind = "an integer" if hint is int else "a number"
            raise _invalid(where, f"{where} is {value!r}; expected {kind}.") from None
    if hint is Path:
        return Path(str(value)).expanduser()
    if hint is str:
        if not isinstance(value, str | int | float):
            raise _invalid(where, f"{where} is {value!r}; expected a string.")
        return str(value)
    return value


def _invalid(where: str, message: str) -> ConfigError:
    """A value of the wrong type at ``where`` (``<file|environment|overrides>: section.key``)."""
    origin, _, key = where.rpartition(": ")
    if origin == "environment":
        fix = f"correct {ENV_PREFIX}{key.replace('.', '__').upper()} in the environment"
    elif origin == "overrides":
        fix = f"correct {key} in the overrides"
    else:
        fix = f"correct {key} in {origin}"
    path = None if origin in ("environment", "overrides") else origin
    return ConfigError(message, fix=fix, path=path, key=key)


_T = typing.TypeVar("_T")


def rooted(section: _T, root: Path) -> _T:
    """Resolve the relative paths of a settings section against the project root."""
    changes = {
        f.name: root / value
        for f in dataclasses.fields(section)  # type: ignore[arg-type]
        if isinstance(value := getattr(section, f.name), Path) and not value.is_absolute()
    }
    return dataclasses.replace(section, **changes) if changes else section  # type: ignore[type-var]
