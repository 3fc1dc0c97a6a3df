"""Where the packages meet: the quality gates plugged into the ingestion chain.

Used by the spark-submit jobs and the CLI (the only places allowed to import several of
``ingestion``, ``quality`` and ``governance``, STYLE.md).
"""

from __future__ import annotations

from lake.gates import Gates
from lake.lineage import LineageSink, NoLineage
from lake.settings import Settings


def quality_gates(settings: Settings, *, data_docs: bool | None = None) -> Gates:
    """The silver and gold gates of the quality package (A13 reviews)."""
    from quality.gate import GoldGate, SilverGate
    from quality.validation import refresh_data_docs

    docs = settings.reports.data_docs if data_docs is None else data_docs
    return Gates(
        batch=SilverGate(settings, data_docs=docs),
        table=GoldGate(settings, data_docs=docs),
        finish=lambda: refresh_data_docs(settings.reports.dir),
    )


def lineage_sink(settings: Settings) -> LineageSink:
    """The OpenLineage emitter of the governance package (transport from the settings)."""
    if settings.lineage.transport == "none":
        return NoLineage()
    from governance.lineage.emit import OpenLineageSink
    from lake.contracts import load_contracts

    return OpenLineageSink(settings, load_contracts(settings.root))
