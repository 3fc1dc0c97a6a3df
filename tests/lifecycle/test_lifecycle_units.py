"""Pure parts of the lifecycle package: subject criteria, landing blanking, DUA dates, journal."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from lifecycle.journal import certificate_markdown, removed_per_batch
from lifecycle.landing_files import blank_text_lines, blank_xlsx_rows
from lifecycle.retention import cutoff_for
from lifecycle.subjects import Subject, SubjectError


def test_subject_criteria_parse_and_sort() -> None:
    subject = Subject.parse(["last_name=Dupont,first_name=Jean", "birth_date=02/01/1980"])
    assert subject.columns == ("birth_date", "first_name", "last_name")
    assert dict(subject.criteria)["last_name"] == "Dupont"
    for bad in (["Dupont"], ["=x"], ["a="], []):
        with pytest.raises(SubjectError):
            Subject.parse(bad)


def test_subject_reference_is_keyed_and_holds_no_value() -> None:
    one = Subject.parse(["registration_id=RFE-1"])
    assert one.reference(b"k" * 32) == Subject.parse(["registration_id=rfe-1"]).reference(b"k" * 32)
    assert one.reference(b"k" * 32) != one.reference(b"j" * 32)
    assert "RFE" not in one.reference(b"k" * 32)


def test_blanking_keeps_every_other_line_number_and_is_idempotent() -> None:
    data = b"h1;h2\r\na;1\r\nb;2\r\nc;3\r\n"
    once, blanked = blank_text_lines(data, [3])
    assert blanked == 1
    assert once.split(b"\n") == [b"h1;h2\r", b"a;1\r", b"\r", b"c;3\r", b""]
    twice, again = blank_text_lines(once, [3])
    assert (twice, again) == (once, 0)
    assert blank_text_lines(data, [99])[1] == 0


def test_xlsx_rows_are_emptied_in_place() -> None:
    from openpyxl import Workbook, load_workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in (["titre"], ["pays", "n"], ["FR", 1], ["DE", 2], ["IT", 3]):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    data, blanked = blank_xlsx_rows(out.getvalue(), [4], None)
    assert blanked == 1
    rows = list(load_workbook(io.BytesIO(data)).worksheets[0].iter_rows(values_only=True))
    assert rows[3] == (None, None) and rows[4] == ("IT", 3) and rows[2] == ("FR", 1)


def test_cutoff_handles_leap_days() -> None:
    assert cutoff_for(dt.date(2030, 6, 1), 5) == dt.date(2025, 6, 1)
    assert cutoff_for(dt.date(2028, 2, 29), 5) == dt.date(2023, 2, 28)


def test_journal_counts_removed_rows_per_batch() -> None:
    rows = [
        {"table": "bronze/x", "action": "delete", "batch_id": "b1", "rows": 2},
        {"table": "bronze/x", "action": "delete", "batch_id": "b1", "rows": 1},
        {"table": "bronze/x", "action": "archive", "batch_id": "b2", "rows": 4},
        {"table": "bronze/x", "action": "vacuum", "batch_id": "", "rows": 0},
        {"table": "silver/x", "action": "delete", "batch_id": "b1", "rows": 9},
    ]
    assert removed_per_batch(rows, "bronze/x") == {"b1": 3, "b2": 4}


def test_certificate_markdown_in_french_with_counts() -> None:
    text = certificate_markdown(
        {
            "request_id": "rgpd-1",
            "subject_reference": "subj-abc",
            "finished_at": "2026-11-29T10:00:00+00:00",
            "sources": ["consular_register"],
            "vacuum_retain_hours": 0,
            "changes": [
                {
                    "table": "silver/consular_register",
                    "action": "delete",
                    "rows": 1,
                    "version_before": 3,
                    "version_after": 4,
                }
            ],
            "landing_files": [{"uri": "s3a://b/landing/x.csv", "lines_blanked": 2}],
            "lineage_unhandled": ["views/level-2/x"],
            "outside_lake": ["/inbox/x.csv"],
        }
    )
    assert "Certificat d'effacement rgpd-1" in text
    assert "| silver/consular_register | delete | 1 | 3 | 4 |" in text
    assert "views/level-2/x" in text and "/inbox/x.csv" in text


def test_journal_rows_become_audit_steps_of_their_table() -> None:
    from governance.audit import lifecycle_steps
    from governance.audit.timeline import _concerns

    (step,) = lifecycle_steps(
        [
            {
                "request_id": "rgpd-1",
                "kind": "erasure",
                "action": "delete",
                "table": "quarantine/consular_register",
                "batch_id": "b1",
                "rows": 2,
                "version_after": 7,
                "at": dt.datetime(2026, 11, 29, tzinfo=dt.UTC),
                "user": "dpo",
                "host": "h",
            }
        ]
    )
    assert (step["run_id"], step["job"], step["table_version"], step["user"]) == (
        "rgpd-1",
        "erasure:delete",
        7,
        "dpo",
    )
    assert _concerns(step, "quarantine", "consular_register", "s3a://b/quarantine/x")
    assert not _concerns(step, "silver", "consular_register", "s3a://b/silver/x")


def test_registry_names_every_copy_of_a_source(tmp_path) -> None:
    from lake.copies import bucket_prefixes, source_stores
    from lake.settings import load_settings

    settings = load_settings().with_overrides({"reports": {"dir": str(tmp_path)}})
    (tmp_path / "opendata").mkdir()
    (tmp_path / "opendata" / "adoptions.csv").write_text("x\n")
    prefixes = bucket_prefixes(settings, "adoptions")
    for expected in (
        "landing/adoptions/",
        "bronze/adoptions/",
        "silver/adoptions/",
        "quarantine/adoptions/",
        "archive/bronze/adoptions/",
        "archive/silver/adoptions/",
        "archive/quarantine/adoptions/",
        "archive/landing/adoptions/",
        "views/level-1/silver_adoptions.csv",
        "views/level-4/bronze_adoptions.csv",
    ):
        assert expected in prefixes
    assert not [p for p in prefixes if "adoptions" not in p and p != "_staging/"]
    local = [s for s in source_stores(settings, "adoptions") if s.kind == "local"]
    assert [s.role for s in local] == ["opendata"]


def test_needles_match_whole_identifiers_or_every_criterion_together() -> None:
    from lifecycle.traces import Needles, texts_of

    key = Needles(frozenset({"MAI-2008-000001"}))
    assert key.held_by(['{"adoption_id":"MAI-2008-000001"}'])
    assert not key.held_by(["MAI-2008-0000012;x"])  # another dossier
    names = Needles(together=(("Dupont", "Jean", "1980-01-02"),))
    assert names.held_by(["Dupont;Jean;1980-01-02"])
    assert not names.held_by(["Dupont;Paul;1980-01-02", "Jean"])
    assert not Needles()
    assert texts_of("a.csv", "é;MAI\n".encode("latin-1"))[-1] == ""
    assert any("é" in t for t in texts_of("a.csv", "é;MAI\n".encode("latin-1")))
