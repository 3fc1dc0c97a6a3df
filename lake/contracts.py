"""Source contracts: the declarative description of one silo extract, loaded from YAML.

One YAML file per source under ``contracts/`` says how the silo delivers its data (format,
encoding, separators, date formats, null markers, header row), what each column is (type,
nullability, French description, unit, key, reference, sensitivity, pseudonymisation) and how long
the data is kept (DUA). Loading validates everything; an error names the file, the field and what
is allowed. The model is plain frozen dataclasses so every package can read it.

This module reads the files: bytes, UTF-8, YAML (errors with their line and column), one contract
per source named after its file. The model lives in :mod:`lake.contract_model`, the field-by-field
validation in :mod:`lake.contract_validation`; both are re-exported here, so
``from lake.contracts import Contract, load_contract`` stays the one import callers need.
"""

from __future__ import annotations

import functools
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
    ColumnType,
    Contract,
    Format,
    Retention,
    RetentionEnd,
    Sensitivity,
    normalise_header,
)
from lake.contract_validation import parse_contract
from lake.errors import ContractError

__all__ = [
    "COLUMN_TYPES",
    "DIRECTIONS",
    "ENCODINGS",
    "EXPOSURE_LEVELS",
    "FORMATS",
    "REFERENCES",
    "RETENTION_ENDS",
    "Column",
    "ColumnType",
    "Contract",
    "ContractError",
    "Format",
    "Retention",
    "RetentionEnd",
    "Sensitivity",
    "contracts_dir",
    "get_contract",
    "load_contract",
    "load_contracts",
    "normalise_header",
    "parse_contract",
]

_FIELDS_FIX = "see docs/extracts.md and the contracts under contracts/ for the expected fields"


def contracts_dir(root: Path) -> Path:
    """Where the contracts of the project live."""
    return root / "contracts"


def load_contract(path: Path) -> Contract:
    """Load and validate one contract file.

    Raises:
        ContractError: Naming the file, the field (or the line and column of a YAML error)
            and what is allowed. Nothing else escapes, whatever the bytes of the file.
    """
    import yaml

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ContractError(
            path,
            "(file)",
            f"cannot be read ({exc.strerror}).",
            fix="check that the file exists and is readable",
        ) from exc
    except ValueError as exc:  # a NUL byte in the path
        raise ContractError(
            path, "(file)", f"cannot be read ({exc}).", fix="give a path without NUL bytes"
        ) from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ContractError(
            path,
            "(file)",
            f"line {line}, column {column}: not UTF-8 text (found byte "
            f"0x{raw[exc.start]:02x}); expected a UTF-8 YAML file.",
            fix="save the contract as UTF-8",
        ) from None
    try:
        data = yaml.load(text, Loader=_contract_loader())  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise ContractError(
            path,
            "(file)",
            f"is not valid YAML ({_yaml_problem(exc)}).",
            fix="correct the YAML at that place",
        ) from None
    except RecursionError:
        raise ContractError(
            path,
            "(file)",
            "is not valid YAML (nested too deeply); expected a flat mapping.",
            fix=_FIELDS_FIX,
        ) from None
    if not isinstance(data, dict):
        raise ContractError(
            path, "(file)", "must be a mapping of fields (source, columns...).", fix=_FIELDS_FIX
        )
    _refuse_todo(path, data, text)
    return parse_contract(path, data)


def _refuse_todo(
    path: Path, data: Any, text: str, where: str = "", seen: set[int] | None = None
) -> None:
    """A draft (``lake contract infer``) marks what a person must decide ``TODO``: refuse it.

    Mappings keep the document's order, so the first TODO met is on the first line holding one.
    Each mapping or list is walked once: YAML aliases share one object, so an alias bomb costs
    its distinct nodes, not its expansion.
    """
    seen = set() if seen is None else seen
    if id(data) in seen:
        return
    seen.add(id(data))
    items = (
        data.items()
        if isinstance(data, dict)
        else enumerate(data)
        if isinstance(data, list)
        else ()
    )
    for key, value in items:
        field = (
            f"{where}[{key}]" if isinstance(key, int) else f"{where}.{key}" if where else str(key)
        )
        if isinstance(value, str) and value.strip().upper().startswith("TODO"):
            lines = text.splitlines()
            line = next((n for n, t in enumerate(lines, 1) if "TODO" in t.split("#")[0]), 0)
            raise ContractError(
                path,
                field,
                (f"line {line}: " if line else "")
                + "is still TODO; a person must fill it in before the lake uses this contract.",
                fix=f"replace TODO at {field} in {path.name} (the comment beside it says what "
                "goes there; docs/adding-a-source.md)",
            )
        if isinstance(value, dict | list):
            _refuse_todo(path, value, text, field, seen)


def _yaml_problem(exc: Exception) -> str:
    """``line L, column C: problem`` from a YAML error, on one line."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    text = f"{context}, {problem}" if context else str(problem)
    text = " ".join(text.split())
    return f"line {mark.line + 1}, column {mark.column + 1}: {text}" if mark else text


@functools.cache
def _contract_loader() -> Any:
    import yaml

    class Loader(yaml.SafeLoader):
        """SafeLoader whose impossible dates are YAML errors with their position."""

    def timestamp(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
        try:
            return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
        except (ValueError, OverflowError) as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"impossible date {node.value!r} ({exc})", node.start_mark
            ) from None

    Loader.add_constructor("tag:yaml.org,2002:timestamp", timestamp)
    return Loader


def load_contracts(root: Path) -> dict[str, Contract]:
    """Every contract of the project, by source id (file name must equal the source id)."""
    found: dict[str, Contract] = {}
    for path in sorted(contracts_dir(root).glob("*.yaml")):
        contract = load_contract(path)
        if contract.source != path.stem:
            raise ContractError(
                path,
                "source",
                f"is {contract.source!r} but the file is named {path.name}; they must match.",
                fix=f"rename the file to {contract.source}.yaml, or correct its source",
            )
        found[contract.source] = contract
    return found


def get_contract(root: Path, source: str) -> Contract:
    """The contract of ``source``.

    Raises:
        ContractError: No such source (the message lists the known ones).
    """
    path = contracts_dir(root) / f"{source}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in contracts_dir(root).glob("*.yaml"))
        raise ContractError(
            path,
            "source",
            f"unknown source {source!r}.",
            fix=f"use one of: {', '.join(known) or '(no contract yet)'}",
        )
    return load_contract(path)
