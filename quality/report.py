"""French quality-review reports (roadmap action A13), read by the business units.

Input is plain data that the lake reads from its quality-results table: one mapping per
expectation result per review, samples of failing values (already masked where sensitive), and
per-domain information (owning direction, sources). Output is static HTML: one page per business
domain (``<out_dir>/<slug>.html``) and ``<out_dir>/index.html`` listing the domains. The numbers
come from :mod:`quality.scoring`, the French sentences from :mod:`quality.wording`.

Pages come from the templates beside this module, which extend the lake's shared page skeleton
(:mod:`lake.pages`): autoescaping is on for every template, the SVG chart included, so whatever
the data holds (a value, a rule message, a column name) is shown as text, and only web, file or
relative addresses become links. Pages carry no JavaScript, load nothing from outside (embedded
CSS, SVG drawn from a template) and forbid scripts with a Content-Security-Policy, so they can be
mailed or opened offline.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markupsafe import Markup

from lake.pages.charts import LinePoint, line_chart
from lake.pages.french import (
    format_count_fr,
    format_date_fr,
    format_date_short_fr,
    format_percent_fr,
)
from lake.pages.templates import environment, safe_link
from lake.review_decisions import DECISION_WORDS, follow_up
from quality.errors import QualityError
from quality.scoring import (
    DEFAULT_TREND_LENGTH,
    Review,
    TrendPoint,
    group_reviews,
    history,
    latest_reviews,
    review_score,
    score,
    score_history,
    trend_direction,
    trend_sentence,
)
from quality.wording import (
    TREND_WORDS,
    decision_words,
    observed_text,
    sentence_for,
    severity_words,
)

__all__ = [
    "DEFAULT_TREND_LENGTH",
    "ReportFiles",
    "Review",
    "TrendPoint",
    "group_reviews",
    "render_domain_page",
    "render_reviews",
    "score",
    "score_history",
    "sentence_for",
    "slugify",
    "trend_direction",
    "trend_sentence",
    "trend_svg",
]

MAX_SAMPLES = 5
TEMPLATES = Path(__file__).with_name("templates")
_LAYERS = {"bronze": 0, "silver": 1, "gold": 2}
_DECISION_TONES = {"promoted": "ok", "promoted_with_warnings": "warning", "blocked": "blocking"}


@dataclass(frozen=True)
class ReportFiles:
    """What :func:`render_reviews` wrote.

    Attributes:
        index: The index page listing every domain.
        pages: Domain name -> its page, for the domains rendered by this call.
    """

    index: Path
    pages: Mapping[str, Path]

    @property
    def paths(self) -> list[Path]:
        """Every file written, the index first."""
        return [self.index, *self.pages.values()]


def trend_svg(
    points: Sequence[TrendPoint],
    *,
    title: str = "Évolution du score de qualité",
    chart_id: str = "tendance",
) -> Markup:
    """A small line chart of the score, as standalone SVG (no script, no external asset).

    Args:
        points: Oldest first, as :func:`score_history` returns them.
        title: Accessible name of the chart (its ``<title>`` and ``aria-label``).
        chart_id: Prefix of the element ids, unique within the page.

    Returns:
        SVG markup, safe to embed in a page; every text from ``points`` and ``title`` is escaped.
    """
    scores = [format_percent_fr(p.score, decimals=1) for p in points]
    line = [
        LinePoint(
            date=format_date_short_fr(p.at),
            value=p.score,
            text=score,
            label=f"{format_date_fr(p.at, time=True)}, {p.source} : {score}",
        )
        for p, score in zip(points, scores, strict=True)
    ]
    desc = "Aucune revue pour l'instant."
    if len(points) == 1:
        desc = f"Score après la seule revue : {scores[0]}."
    elif points:
        low, high = (format_percent_fr(f(p.score for p in points), decimals=1) for f in (min, max))
        desc = (
            f"Score après la dernière revue : {scores[-1]}, {trend_sentence(points)}. "
            f"Sur les {len(points)} dernières revues, il a varié entre {low} et {high}."
        )
    return line_chart(line, title=title, desc=desc, chart_id=chart_id)


def slugify(name: str) -> str:
    """An ASCII file name: "Administration consulaire" -> "administration-consulaire"."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60].strip("-") or "domaine"


def _slugs(names: Sequence[str]) -> dict[str, str]:
    used, slugs = {"index"}, {}
    for name in names:
        base = slug = slugify(name)
        n = 2
        while slug in used:
            slug, n = f"{base}-{n}", n + 1
        used.add(slug)
        slugs[name] = slug
    return slugs


def _failure_view(result: Mapping[str, Any], samples: list[Mapping[str, Any]]) -> dict[str, Any]:
    severity = str(result.get("severity") or "")
    return {
        "sentence": sentence_for(result),
        "severity": severity if severity in ("blocking", "warning") else "other",
        "severity_words": severity_words(severity, str(result.get("scope") or "row")),
        "rule_id": result.get("rule_id") or "",
        "column": result.get("column"),
        "fix": result.get("fix") or "",
        "observed": observed_text(result),
        "samples": [
            {
                "file": s.get("file") or "",
                "line": s.get("line") if s.get("line") is not None else "",
                "column": s.get("column") or "",
                "value": "(vide)" if s.get("value") in (None, "") else s["value"],
            }
            for s in samples[:MAX_SAMPLES]
        ],
    }


def _follow_ups(
    review: Review, decisions: Sequence[Mapping[str, Any]], results: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The directions' requests this review is the answer to, rule by rule (fixed or not)."""
    views = []
    for decision in decisions:
        if decision.get("decision") != "to_fix" or decision.get("table") != review.table:
            continue
        found = follow_up(decision, results)
        if found.review_id != review.review_id:
            continue
        views.append(
            {
                "when": format_date_fr(decision["decided_at"])
                if decision.get("decided_at")
                else "",
                "direction": decision.get("direction") or "",
                "comment": decision.get("comment") or "",
                "fixed": found.fixed,
                "rules": [
                    {"rule_id": r.rule_id, "words": r.words, "status": r.status}
                    for r in found.rules
                ],
            }
        )
    return views


def _decision_view(decision: Mapping[str, Any]) -> dict[str, Any]:
    due = decision.get("due_date")
    return {
        "when": format_date_fr(decision["decided_at"], time=True)
        if decision.get("decided_at")
        else "",
        "table": decision.get("table") or "",
        "direction": decision.get("direction") or "",
        "by": decision.get("decided_by") or "",
        "words": DECISION_WORDS.get(str(decision.get("decision")), str(decision.get("decision"))),
        "comment": decision.get("comment") or "",
        "rules": ", ".join(decision.get("rules") or ()),
        "due": format_date_fr(due) if due else "",
        "review_id": decision.get("review_id") or "",
    }


def _review_view(review: Review, samples: Mapping[tuple[str, str], list]) -> dict[str, Any]:
    failed = [r for r in review.results if not r.get("success")]
    failed.sort(key=lambda r: (r.get("severity") != "blocking", -(r.get("unexpected_count") or 0)))
    value = review_score([review])
    word, meaning = decision_words(review.decision)
    return {
        "table": review.table,
        "when": format_date_fr(review.reviewed_at, time=True),
        "decision": _DECISION_TONES.get(review.decision, "other"),
        "decision_words": word,
        "decision_meaning": meaning,
        "rows_reviewed": format_count_fr(
            review.rows_reviewed, "ligne examinée", "lignes examinées"
        ),
        "rows_rejected": format_count_fr(review.rows_rejected, "ligne écartée", "lignes écartées"),
        "score": None if value is None else format_percent_fr(value, decimals=1),
        "failures": [
            _failure_view(r, samples.get((review.review_id, str(r.get("rule_id"))), []))
            for r in failed
        ],
        "passed": format_count_fr(
            len(review.results) - len(failed), "contrôle réussi", "contrôles réussis"
        ),
        "data_docs": safe_link(review.data_docs),
        "data_docs_text": review.data_docs,
        "review_id": review.review_id,
        "failed_rules": [str(r.get("rule_id")) for r in failed if r.get("rule_id")],
        "follow_ups": [],
    }


def _domain_view(
    name: str,
    info: Mapping[str, Any],
    reviews: Sequence[Review],
    samples: Mapping[tuple[str, str], list],
    last: int,
    decisions: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    latest = latest_reviews(reviews)
    results = [row for review in reviews for row in review.results]
    described = {str(s["source"]): s for s in info.get("sources") or []}
    names = list(dict.fromkeys([*described, *sorted({r.source for r in reviews})]))
    sources = []
    for source in names:
        about = described.get(source, {})
        tables = sorted(
            (r for r in latest if r.source == source),
            key=lambda r: (_LAYERS.get(r.layer, 9), r.table),
        )
        sources.append(
            {
                "source": source,
                "title": about.get("title") or source,
                "description": about.get("description") or "",
                "reviews": [
                    {**_review_view(r, samples), "follow_ups": _follow_ups(r, decisions, results)}
                    for r in tables
                ],
            }
        )
    points = history(reviews, last)
    value = review_score(latest)
    direction = trend_direction(points)
    owners = [r.owner for r in reviews if r.owner]
    return {
        "name": name,
        "owner": info.get("owner") or (owners[-1] if owners else "non renseignée"),
        "score": None if value is None else format_percent_fr(value, decimals=1),
        "direction": direction,
        "arrow": TREND_WORDS[direction][0],
        "trend_words": TREND_WORDS[direction][1],
        "trend_sentence": trend_sentence(points),
        "points": [
            {
                "date": format_date_fr(p.at, time=True),
                "source": p.source,
                "score": format_percent_fr(p.score, decimals=1),
            }
            for p in points
        ],
        "svg": trend_svg(points, title=f"Évolution du score de qualité : {name}"),
        "reviews_count": len(reviews),
        "reviews_text": format_count_fr(len(reviews), "revue"),
        "last_review": format_date_fr(reviews[-1].reviewed_at, time=True) if reviews else None,
        "sources": sources,
        "decisions": [
            _decision_view(d)
            for d in sorted(decisions, key=lambda d: str(d.get("decided_at")), reverse=True)
            if d.get("domain") == name
        ],
    }


def render_reviews(
    results: Sequence[Mapping[str, Any]],
    samples: Sequence[Mapping[str, Any]],
    domains: Sequence[Mapping[str, Any]],
    out_dir: Path,
    *,
    domain: str | None = None,
    data_docs_index: str | None = None,
    generated_at: dt.datetime | None = None,
    trend_length: int = DEFAULT_TREND_LENGTH,
    decisions: Sequence[Mapping[str, Any]] = (),
) -> ReportFiles:
    """Write the French quality-review pages: one per business domain, plus an index.

    Args:
        results: One mapping per expectation result per review. Each needs ``review_id``,
            ``reviewed_at``, ``source``, ``table`` and ``decision``; the pages also read
            ``domain``, ``owner``, ``layer``, ``rows_reviewed``, ``rows_rejected``, ``rule_id``,
            ``severity``, ``scope``, ``success``, ``message``, ``fix``, ``column``, the GX
            counts, ``observed_value`` and ``data_docs``.
        samples: Failing values ``{rule_id, review_id, file, line, column, value}``, masked.
        domains: ``{domain, owner, sources: [{source, title, description}]}`` per domain.
        out_dir: Where the pages go (created if needed); existing pages are overwritten.
        domain: Render only this domain's page (its name or its file name), plus the index.
        data_docs_index: Address of the GX Data Docs home, linked for engineers.
        generated_at: Time printed on the pages (default: now, UTC).
        trend_length: How many of the latest reviews the trend shows.
        decisions: Rows of ``meta/review_decisions``: each domain page lists its directions'
            decisions, and under a review, rule by rule, whether what was asked was fixed.

    Returns:
        The index and the domain pages written.

    Raises:
        QualityError: ``domain`` matches no known domain (the message lists them), or a result
            lacks a key every review needs.
    """
    env = environment(TEMPLATES)
    reviews = group_reviews(results)
    infos = {str(d["domain"]): d for d in domains}
    names = list(dict.fromkeys([*infos, *sorted({r.domain for r in reviews})]))
    slugs = _slugs(names)
    selected = names if domain is None else [_find_domain(domain, names, slugs)]
    by_domain: dict[str, list[Review]] = defaultdict(list)
    for review in reviews:
        by_domain[review.domain].append(review)
    by_rule: dict[tuple[str, str], list[Mapping[str, Any]]] = defaultdict(list)
    for sample in sorted(samples, key=lambda s: (str(s.get("file")), s.get("line") or 0)):
        by_rule[(str(sample.get("review_id")), str(sample.get("rule_id")))].append(sample)
    views = {
        n: _domain_view(n, infos.get(n, {}), by_domain[n], by_rule, trend_length, decisions)
        for n in names
    }
    common = {
        "generated": format_date_fr(generated_at or dt.datetime.now(dt.UTC), time=True),
        "data_docs_index": safe_link(data_docs_index),
        "actions": None,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    pages: dict[str, Path] = {}
    for name in selected:
        pages[name] = out_dir / f"{slugs[name]}.html"
        html = env.get_template("domain.html").render(domain=views[name], **common)
        pages[name].write_text(html, encoding="utf-8")
    rows = [
        {
            **views[n],
            "href": f"{slugs[n]}.html" if (out_dir / f"{slugs[n]}.html").is_file() else None,
        }
        for n in names
    ]
    index = out_dir / "index.html"
    html = env.get_template("index.html").render(
        domains=rows,
        reviews_count=len(reviews),
        reviews_text=format_count_fr(len(reviews), "revue"),
        **common,
    )
    index.write_text(html, encoding="utf-8")
    return ReportFiles(index=index, pages=pages)


def render_domain_page(
    results: Sequence[Mapping[str, Any]],
    samples: Sequence[Mapping[str, Any]],
    domains: Sequence[Mapping[str, Any]],
    *,
    domain: str,
    decisions: Sequence[Mapping[str, Any]] = (),
    data_docs_index: str | None = None,
    actions: Markup | None = None,
    generated_at: dt.datetime | None = None,
) -> tuple[str, dict[str, Any]]:
    """One domain's review page as text (for a web server), and the view it was rendered from.

    Same page as :func:`render_reviews` writes, plus ``actions``: markup the caller rendered with
    an autoescaping template (a sign-off form), shown under the page's title.

    Raises:
        QualityError: ``domain`` matches no known domain (the message lists them).
    """
    reviews = group_reviews(results)
    infos = {str(d["domain"]): d for d in domains}
    names = list(dict.fromkeys([*infos, *sorted({r.domain for r in reviews})]))
    name = _find_domain(domain, names, _slugs(names))
    by_rule: dict[tuple[str, str], list[Mapping[str, Any]]] = defaultdict(list)
    for sample in sorted(samples, key=lambda s: (str(s.get("file")), s.get("line") or 0)):
        by_rule[(str(sample.get("review_id")), str(sample.get("rule_id")))].append(sample)
    mine = [r for r in reviews if r.domain == name]
    view = _domain_view(name, infos.get(name, {}), mine, by_rule, DEFAULT_TREND_LENGTH, decisions)
    html = (
        environment(TEMPLATES)
        .get_template("domain.html")
        .render(
            domain=view,
            generated=format_date_fr(generated_at or dt.datetime.now(dt.UTC), time=True),
            data_docs_index=safe_link(data_docs_index),
            actions=actions,
        )
    )
    return html, view


def domain_slugs(
    results: Sequence[Mapping[str, Any]], domains: Sequence[Mapping[str, Any]]
) -> dict[str, str]:
    """Domain name -> the name of its page (without ``.html``), as :func:`render_reviews`
    names them."""
    names = [str(d["domain"]) for d in domains]
    names = list(dict.fromkeys([*names, *sorted({r.domain for r in group_reviews(results)})]))
    return _slugs(names)


def _find_domain(wanted: str, names: Sequence[str], slugs: Mapping[str, str]) -> str:
    for name in names:
        if wanted.casefold() in (name.casefold(), slugs[name]):
            return name
    raise QualityError(
        f"Domain {wanted!r} has no quality review and no domain description; known domains: "
        f"{', '.join(repr(n) for n in names) or 'none'}.",
        fix="Pass one of the known domains (its name or its page name), or no domain at all.",
    )
