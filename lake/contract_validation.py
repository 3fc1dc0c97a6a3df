"""Validating a contract's YAML mapping, field by field, into the model.

Each field is checked for its presence, its type and its allowed values, and the first wrong one
raises a :class:`ContractError` naming the file, the field (``columns[2].type``) and what is
allowed. A found value is shown shortened, so a hostile file cannot make a huge message.
"""

from __future__ import annotations

import re
import reprlib
from pathlib import Path
from typing import Any

from lake.contract_model import (
    COLUMN_TYPES,
    DIRECTIONS,
    ENCODINGS,
    EXPOSURE_LEVELS,
    FORMATS,
    REFERENCES,
    RETENTION_ENDS,
    Column,
    Contract,
    Retention,
    Sensitivity,
)
from lake.errors import ContractError

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# Found values are shown short: a YAML alias bomb must not become a gigabyte error message.
_SHORT = reprlib.Repr()
_SHORT.maxstring, _SHORT.maxother, _SHORT.maxlist, _SHORT.maxdict, _SHORT.maxlevel = 60, 60, 4, 4, 2


def _show(value: Any) -> str:
    return _SHORT.repr(value)


def parse_contract(path: Path, data: dict[str, Any]) -> Contract:
    """The contract in ``data``, the YAML mapping read from ``path``.

    Raises:
        ContractError: Naming the file, the first wrong field and what is allowed.
    """
    return _Parser(path, data).contract()


class _Parser:
    """Reads the raw YAML mapping into a Contract, checking each field on the way."""

    def __init__(self, path: Path, data: dict[str, Any]) -> None:
        self.path = path
        self.data = data

    def fail(self, where: str, message: str) -> ContractError:
        return ContractError(self.path, where, message, fix=f"correct {where} in {self.path.name}")

    def get(
        self,
        data: dict[str, Any],
        key: str,
        kind: type | tuple[type, ...],
        where: str,
        default: Any = ...,
    ) -> Any:
        if key not in data or data[key] is None:
            if default is ...:
                raise self.fail(f"{where}{key}", "is required.")
            return default
        value = data[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if not isinstance(value, kind) or (isinstance(value, bool) and bool not in kinds):
            names = " or ".join(k.__name__ for k in kinds)
            raise self.fail(f"{where}{key}", f"must be a {names}; found {_show(value)}.")
        return value

    def str_list(
        self, data: dict[str, Any], key: str, where: str, default: Any = ...
    ) -> tuple[str, ...]:
        """A list of strings (names, formats, aliases)."""
        values = self.get(data, key, list, where, default)
        for n, item in enumerate(values):
            if not isinstance(item, str):
                raise self.fail(f"{where}{key}[{n}]", f"must be a str; found {_show(item)}.")
        return tuple(values)

    def scalar_list(
        self, data: dict[str, Any], key: str, where: str, default: Any = ...
    ) -> tuple[str, ...]:
        """A list of plain values, kept as text (null markers, allowed values)."""
        values = self.get(data, key, list, where, default)
        for n, item in enumerate(values):
            if not isinstance(item, str | int | float) or isinstance(item, bool):
                raise self.fail(
                    f"{where}{key}[{n}]",
                    f"must be a str or a number; found {_show(item)}.",
                )
        return tuple(str(v) for v in values)

    def choice(
        self,
        data: dict[str, Any],
        key: str,
        allowed: tuple[Any, ...],
        where: str,
        default: Any = ...,
    ) -> Any:
        value = self.get(data, key, (str, int), where, default)
        if value not in allowed:
            raise self.fail(
                f"{where}{key}", f"is {_show(value)}; allowed: {', '.join(map(str, allowed))}."
            )
        return value

    def unknown_keys(self, data: dict[str, Any], allowed: set[str], where: str) -> None:
        extra = sorted((k for k in data if k not in allowed), key=str)
        if extra:
            key = extra[0]
            plain = isinstance(key, str) and key.isprintable() and 0 < len(key) <= 60
            raise self.fail(
                f"{where}{key if plain else _show(key)}",
                f"is not a contract field; allowed: {', '.join(sorted(allowed))}.",
            )

    def contract(self) -> Contract:
        d = self.data
        self.unknown_keys(
            d,
            {
                "source",
                "title",
                "domain",
                "owner",
                "description",
                "format",
                "encoding",
                "delimiter",
                "quote",
                "decimal",
                "thousands",
                "date_formats",
                "null_markers",
                "header_row",
                "sheet",
                "columns",
                "primary_key",
                "retention",
                "exposure_level",
                "legal_secret",
            },
            "",
        )
        source = self.get(d, "source", str, "")
        if not _NAME.match(source):
            raise self.fail(
                "source",
                f"is {_show(source)}; allowed: lower-case letters, digits and "
                "'_', starting with a letter.",
            )
        owner = self.get(d, "owner", str, "")
        if owner.split("/")[0] not in DIRECTIONS:
            raise self.fail(
                "owner",
                f"is {_show(owner)}; allowed: a direction among "
                f"{', '.join(DIRECTIONS)} (optionally /SERVICE).",
            )
        columns_raw = self.get(d, "columns", list, "")
        if not columns_raw:
            raise self.fail("columns", "must list at least one column.")
        columns = tuple(self.column(c, i) for i, c in enumerate(columns_raw))
        names = [c.name for c in columns]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise self.fail("columns", f"column name {dupes[0]!r} is declared twice.")
        key = self.str_list(d, "primary_key", "")
        for k in key:
            if k not in names:
                raise self.fail(
                    "primary_key", f"{_show(k)} is not a column; allowed: {', '.join(names)}."
                )
        exposure = self.choice(d, "exposure_level", tuple(EXPOSURE_LEVELS), "")
        date_formats = self.str_list(d, "date_formats", "", ["dd/MM/yyyy"])
        fmt = self.choice(d, "format", FORMATS, "")
        delimiter = self.single_char(d, "delimiter", ";")
        quote = self.single_char(d, "quote", '"')
        if delimiter == quote:
            raise self.fail("quote", f"is {quote!r}, the delimiter too; they must differ.")
        decimal = self.choice(d, "decimal", (",", "."), "", ",")
        thousands = self.get(d, "thousands", str, "", " ")
        if decimal in thousands:
            raise self.fail(
                "thousands", f"is {_show(thousands)}; it must not contain the decimal {decimal!r}."
            )
        return Contract(
            path=self.path,
            source=source,
            title=self.get(d, "title", str, ""),
            domain=self.get(d, "domain", str, ""),
            owner=owner,
            description=self.get(d, "description", str, ""),
            format=fmt,
            encoding=self.choice(d, "encoding", ENCODINGS, "", "utf-8"),
            delimiter=delimiter,
            quote=quote,
            decimal=decimal,
            thousands=thousands,
            date_formats=date_formats,
            null_markers=self.scalar_list(d, "null_markers", "", [""]),
            header_row=self.positive(d, "header_row", 1),
            sheet=self.get(d, "sheet", str, "", None),
            columns=columns,
            primary_key=key,
            retention=self.retention(self.get(d, "retention", dict, ""), names),
            exposure_level=exposure,
            legal_secret=self.get(d, "legal_secret", bool, "", False),
        )

    def single_char(self, d: dict[str, Any], key: str, default: str) -> str:
        value = self.get(d, key, str, "", default)
        if len(value) != 1:
            raise self.fail(key, f"must be exactly one character; found {_show(value)}.")
        if value in "\r\n":
            raise self.fail(key, f"must not be a line end; found {value!r}.")
        return str(value)

    def positive(self, d: dict[str, Any], key: str, default: int) -> int:
        value = self.get(d, key, int, "", default)
        if value < 1:
            raise self.fail(key, f"must be >= 1 (1 = first line); found {value}.")
        return int(value)

    def column(self, raw: Any, index: int) -> Column:
        where = f"columns[{index}]."
        if not isinstance(raw, dict):
            raise self.fail(f"columns[{index}]", "must be a mapping (name, type, description...).")
        self.unknown_keys(
            raw,
            {
                "name",
                "type",
                "description",
                "source_name",
                "aliases",
                "nullable",
                "unit",
                "reference",
                "allowed",
                "minimum",
                "maximum",
                "pattern",
                "min_length",
                "max_length",
                "unique",
                "sensitivity",
                "pseudonymise",
            },
            where,
        )
        name = self.get(raw, "name", str, where)
        if not _NAME.match(name):
            raise self.fail(
                f"{where}name",
                f"is {_show(name)}; allowed: lower-case letters, digits "
                "and '_', starting with a letter.",
            )
        ctype = self.choice(raw, "type", COLUMN_TYPES, where)
        reference = self.get(raw, "reference", str, where, None)
        if reference is not None and reference not in REFERENCES:
            raise self.fail(
                f"{where}reference", f"is {_show(reference)}; allowed: {', '.join(REFERENCES)}."
            )
        if ctype == "country" and reference is None:
            reference = "iso3166"
        sens_raw = self.get(raw, "sensitivity", dict, where, {})
        self.unknown_keys(sens_raw, {"level", "personal", "exclusion"}, f"{where}sensitivity.")
        sensitivity = Sensitivity(
            level=self.choice(sens_raw, "level", tuple(EXPOSURE_LEVELS), f"{where}sensitivity.", 2),
            personal=self.get(sens_raw, "personal", bool, f"{where}sensitivity.", False),
            exclusion=self.get(sens_raw, "exclusion", bool, f"{where}sensitivity.", False),
        )
        pseudonymise = self.get(raw, "pseudonymise", bool, where, False)
        if pseudonymise and ctype != "string":
            raise self.fail(
                f"{where}pseudonymise",
                f"only string columns can be pseudonymised; {name!r} is {ctype}.",
            )
        return Column(
            name=name,
            type=ctype,
            description=self.get(raw, "description", str, where),
            source_name=self.get(raw, "source_name", str, where, name),
            aliases=self.str_list(raw, "aliases", where, []),
            nullable=self.get(raw, "nullable", bool, where, True),
            unit=self.get(raw, "unit", str, where, None),
            reference=reference,
            allowed=self.scalar_list(raw, "allowed", where, []),
            minimum=self.get(raw, "minimum", (int, float), where, None),
            maximum=self.get(raw, "maximum", (int, float), where, None),
            pattern=self.regex(raw, where),
            min_length=self.get(raw, "min_length", int, where, None),
            max_length=self.get(raw, "max_length", int, where, None),
            unique=self.get(raw, "unique", bool, where, False),
            sensitivity=sensitivity,
            pseudonymise=pseudonymise,
        )

    def regex(self, raw: dict[str, Any], where: str) -> str | None:
        pattern = self.get(raw, "pattern", str, where, None)
        if pattern is not None:
            try:
                re.compile(pattern)
            except (re.error, OverflowError, RecursionError, ValueError) as exc:
                raise self.fail(
                    f"{where}pattern", f"is not a valid regular expression ({exc})."
                ) from exc
        return pattern

    def retention(self, raw: dict[str, Any], names: list[str]) -> Retention:
        where = "retention."
        self.unknown_keys(raw, {"years", "end", "from_column"}, where)
        years = self.get(raw, "years", int, where)
        if years < 1:
            raise self.fail(f"{where}years", f"must be >= 1; found {years}.")
        from_column = self.get(raw, "from_column", str, where, None)
        if from_column is not None and from_column not in names:
            raise self.fail(
                f"{where}from_column",
                f"{_show(from_column)} is not a column; allowed: {', '.join(names)}.",
            )
        return Retention(
            years=years, end=self.choice(raw, "end", RETENTION_ENDS, where), from_column=from_column
        )
