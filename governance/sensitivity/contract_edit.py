"""Write an accepted sensitivity tag into a source contract with a minimal textual edit.

Contracts are hand-written YAML with French comments and a chosen layout, so the file is never
round-tripped through ``yaml.dump``: the column's ``- name: <column>`` block is found in the text
and only its ``sensitivity:`` line (or the ``level:``/``personal:`` lines of a block mapping) is
rewritten, or one line inserted when the column declares none. The contract is then validated again
with :func:`lake.contracts.load_contract`; if it no longer loads, or anything but this column's tag
changed, the original bytes are put back. Lowering a declared tag needs ``allow_lower=True``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from governance.errors import ContractEditError
from lake.contracts import EXPOSURE_LEVELS, load_contract


def tag_fr(level: int, personal: bool) -> str:
    """A sensitivity tag in French: ``niveau 1, personnel``."""
    return f"niveau {level}, {'personnel' if personal else 'non personnel'}"


_ITEM = re.compile(
    r"^(?P<dash>[ ]*)-[ ]+name:[ ]*(?P<q>['\"]?)(?P<name>[^'\"#\s]+)(?P=q)[ ]*(#.*)?$"
)
_FLOW = re.compile(r"^(?P<pre>[ ]*sensitivity:[ ]*)(?P<flow>\{[^}]*\})(?P<post>.*)$")
_CHILD = re.compile(r"^(?P<pre>[ ]*(?P<key>level|personal):[ ]*)(?P<value>[^#\s]*)(?P<post>.*)$")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _flow(values: Mapping[str, Any]) -> str:
    items = (f"{k}: {str(v).lower() if isinstance(v, bool) else v}" for k, v in values.items())
    return "{" + ", ".join(items) + "}"


def _edit_sensitivity(
    text: str, column: str, level: int, personal: bool, where: str
) -> tuple[str, str, str]:
    """The contract text with the column's sensitivity set, plus the old and new line(s)."""
    import yaml

    lines = text.splitlines(keepends=True)
    nl = "\r\n" if "\r\n" in text else "\n"
    starts = [i for i, ln in enumerate(lines) if (m := _ITEM.match(ln)) and m["name"] == column]
    if len(starts) != 1:
        raise ContractEditError(
            where,
            f"found {len(starts)} '- name: {column}' lines; expected exactly one.",
            fix="edit the contract by hand (the column block must start with '- name:')",
        )
    start = starts[0]
    dash = _indent(lines[start])
    key_indent = lines[start].index("name:")
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or _indent(lines[end]) > dash):
        end += 1
    last = max(i for i in range(start, end) if lines[i].strip() and lines[i].strip()[0] != "#")
    found = [
        i for i in range(start + 1, end)
        if _indent(lines[i]) == key_indent and lines[i].lstrip().startswith("sensitivity:")
    ]  # fmt: skip
    if not found:
        values: dict[str, Any] = {"level": level, **({"personal": True} if personal else {})}
        new = f"{' ' * key_indent}sensitivity: {_flow(values)}{nl}"
        lines.insert(last + 1, new)
        return "".join(lines), "", new.strip()
    k = found[0]
    flow = _FLOW.match(lines[k].rstrip("\r\n"))
    if flow:
        values = dict(yaml.safe_load(flow["flow"]) or {})
        values["level"] = level
        if personal or "personal" in values:
            values["personal"] = personal
        order = ["level", "personal", *[key for key in values if key not in ("level", "personal")]]
        values = {key: values[key] for key in order if key in values}
        old = lines[k]
        lines[k] = f"{flow['pre']}{_flow(values)}{flow['post']}{nl}"
        return "".join(lines), old.strip(), lines[k].strip()
    if lines[k].split("#")[0].strip() != "sensitivity:":
        raise ContractEditError(
            where,
            f"cannot read the sensitivity line of {column!r}: {lines[k].strip()!r}.",
            fix="write it as `sensitivity: {level: N, personal: true}` or as a block mapping, "
            "then retry",
            column=column,
        )
    # Block mapping: edit the ``level:`` and ``personal:`` children in place.
    stop = k + 1
    while stop < end and (not lines[stop].strip() or _indent(lines[stop]) > key_indent):
        stop += 1
    children = [i for i in range(k + 1, stop) if lines[i].strip()]
    child_indent = _indent(lines[children[0]]) if children else key_indent + 2
    old_block = "".join(lines[k : (children[-1] + 1) if children else k + 1]).strip()
    by_key = {m["key"]: (i, m) for i in children if (m := _CHILD.match(lines[i].rstrip("\r\n")))}
    wanted = {"level": str(level), "personal": str(personal).lower()}
    inserts: list[str] = []
    for key, value in wanted.items():
        if key in by_key:
            i, m = by_key[key]
            lines[i] = f"{m['pre']}{value}{m['post']}{nl}"
        elif key == "level" or personal:
            inserts.append(f"{' ' * child_indent}{key}: {value}{nl}")
    lines[k + 1 : k + 1] = inserts
    new_block = "".join(lines[k : stop + len(inserts)]).strip()
    return "".join(lines), old_block, new_block


def apply_to_contract(
    contract_path: Path, column: str, level: int, personal: bool, *, allow_lower: bool = False
) -> str:
    """Set a column's sensitivity in its contract file, in place, with a minimal textual edit.

    The column's ``sensitivity:`` line (flow ``{level: N, personal: true}`` or block mapping) is
    rewritten, other keys such as ``exclusion`` kept; a column without one gets a new line. The
    contract is then loaded again: if it no longer loads, or anything but this column's tag
    changed, the original text is restored and an error raised.

    Args:
        contract_path: The contract YAML file.
        column: The contract column name.
        level: The exposure level to set (1-4).
        personal: The personal-data flag to set.
        allow_lower: Allow a less strict tag than the declared one (higher level, or personal
            turned off). Without it such a change is refused.

    Returns:
        A French sentence saying what changed (old and new line), and whether it lowered the tag.

    Raises:
        ContractEditError: Unknown column or level, a lowering without ``allow_lower``, a layout
            the edit cannot handle, or an edit that broke the contract (file restored).
        lake.contracts.ContractError: The contract did not load before the edit.
    """
    where = f"{contract_path} column {column!r}"
    if level not in EXPOSURE_LEVELS:
        raise ContractEditError(
            where,
            f"level is {level!r}; allowed: 1, 2, 3, 4.",
            fix="pass a level 1, 2, 3 or 4",
            path=contract_path,
            column=column,
        )
    before = load_contract(contract_path)
    try:
        declared = before.column(column).sensitivity
    except KeyError:
        known = ", ".join(c.name for c in before.columns)
        raise ContractEditError(
            where,
            f"no such column; known: {known}.",
            fix="use one of the known columns",
            path=contract_path,
            column=column,
        ) from None
    lowered = []
    if level > declared.level:
        lowered.append(f"niveau {declared.level} → {level}")
    if declared.personal and not personal:
        lowered.append("personnel → non personnel")
    if lowered and not allow_lower:
        raise ContractEditError(
            where,
            f"setting level {level}, personal={personal} would lower the declared tag "
            f"(level {declared.level}, personal={declared.personal}); refused.",
            fix="pass allow_lower=True (CLI: --allow-lower) if lowering is intended",
            path=contract_path,
            column=column,
        )
    if (declared.level, declared.personal) == (level, personal):
        return f"{contract_path} : {column} est déjà {tag_fr(level, personal)} ; rien à changer."
    original = contract_path.read_bytes()
    new_text, old, new = _edit_sensitivity(original.decode("utf-8"), column, level, personal, where)
    contract_path.write_bytes(new_text.encode("utf-8"))
    expected = replace(
        before,
        columns=tuple(
            replace(c, sensitivity=replace(c.sensitivity, level=level, personal=personal))
            if c.name == column
            else c
            for c in before.columns
        ),
    )
    try:
        after = load_contract(contract_path)
    except Exception as exc:  # whatever went wrong, the contract must not stay broken
        contract_path.write_bytes(original)
        raise ContractEditError(
            where,
            f"the edit broke the contract ({exc}); original restored.",
            fix=f"set the tag of {column} by hand in {contract_path.name}",
            path=contract_path,
            column=column,
        ) from exc
    if after != expected:
        contract_path.write_bytes(original)
        raise ContractEditError(
            where,
            "the edit changed more than this column's tag; original restored.",
            fix=f"set the tag of {column} by hand in {contract_path.name}",
            path=contract_path,
            column=column,
        )
    message = (
        f"{contract_path} : {column} — « {old or '(pas de sensibilité déclarée)'} » → « {new} »"
    )
    if lowered:
        message += f" ; ABAISSEMENT explicite ({', '.join(lowered)})"
    return message
