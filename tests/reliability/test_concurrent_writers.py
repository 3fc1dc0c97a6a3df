"""Two real `lake submit bronze` jobs on the same table at the same time, round after round.

Delta's S3 log store is safe with one writing driver per table only; the table lease
(:mod:`lake.leases`) makes the second job fail with "table ... busy" (or wait with ``--wait`` and
then skip the file the first one ingested). After every round: exactly one job ingested the new
delivery, the table has no duplicate and no missing line, the run log reconciles, and the Delta log
has no gap (listed on MinIO, read with delta-rs).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import lake_env
from ingestion import runlog
from ingestion.generator import generate_delivery
from lake.delta_reader import log_objects, open_table
from lake.leases import list_leases
from lake.storage import ensure_bucket, table_uri

pytestmark = [pytest.mark.spark, pytest.mark.minio, pytest.mark.reliability, pytest.mark.slow]
LAKE = str(Path(sys.executable).parent / "lake")
SOURCE = "development_aid"
ROUNDS = int(os.environ.get("LAKE_TEST_WRITER_ROUNDS", "5"))
ROWS = 5_000
BUSY = re.compile(
    rf"bronze: error: table bronze/{SOURCE} busy: held by run (\S+) \(job bronze, user \S+ on "
    r"host \S+, pid \d+\) since \S+, expires at \S+\."
)


def _launch(settings, log: Path, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [LAKE, "submit", "bronze", "--source", SOURCE, *extra],
        env=lake_env(settings, LAKE__LINEAGE__TRANSPORT="none"),
        stdout=subprocess.PIPE,
        stderr=log.open("wb"),
        start_new_session=True,
    )


def _records(stdout: bytes) -> list[dict]:
    lines = [line for line in stdout.decode().splitlines() if line.startswith("[")]
    return json.loads(lines[-1]) if lines else []


def assert_log_has_no_gap(settings, uri: str) -> int:
    """Every commit 0..N is in ``_delta_log`` and delta-rs reads version N; returns N."""
    names = log_objects(settings, uri)
    versions = sorted(int(n[:20]) for n in names if re.fullmatch(r"\d{20}\.json", n))
    assert versions == list(range(len(versions))), versions
    assert open_table(settings, uri).version() == versions[-1]
    return versions[-1]


def test_two_concurrent_bronze_jobs_never_both_write(lake_settings, tmp_path):
    settings = lake_settings.with_overrides(
        {
            "storage": {"bucket": "lake-concurrent"},
            "ingestion": {"inbox": str(tmp_path / "inbox")},
            "security": {"pseudonymisation_key_file": str(tmp_path / "key")},
        }
    )
    ensure_bucket(settings)
    uri = table_uri(settings, "bronze", SOURCE)
    outcomes = []
    for round_ in range(1, ROUNDS + 1):
        # a new delivery each round (another seed: another checksum, another batch)
        generate_delivery(
            SOURCE, 1, ROWS, tmp_path / "inbox" / SOURCE / f"round{round_}", seed=round_
        )
        wait = ("--wait", "300") if round_ == ROUNDS else ()
        logs = [tmp_path / f"r{round_}-{i}.log" for i in (1, 2)]
        jobs = [_launch(settings, log, *wait) for log in logs]
        outs = []
        for job in jobs:
            out, _ = job.communicate(timeout=1800)
            outs.append(out)
        results = []
        for job, out, log in zip(jobs, outs, logs, strict=True):
            records = _records(out)
            new = [r for r in records if r["status"] == "succeeded"]
            # once Spark runs, the job's own stderr comes out on stdout (PythonRunner)
            text = out.decode(errors="replace") + log.read_text(errors="replace")
            results.append((job.returncode, new, records, text))
        winners = [r for r in results if r[0] == 0 and r[1]]
        assert len(winners) == 1, [(rc, len(n), err[-600:]) for rc, n, _, err in results]
        (winner,) = winners
        (loser,) = [r for r in results if r is not winner]
        if loser[0] == 0:  # it waited (or came after the winner), then skipped the ingested file
            assert {r["status"] for r in loser[2]} == {"skipped"}, loser[2]
            outcome = "waited, skipped"
        else:
            busy = BUSY.search(loser[3])
            assert busy, loser[3][-1500:]
            assert busy[1] == winner[1][0]["run_id"]  # the message names the winner's run
            outcome = "busy"
        outcomes.append(outcome)

        batch = winner[1][0]["batch_id"]
        data = open_table(settings, uri).to_pyarrow_table().to_pylist()
        lines = [(r["_batch_id"], r["_line"]) for r in data]
        assert len(lines) == len(set(lines)), "a line is in bronze twice"
        logged = [
            r
            for r in runlog.read_runs(settings, source=SOURCE, limit=None)
            if r["layer"] == "bronze" and r["status"] == "succeeded"
        ]
        assert len({r["batch_id"] for r in logged}) == len(logged) == round_
        assert sum(1 for b, _ in lines if b == batch) == winner[1][0]["rows_out"]
        for r in logged:  # no missing line: every line read is in bronze or in quarantine
            in_bronze = sum(1 for b, _ in lines if b == r["batch_id"])
            assert r["lines_read"] == in_bronze + r["quarantined"] == ROWS
        assert_log_has_no_gap(settings, uri)
        quarantine = table_uri(settings, "quarantine", SOURCE)
        if log_objects(settings, quarantine):  # only when a delivery had malformed lines
            assert_log_has_no_gap(settings, quarantine)
        time.sleep(0.5)

    print(f"{ROUNDS} rounds, the second job: {outcomes}")
    # every lease was given back; the first rounds raced for real
    assert {lease.state for _, lease in list_leases(settings)} == {"released"}
    assert "busy" in outcomes, outcomes
    assert outcomes[-1] == "waited, skipped", outcomes
