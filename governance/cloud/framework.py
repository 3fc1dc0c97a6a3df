"""The A09 cloud-usage framework: which hosting each dataset of the lake admits, and why.

Input is the catalogue as plain data (`governance.catalog.entries.Catalog.to_dict`) and the policy
of `governance.cloud.policy` (``policy/cloud.yaml``). For each table, the facts the rules look at
(exposure level, personal data, exclusion fields, layer, volume) come from the catalogue; whether it
falls under a legal secret comes from its sources' contracts (``legal_secret``), passed in as
``source -> bool`` because the catalogue does not carry it: a table is under a legal secret when the
catalogue says so or when any of its sources is, so gold inherits from its silver sources. The first
matching rule gives the admissible hostings, its French title and explanation; notes (large volumes)
add to the explanation without changing the decision.

Output is a list of `Decision`, rendered as an aligned terminal table (`render_text`) or a static
French page (`render_html`): datasets grouped by admissible hosting with the uses each option
opens, the decision and reason for each dataset, the rules in plain French and the doctrine. The
page is a governance template on the lake's shared page skeleton (:mod:`lake.pages`), rendered
with autoescaping on (whatever a table name or description holds is shown as text); it carries no
JavaScript, loads nothing from outside, and forbids scripts with a Content-Security-Policy, so it
can be mailed or opened offline.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from governance.catalog.render import format_int_fr, format_size_fr
from governance.cloud.policy import (
    HOSTINGS,
    CloudPolicyError,
    DatasetFacts,
    Policy,
    default_policy_path,
    load_policy,
)
from governance.errors import GovernanceError
from lake.pages.french import format_date_fr

__all__ = [
    "HOSTINGS",
    "SHORT_LABELS",
    "CloudPolicyError",
    "Decision",
    "Policy",
    "assess",
    "default_policy_path",
    "load_policy",
    "render_html",
    "render_text",
]

# Terminal column labels; the page uses the policy's full labels.
SHORT_LABELS: Mapping[str, str] = MappingProxyType(
    {"on_premises": "interne", "secnumcloud": "SecNumCloud", "public_cloud": "cloud public"}
)
_NO_SECRETS: Mapping[str, bool] = MappingProxyType({})


@dataclass(frozen=True)
class Decision:
    """Where one table of the lake may be hosted, by which rule, and why (in French).

    Attributes:
        table: The table's name (``consular_register``); ``key`` adds the layer.
        hostings: Admissible hosting ids, in the order of `HOSTINGS`.
        explanation_fr: The rule's explanation, then the text of each matching note.
        uses: Admissible hosting id -> the uses that option opens (from the policy).
        note_ids: The notes that added to the explanation.
    """

    table: str
    layer: str
    domain: str
    level: int | None
    personal: bool
    legal_secret: bool
    hostings: tuple[str, ...]
    rule_id: str
    rule_title_fr: str
    explanation_fr: str
    uses: dict[str, list[str]]
    exclusion: bool = False
    description: str = ""
    size_bytes: int = 0
    rows: int | None = None
    note_ids: tuple[str, ...] = field(default=())

    @property
    def key(self) -> str:
        """``<layer>/<table>``, as the catalogue and lineage name the table."""
        return f"{self.layer}/{self.table}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary with stable keys."""
        return {
            "table": self.table,
            "layer": self.layer,
            "domain": self.domain,
            "description": self.description,
            "level": self.level,
            "personal": self.personal,
            "legal_secret": self.legal_secret,
            "exclusion": self.exclusion,
            "size_bytes": self.size_bytes,
            "rows": self.rows,
            "hostings": list(self.hostings),
            "rule_id": self.rule_id,
            "rule_title_fr": self.rule_title_fr,
            "explanation_fr": self.explanation_fr,
            "notes": list(self.note_ids),
            "uses": {h: list(u) for h, u in self.uses.items()},
        }


def assess(
    catalog: Mapping[str, Any],
    policy: Policy,
    *,
    contracts_legal_secret: Mapping[str, bool] = _NO_SECRETS,
) -> list[Decision]:
    """Decide the admissible hostings of every table of the catalogue.

    Args:
        catalog: `Catalog.to_dict()` output (only ``tables`` is read).
        policy: The cloud policy (`load_policy`).
        contracts_legal_secret: Source id -> the ``legal_secret`` of its contract; a source that
            is not listed counts as not under a legal secret.

    Returns:
        One decision per table, in catalogue order.

    Raises:
        GovernanceError: The catalogue has no ``tables`` list, or a table lacks its layer or name.
    """
    tables = catalog.get("tables")
    if not isinstance(tables, list):
        raise GovernanceError(
            f"The catalogue has no 'tables' list (found {type(tables).__name__}); "
            "expected the output of Catalog.to_dict().",
            fix="run `lake catalog --json` to see the expected shape.",
        )
    return [_decide(_facts(t, i, contracts_legal_secret), t, policy) for i, t in enumerate(tables)]


def _facts(table: Any, index: int, secrets: Mapping[str, bool]) -> DatasetFacts:
    if not isinstance(table, Mapping) or not all(table.get(k) for k in ("layer", "name")):
        raise GovernanceError(
            f"The catalogue's tables[{index}] has no layer or name; "
            "expected the output of Catalog.to_dict().",
            fix="run `lake catalog --json` to see the expected shape.",
        )
    sources = table.get("sources") or ()
    level = table.get("level")
    return DatasetFacts(
        layer=str(table["layer"]),
        name=str(table["name"]),
        level=int(level) if level is not None else None,
        personal=bool(table.get("personal")),
        legal_secret=bool(table.get("legal_secret")) or any(secrets.get(s) for s in sources),
        exclusion=bool(table.get("exclusion")),
        size_bytes=int(table.get("size_bytes") or 0),
        rows=table.get("rows"),
    )


def _decide(facts: DatasetFacts, table: Mapping[str, Any], policy: Policy) -> Decision:
    rule = policy.decide(facts)
    notes = policy.notes_for(facts)
    return Decision(
        table=facts.name,
        layer=facts.layer,
        domain=str(table.get("domain") or ""),
        level=facts.level,
        personal=facts.personal,
        legal_secret=facts.legal_secret,
        hostings=rule.hostings,
        rule_id=rule.id,
        rule_title_fr=rule.title,
        explanation_fr=" ".join([rule.explanation, *(n.text for n in notes)]),
        uses={h: list(policy.hosting(h).uses) for h in rule.hostings},
        exclusion=facts.exclusion,
        description=str(table.get("description") or ""),
        size_bytes=facts.size_bytes,
        rows=facts.rows,
        note_ids=tuple(n.id for n in notes),
    )


_HEADER = ("couche", "table", "niveau", "RGPD", "secret légal", "hébergements admissibles", "règle")


def render_text(decisions: Sequence[Decision]) -> str:
    """One aligned line per table, then how many tables each hosting admits, in French.

    Notes (large volumes) are listed after the counts, one line per table concerned.
    """
    rows = [_HEADER]
    for d in decisions:
        rows.append(
            (
                d.layer,
                d.table,
                str(d.level) if d.level is not None else "non classé",
                "oui" if d.personal else "non",
                "oui" if d.legal_secret else "non",
                ", ".join(SHORT_LABELS[h] for h in d.hostings),
                d.rule_id,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(_HEADER))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    counts = ", ".join(
        f"{SHORT_LABELS[h]} → {sum(h in d.hostings for d in decisions)}" for h in HOSTINGS
    )
    lines += ["", f"Jeux admis par hébergement : {counts}"]
    lines += [f"Avis : {d.key} : {', '.join(d.note_ids)}" for d in decisions if d.note_ids]
    return "\n".join(lines) + "\n"


def render_html(
    decisions: Sequence[Decision],
    policy: Policy,
    out_path: Path,
    *,
    generated_at: dt.datetime | None = None,
) -> Path:
    """Write the framework as one static French page.

    Args:
        decisions: What `assess` returned.
        policy: The policy the decisions come from (hostings, rules, notes, doctrine).
        out_path: The HTML file to write; missing parent directories are created.
        generated_at: Date shown on the page; UTC now when None.

    Returns:
        ``out_path``.
    """
    # Imported here: Jinja2 stays out of the start-up of commands that only print the table.
    from governance.pages import environment

    template = environment().get_template("cloud.html")
    html = template.render(
        policy=policy,
        policy_file=policy.path.name,
        generated=format_date_fr(generated_at or dt.datetime.now(dt.UTC)),
        hostings=[_hosting_view(h, decisions, policy) for h in HOSTINGS],
        decisions=[_decision_view(d, policy) for d in decisions],
        rules=[
            {
                "position": i,
                "id": r.id,
                "title": r.title,
                "condition": r.when.describe_fr(),
                "hostings": [policy.hosting(h).label for h in r.hostings],
                "used": sum(d.rule_id == r.id for d in decisions),
            }
            for i, r in enumerate(policy.rules, start=1)
        ],
        notes=[
            {"id": n.id, "title": n.title, "condition": n.when.describe_fr(), "text": n.text}
            for n in policy.notes
        ],
    )
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(html, encoding="utf-8")
    return out_path


def _hosting_view(hosting_id: str, decisions: Sequence[Decision], policy: Policy) -> dict[str, Any]:
    hosting = policy.hosting(hosting_id)
    admitted = [_decision_view(d, policy) for d in decisions if hosting_id in d.hostings]
    return {"id": hosting_id, "label": hosting.label, "uses": hosting.uses, "datasets": admitted}


def _decision_view(d: Decision, policy: Policy) -> dict[str, Any]:
    volume = format_size_fr(d.size_bytes)
    if d.rows is not None:
        volume = f"{format_int_fr(d.rows)} lignes, {volume}"
    return {
        "key": d.key,
        "anchor": "jeu-" + re.sub(r"[^a-z0-9_]+", "-", d.key.lower()),
        "domain": d.domain or "—",
        "description": d.description,
        "level": str(d.level) if d.level is not None else "non classé",
        "personal": "oui" if d.personal else "non",
        "legal_secret": "oui" if d.legal_secret else "non",
        "exclusion": "oui" if d.exclusion else "non",
        "volume": volume,
        "hostings": [policy.hosting(h).label for h in d.hostings],
        "rule_id": d.rule_id,
        "rule_title": d.rule_title_fr,
        "explanation": d.explanation_fr,
    }
