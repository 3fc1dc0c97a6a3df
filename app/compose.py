"""Where the packages meet: the quality gates plugged into the ingestion chain.

Used by the spark-submit jobs and the CLI (the only places allowed to import several of
``ingestion``, ``quality`` and ``governance``, STYLE.md).
"""

from __future__ import annotations

from pathlib import Path

from lake.gates import Gates
from lake.lineage import LineageSink, NoLineage
from lake.settings import Settings


def quality_gates(settings: Settings, *, data_docs: bool | None = None) -> Gates:
    """The silver and gold gates of the quality package (A13 reviews)."""
    from quality.gate import GoldGate, SilverGate

    docs = settings.reports.data_docs if data_docs is None else data_docs
    return Gates(
        batch=SilverGate(settings, data_docs=docs),
        table=GoldGate(settings, data_docs=docs),
        finish=lambda: build_data_docs(settings),
    )


def build_data_docs(settings: Settings) -> list[Path]:
    """GX's Data Docs of this run's reviews, rewritten to load nothing from the network (their
    scripts and styles from the pinned npm copies in the user cache, decision 0010)."""
    from quality.validation import refresh_data_docs

    pages = refresh_data_docs(settings.reports.dir)
    if pages:
        from quality.data_docs_offline import make_offline

        for site in {page.parent for page in pages}:
            make_offline(site)
    return pages


def lineage_sink(settings: Settings) -> LineageSink:
    """The OpenLineage emitter of the governance package (transport from the settings)."""
    if settings.lineage.transport == "none":
        return NoLineage()
    from governance.lineage.emit import OpenLineageSink
    from lake.contracts import load_contracts
    from lake.lineage_journal import publish_at_exit

    publish_at_exit(settings)  # the journal is copied to the lake under the job's own role
    return OpenLineageSink(settings, load_contracts(settings.root))
