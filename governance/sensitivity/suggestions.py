"""The review workflow for suggested sensitivity tags: a store of suggestions and decisions.

The store is one JSON file (the caller gives its path, e.g. ``var/tags/suggestions.json``). Each
entry is one (source, column) with the latest evidence and a status: ``pending`` (to review),
``accepted`` or ``rejected`` (with who, when and why), or ``declared`` when the contract already
declares a tag at least as strict ("déjà déclaré"). Recording a new scan never loses a decision:
an accepted or rejected suggestion keeps its status unless its evidence changed (another rule,
another confidence, another suggested tag), in which case it is reopened and the old decision
goes to its history. Entries the new scan no longer produces are kept and reported, not dropped.

Accepting a suggestion does not touch the contract: :func:`apply_to_contract` (implemented in
``governance.sensitivity.contract_edit``, re-exported here) writes the tag into the contract YAML
with a
minimal textual edit and refuses to lower a declared tag unless told to.
"""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from governance.errors import SuggestionError
from governance.sensitivity.contract_edit import ContractEditError, apply_to_contract, tag_fr
from governance.sensitivity.pii import Confidence, Evidence, Suggestion
from lake.contracts import Contract

Status = Literal["pending", "accepted", "rejected", "declared"]
STATUS_FR: dict[str, str] = {
    "pending": "en attente",
    "accepted": "acceptée",
    "rejected": "rejetée",
    "declared": "déjà déclaré",
}
STORE_VERSION = 1
__all__ = [
    "ContractEditError",
    "RecordSummary",
    "StoredSuggestion",
    "SuggestionError",
    "apply_to_contract",
    "decide",
    "fingerprint",
    "load_store",
    "pending",
    "record",
    "review_lines",
    "save_store",
]


@dataclass
class StoredSuggestion:
    """One (source, column) in the store: the latest suggestion, its status and its history."""

    source: str
    column: str
    level: int
    personal: bool
    confidence: Confidence
    evidence: list[Evidence]
    status: Status
    first_seen: str
    last_seen: str
    decided_at: str | None = None
    decided_by: str | None = None
    reason: str | None = None
    contract_note: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str]:
        """``(source, column)``."""
        return (self.source, self.column)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        data = {f: getattr(self, f) for f in self.__dataclass_fields__}
        data["evidence"] = [e.to_dict() for e in self.evidence]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StoredSuggestion:
        """The inverse of :meth:`to_dict`."""
        values = {f: data[f] for f in cls.__dataclass_fields__ if f in data}
        values["evidence"] = [Evidence.from_dict(e) for e in data.get("evidence", [])]
        return cls(**values)


@dataclass(frozen=True)
class RecordSummary:
    """What :func:`record` did, for the CLI to print."""

    added: tuple[tuple[str, str], ...] = ()
    updated: tuple[tuple[str, str], ...] = ()
    reopened: tuple[tuple[str, str], ...] = ()
    kept_decisions: tuple[tuple[str, str], ...] = ()
    declared: tuple[tuple[str, str], ...] = ()
    not_seen: tuple[tuple[str, str], ...] = ()


def fingerprint(level: int, personal: bool, evidence: Sequence[Evidence]) -> tuple[Any, ...]:
    """What must change for a decided suggestion to be reopened.

    Hit counts drift from one extract to the next; the rules that fired, how they fired and the
    suggested tag are what a reviewer decided on.
    """
    return (level, personal, tuple(sorted((e.rule, e.confidence) for e in evidence)))


def _now(now: datetime | None) -> str:
    return (now or datetime.now(UTC)).isoformat(timespec="seconds")


def load_store(store_path: Path) -> list[StoredSuggestion]:
    """The entries of a store, sorted by source then column (none when the file is missing).

    Raises:
        SuggestionError: The file is not a store this module wrote.
    """
    if not store_path.exists():
        return []
    try:
        data = json.loads(store_path.read_text(encoding="utf-8"))
        entries = [StoredSuggestion.from_dict(d) for d in data["suggestions"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SuggestionError(
            str(store_path),
            f"cannot be read as a suggestion store ({exc.__class__.__name__}: {exc}).",
            fix="restore it from a backup, or move it away and rerun the scan",
            path=store_path,
        ) from exc
    return sorted(entries, key=lambda s: s.key)


def save_store(store_path: Path, entries: Sequence[StoredSuggestion]) -> None:
    """Write the store atomically (temporary file, then rename)."""
    store_path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "version": STORE_VERSION,
        "suggestions": [e.to_dict() for e in sorted(entries, key=lambda s: s.key)],
    }
    tmp = store_path.with_name(store_path.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, store_path)


def _contract_check(
    suggestion: Suggestion, contracts: Mapping[str, Contract] | None
) -> tuple[bool, str | None]:
    """Whether the contract already declares a tag at least as strict, and a note saying so."""
    if contracts is None or suggestion.source not in contracts:
        return False, None
    try:
        declared = contracts[suggestion.source].column(suggestion.column).sensitivity
    except KeyError:
        return False, "colonne absente du contrat"
    tag = tag_fr(declared.level, declared.personal)
    if declared.level <= suggestion.level and (declared.personal or not suggestion.personal):
        return True, f"déjà déclaré dans le contrat ({tag})"
    return False, f"le contrat déclare {tag} : moins strict que la suggestion"


def record(
    store_path: Path,
    suggestions: Sequence[Suggestion],
    *,
    contracts: Mapping[str, Contract] | None = None,
    now: datetime | None = None,
) -> RecordSummary:
    """Merge a new scan into the store without losing decisions.

    Args:
        store_path: The JSON store (created if missing).
        suggestions: The scan's suggestions (each must name its source).
        contracts: Contracts by source id; a suggestion the contract already covers (declared
            level at least as strict, personal flag set when suggested) is marked ``declared``.
        now: The time to record (defaults to now, UTC).

    Returns:
        What changed, including the entries of the scanned sources this scan did not produce
        (kept in the store, listed in ``not_seen``).

    Raises:
        SuggestionError: A suggestion has no source, or the store cannot be read.
    """
    stamp = _now(now)
    entries = {e.key: e for e in load_store(store_path)}
    seen: set[tuple[str, str]] = set()
    out: dict[str, list[tuple[str, str]]] = {
        k: [] for k in ("added", "updated", "reopened", "kept_decisions", "declared")
    }
    for s in suggestions:
        if not s.source:
            raise SuggestionError(
                str(store_path),
                f"suggestion for column {s.column!r} has no source.",
                fix="pass source=... to scan_table",
                path=store_path,
                column=s.column,
            )
        key = (s.source, s.column)
        seen.add(key)
        covered, note = _contract_check(s, contracts)
        fresh_status: Status = "declared" if covered else "pending"
        old = entries.get(key)
        if old is None:
            entries[key] = StoredSuggestion(
                s.source, s.column, s.level, s.personal, s.confidence, list(s.evidence),
                fresh_status, stamp, stamp, contract_note=note,
            )  # fmt: skip
            out["declared" if covered else "added"].append(key)
            continue
        changed = fingerprint(old.level, old.personal, old.evidence) != fingerprint(
            s.level, s.personal, s.evidence
        )
        old.level, old.personal, old.confidence = s.level, s.personal, s.confidence
        old.evidence, old.last_seen, old.contract_note = list(s.evidence), stamp, note
        if old.status in ("accepted", "rejected") and not changed:
            out["kept_decisions"].append(key)
        elif old.status in ("accepted", "rejected"):
            old.history.append(
                {
                    "at": stamp,
                    "event": "rouverte : preuves modifiées",
                    "previous_status": old.status,
                    "by": old.decided_by,
                    "reason": old.reason,
                    "decided_at": old.decided_at,
                }
            )
            old.status, old.decided_at, old.decided_by, old.reason = fresh_status, None, None, None
            out["reopened"].append(key)
        else:
            old.status = fresh_status
            out["declared" if covered else "updated"].append(key)
    scanned = {s.source for s in suggestions}
    not_seen = tuple(k for k in sorted(entries) if k[0] in scanned and k not in seen)
    save_store(store_path, list(entries.values()))
    return RecordSummary(**{k: tuple(v) for k, v in out.items()}, not_seen=not_seen)


def pending(store_path: Path) -> list[StoredSuggestion]:
    """The suggestions waiting for a decision, sorted by source then column."""
    return [e for e in load_store(store_path) if e.status == "pending"]


def decide(
    store_path: Path,
    source: str,
    column: str,
    accept: bool,
    reason: str,
    *,
    by: str | None = None,
    now: datetime | None = None,
) -> StoredSuggestion:
    """Accept or reject one suggestion, with who and why (a previous decision goes to history).

    Accepting does not edit the contract: call :func:`apply_to_contract` for that.

    Raises:
        SuggestionError: No such suggestion (the message lists the known ones) or no reason.
    """
    if not reason.strip():
        raise SuggestionError(
            f"{source}.{column}",
            "a decision needs a reason.",
            fix="say why in a few words",
            source=source,
            column=column,
        )
    entries = load_store(store_path)
    match = [e for e in entries if e.key == (source, column)]
    if not match:
        known = ", ".join(f"{s}.{c}" for s, c in (e.key for e in entries)) or "(none)"
        raise SuggestionError(
            str(store_path),
            f"no suggestion for {source}.{column}; known: {known}.",
            fix="pick a known column (`lake tags review` lists them), or run `lake tags scan` "
            "on its table first",
            path=store_path,
            source=source,
            column=column,
        )
    entry = match[0]
    if entry.decided_at is not None:
        entry.history.append(
            {
                "at": entry.decided_at,
                "event": "décision remplacée",
                "previous_status": entry.status,
                "by": entry.decided_by,
                "reason": entry.reason,
            }
        )
    entry.status = "accepted" if accept else "rejected"
    entry.decided_at, entry.decided_by = _now(now), by or getpass.getuser()
    entry.reason = reason.strip()
    save_store(store_path, entries)
    return entry


def review_lines(store: Path | Sequence[StoredSuggestion]) -> list[str]:
    """One French line per pending suggestion, with its evidence, for the CLI to print.

    Example: ``consular_register.email : données personnelles, niveau 1 — règle email,
    58/60 valeurs (97 %), ex. ma••••••••et``.
    """
    entries = load_store(store) if isinstance(store, Path) else list(store)
    lines = []
    for e in entries:
        if e.status != "pending":
            continue
        kind = "données personnelles" if e.personal else "données non personnelles"
        parts = [_evidence_fr(ev) for ev in e.evidence]
        line = f"{e.source}.{e.column} : {kind}, niveau {e.level} — {' ; '.join(parts)}"
        if e.contract_note:
            line += f" [{e.contract_note}]"
        lines.append(line)
    return lines


def _evidence_fr(e: Evidence) -> str:
    text = f"règle {e.rule}"
    if e.checksum == "validated":
        text += " (clé de contrôle vérifiée)"
    if e.confidence == "name":
        text += ", nom de colonne seulement"
    if e.sample_size:
        text += f", {e.hits}/{e.sample_size} valeurs ({round(e.hit_rate * 100)} %)"
    if e.examples:
        text += f", ex. {', '.join(e.examples)}"
    if e.note_fr:
        text += f" ({e.note_fr})"
    return text
