"""Writing a :class:`Draft` as a contract YAML and a rules YAML, each choice with its reason.

The text is written line by line, not dumped, so every inferred value carries a ``#`` comment
saying why, and what only a person can decide (owner, domain, exposure level, retention, the
description) reads ``TODO``: :func:`lake.contracts.load_contract` refuses the contract until each
is filled. Strings are written as JSON strings, which YAML reads as double-quoted scalars.
"""

from __future__ import annotations

import json
from pathlib import Path

from app.contract_draft.draft import Draft, not_future_rule, year_rule
from lake.contract_model import DIRECTIONS, EXPOSURE_LEVELS

TODO = "TODO"
_NOT_AFTER = "elle ne peut pas dépasser l’année en cours"


def _q(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def _comment(text: str) -> str:
    return "  # " + " ".join(text.split())


def contract_text(draft: Draft) -> str:
    """The draft contract, as YAML with a comment on every inferred line."""
    s = draft.sample
    key = draft.keys[0].columns if draft.keys else ()
    levels = ", ".join(f"{n} = {t}" for n, t in EXPOSURE_LEVELS.items())
    out = [
        f"# Draft contract inferred by `lake contract infer` from {s.path.name}"
        f" on {draft.today.isoformat()}.",
        "# Every inferred value says why in a comment: check each against the file and the silo.",
        "# Fields reading TODO need a person; the lake refuses this contract until none is left.",
        "# Walkthrough and every field explained: docs/adding-a-source.md",
        f"source: {draft.source}",
        f"title: {_q(s.path.stem)}{_comment('draft from the file name: give the French title')}",
        f"domain: {TODO}"
        + _comment("the business domain, in French (e.g. Administration consulaire)"),
        f"owner: {TODO}"
        + _comment(f"the direction that owns the data: one of {', '.join(DIRECTIONS)}, "
                   "optionally /SERVICE (e.g. DFAE/MAI)"),
        f"description: {TODO}"
        + _comment("in French, for the business units: what one line is, who fills it, why"),
        f"format: {s.format}{_comment(f'from the suffix {s.path.suffix}')}",
    ]  # fmt: skip
    if s.encoding is not None:
        out.append(f"encoding: {s.encoding.value}{_comment(s.encoding.why)}")
    if s.delimiter is not None:
        out.append(f"delimiter: {_q(s.delimiter.value)}{_comment(s.delimiter.why)}")
    if s.quote is not None:
        out.append(f"quote: {_q(s.quote.value)}{_comment(s.quote.why)}")
    if s.sheet is not None:
        out.append(f"sheet: {_q(s.sheet.value)}{_comment(s.sheet.why)}")
    if s.header_row is not None:
        out.append(f"header_row: {s.header_row.value}{_comment(s.header_row.why)}")
    out += [
        f"decimal: {_q(draft.decimal.value)}{_comment(draft.decimal.why)}",
        f"thousands: {_q(draft.thousands.value)}{_comment(draft.thousands.why)}",
        f"date_formats: {_q(draft.date_formats.value)}{_comment(draft.date_formats.why)}",
        f"null_markers: {_q(draft.markers)}{_comment('; '.join(draft.why_markers))}",
    ]
    out.append(f"primary_key: {_q(list(key))}{_comment(_key_why(draft))}")
    out += [
        f"exposure_level: {TODO}"
        + _comment(f"{levels}. The PII scanner suggests {draft.suggested_level} "
                   "(the most restrictive column below)"),
        f"legal_secret: false{_comment('true when a secret protected by law applies (A08)')}",
        "retention:  # the DUA (A12): how long the lake keeps a row, and what happens then",
        f"  years: {TODO}{_comment('the DUA in years, from the records schedule of the owner')}",
        f"  end: {TODO}{_comment('purge, anonymise or archive')}",
    ]  # fmt: skip
    dates = [c.name for c in draft.columns if c.type == "date"]
    if dates:
        out.append(f"  # from_column: {dates[0]}  # optional: the date the DUA counts from")
    if s.skipped:
        shown = "; ".join(s.skipped[:5]) + (" ..." if len(s.skipped) > 5 else "")
        out.append(f"# Lines not read for inference ({len(s.skipped)}): {shown}")
    out.append("columns:")
    for col in draft.columns:
        out += _column_lines(draft, col.name)
    return "\n".join(out) + "\n"


def _key_why(draft: Draft) -> str:
    if not draft.keys:
        return ("no column or set of up to three columns identifies a row on this file: "
                "name the key the silo guarantees")  # fmt: skip
    best = draft.keys[0]
    how = (
        "unique and never empty"
        if best.strict
        else f"unique except {best.repeated} repeated value(s) and {best.nulls} empty, on "
        f"{best.rows} distinct rows (an updated line delivered twice? the latest wins)"
    )
    others = "; ".join(", ".join(k.columns) for k in draft.keys[1:])
    return f"{how} on this file" + (f"; other candidates: {others}" if others else "")


def _column_lines(draft: Draft, name: str) -> list[str]:
    col = next(c for c in draft.columns if c.name == name)
    out = [
        f"  - name: {col.name}{_comment('the delivered header in the lake convention')}",
        f"    type: {col.type}{_comment(col.why_type)}",
        f"    source_name: {_q(col.header)}",
        f"    description: {_q(f'{col.header} (intitulé du fichier livré).')}"
        + _comment("draft: say in French what the column holds"),
        f"    nullable: {'true' if col.nullable else 'false'}{_comment(col.why_nullable)}",
    ]
    if col.allowed:
        out.append(f"    allowed: {_q(list(col.allowed))}{_comment(col.why_allowed)}")
    if col.minimum is not None:
        out.append(f"    minimum: {col.minimum:g}{_comment(col.why_range)}")
    elif col.why_range:
        out.append(f"    # {col.why_range}")
    if col.type == "country":
        out.append("    reference: iso3166  # the lake's country referential")
    level, personal, pseudo, evidence = draft.sensitivity.get(col.name, (2, False, False, ""))
    why = (
        f"PII scanner: {evidence}"
        if evidence
        else "no PII detector fired: internal (2) by default; open it with the table if public"
    )
    flow = f"{{level: {level}" + (", personal: true" if personal else "") + "}"
    out.append(f"    sensitivity: {flow}{_comment(why)}")
    if pseudo:
        out.append("    pseudonymise: true  # a person's identifier: the lake keeps an HMAC of it")
    return out


def rules_text(draft: Draft) -> str:
    """The draft rules file: a "not in the future" rule for each date column that never is."""
    lines = [
        f"# Draft business rules for {draft.source}, inferred by `lake contract infer`.",
        "# The contract's own checks (types, required, allowed values, ranges, keys) need no rule",
        "# here; add what the contract cannot say (see contracts/rules/README.md).",
        "rules:",
    ]
    found = False
    for col in draft.columns:
        if year_rule(col):
            assert col.year_future is not None
            future, years = col.year_future
            found = True
            lines += [
                f"  - id: {col.name}_not_future"
                + _comment(
                    f"{future} of {years} years after {draft.today.year}: a year in the future "
                    "is a defect here (delete this rule if it can be)"
                ),
                "    expectation: expect_column_values_to_be_between",
                f"    column: {col.name}",
                f'    kwargs: {{column: {col.name}, max_value: "{{current_year}}"}}',
                "    severity: blocking",
                f"    message: {_q(f'ont une année « {col.header} » dans le futur')}",
                f"    fix: {_q(f'Corriger l’année « {col.header} » ({_NOT_AFTER}).')}",
            ]
        if col.type != "date" or not not_future_rule(col):
            continue
        assert col.not_future is not None
        future, dated = col.not_future
        found = True
        lines += [
            f"  - id: {col.name}_not_future"
            + _comment(
                f"{future} of {dated} dates after {draft.today.isoformat()}: a date in the "
                "future is a defect here (delete this rule if it can be)"
            ),
            "    expectation: unexpected_rows_expectation",
            f"    column: {col.name}",
            f"    where: {_q(f'{col.name} > DATE' + chr(39) + '{today}' + chr(39))}",
            "    severity: blocking",
            f"    message: {_q(f'ont une date « {col.header} » dans le futur')}",
            f"    fix: {_q(f'Corriger la date « {col.header} » (elle ne peut pas être future).')}",
        ]
    headers = {c.name: c.header for c in draft.columns}
    for later, earlier, wrong, total in draft.date_orders:
        found = True
        lines += [
            f"  - id: {later}_after_{earlier}"
            + _comment(
                f"« {headers[later]} » is on or after « {headers[earlier]} » in "
                f"{total - wrong} of {total} rows with both dates"
            ),
            "    expectation: expect_column_pair_values_a_to_be_greater_than_b",
            f"    column: {later}",
            f"    kwargs: {{column_A: {later}, column_B: {earlier}, or_equal: true}}",
            "    severity: blocking",
            "    message: "
            + _q(f"ont une date « {headers[later]} » antérieure à « {headers[earlier]} »"),
            f"    fix: {_q(f'Corriger « {headers[earlier]} » ou « {headers[later]} ».')}",
        ]
    if not found:
        lines[-1] = "rules: []"
    return "\n".join(lines) + "\n"


def write_draft(draft: Draft, out: Path, *, force: bool = False) -> tuple[Path, Path]:
    """Write the contract at ``out`` and its rules at ``<out dir>/rules/<out name>``.

    Raises:
        FileExistsError: A file is there already and ``force`` is false.
    """
    rules = out.parent / "rules" / out.name
    for path in (out, rules):
        if path.exists() and not force:
            raise FileExistsError(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    rules.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(contract_text(draft), encoding="utf-8")
    rules.write_text(rules_text(draft), encoding="utf-8")
    return out, rules
