"""The review workflow: the suggestion store, decisions, review lines and the contract edit."""

from __future__ import annotations

import difflib
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

import governance.sensitivity.contract_edit as contract_edit_module
from governance.sensitivity.pii import Evidence, Suggestion
from governance.sensitivity.suggestions import (
    ContractEditError,
    SuggestionError,
    apply_to_contract,
    decide,
    load_store,
    pending,
    record,
    review_lines,
)
from lake.contracts import ContractError, load_contract

REPO = Path(__file__).resolve().parents[2]
CONSULAR = REPO / "contracts" / "consular_register.yaml"
T1 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
T2 = datetime(2025, 3, 8, 9, 0, tzinfo=UTC)


def evidence(
    rule: str,
    column: str,
    hits: int,
    size: int,
    *,
    level: int = 1,
    personal: bool = True,
    confidence: str = "value+name",
    examples: tuple[str, ...] = ("ma••••••••et",),
) -> Evidence:
    return Evidence(
        rule=rule,
        label_fr=rule,
        column=column,
        hits=hits,
        sample_size=size,
        hit_rate=round(hits / size, 4),
        examples=examples,
        name_match=confidence != "value",
        checksum="none",
        confidence=confidence,  # type: ignore[arg-type]
        level=level,
        personal=personal,
    )


def suggestion(column: str, *ev: Evidence, source: str = "consular_register") -> Suggestion:
    return Suggestion.from_evidence(source, column, list(ev))


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "var" / "tags" / "suggestions.json"


@pytest.fixture
def contract(tmp_path: Path) -> Path:
    path = tmp_path / "consular_register.yaml"
    shutil.copyfile(CONSULAR, path)
    return path


def changed_lines(before: str, after: str) -> list[str]:
    return [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


# --- store ------------------------------------------------------------------------------------


def test_record_adds_pending_suggestions_and_review_lines(store: Path) -> None:
    summary = record(store, [suggestion("email", evidence("email", "email", 58, 60))], now=T1)
    assert summary.added == (("consular_register", "email"),)
    [entry] = pending(store)
    assert (entry.status, entry.first_seen, entry.last_seen) == (
        "pending",
        "2025-03-01T09:00:00+00:00",
        "2025-03-01T09:00:00+00:00",
    )
    assert review_lines(store) == [
        "consular_register.email : données personnelles, niveau 1 — règle email, "
        "58/60 valeurs (97 %), ex. ma••••••••et"
    ]
    assert json.loads(store.read_text(encoding="utf-8"))["version"] == 1


def test_review_lines_show_every_evidence_name_only_and_checksum(store: Path) -> None:
    nir = Evidence(
        "nir", "NIR", "code", 40, 40, 1.0, ("18••••••••••••36",), False, "validated", "value", 1,
        True,
    )  # fmt: skip
    siret = evidence(
        "siret", "code", 0, 40, level=3, personal=False, confidence="name", examples=()
    )
    record(store, [suggestion("code", siret, nir, source="adoptions")], now=T1)
    assert review_lines(store) == [
        "adoptions.code : données personnelles, niveau 1 — règle nir (clé de contrôle vérifiée), "
        "40/40 valeurs (100 %), ex. 18••••••••••••36 ; règle siret, nom de colonne seulement, "
        "0/40 valeurs (0 %)"
    ]


def test_rejected_stays_rejected_when_evidence_is_the_same(store: Path) -> None:
    record(store, [suggestion("phone", evidence("phone", "phone", 50, 60))], now=T1)
    decided = decide(store, "consular_register", "phone", False, "numéros du standard", by="alice")
    assert (decided.status, decided.decided_by, decided.reason) == (
        "rejected",
        "alice",
        "numéros du standard",
    )
    # A new extract: counts drift, the rule and the tag do not.
    summary = record(store, [suggestion("phone", evidence("phone", "phone", 55, 61))], now=T2)
    assert summary.kept_decisions == (("consular_register", "phone"),)
    [entry] = load_store(store)
    assert (entry.status, entry.decided_by, entry.reason) == (
        "rejected",
        "alice",
        "numéros du standard",
    )
    assert (entry.evidence[0].hits, entry.last_seen) == (55, "2025-03-08T09:00:00+00:00")
    assert pending(store) == [] and review_lines(store) == []


def test_changed_evidence_reopens_a_decision_and_keeps_it_in_history(store: Path) -> None:
    record(store, [suggestion("phone", evidence("phone", "phone", 50, 60))], now=T1)
    decide(store, "consular_register", "phone", False, "faux positif", by="alice", now=T1)
    more = suggestion(
        "phone", evidence("phone", "phone", 50, 60), evidence("email", "phone", 1, 60)
    )
    summary = record(store, [more], now=T2)
    assert summary.reopened == (("consular_register", "phone"),)
    [entry] = pending(store)
    assert (entry.status, entry.decided_by, entry.reason) == ("pending", None, None)
    assert entry.history == [
        {
            "at": "2025-03-08T09:00:00+00:00",
            "event": "rouverte : preuves modifiées",
            "previous_status": "rejected",
            "by": "alice",
            "reason": "faux positif",
            "decided_at": "2025-03-01T09:00:00+00:00",
        }
    ]


def test_declared_in_contract_and_gaps_are_told_apart(store: Path, contract: Path) -> None:
    contracts = {"consular_register": load_contract(contract)}
    scan = [
        suggestion("email", evidence("email", "email", 58, 60)),
        suggestion("consular_post", evidence("person_name", "consular_post", 9, 10)),
        suggestion("mystery", evidence("nir", "mystery", 9, 10)),
    ]
    summary = record(store, scan, contracts=contracts, now=T1)
    assert summary.declared == (("consular_register", "email"),)
    entries = {e.column: e for e in load_store(store)}
    assert (entries["email"].status, entries["email"].contract_note) == (
        "declared",
        "déjà déclaré dans le contrat (niveau 1, personnel)",
    )
    assert entries["consular_post"].status == "pending"
    assert entries["consular_post"].contract_note == (
        "le contrat déclare niveau 2, personnel : moins strict que la suggestion"
    )
    assert entries["mystery"].contract_note == "colonne absente du contrat"
    assert [e.column for e in pending(store)] == ["consular_post", "mystery"]


def test_entries_missing_from_a_new_scan_are_kept_and_reported(store: Path) -> None:
    record(store, [suggestion("email", evidence("email", "email", 5, 5))], now=T1)
    record(store, [suggestion("x", evidence("email", "x", 5, 5), source="hr_agents")], now=T1)
    summary = record(store, [suggestion("phone", evidence("phone", "phone", 5, 5))], now=T2)
    assert summary.not_seen == (("consular_register", "email"),)
    assert [e.key for e in load_store(store)] == [
        ("consular_register", "email"),
        ("consular_register", "phone"),
        ("hr_agents", "x"),
    ]


def test_decide_errors_and_history(store: Path) -> None:
    record(store, [suggestion("email", evidence("email", "email", 5, 5))], now=T1)
    with pytest.raises(SuggestionError) as err:
        decide(store, "consular_register", "mail", True, "ok")
    assert err.value.message == (
        f"Sensitivity suggestions {store}: no suggestion for consular_register.mail; "
        "known: consular_register.email."
    )
    assert (err.value.source, err.value.column) == ("consular_register", "mail")
    with pytest.raises(SuggestionError, match="a decision needs a reason"):
        decide(store, "consular_register", "email", True, "  ")
    decide(store, "consular_register", "email", False, "non", by="bob", now=T1)
    entry = decide(store, "consular_register", "email", True, "si, en fait", by="carol", now=T2)
    assert (entry.status, entry.decided_by, entry.decided_at) == (
        "accepted",
        "carol",
        "2025-03-08T09:00:00+00:00",
    )
    assert entry.history == [
        {
            "at": "2025-03-01T09:00:00+00:00",
            "event": "décision remplacée",
            "previous_status": "rejected",
            "by": "bob",
            "reason": "non",
        }
    ]


def test_record_refuses_a_suggestion_without_source_and_a_broken_store(store: Path) -> None:
    with pytest.raises(SuggestionError, match=r"has no source\. Fix: pass source="):
        record(store, [suggestion("email", evidence("email", "email", 5, 5), source="")])
    assert not store.exists()
    store.parent.mkdir(parents=True)
    store.write_text("{not json", encoding="utf-8")
    with pytest.raises(SuggestionError, match="cannot be read as a suggestion store"):
        pending(store)


# --- contract edit ----------------------------------------------------------------------------


def test_apply_changes_only_the_column_line_and_the_contract_loads(contract: Path) -> None:
    before = contract.read_text(encoding="utf-8")
    message = apply_to_contract(contract, "country", 1, True)
    after = contract.read_text(encoding="utf-8")
    assert changed_lines(before, after) == [
        "-    sensitivity: {level: 2, personal: true}",
        "+    sensitivity: {level: 1, personal: true}",
    ]
    # Only the country block's line moved: same line number as before.
    index = before.splitlines().index("    type: country") + 4
    assert after.splitlines()[index] == "    sensitivity: {level: 1, personal: true}"
    assert load_contract(contract).column("country").sensitivity.level == 1
    assert message == (
        f"{contract} : country — « sensitivity: {{level: 2, personal: true}} » → "
        "« sensitivity: {level: 1, personal: true} »"
    )


def test_apply_refuses_to_lower_without_the_flag(contract: Path) -> None:
    original = contract.read_bytes()
    with pytest.raises(ContractEditError) as err:
        apply_to_contract(contract, "email", 3, False)
    assert str(err.value) == (
        f"Contract edit {contract} column 'email': setting level 3, personal=False "
        "would lower the declared tag (level 1, personal=True); refused. "
        "Fix: pass allow_lower=True (CLI: --allow-lower) if lowering is intended"
    )
    assert contract.read_bytes() == original
    message = apply_to_contract(contract, "email", 3, False, allow_lower=True)
    assert message.endswith("; ABAISSEMENT explicite (niveau 1 → 3, personnel → non personnel)")
    assert changed_lines(original.decode(), contract.read_text(encoding="utf-8")) == [
        "-    sensitivity: {level: 1, personal: true}",
        "+    sensitivity: {level: 3, personal: false}",
    ]


def test_apply_keeps_exclusion_and_comments(contract: Path) -> None:
    before = contract.read_text(encoding="utf-8")
    apply_to_contract(contract, "address", 2, True, allow_lower=True)
    after = contract.read_text(encoding="utf-8")
    assert changed_lines(before, after) == [
        "-    sensitivity: {level: 1, personal: true, exclusion: true}",
        "+    sensitivity: {level: 2, personal: true, exclusion: true}",
    ]
    assert after.startswith("# Registre des Français établis hors de France (DFAE).")
    assert load_contract(contract).column("address").sensitivity.exclusion is True


def test_apply_inserts_a_line_when_the_column_has_none(contract: Path) -> None:
    text = contract.read_text(encoding="utf-8")
    line = "    sensitivity: {level: 2, personal: true}\n"
    start = text.index("  - name: consular_post")
    cut = text.index(line, start)
    contract.write_text(text[:cut] + text[cut + len(line) :], encoding="utf-8")
    assert load_contract(contract).column("consular_post").sensitivity.level == 2  # the default
    apply_to_contract(contract, "consular_post", 1, True)
    expected = (
        text[:cut] + "    sensitivity: {level: 1, personal: true}\n" + text[cut + len(line) :]
    )
    assert contract.read_text(encoding="utf-8") == expected
    assert load_contract(contract).column("consular_post").sensitivity.level == 1


def test_apply_edits_a_block_mapping_in_place(contract: Path) -> None:
    text = contract.read_text(encoding="utf-8")
    start = text.index("  - name: country")
    flow = "    sensitivity: {level: 2, personal: true}\n"
    block = "    sensitivity:\n      level: 2  # à revoir\n      personal: true\n"
    cut = text.index(flow, start)
    contract.write_text(text[:cut] + block + text[cut + len(flow) :], encoding="utf-8")
    before = contract.read_text(encoding="utf-8")
    message = apply_to_contract(contract, "country", 1, True)
    assert changed_lines(before, contract.read_text(encoding="utf-8")) == [
        "-      level: 2  # à revoir",
        "+      level: 1  # à revoir",
    ]
    assert "→ « sensitivity:\n      level: 1  # à revoir\n      personal: true »" in message


def test_apply_restores_the_file_when_the_contract_no_longer_loads(
    contract: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = contract.read_bytes()
    calls: list[Path] = []

    def load_then_fail(path: Path) -> object:
        calls.append(path)
        if len(calls) == 2:
            raise ContractError(path, "columns[7].sensitivity.level", "is 9; allowed: 1, 2, 3, 4.")
        return load_contract(path)

    monkeypatch.setattr(contract_edit_module, "load_contract", load_then_fail)
    with pytest.raises(ContractEditError, match=r"the edit broke the contract .*original restored"):
        apply_to_contract(contract, "country", 1, True)
    assert contract.read_bytes() == original


def test_apply_no_change_unknown_column_and_bad_level(contract: Path) -> None:
    original = contract.read_bytes()
    assert apply_to_contract(contract, "email", 1, True) == (
        f"{contract} : email est déjà niveau 1, personnel ; rien à changer."
    )
    with pytest.raises(
        ContractEditError, match=r"no such column; known: registration_id, last_name"
    ):
        apply_to_contract(contract, "courriel", 1, True)
    with pytest.raises(ContractEditError, match=r"level is 5; allowed: 1, 2, 3, 4\."):
        apply_to_contract(contract, "email", 5, True)
    assert contract.read_bytes() == original
