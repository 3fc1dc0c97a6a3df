"""Review decisions: the follow-up rule by rule, the dashboard's A13 counts, the review page."""

from __future__ import annotations

import datetime as dt
from typing import Any

from governance.dashboard import compute_indicators
from governance.evidence import PublishedSchemas
from lake.review_decisions import follow_up, is_open, overdue
from quality.report import render_domain_page

T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


def result(review: str, at: dt.datetime, rule: str, success: bool, **kw: Any) -> dict[str, Any]:
    return {
        "review_id": review,
        "reviewed_at": at,
        "source": "consular_register",
        "domain": "Administration consulaire",
        "owner": "DFAE",
        "table": "silver/consular_register",
        "layer": "silver",
        "decision": "promoted_with_warnings",
        "rows_reviewed": 10,
        "rows_rejected": 0 if success else 2,
        "rule_id": rule,
        "severity": "blocking",
        "scope": "row",
        "success": success,
        "unexpected_count": 0 if success else 2,
        "message": "m",
        "fix": "f",
        "column": rule.split(".")[0],
        **kw,
    }


def decision(kind: str, at: dt.datetime, **kw: Any) -> dict[str, Any]:
    return {
        "decision_id": "d-" + kind,
        "review_id": "r1",
        "table": "silver/consular_register",
        "source": "consular_register",
        "domain": "Administration consulaire",
        "direction": "DFAE",
        "decision": kind,
        "comment": "dates de naissance à saisir",
        "rules": ["birth_date.required", "email.pattern"],
        "due_date": at + 10 * DAY,
        "decided_by": "dfae.revue",
        "decided_at": at,
        **kw,
    }


FIRST = [
    result("r1", T0, "birth_date.required", False),
    result("r1", T0, "email.pattern", False),
]
SECOND = [  # the next delivery: one rule fixed, one still failing
    result("r2", T0 + 5 * DAY, "birth_date.required", True),
    result("r2", T0 + 5 * DAY, "email.pattern", False),
]


def test_follow_up_says_rule_by_rule_what_the_next_review_found() -> None:
    asked = decision("to_fix", T0 + DAY)
    before = follow_up(asked, FIRST)
    assert before.review_id is None
    assert [(r.rule_id, r.status) for r in before.rules] == [
        ("birth_date.required", "not_checked"),
        ("email.pattern", "not_checked"),
    ]
    after = follow_up(asked, FIRST + SECOND)
    assert after.review_id == "r2"
    assert [(r.rule_id, r.status, r.words) for r in after.rules] == [
        ("birth_date.required", "fixed", "corrigé : le contrôle est désormais réussi"),
        ("email.pattern", "failing", "pas encore corrigé : le contrôle échoue toujours"),
    ]
    assert not after.fixed and is_open(asked, FIRST + SECOND)
    fixed = [{**r, "review_id": "r3", "reviewed_at": T0 + 6 * DAY, "success": True} for r in SECOND]
    assert not is_open(asked, FIRST + SECOND + fixed)
    assert not is_open(decision("accepted", T0 + DAY), FIRST)


def test_overdue_requests_are_open_ones_past_their_date() -> None:
    asked = decision("to_fix", T0 + DAY)
    assert overdue([asked], FIRST + SECOND, T0 + 5 * DAY) == []  # not due yet
    assert overdue([asked], FIRST + SECOND, NOW) == [asked]
    fixed = [{**r, "review_id": "r3", "reviewed_at": T0 + 6 * DAY, "success": True} for r in SECOND]
    assert overdue([asked], FIRST + SECOND + fixed, NOW) == []


def indicators(decisions: list[dict[str, Any]] | None) -> dict[str, Any]:
    catalog = {"summary": {"domains": [], "tables_per_layer": {}}, "tables": []}
    found = compute_indicators(
        catalog,
        FIRST + SECOND,
        schemas=PublishedSchemas(),
        open_data_eligible=[],
        study=None,
        cloud=None,
        generated_at=NOW,
        decisions=decisions,
    )
    return {i.key: i for i in found}


def test_dashboard_counts_reviews_held_by_their_own_direction_and_overdue_requests() -> None:
    assert "quality_reviews_held" not in indicators(None)  # not read: not shown as zero
    found = indicators(
        [
            decision("to_fix", T0 + DAY),
            decision("accepted", T0 + 6 * DAY, review_id="r2", decision_id="d2"),
            decision("accepted", T0 + 7 * DAY, review_id="r2", decision_id="d3"),  # again
            decision("accepted", T0 + DAY, direction="DGM", decision_id="d4"),  # not the owner
            decision("accepted", NOW + DAY, review_id="r2", decision_id="d5"),  # after the page
        ]
    )
    held = found["quality_reviews_held"]
    assert (held.value, held.status, held.code) == (2, "ok", "A13")
    assert held.details == (
        "2026-11 : 2 revues",
        "Validées : 1 ; à corriger à la source : 1",
        "Non comptées : 1 décision prise(s) par une autre direction que la propriétaire, ou "
        "sur une revue inconnue",
    )
    late = found["quality_requests_overdue"]
    assert (late.value, late.status) == (1, "en cours")
    assert late.details == (
        "silver/consular_register (DFAE) : échéance 13 novembre 2026, règles "
        "birth_date.required, email.pattern",
    )
    none = indicators([])
    assert (none["quality_reviews_held"].value, none["quality_reviews_held"].status) == (
        0,
        "à faire",
    )
    assert none["quality_requests_overdue"].status == "ok"


def test_the_next_review_page_says_whether_what_was_asked_was_fixed() -> None:
    domains = [{"domain": "Administration consulaire", "owner": "DFAE", "sources": []}]
    asked = decision("to_fix", T0 + DAY, comment="<script>alert(1)</script>")
    html, view = render_domain_page(
        FIRST + SECOND, [], domains, domain="administration-consulaire", decisions=[asked]
    )
    review = view["sources"][0]["reviews"][0]
    assert review["review_id"] == "r2"
    assert review["follow_ups"][0]["rules"] == [
        {
            "rule_id": "birth_date.required",
            "words": "corrigé : le contrôle est désormais réussi",
            "status": "fixed",
        },
        {
            "rule_id": "email.pattern",
            "words": "pas encore corrigé : le contrôle échoue toujours",
            "status": "failing",
        },
    ]
    assert "pas encore corrigé</h4>" in html
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert view["decisions"][0]["words"] == "à corriger à la source"
