"""``lake quality review``: the French pages of the quality reviews, from what the lake stored.

Reads the quality history (``meta/quality_results``), a few failing values per failed rule from
the quarantine tables (already masked where the column is sensitive: the gate never stores a
sensitive value in clear) and each domain's owner and sources from the contracts, then renders the
pages with :func:`quality.report.render_reviews`. Everything is read with delta-rs (no Spark).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from lake.contracts import Contract, load_contracts
from lake.errors import TableError
from lake.settings import Settings
from lake.storage import table_uri
from quality import history
from quality.report import ReportFiles, render_reviews
from quality.validation import data_docs_index

SAMPLES_PER_RULE = 5


def domains_of(contracts: Mapping[str, Contract]) -> list[dict[str, Any]]:
    """``{domain, owner, sources}`` per business domain, from the contracts."""
    by_domain: dict[str, list[Contract]] = defaultdict(list)
    for contract in contracts.values():
        by_domain[contract.domain].append(contract)
    return [
        {
            "domain": domain,
            "owner": ", ".join(sorted({c.owner for c in members})),
            "sources": [
                {"source": c.source, "title": c.title, "description": c.description}
                for c in sorted(members, key=lambda c: c.source)
            ],
        }
        for domain, members in sorted(by_domain.items())
    ]


def failing_samples(
    settings: Settings, results: Sequence[Mapping[str, Any]], *, per_rule: int = SAMPLES_PER_RULE
) -> list[dict[str, Any]]:
    """Up to ``per_rule`` quarantined values for each failed row rule of each batch review."""
    from lake.delta_reader import open_table

    wanted: dict[tuple[str, str], set[str]] = defaultdict(set)  # (source, batch) -> rules
    review_of: dict[tuple[str, str], str] = {}
    for r in results:
        if r["layer"] == "silver" and r["batch_id"] and not r["success"] and r["scope"] == "row":
            wanted[(r["source"], r["batch_id"])].add(r["rule_id"])
            review_of[(r["source"], r["batch_id"])] = r["review_id"]
    samples: list[dict[str, Any]] = []
    for source in sorted({s for s, _ in wanted}):
        try:
            table = open_table(settings, table_uri(settings, "quarantine", source))
        except TableError:
            continue
        import pyarrow.compute as pc

        batches = sorted(b for s, b in wanted if s == source)
        data = table.to_pyarrow_table(
            columns=["_batch_id", "_file_uri", "_line", "failures", "stage"]
        )
        data = data.filter(
            pc.and_(
                pc.is_in(data["_batch_id"], value_set=_array(batches)),
                pc.equal(data["stage"], "silver"),
            )
        )
        taken: dict[tuple[str, str], int] = defaultdict(int)
        for row in data.to_pylist():
            key = (source, row["_batch_id"])
            for failure in row["failures"] or []:
                rule = failure.get("rule")
                if rule not in wanted[key] or taken[(row["_batch_id"], rule)] >= per_rule:
                    continue
                taken[(row["_batch_id"], rule)] += 1
                samples.append(
                    {
                        "rule_id": rule,
                        "review_id": review_of[key],
                        "file": str(row["_file_uri"]).rsplit("/", 1)[-1],
                        "line": row["_line"],
                        "column": failure.get("column"),
                        "value": failure.get("value"),
                    }
                )
    return samples


def _array(values: Sequence[str]) -> Any:
    import pyarrow as pa

    return pa.array(values, type=pa.string())


def write_reviews(settings: Settings, *, domain: str | None = None) -> ReportFiles:
    """Render the review pages into ``<reports>/quality``; returns the files written."""
    from lake import meta_tables

    results = history.read(settings)
    contracts = load_contracts(settings.root)
    docs = data_docs_index(settings.reports.dir)
    decisions = meta_tables.read(settings, meta_tables.REVIEW_DECISIONS)
    return render_reviews(
        results,
        failing_samples(settings, results),
        domains_of(contracts),
        settings.reports.dir / "quality",
        domain=domain,
        data_docs_index=docs.as_uri() if docs.is_file() else None,
        decisions=decisions,
    )
