"""What ``lake audit`` shows: the timeline scrubbed of secrets, and as text for a terminal.

Credentials never leave: every string of the result is scrubbed of the configured keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from governance.audit.model import RUN_COUNTS, Commit, Timeline, iso_millis
from lake.settings import Settings


def secrets_of(settings: Settings) -> list[str]:
    """Values that must never be printed: the storage keys and the pseudonymisation key."""
    values = [
        settings.storage.access_key,
        settings.storage.secret_key,
        settings.security.pseudonymisation_key,
    ]
    return [v for v in values if v and len(v) >= 4]


def scrub(timeline: Timeline, secrets: Sequence[str]) -> Timeline:
    """The timeline with every occurrence of a secret replaced by ``***`` (defence in depth:
    the run log already redacts command lines)."""
    if not secrets:
        return timeline

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            for secret in secrets:
                value = value.replace(secret, "***")
            return value
        if isinstance(value, dict):
            return {clean(k): clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    for entry in timeline.versions:
        commit = entry.commit
        entry.commit = Commit(
            commit.version,
            commit.timestamp,
            clean(commit.operation),
            clean(commit.engine),
            clean(commit.metrics),
            clean(commit.metadata),
        )
        entry.run = clean(entry.run)
        for reader in entry.readers:
            reader.run = clean(reader.run)
        for run in [*entry.writers, *(r.lineage for r in entry.readers)]:
            run.job = clean(run.job)
    timeline.warnings = clean(timeline.warnings)
    return timeline


def render_text(timeline: Timeline) -> str:
    """The timeline as lines for a terminal, newest version first."""
    lines = [
        f"{timeline.table} ({timeline.uri}): {timeline.total_versions} version(s), "
        f"showing {len(timeline.versions)}"
    ]
    for entry in timeline.versions:
        c, run = entry.commit, entry.run or {}
        when = iso_millis(c.timestamp) or "?"
        who = (
            f"run {entry.run_id} by {run.get('user') or '?'}@{run.get('host') or '?'}"
            f" ({run.get('job') or '?'}, batch {run.get('batch_id') or '?'}, "
            f"{run.get('status') or '?'}) [{entry.attribution}]"
            if entry.run_id
            else "no run found"
        )
        lines.append(f"v{c.version}  {when}  {c.operation:<12} {who}")
        if run.get("command"):
            lines.append(f"      command: {run['command']}")
        counts = ", ".join(f"{k} {run[k]}" for k in RUN_COUNTS if run.get(k))
        if counts:
            lines.append(f"      counts: {counts}")
        if entry.writers:
            ids = ", ".join(f"{w.job} {w.run_id}" for w in entry.writers[:3])
            more = f" (+{len(entry.writers) - 3})" if len(entry.writers) > 3 else ""
            lines.append(f"      lineage (wrote): {ids}{more}")
        for reader in entry.readers[:5]:
            r = reader.run or {}
            by = f" = run {r.get('run_id')} by {r.get('user')}" if r else ""
            lines.append(
                f"      read by {reader.lineage.job} {reader.lineage.run_id} at "
                f"{iso_millis(reader.lineage.started)}{by}"
            )
        if len(entry.readers) > 5:
            lines.append(f"      read by {len(entry.readers) - 5} more run(s) (--json)")
    lines += [f"warning: {w}" for w in timeline.warnings]
    return "\n".join(lines)
