"""A contract change reaches silver under a policy (issue 17, point 4), on the real stack.

The two bundled adoptions deliveries are ingested with the contract as it is; then the contract
(a copy under a temporary project root) gains an optional column and a third delivery carries it:
silver evolves (old rows null, new rows filled, read with delta-rs), the run log and the lineage
event say so. A removed column is refused with the exact message until ``lake migrate --apply``
rewrites the table, keeping the old schema in the older versions.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import shutil

import pytest

from app.cli.migrate import cmd_migrate
from app.compose import lineage_sink, quality_gates
from conftest import REPO
from ingestion import runlog
from ingestion.errors import SchemaChangeError
from ingestion.pipeline import run
from lake.delta_reader import open_table
from lake.storage import ensure_bucket, table_uri

pytestmark = [pytest.mark.spark, pytest.mark.minio]
SAMPLES = REPO / "samples" / "adoptions"
COMMENT = """  - name: comment
    type: string
    source_name: Commentaire
    description: Commentaire libre du bureau de l'adoption.
    sensitivity: {level: 2}
"""


def _deliver(settings, name: str, prefix: str) -> None:
    """A delivery of 20 new dossiers (ids ``MAI-<prefix>...``), each with a comment."""
    lines = (SAMPLES / "delivery-2" / "adoptions_2026-02-16.csv").read_text("latin-1").splitlines()
    rows = [lines[0]]
    for i, line in enumerate(lines[1:], start=1):
        fields = line.split(";")
        if len(fields) != 7 or not fields[0].startswith("MAI-2"):
            continue
        fields[0] = f"MAI-2025-{prefix}{i:05d}"
        fields[6] = f"remarque {i}"
        rows.append(";".join(fields))
        if len(rows) == 21:
            break
    target = settings.ingestion.inbox / "adoptions" / name
    target.write_text("\n".join(rows) + "\n", encoding="latin-1")


def _run(spark, settings):
    return run(
        spark,
        settings,
        sources=["adoptions"],
        layers=["bronze", "silver"],
        gates=quality_gates(settings),
        lineage=lineage_sink(settings),
    )


@pytest.fixture(scope="module")
def lake(spark, lake_settings, tmp_path_factory):
    """Two deliveries under the old contract, then a third with a new optional column."""
    tmp = tmp_path_factory.mktemp("evolve")
    root = tmp / "root"
    shutil.copytree(REPO / "contracts", root / "contracts")
    (root / "jvm").symlink_to(REPO / "jvm")  # `lake migrate` builds its session from the root
    inbox = tmp / "inbox" / "adoptions"
    inbox.mkdir(parents=True)
    for path in SAMPLES.glob("delivery-*/*.csv"):
        shutil.copy(path, inbox)
    settings = lake_settings.with_overrides(
        {
            "storage": {"bucket": "lake-evolve"},
            "ingestion": {"inbox": str(tmp / "inbox")},
            "security": {"pseudonymisation_key_file": str(tmp / "key")},
            "lineage": {"file": str(tmp / "lineage" / "events.jsonl")},
        }
    )
    settings = dataclasses.replace(settings, root=root)
    ensure_bucket(settings)
    _run(spark, settings)
    contract = root / "contracts" / "adoptions.yaml"
    contract.write_text(contract.read_text("utf-8") + COMMENT, encoding="utf-8")
    _deliver(settings, "adoptions_2026-03-16.csv", "9")
    return settings, _run(spark, settings)


def test_a_new_optional_column_evolves_silver(lake) -> None:
    settings, summary = lake
    [third] = [r for r in summary.records if r.layer == "silver"]
    assert third.status == "succeeded" and third.inserted == 20
    silver = open_table(settings, table_uri(settings, "silver", "adoptions")).to_pyarrow_table()
    rows = silver.select(["adoption_id", "comment"]).to_pylist()
    new = {
        r["adoption_id"]: r["comment"] for r in rows if r["adoption_id"].startswith("MAI-2025-9")
    }
    old = [r["comment"] for r in rows if not r["adoption_id"].startswith("MAI-2025-9")]
    assert len(new) == 20 and all(re.fullmatch(r"remarque \d+", c) for c in new.values())
    assert old and all(c is None for c in old)  # rows merged before the change read null

    [evolved] = [
        r
        for r in runlog.read_runs(settings, source="adoptions", limit=None)
        if r["status"] == "evolved"
    ]
    assert (evolved["layer"], evolved["batch_id"], evolved["extra_columns"]) == (
        "silver",
        third.batch_id,
        ["comment"],
    )
    assert evolved["message"] == (
        "schéma de silver/adoptions évolué avant le lot : column comment added (string)"
    )
    # the lineage event of the batch's MERGE declares the new schema
    events = [json.loads(line) for line in settings.lineage.file.read_text().splitlines()]
    schemas = [
        [f["name"] for f in out["facets"]["schema"]["fields"]]
        for e in events
        if e["eventType"] == "COMPLETE" and e["job"]["name"].endswith("silver.adoptions")
        for out in e.get("outputs", [])
        if out["name"].endswith("silver/adoptions") and "schema" in out.get("facets", {})
    ]
    assert "comment" not in schemas[0] and "comment" in schemas[-1]


def test_a_removed_column_is_refused_until_lake_migrate(spark, lake, capsys) -> None:
    settings, _ = lake
    contract = settings.root / "contracts" / "adoptions.yaml"
    text = contract.read_text("utf-8")
    without = re.sub(r"  - name: age_band\n(?:    .*\n)+", "", text)
    assert without != text
    contract.write_text(without, encoding="utf-8")
    _deliver(settings, "adoptions_2026-04-15.csv", "8")

    with pytest.raises(SchemaChangeError) as refused:
        _run(spark, settings)
    assert str(refused.value) == (
        "The contract of adoptions changes table silver/adoptions in a way the lake does not "
        "apply by itself: column age_band removed (was string). Fix: run `lake migrate "
        "adoptions` to see the plan and `lake migrate adoptions --apply` to rewrite the table "
        "(older versions stay readable), or restore the column in the contract"
    )
    assert refused.value.columns == ["age_band"] and refused.value.table == "silver/adoptions"
    uri = table_uri(settings, "silver", "adoptions")
    assert "age_band" in open_table(settings, uri).schema().to_arrow().names  # nothing written

    args = argparse.Namespace(source="adoptions", apply=False, json=True)
    assert cmd_migrate(settings, args) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["changes"] == [
        {
            "kind": "removed",
            "column": "age_band",
            "old_type": "string",
            "new_type": None,
            "additive": False,
        }
    ]
    assert plan["applied"] is False
    assert cmd_migrate(settings, argparse.Namespace(source="adoptions", apply=True, json=True)) == 0
    applied = json.loads(capsys.readouterr().out)
    assert applied["applied"] is True

    summary = _run(spark, settings)  # the refused batch now goes through
    [fourth] = [r for r in summary.records if r.layer == "silver"]
    assert (fourth.status, fourth.inserted) == ("succeeded", 20)
    table = open_table(settings, uri)
    assert "age_band" not in table.schema().to_arrow().names
    assert table.version() == applied["version"] + 1
    before = open_table(settings, uri, version=applied["version"] - 1)
    assert "age_band" in before.schema().to_arrow().names  # history keeps the old schema
    [migrated] = [
        r
        for r in runlog.read_runs(settings, source="adoptions", limit=None)
        if r["status"] == "migrated"
    ]
    assert migrated["layer"] == "silver" and migrated["table_version"] == applied["version"]
    assert migrated["message"] == (
        "silver/adoptions migré (lake migrate) : column age_band removed (was string)"
    )
