"""``lake audit``: who ran what, when, on which table version (issue 7, part 6).

The join of the Delta log, the run log and the lineage events is tested on small fixtures; one
test runs a tiny ingestion on the real stack and checks that every bronze and silver version is
attributed to the run and to the current OS user, with no credential in the output.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from governance.audit import (
    build_timeline,
    lineage_runs,
    parse_history,
    render_text,
    scrub,
)
from ingestion import runlog
from ingestion.runlog import RunRecord, complete_row, current_command

pytestmark = [pytest.mark.reliability]
T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
URI = "s3a://lake/silver/adoptions"
LAKE_PRODUCER = "https://github.com/meae/meae-datalake/tree/0.1.0"
SPARK_PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.53.0/integration/spark"


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def millis(seconds: float) -> int:
    return int(at(seconds).timestamp() * 1000)


def run_row(run_id: str, layer: str, source: str, start: float, end: float, **extra) -> dict:
    row = {
        "run_id": run_id,
        "batch_id": f"{source}-{run_id.lower()}",
        "source": source,
        "layer": layer,
        "status": "succeeded",
        "started_at": at(start),
        "finished_at": at(end),
        "table_version": None,
        "user": "alice",
        "host": "lake-01",
        "job": f"{layer}.{source}",
        "command": "lake run --source adoptions",
        "rows_in": 60,
        "rows_out": 54,
    }
    row.update(extra)
    return row


# delta-rs lists the newest commit first
HISTORY = [
    {"version": 3, "timestamp": millis(400), "operation": "OPTIMIZE", "engineInfo": "x"},
    {"version": 2, "timestamp": millis(190), "operation": "SET TBLPROPERTIES"},
    {
        "version": 1,
        "timestamp": millis(150),
        "operation": "MERGE",
        "engineInfo": "Apache-Spark/4.0.1 Delta-Lake/4.0.1",
        "operationMetrics": {"numTargetRowsInserted": 40, "numTargetRowsUpdated": 3, "other": 1},
    },
    {
        "version": 0,
        "timestamp": millis(10),
        "operation": "WRITE",
        "userMetadata": json.dumps({"run_id": "R1", "batch_id": "adoptions-b1"}),
        "operationMetrics": {"numOutputRows": 54},
    },
]
RUNS = [
    run_row("R1", "silver", "adoptions", 0, 20, batch_id="adoptions-b1", table_version=0),
    run_row("R1", "silver", "adoptions", 21, 30, batch_id="adoptions-other", table_version=0),
    run_row("R2", "silver", "adoptions", 100, 200, table_version=1, user="bob", host="lake-02"),
    # a rerun that skipped the batch reports the version it found: it did not produce it
    run_row("R3", "silver", "adoptions", 250, 260, table_version=1, status="skipped"),
    # another table's row with the same version number
    run_row("R9", "bronze", "adoptions", 140, 160, table_version=2, user="mallory"),
    run_row("R4", "gold", "adoptions", 290, 320, job="gold.adoptions_par_pays", user="carol"),
]


def event(kind: str, job: str, run_id: str, seconds: float, *, inputs=(), outputs=(), spark=False):
    def ds(name: str) -> dict:
        return {"namespace": "s3a://lake" if spark else "s3://lake", "name": name}

    return {
        "eventType": kind,
        "eventTime": at(seconds).isoformat().replace("+00:00", "Z"),
        "producer": SPARK_PRODUCER if spark else LAKE_PRODUCER,
        "run": {"runId": run_id, "facets": {"parent": {"run": {"runId": "P"}}}},
        "job": {"namespace": "meae-datalake", "name": job},
        "inputs": [ds(n) for n in inputs],
        "outputs": [ds(n) for n in outputs],
    }


EVENTS = [
    {"not": "a run event"},
    {"run": {"runId": "X"}, "inputs": "not a list", "outputs": None},
    event("START", "silver.adoptions", "ol-silver", 101, inputs=["bronze/adoptions"]),
    event(
        "COMPLETE",
        "silver.adoptions",
        "ol-silver",
        199,
        inputs=["bronze/adoptions"],
        outputs=["silver/adoptions", "quarantine/adoptions"],
    ),
    event("START", "gold.adoptions_par_pays", "ol-gold", 300, inputs=["silver/adoptions"]),
    event("COMPLETE", "gold.adoptions_par_pays", "ol-gold", 310, inputs=["silver/adoptions/"]),
    event("COMPLETE", "notebook.export", "ol-spark", 500, inputs=["silver/adoptions"], spark=True),
    event("COMPLETE", "bronze.adoptions", "ol-bronze", 5, outputs=["bronze/adoptions"]),
]


def timeline(**kwargs):
    found = lineage_runs(EVENTS, ("s3://lake", "silver/adoptions"))
    return build_timeline("silver/adoptions", URI, parse_history(HISTORY), RUNS, found, **kwargs)


def test_a_bronze_delivery_commit_is_attributed_to_a_row_of_its_batches() -> None:
    history = [
        {
            "version": 0,
            "timestamp": millis(10),
            "operation": "WRITE",
            "userMetadata": json.dumps({"run_id": "R1", "batch_ids": ["a-2", "a-1"]}),
        }
    ]
    rows = [
        run_row("R1", "bronze", "adoptions", 0, 5, batch_id="other", table_version=None),
        run_row("R1", "bronze", "adoptions", 0, 20, batch_id="a-1", table_version=0),
    ]
    result = build_timeline("bronze/adoptions", URI, parse_history(history), rows, [])
    [entry] = result.versions
    assert (entry.run_id, entry.attribution) == ("R1", "commit metadata")
    assert entry.run is not None and entry.run["batch_id"] == "a-1"


def test_each_version_is_attributed_with_the_most_trusted_record() -> None:
    result = timeline()
    by_version = {v.commit.version: v for v in result.versions}
    assert [v.commit.version for v in result.versions] == [3, 2, 1, 0]  # newest first
    assert (by_version[0].run_id, by_version[0].attribution) == ("R1", "commit metadata")
    assert by_version[0].run is not None and by_version[0].run["batch_id"] == "adoptions-b1"
    assert (by_version[1].run_id, by_version[1].attribution) == ("R2", "run log table_version")
    assert by_version[1].run is not None and by_version[1].run["user"] == "bob"
    assert (by_version[2].run_id, by_version[2].attribution) == ("R2", "run log time window")
    assert (by_version[3].run_id, by_version[3].attribution) == (None, "")
    assert result.warnings == [
        "1 version(s) attributed to no run: 3 (written outside the lake's jobs, or before the "
        "run log recorded them)"
    ]


def test_lineage_writers_and_readers_land_on_the_right_version() -> None:
    by_version = {v.commit.version: v for v in timeline().versions}
    assert [w.run_id for w in by_version[1].writers] == ["ol-silver"]
    assert [w.run_id for w in by_version[2].writers] == ["ol-silver"]
    assert by_version[0].writers == []
    # gold started at 300: version 2 (190) was current, version 3 (400) did not exist yet
    readers = by_version[2].readers
    assert [(r.lineage.job, r.lineage.run_id) for r in readers] == [
        ("gold.adoptions_par_pays", "ol-gold")
    ]
    assert readers[0].run is not None and readers[0].run["run_id"] == "R4"
    assert readers[0].as_dict()["user"] == "carol"
    spark = by_version[3].readers[0]
    assert (spark.lineage.run_id, spark.run, spark.as_dict()["emitter"]) == (
        "ol-spark",
        None,
        "spark",
    )


def test_the_json_form_and_the_text_form() -> None:
    data = timeline(limit=2).as_dict()
    assert data["total_versions"] == 4 and [v["version"] for v in data["versions"]] == [3, 2]
    v2 = data["versions"][1]
    assert v2["produced_by"]["run_id"] == "R2" and v2["produced_by"]["user"] == "bob"
    assert v2["produced_by"]["lineage_runs"][0]["lineage_run_id"] == "ol-silver"
    assert v2["read_by"][0]["run_id"] == "R4"
    json.dumps(data)  # JSON-ready
    merge = timeline().as_dict()["versions"][2]
    assert merge["metrics"] == {"numTargetRowsInserted": 40, "numTargetRowsUpdated": 3}
    text = render_text(timeline())
    assert text.splitlines()[0] == f"silver/adoptions ({URI}): 4 version(s), showing 4"
    assert "v1  2026-03-01T09:02:30.000+00:00  MERGE        run R2 by bob@lake-02" in text
    assert (
        "read by gold.adoptions_par_pays ol-gold at 2026-03-01T09:05:00.000+00:00 = run R4" in text
    )
    assert text.splitlines()[-1].startswith("warning: 1 version(s) attributed to no run")


def test_quarantine_and_gold_tables_pick_their_own_steps() -> None:
    commits = parse_history([{"version": 0, "timestamp": millis(150), "operation": "WRITE"}])
    quarantine = build_timeline(
        "quarantine/adoptions", "s3a://lake/quarantine/adoptions", commits, RUNS, []
    )
    # bronze (140-160) and silver (100-200) both write quarantine: the innermost step wins
    assert quarantine.versions[0].run_id == "R9"
    gold = build_timeline(
        "gold/adoptions_par_pays",
        "s3a://lake/gold/adoptions_par_pays",
        parse_history([{"version": 0, "timestamp": millis(300), "operation": "WRITE"}]),
        RUNS,
        [],
    )
    assert gold.versions[0].run_id == "R4"


def test_secrets_are_scrubbed_from_everything() -> None:
    rows = [dict(RUNS[0], command="lake run --secret-key s3cr3t-KEY", message="s3cr3t-KEY")]
    history = [dict(HISTORY[-1], engineInfo="engine s3cr3t-KEY")]
    result = build_timeline("silver/adoptions", URI, parse_history(history), rows, [])
    text = json.dumps(scrub(result, ["s3cr3t-KEY"]).as_dict())
    assert "s3cr3t-KEY" not in text and "***" in text


def test_run_records_say_who_where_and_which_job() -> None:
    record = RunRecord("R", "b", "adoptions", "bronze", "succeeded", at(0))
    assert (record.user, record.host, record.job) == (
        getpass.getuser(),
        socket.gethostname(),
        "bronze.adoptions",
    )
    gold = RunRecord("R", "b", "a,b", "gold", "succeeded", at(0), file_uri="s3a://lake/gold/ind")
    assert gold.job == "gold.ind"
    assert (
        current_command(
            [
                "/x/bin/lake",
                "submit",
                "--conf",
                "spark.hadoop.fs.s3a.secret.key=abc",
                "--password",
                "p",
            ]
        )
        == "lake submit --conf spark.hadoop.fs.s3a.secret.key=*** --password ***"
    )
    assert complete_row({"run_id": "old"}) | {"run_id": "old"} == complete_row({"run_id": "old"})
    assert complete_row({"run_id": "old"})["user"] is None
    assert complete_row({"run_id": "old"})["extra_columns"] == []


def test_a_run_log_written_before_the_new_columns_still_reads_and_evolves(tmp_path: Path) -> None:
    import pyarrow as pa
    from deltalake import write_deltalake

    from conftest import base_settings
    from lake.storage import table_uri

    settings = base_settings(tmp_path).with_overrides(
        {"storage": {"backend": "local", "local_root": str(tmp_path / "lake")}}
    )
    old_schema = pa.schema(
        [
            f
            for f in runlog.RUN_LOG.arrow_schema()
            if f.name not in ("user", "host", "job", "command")
        ]
    )
    old = RunRecord("OLD", "b0", "adoptions", "bronze", "succeeded", at(0), finished_at=at(1))
    row = {k: v for k, v in old.as_dict().items() if k in old_schema.names}
    uri = table_uri(settings, "meta", "runs")
    write_deltalake(uri, pa.Table.from_pylist([row], schema=old_schema))
    assert runlog.read_runs(settings)[0]["user"] is None  # the column does not exist yet
    runlog.append(settings, [RunRecord("NEW", "b1", "adoptions", "bronze", "succeeded", at(5))])
    rows = {r["run_id"]: r for r in runlog.read_runs(settings)}
    assert rows["OLD"]["user"] is None and rows["OLD"]["rows_out"] == 0
    assert rows["NEW"]["user"] == getpass.getuser() and rows["NEW"]["job"] == "bronze.adoptions"


def test_a_bad_table_name_is_one_clear_line(capsys) -> None:
    from app.cli.main import main

    assert main(["audit", "nowhere"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("lake audit: error: Table 'nowhere': layer must be one of")
    assert "Fix: name a table as LAYER/NAME, e.g. silver/consular_register" in err
    assert main(["audit", "silver/x", "--limit", "0"]) == 1
    assert "--limit must be >= 1; found 0." in capsys.readouterr().err


# --- the real stack ------------------------------------------------------------------------------

LAKE = str(Path(sys.executable).parent / "lake")


@pytest.mark.spark
@pytest.mark.minio
def test_lake_audit_attributes_every_version_to_the_run_and_the_user(
    spark, lake_settings, tmp_path
) -> None:
    from app.compose import lineage_sink, quality_gates
    from conftest import lake_env
    from ingestion.generator import generate_delivery
    from ingestion.pipeline import run
    from lake.storage import ensure_bucket

    source = "travel_advice"
    settings = lake_settings.with_overrides(
        {
            "storage": {"bucket": "lake-audit"},
            "ingestion": {"inbox": str(tmp_path / "inbox")},
            "lineage": {"file": str(tmp_path / "lineage" / "events.jsonl"), "transport": "file"},
            "reports": {"data_docs": False},
            "security": {"pseudonymisation_key_file": str(tmp_path / "key")},
        }
    )
    ensure_bucket(settings)
    for delivery in (1, 2):
        target = tmp_path / "inbox" / source / f"delivery-{delivery}"
        target.mkdir(parents=True)
        generate_delivery(source, delivery, 30, target)
    summary = run(
        spark,
        settings,
        gates=quality_gates(settings),
        lineage=lineage_sink(settings),
        sources=[source],
        layers=["bronze", "silver"],
    )
    assert {r.status for r in summary.records} == {"succeeded"}
    env = lake_env(settings, LAKE__LINEAGE__TRANSPORT="file")
    user, host = getpass.getuser(), socket.gethostname()
    secrets = [settings.storage.access_key, settings.storage.secret_key]
    for layer in ("bronze", "silver"):
        done = subprocess.run(
            [LAKE, "audit", f"{layer}/{source}", "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert not any(s in done.stdout + done.stderr for s in secrets)
        data = json.loads(done.stdout)
        assert data["total_versions"] == len(data["versions"])
        # bronze: both files in one commit (decision 0015); silver: a MERGE per batch
        if layer == "bronze":
            assert len(data["versions"]) == 1, data["versions"]
        else:
            assert len(data["versions"]) >= 2, data["versions"]
        for version in data["versions"]:
            produced = version["produced_by"]
            assert produced["run_id"] == summary.run_id, version
            assert (produced["user"], produced["host"]) == (user, host), version
            assert produced["job"] == f"{layer}.{source}"
            assert produced["lineage_runs"], version  # the step's OpenLineage run
        if layer == "bronze":  # silver's steps read bronze
            readers = [r for v in data["versions"] for r in v["read_by"]]
            assert any(
                r["job"] == f"silver.{source}" and r["run_id"] == summary.run_id for r in readers
            ), readers
    text = subprocess.run(
        [LAKE, "audit", f"silver/{source}"], env=env, capture_output=True, text=True, timeout=120
    )
    assert text.returncode == 0, text.stderr
    assert f"run {summary.run_id} by {user}@{host} (silver.{source}" in text.stdout
    assert not any(s in text.stdout + text.stderr for s in secrets)
