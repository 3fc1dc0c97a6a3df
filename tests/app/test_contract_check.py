"""``lake contract check`` on the real MinIO and Spark: a draft run on a tiny file in a scratch
bucket, its reconciliation, review and quarantine read back, and nothing left behind, not even
when the run fails."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli.main import main
from app.contract_draft.check import check_contract
from app.contract_draft.draft import infer
from app.contract_draft.render import write_draft
from conftest import lake_env
from contract_drafts import fill_todos
from ingestion.errors import IngestionError
from lake.storage import object_client

pytestmark = [pytest.mark.spark, pytest.mark.minio]

# Forty visas lines (ten countries, four years); line 19 has an unknown country, line 35 a count
# that is not a number: the review must quarantine both, and only them.
_COUNTRIES = ("Japon", "Canada", "Chili", "Mexique", "Pérou", "Argentine", "Brésil", "Maroc",
              "Inde", "Chine")  # fmt: skip
_ROWS = [[c, str(y), f"{(i * 37) % 900 + 10} {i % 10}00"] for i, (y, c) in
         enumerate((y, c) for y in range(2021, 2025) for c in _COUNTRIES)]  # fmt: skip
_ROWS[17][0] = "Atlantide"
_ROWS[33][2] = "env. 300"
FILE = "Pays partenaire;Année;Visas délivrés\n" + "".join(";".join(r) + "\n" for r in _ROWS)
BAD_LINES = {19: "pays_partenaire", 35: "visas_delivres"}


def _state(settings) -> dict[str, list[str]]:
    """Every bucket on the server and every object key in it."""
    client = object_client(settings)
    return {
        b.name: sorted(o.object_name for o in client.list_objects(b.name, recursive=True))
        for b in client.list_buckets()
    }


@pytest.fixture
def draft(tmp_path: Path) -> tuple[Path, Path]:
    file = tmp_path / "visas_2026-01-15.csv"
    file.write_text(FILE, encoding="utf-8")
    contract, _ = write_draft(infer(file), tmp_path / "drafts" / "visas.yaml")
    contract.write_text(fill_todos(contract.read_text(encoding="utf-8")), encoding="utf-8")
    return file, contract


def test_check_reports_and_leaves_nothing_behind(spark, lake_settings, draft) -> None:
    file, contract = draft
    before = _state(lake_settings)
    result = check_contract(spark, lake_settings, "visas", file, contract_path=contract)
    assert _state(lake_settings) == before  # no scratch bucket, no object in the real layers
    assert result.scratch.startswith("s3a://lake-test-check-") and result.left_behind == 0
    bronze, silver = result.records
    assert (bronze["layer"], bronze["lines_read"], bronze["rows_out"]) == ("bronze", 40, 40)
    assert (silver["layer"], silver["rows_in"], silver["rows_out"]) == ("silver", 40, 38)
    assert (silver["quarantined"], silver["duplicates_resolved"]) == (2, 0)
    assert {q["_line"]: q["column"] for q in result.quarantine} == BAD_LINES
    failed = {a["name"] for a in result.review if not a["success"]}
    assert {"visas.pays_partenaire.reference", "visas.visas_delivres.type"} <= failed


def test_a_failed_check_removes_its_scratch_too(spark, lake_settings, draft, tmp_path) -> None:
    _, contract = draft
    broken = tmp_path / "visas_2026-02-16.csv"
    broken.write_bytes(b"\xff\xfe not the contract's encoding \xff\n")
    before = _state(lake_settings)
    with pytest.raises(IngestionError):
        check_contract(spark, lake_settings, "visas", broken, contract_path=contract)
    assert _state(lake_settings) == before


def test_cli_check_json_and_todo_refusal(
    spark, lake_settings, draft, tmp_path, monkeypatch, capsys
) -> None:
    file, contract = draft
    for key, value in lake_env(lake_settings).items():
        monkeypatch.setenv(key, value)
    # In process, the command is given the run's one session: it must not stop it at its end.
    monkeypatch.setattr("app.cli.main.end_of_command", lambda: None)
    monkeypatch.setattr("lake.spark._built", None)
    before = _state(lake_settings)
    args = ["contract", "check", "visas", "--file", str(file), "--contract", str(contract)]
    assert main([*args, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["left_behind"] == 0 and len(out["quarantine"]) == 2
    assert [r["rows_out"] for r in out["records"]] == [40, 38]
    assert _state(lake_settings) == before
    todo = tmp_path / "todo.yaml"
    write_draft(infer(file, source="visas"), todo)
    assert main(["contract", "check", "visas", "--file", str(file), "--contract", str(todo)]) == 1
    err = capsys.readouterr().err
    assert f"Contract {todo}: domain: line 7: is still TODO" in err


def test_a_local_scratch_gives_the_same_check_and_is_removed(spark, lake_settings, draft) -> None:
    """What a least-privilege role gets (it may not make a bucket): a directory, same chain."""
    file, contract = draft
    before = _state(lake_settings)
    result = check_contract(
        spark, lake_settings, "visas", file, contract_path=contract, scratch="local"
    )
    assert _state(lake_settings) == before
    assert result.scratch.startswith("file:///") and result.left_behind == 0
    assert not Path(result.scratch.removeprefix("file://")).exists()
    assert [r["rows_out"] for r in result.records] == [40, 38]
    assert {q["_line"]: q["column"] for q in result.quarantine} == BAD_LINES
