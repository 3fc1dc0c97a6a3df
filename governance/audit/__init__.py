"""Who ran what, when, on which table version: ``lake audit TABLE``.

Three records meet here, each read without Spark (`records`): the table's Delta log, the run log
(with the lifecycle journal) and the OpenLineage events. The join (`timeline`) attributes each
version to the run that wrote it and lists the runs that read it; it is pure, so it is tested on
small fixtures. The result (`model`) is scrubbed of every configured secret before it is shown
(`render`).
"""

from __future__ import annotations

from governance.audit.model import Commit, LineageRun, Reader, Timeline, VersionEntry
from governance.audit.records import (
    collect,
    lifecycle_steps,
    lineage_runs,
    parse_history,
    read_events,
    table_location,
)
from governance.audit.render import render_text, scrub, secrets_of
from governance.audit.timeline import SLACK, build_timeline

__all__ = [
    "SLACK",
    "Commit",
    "LineageRun",
    "Reader",
    "Timeline",
    "VersionEntry",
    "build_timeline",
    "collect",
    "lifecycle_steps",
    "lineage_runs",
    "parse_history",
    "read_events",
    "render_text",
    "scrub",
    "secrets_of",
    "table_location",
]
