"""The benchmark harness (the real bench is `make bench`, never part of `make test`).

The first tests drive the harness with a stand-in for the measured tasks, so they check in
seconds that every scenario comes out of one run as two times and a ratio, in the JSON and in
the Markdown section. The smoke test then runs the real tasks (MinIO, Spark, Great Expectations,
polars + delta-rs) in this process on one tiny source: the I/O scenario end to end, plus the
bare baseline and the polars peer on the same files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.bench import harness
from app.bench.harness import SCENARIOS, BenchError, BenchOptions, run_bench
from app.bench.report import append_to_docs, console_table, markdown
from app.bench.tasks import execute
from conftest import base_settings

# Seconds each stand-in task "takes": distinct values so every ratio is checkable.
_FAKE_SECONDS = {"pipeline": 10.0, "bronze": 4.0, "baseline": 8.0, "upload": 2.0, "peer": 3.0}


def _fake_execute(kind: str, settings: Any, spark: Any, **_: Any) -> dict[str, Any]:
    if kind == "review":
        return {"seconds": 6.0, "review_s": 6.0, "scan_s": 1.5, "tables": 1, "spark_jobs": 9}
    seconds = _FAKE_SECONDS[kind]
    if kind == "pipeline" and settings.storage.bucket.endswith("-small"):
        seconds = 2.5  # the 1x point of the scaling scenario
    return {"seconds": seconds, "bronze_silver_s": seconds * 0.8, "gold_s": seconds * 0.2}


@pytest.fixture
def stand_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(harness, "execute", _fake_execute)
    monkeypatch.setattr("lake.storage.ensure_bucket", lambda settings: None)


def test_every_scenario_comes_out_as_two_times_and_a_ratio(stand_in, tmp_path: Path) -> None:
    options = BenchOptions(
        rows=120, scale_factor=2, output_dir=tmp_path / "bench", sources=("travel_advice",)
    )
    report = run_bench(base_settings(tmp_path), options, spark=object())  # type: ignore[arg-type]

    saved = json.loads(Path(report["json_file"]).read_text(encoding="utf-8"))
    assert list(saved["scenarios"]) == list(SCENARIOS)
    for name, row in saved["scenarios"].items():
        a, b = row["a"]["seconds"], row["b"]["seconds"]
        assert a > 0 and b > 0 and row["a"]["label"] and row["b"]["label"], name
        assert row["ratio"] == pytest.approx(a / b, rel=1e-3), name
    ratios = {name: row["ratio"] for name, row in saved["scenarios"].items()}
    assert ratios == {
        "governance": 1.25,  # pipeline 10 s / baseline 8 s
        "review": 4.0,  # review 6 s / scan 1.5 s
        "rerun": 1.0,
        "incremental": 1.0,
        "scaling": 4.0,  # 10 s at 120 lines / 2.5 s at 60 lines
        "io": 2.0,
        "peer": pytest.approx(8.0 / 3.0, rel=1e-3),  # bronze+silver of the first run / peer
    }
    assert saved["scenarios"]["governance"]["met"] is True
    assert saved["scenarios"]["review"]["met"] is False
    assert saved["scenarios"]["scaling"]["target"] == 2  # the size factor
    assert saved["sizes"]["base"]["lines"] == 120
    assert saved["sizes"]["increment"]["lines"] == 30  # 1 % of a file, at least 30 lines
    assert saved["machine"]["cores"] and saved["versions"]["polars"]
    assert (tmp_path / "bench" / "latest.json").is_file()

    doc = append_to_docs(tmp_path / "benchmarks.md", saved)
    text = doc.read_text(encoding="utf-8")
    assert text.startswith("# Benchmarks") and "## Runs" in text
    assert all(f"| {name} |" in text for name in SCENARIOS)
    assert "NO (1.3x the target)" in markdown(saved)  # review: 4.0 against 3
    assert "rerun" in console_table(saved)


def test_only_runs_the_scenarios_named(stand_in, tmp_path: Path) -> None:
    options = BenchOptions(
        rows=60, only=("io",), output_dir=tmp_path / "bench", sources=("travel_advice",)
    )
    report = run_bench(base_settings(tmp_path), options, spark=object())  # type: ignore[arg-type]
    assert list(report["scenarios"]) == ["io"]
    assert [m["kind"] for m in report["measurements"]] == ["bronze", "upload"]


def test_an_unknown_scenario_is_one_clear_message(tmp_path: Path) -> None:
    with pytest.raises(BenchError) as err:
        run_bench(base_settings(tmp_path), BenchOptions(only=("speed",), output_dir=tmp_path))
    assert str(err.value).startswith("Unknown scenario(s): speed.")
    assert (err.value.fix or "").startswith("use one of: governance, review")


@pytest.mark.spark
@pytest.mark.minio
def test_smoke_the_real_tasks_on_one_tiny_source(spark, lake_settings, tmp_path: Path) -> None:
    settings = lake_settings.with_overrides({"reports": {"data_docs": False}})
    options = BenchOptions(
        rows=60, only=("io",), output_dir=tmp_path / "bench", sources=("travel_advice",)
    )
    report = run_bench(settings, options, spark=spark)
    io = report["scenarios"]["io"]
    assert io["a"]["seconds"] > 0 and io["b"]["seconds"] > 0
    assert io["ratio"] == pytest.approx(io["a"]["seconds"] / io["b"]["seconds"], rel=1e-3)
    assert io["mib"] > 0 and io["mib_per_s"]["a"] > 0
    bronze = report["measurements"][0]["details"]["layers"]["bronze"]
    assert bronze["batches"] == 2 and bronze["rows_out"] > 0
    assert report["measurements"][0]["memory"]["jvm_mib"] > 0

    from lake.storage import ensure_bucket

    done, owns = {}, {}
    for kind, session in (("baseline", spark), ("peer", None)):
        owns[kind] = own = settings.with_overrides(
            {
                "ingestion": {"inbox": report["sizes"]["base"]["path"]},
                "storage": {"bucket": f"{report['measurements'][0]['bucket']}-{kind}"},
            }
        )
        ensure_bucket(own)
        done[kind] = execute(kind, own, session, sources=["travel_advice"])  # type: ignore[arg-type]
    assert done["baseline"]["files"] == done["peer"]["files"] == 2
    assert done["baseline"]["seconds"] > 0 and done["peer"]["rows_merged"] > 0
    # the review scenario's task, on the silver table the baseline wrote
    review = execute("review", owns["baseline"], spark, sources=["travel_advice"])  # type: ignore[arg-type]
    assert review["tables"] == 1 and review["review_s"] > 0 and review["scan_s"] > 0
