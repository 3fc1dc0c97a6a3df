"""The whole chain on the real stack, on the bundled samples and their defect manifest.

One module-scoped run ingests every bundled delivery (both deliveries of every silo) into a
fresh bucket; the tests then check, with Spark and with delta-rs, that every planted defect ends
where docs/extracts.md says, that counts reconcile, and that a rerun changes nothing.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from app.compose import lineage_sink, quality_gates
from conftest import REPO
from ingestion import runlog
from ingestion.pipeline import run
from lake import delta_io
from lake.delta_reader import open_table
from lake.storage import ensure_bucket, table_uri

pytestmark = [pytest.mark.spark, pytest.mark.minio]
MANIFEST = json.loads((REPO / "samples" / "MANIFEST.json").read_text(encoding="utf-8"))


def _defects() -> list[dict]:
    return [d for entry in MANIFEST["deliveries"] for d in entry["defects"]]


@pytest.fixture(scope="module")
def lake(spark, lake_settings, tmp_path_factory):
    """Every bundled delivery ingested once through bronze, silver and gold."""
    settings = lake_settings.with_overrides(
        {
            "storage": {"bucket": "lake-pipeline"},
            "ingestion": {"inbox": str(REPO / "samples")},
            "security": {"pseudonymisation_key_file": str(tmp_path_factory.mktemp("k") / "key")},
        }
    )
    ensure_bucket(settings)
    summary = run(spark, settings, gates=quality_gates(settings), lineage=lineage_sink(settings))
    return settings, summary


def _table(spark, settings, layer: str, name: str):
    return delta_io.read_table(spark, table_uri(settings, layer, name))


def test_every_batch_succeeded_and_reconciles(lake) -> None:
    _, summary = lake
    records = [r for r in summary.records if r.layer in ("bronze", "silver")]
    assert records and all(r.status == "succeeded" for r in records)
    for r in records:
        if r.layer == "bronze":
            assert r.lines_read == r.rows_out + r.quarantined, r
        else:
            assert r.rows_in == r.rows_out + r.quarantined + r.duplicates_resolved, r
    sources = {r.source for r in records}
    assert len(sources) >= 6


def test_bronze_keeps_every_row_as_delivered_with_provenance(spark, lake) -> None:
    settings, summary = lake
    for r in summary.records:
        if r.layer != "bronze":
            continue
        bronze = _table(spark, settings, "bronze", r.source).filter(f"_batch_id = '{r.batch_id}'")
        assert bronze.count() == r.rows_out
        # one row per delivered line, never twice
        assert bronze.select("_line").distinct().count() == r.rows_out
        row = bronze.first()
        assert row is not None and row["_file_sha256"] == r.file_sha256
        assert row["_file_uri"].startswith(f"s3a://lake-pipeline/landing/{r.source}/")


def _silver_row(spark, settings, source: str, file: str, line: int):
    rows = (
        _table(spark, settings, "silver", source)
        .filter(f"_line = {line} AND _file_uri LIKE '%/{file}'")
        .collect()
    )
    return rows[0] if rows else None


def _quarantined(spark, settings, source: str, file: str, line: int):
    return (
        _table(spark, settings, "quarantine", source)
        .filter(f"_line = {line} AND _file_uri LIKE '%/{file}'")
        .collect()
    )


def test_each_planted_defect_ends_where_the_docs_say(spark, lake) -> None:
    settings, summary = lake
    checked = Counter()
    for d in _defects():
        source, file, line, column = d["source"], d["file"], d["line"], d.get("column")
        expected = d["expected"]
        if expected == "quarantine":
            rows = _quarantined(spark, settings, source, file, line)
            assert rows, f"{d} not in quarantine"
            assert rows[0]["reason"]
            if d.get("rule"):  # the quality rule that must have caught it, by name
                assert d["rule"] in {f["rule"] for f in rows[0]["failures"]} | {rows[0]["rule"]}, d
            elif column:
                assert column in {f["column"] for f in rows[0]["failures"]} | {rows[0]["column"]}
        elif expected == "typed":
            row = _silver_row(spark, settings, source, file, line)
            if row is None:  # replaced by a later version of the same key
                continue
            value = row[column]
            shown = value.isoformat() if hasattr(value, "isoformat") else value
            if isinstance(d["expected_value"], int | float) and value is not None:
                shown = float(value)
                assert shown == pytest.approx(float(d["expected_value"])), d
            else:
                assert shown == d["expected_value"], d
        elif expected == "flagged":
            row = _silver_row(spark, settings, source, file, line)
            assert row is not None, f"{d} missing from silver"
            assert row[f"{column}_status"] in ("territory", "no_iso_code"), d
        elif expected == "dropped_duplicate":
            assert _silver_row(spark, settings, source, file, line) is None, d
        elif d["kind"] == "added_column":
            extras = {c for r in summary.records if r.source == source for c in r.extra_columns}
            assert f"extra_{d['value'].lower()}" in extras, d
        elif d["kind"] == "renamed_column":
            # the renamed header still feeds the contract column, in bronze and silver
            rows = (
                _table(spark, settings, "bronze", source)
                .filter(f"_file_uri LIKE '%/{file}'")
                .select(column)
                .collect()
            )
            assert rows and all(r[0] is not None for r in rows[:5]), d
        elif d["kind"] == "title_row":
            # the title above the header is skipped, the data below it is read
            assert (
                _table(spark, settings, "bronze", source)
                .filter(f"_file_uri LIKE '%/{file}'")
                .count()
                > 0
            ), d
        checked[expected] += 1
    assert checked["quarantine"] and checked["typed"] and checked["flagged"]


def test_personal_identifiers_are_pseudonymised(spark, lake) -> None:
    settings, _ = lake
    silver = _table(spark, settings, "silver", "consular_register")
    bronze = _table(spark, settings, "bronze", "consular_register")
    names = {r["last_name"] for r in silver.select("last_name").collect()}
    raw = {r["last_name"] for r in bronze.select("last_name").collect()}
    assert all(len(n) == 64 and int(n, 16) >= 0 for n in names if n)
    assert not names & raw


def test_gold_tables_are_described_and_suppress_small_cells(spark, lake) -> None:
    settings, _ = lake
    table = open_table(settings, table_uri(settings, "gold", "inscrits_par_pays_poste"))
    assert table.metadata().description.startswith("Nombre de Français inscrits")
    rows = table.to_pyarrow_table().to_pylist()
    assert all(
        r["inscrits"] is None or r["inscrits"] >= settings.security.min_cell_count for r in rows
    )
    assert any(r["secret_statistique"] for r in rows)


def test_delta_rs_sees_the_counts_the_run_log_reports(lake) -> None:
    settings, summary = lake
    logged = runlog.read_runs(settings, limit=1000)
    assert {r["batch_id"] for r in logged} >= {r.batch_id for r in summary.records}
    for source in {r.source for r in summary.records if r.layer == "silver"}:
        silver_rows = (
            open_table(settings, table_uri(settings, "silver", source)).to_pyarrow_table().num_rows
        )
        inserted = sum(
            r["inserted"] for r in logged if r["source"] == source and r["layer"] == "silver"
        )
        assert silver_rows == inserted, source
        bronze_rows = (
            open_table(settings, table_uri(settings, "bronze", source)).to_pyarrow_table().num_rows
        )
        assert bronze_rows == sum(
            r["rows_out"]
            for r in logged
            if r["source"] == source and r["layer"] == "bronze" and r["status"] == "succeeded"
        )


def test_a_rerun_changes_nothing(spark, lake) -> None:
    settings, _ = lake
    uris = [
        table_uri(settings, layer, name)
        for layer, name in [
            ("bronze", "adoptions"),
            ("silver", "adoptions"),
            ("quarantine", "adoptions"),
            ("gold", "adoptions_par_pays_annee_age"),
        ]
    ]
    before = {u: delta_io.table_version(spark, u) for u in uris}
    again = run(spark, settings, gates=quality_gates(settings))
    assert {r.status for r in again.records} == {"skipped"}
    assert {u: delta_io.table_version(spark, u) for u in uris} == before


def test_an_unknown_source_is_one_clear_message(spark, lake) -> None:
    from lake.contracts import ContractError

    settings, _ = lake
    with pytest.raises(ContractError) as err:
        run(spark, settings, gates=quality_gates(settings), sources=["visas_schengen"])
    assert "unknown source 'visas_schengen'" in str(err.value)
    assert (err.value.fix or "").startswith("use one of: adoptions")


def test_an_unreadable_file_is_one_clear_message(spark, lake, tmp_path: Path) -> None:
    from ingestion.readers import ExtractError

    settings, _ = lake
    bad = tmp_path / "pvt_visas_2026-03-01.xlsx"
    bad.write_bytes(b"not a workbook at all")
    with pytest.raises(ExtractError) as err:
        run(
            spark,
            settings,
            gates=quality_gates(settings),
            sources=["pvt_visas"],
            layers=["bronze"],
            files=[bad],
        )
    assert str(err.value).startswith(f"{bad}: not a readable Excel workbook")
    # the file was landed before it was read: the error and the run log name its batch
    from ingestion.bronze import batch_id_for
    from ingestion.landing import sha256_of
    from lake.contracts import get_contract

    batch = batch_id_for(get_contract(settings.root, "pvt_visas"), sha256_of(bad))
    assert err.value.batch_id == batch
    failed = [r for r in runlog.read_runs(settings, source="pvt_visas") if r["status"] == "failed"]
    assert [r["batch_id"] for r in failed][:1] == [batch]


def test_gold_tables_hold_the_rows_the_run_log_reports(lake) -> None:
    settings, summary = lake
    gold = [r for r in summary.records if r.layer == "gold"]
    assert len(gold) >= 6
    for record in gold:
        assert record.file_uri is not None
        table = open_table(settings, record.file_uri, version=record.table_version)
        assert table.to_pyarrow_table().num_rows == record.rows_out, record.file_uri


def test_lake_runs_prints_the_run_log_as_json(lake) -> None:
    import subprocess
    import sys

    from conftest import lake_env

    settings, summary = lake
    lake_cmd = str(Path(sys.executable).parent / "lake")
    result = subprocess.run(
        [lake_cmd, "runs", "--json", "--source", "adoptions"],
        env=lake_env(settings),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    ours = {r.batch_id for r in summary.records if r.source == "adoptions"}
    assert ours <= {r["batch_id"] for r in rows}
    assert all(r["source"] == "adoptions" for r in rows)
    table = subprocess.run(
        [lake_cmd, "runs", "--source", "adoptions"],
        env=lake_env(settings),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert table.stdout.splitlines()[0].split() == [
        "layer",
        "source",
        "status",
        "lines",
        "in",
        "out",
        "quarant.",
        "dupl.",
        "new",
        "upd.",
        "secs",
    ]


# --- quality reviews (A13) on the same run --------------------------------------------------------


def _file_of_batch(settings) -> dict[str, str]:
    return {
        r["batch_id"]: r["file_uri"].rsplit("/", 1)[-1]
        for r in runlog.read_runs(settings, limit=1000)
        if r["layer"] == "bronze" and r["file_uri"]
    }


def test_each_rule_counts_exactly_its_planted_defects(lake) -> None:
    from quality import history

    settings, _ = lake
    file_of = _file_of_batch(settings)
    planted = Counter(
        (d["file"], d["rule"])
        for d in _defects()
        if d.get("rule") and not d["rule"].endswith(".line.readable")  # bronze: not a GX rule
    )
    counted: Counter = Counter()
    for r in history.read(settings):
        if r["layer"] == "silver" and r["scope"] == "row" and r["unexpected_count"]:
            counted[(file_of[r["batch_id"]], r["rule_id"])] += r["unexpected_count"]
    # every planted defect caught by its rule, and nothing else flagged in the samples
    assert counted == planted
    assert {source for _, rule in planted for source in [rule.split(".")[0]]} == set(
        entry["source"] for entry in MANIFEST["deliveries"]
    )


def test_every_review_is_logged_with_its_decision(lake) -> None:
    from quality import history

    settings, summary = lake
    results = history.read(settings)
    decisions = {r["review_id"]: (r["layer"], r["batch_id"], r["decision"]) for r in results}
    silver = [r for r in summary.records if r.layer == "silver"]
    gold = [r for r in summary.records if r.layer == "gold" and r.status == "succeeded"]
    assert history.review_count(results) == len(silver) + len(gold)
    by_batch = {b: d for layer, b, d in decisions.values() if layer == "silver"}
    for record in silver:
        assert record.quality in ("promoted", "promoted_with_warnings")
        assert by_batch[record.batch_id] == record.quality
    # warnings are promoted and reported: the 750 M€ project is in silver, its rule failed
    warned = [r for r in results if r["rule_id"] == "development_aid.amount_plausible"]
    assert any(not r["success"] and r["severity"] == "warning" for r in warned)
    assert all(r["table_version"] is not None for r in results if r["layer"] == "silver")


def test_quarantined_sensitive_values_are_masked(spark, lake) -> None:
    settings, _ = lake
    rows = (
        _table(spark, settings, "quarantine", "consular_register")
        .filter("stage = 'silver'")
        .collect()
    )
    failures = [f for r in rows for f in r["failures"]]
    assert {f["rule"] for f in failures} >= {
        "consular_register.birth_date.type",
        "consular_register.registration_after_birth",
    }
    assert all(f["value"] in (None, "<masqué>") for f in failures)  # personal: never in clear


def test_the_review_pages_are_written_in_french(lake) -> None:
    import html

    from quality.review import write_reviews

    settings, _ = lake
    files = write_reviews(settings)
    assert files.index.is_file() and len(files.pages) >= 5
    page = html.unescape(files.pages["Administration consulaire"].read_text(encoding="utf-8"))
    assert "part des lignes conformes" in page
    assert "Great Expectations Data Docs" in page
    # built once by the run (the gates' finish), from every review it stored, and made offline:
    # the page's own scripts (its table of validations among them) are local files now
    import re

    from quality.validation import data_docs_index

    docs = data_docs_index(settings.reports.dir)
    text = docs.read_text(encoding="utf-8")
    assert "<script>" not in text  # no inline script left for the CSP to refuse
    scripts = re.findall(r'<script src="([^"]+)"', text)
    assert scripts and all(not s.startswith(("http:", "https:", "//")) for s in scripts)
    local = "".join((docs.parent / s).read_text(encoding="utf-8") for s in scripts)
    assert "silver.consular_register" in text + local


# --- lineage and sensitivity on the same run ------------------------------------------------------


def test_every_lineage_event_validates_against_the_official_schemas(lake) -> None:
    from governance.lineage.model import LAKE_PRODUCER
    from governance.lineage.ol_schema import EventValidator, SpecLocation, check_run_states
    from governance.sensitivity.tags import event_files

    settings, _ = lake
    spec = SpecLocation.find()
    validator = EventValidator(spec.path)
    journal = event_files(settings)  # read back from meta/lineage/ of the lake
    ours = [p for p in journal if p.parent.name == "lake"]
    spark_files = [p for p in journal if p.parent.name == "spark"]
    assert ours and spark_files
    events = []
    for path in ours:
        report = validator.validate_file(path)
        assert report.events > 0 and report.problems == []
        events += [json.loads(line) for line in path.read_text().splitlines()]
    assert all(e["producer"].startswith(LAKE_PRODUCER) for e in events)
    assert check_run_states(events) == []  # one START and one terminal event per run
    jobs = {e["job"]["name"] for e in events}
    assert {"run", "bronze.consular_register", "silver.consular_register"} <= jobs
    assert "gold.inscrits_par_pays_poste" in jobs
    for path in spark_files:
        spark = validator.validate_file(path)
        assert spark.events > 0 and spark.problems == []  # Spark's events fit the spec too
    import argparse

    from app.cli.governance import cmd_lineage_validate

    assert cmd_lineage_validate(settings, argparse.Namespace(spec=None, json=False)) == 0


def test_a_gold_column_traces_back_to_its_delivered_file_through_the_merge(lake) -> None:
    from governance.sensitivity.tags import load_graph

    settings, _ = lake
    graph = load_graph(settings)
    paths = graph.paths_to_sources("gold/inscrits_par_pays_poste.pays_iso3")
    chains = [[str(e.source) for e in reversed(path)] for path in paths]
    assert chains, "no lineage for the gold column"
    for chain in chains:  # landing file -> bronze -> silver (MERGE) -> gold
        assert chain[0].startswith("landing/consular_register/")
        assert chain[0].endswith(".csv.Pays de résidence")
        assert chain[1:] == ["bronze/consular_register.country", "silver/consular_register.country"]
    files = {c[0].rsplit("/", 1)[-1] for c in chains}
    assert files == {
        "consular_register_2026-01-15.csv.Pays de résidence",
        "consular_register_2026-02-16.csv.Pays de résidence",
    }
    # the pseudonymised name is masked on its way into silver
    (edge,) = graph.edges_into(graph.column("silver/consular_register", "last_name"))
    assert edge.masking and str(edge.source) == "bronze/consular_register.last_name"


def test_tags_follow_lineage_and_gate_the_open_data_export(lake, tmp_path: Path) -> None:
    import argparse

    from frictionless import Schema

    from app.cli.governance import cmd_export_opendata
    from governance.errors import ExportRefused
    from governance.sensitivity.tags import derived_tags, load_graph

    settings, _ = lake
    graph = load_graph(settings)
    derived = derived_tags(settings, graph)
    name = graph.column("silver/consular_register", "last_name")
    assert (derived[name].tag.level, derived[name].tag.personal) == (2, True)  # pseudonymised
    birth = graph.column("silver/consular_register", "birth_date")
    assert (derived[birth].tag.level, derived[birth].tag.personal) == (1, True)
    # aggregated above the statistical secret (11): open, so the export is written
    args = argparse.Namespace(table="gold/inscrits_par_pays_poste", out=tmp_path, overwrite=False)
    assert cmd_export_opendata(settings, args) == 0
    schema = json.loads((tmp_path / "inscrits_par_pays_poste.schema.json").read_text())
    assert Schema.validate_descriptor(schema).valid
    # the catalogue record validates against the DCAT-AP 3.0.1 shapes, with absolute URLs
    from governance.sensitivity.dcat_shapes import check_record

    dcat = json.loads((tmp_path / "inscrits_par_pays_poste.dcat.jsonld").read_text())
    assert check_record(dcat).violations == ()
    (dist,) = dcat["dcat:distribution"]
    assert dist["dcat:accessURL"]["@id"].startswith(settings.export.base_url)
    # with a stricter threshold the same table is personal again: refused, with the path
    strict = settings.with_overrides({"security": {"min_cell_count": 20}})
    with pytest.raises(ExportRefused) as refused:
        cmd_export_opendata(
            strict, argparse.Namespace(table=args.table, out=tmp_path / "x", overwrite=False)
        )
    assert any(
        "hérité de bronze/consular_register.country" in line for line in refused.value.offending
    )
    assert not (tmp_path / "x").exists()


def test_no_credential_reaches_the_lineage_events(lake) -> None:
    from governance.sensitivity.tags import event_files

    settings, _ = lake
    for path in event_files(settings):
        text = path.read_text(encoding="utf-8")
        assert settings.storage.secret_key not in text
        assert settings.storage.access_key not in text


def test_the_pii_scanner_suggests_tags_on_real_bronze_samples(lake, capsys) -> None:
    import argparse

    from app.cli.governance import _tags_store, cmd_tags_scan
    from governance.sensitivity.suggestions import load_store

    settings, _ = lake
    args = argparse.Namespace(source=["consular_register", "pvt_visas"], rows=200, json=False)
    assert cmd_tags_scan(settings, args) == 0
    stored = {(e.source, e.column): e for e in load_store(_tags_store(settings))}
    email = stored[("consular_register", "email")]
    assert {ev.rule for ev in email.evidence} >= {"email"}
    assert email.status == "declared"  # the contract already says level 1, personal
    assert not any(source == "pvt_visas" for source, _ in stored)  # nothing personal there
    out = capsys.readouterr().out
    assert "@" not in out.replace("(at)", "")  # examples are masked


def test_the_catalogue_counts_domains_and_exposure(lake, capsys) -> None:
    import argparse

    from app.cli.governance import cmd_catalog

    settings, _ = lake
    assert cmd_catalog(settings, argparse.Namespace(json=True)) == 0
    catalog = json.loads(capsys.readouterr().out)
    tables = {t["layer"] + "/" + t["name"]: t for t in catalog["tables"]}
    assert catalog["summary"]["domain_count"] == len({t["domain"] for t in tables.values()})
    register = tables["silver/consular_register"]
    assert register["level"] == 1 and register["owner"] == "DFAE"
    assert register["rows"] > 0 and register["quality_score"] is not None
    assert tables["gold/inscrits_par_pays_poste"]["level"] == 4  # aggregated under the secret


# --- governance products (A09, A15, dashboard) on the same run ------------------------------------


def test_the_cloud_framework_keeps_personal_data_off_the_public_cloud(lake) -> None:
    from app.cli.reports import cloud_decisions, gather

    settings, _ = lake
    _, decisions = cloud_decisions(settings, gather(settings))
    by_table = {f"{d.layer}/{d.table}": d for d in decisions}
    for layer in ("bronze", "silver", "quarantine"):
        register = by_table[f"{layer}/consular_register"]
        assert "public_cloud" not in register.hostings
        assert register.rule_id and register.explanation_fr
    open_data = by_table["gold/pvt_par_pays_annee"]
    assert set(open_data.hostings) == {"on_premises", "secnumcloud", "public_cloud"}
    assert all(d.rule_id and d.explanation_fr for d in decisions)


def test_every_figure_of_the_study_comes_from_the_lake(lake, tmp_path: Path) -> None:
    import shutil

    import yaml

    from app.cli.reports import build_study, cloud_decisions, gather
    from governance.study.cost import load_cost_model

    settings, _ = lake
    facts = gather(settings)
    _, decisions = cloud_decisions(settings, facts)
    study = build_study(settings, facts, decisions).to_dict()
    summary = facts.catalog["summary"]
    assert study["totals"]["tables"] == summary["tables"]
    assert study["totals"]["rows"] == summary["rows"]
    reviews = {r["review_id"] for r in facts.quality}
    assert study["quality"]["reviews"] == len(reviews)
    silver = [r for r in facts.runs if r["layer"] == "silver"]
    assert [g["batch_id"] for g in study["activity"]["growth"]] == [
        r["batch_id"] for r in sorted(silver, key=lambda r: r["started_at"])
    ]
    # a cost parameter changed in the config changes the cost figures
    cost_file = tmp_path / "cost_model.yaml"
    shutil.copy(REPO / "policy" / "cost_model.yaml", cost_file)
    model = yaml.safe_load(cost_file.read_text(encoding="utf-8"))
    model["hosting"]["on_premises"]["vcpu_eur_per_hour"] *= 10
    cost_file.write_text(yaml.safe_dump(model, allow_unicode=True), encoding="utf-8")
    load_cost_model(cost_file)  # still valid
    dearer = build_study(settings, facts, decisions, cost_file).to_dict()
    before = {s["scenario"]: s["compute_eur_year"] for s in study["costs"]["scenarios"]}
    after = {s["scenario"]: s["compute_eur_year"] for s in dearer["costs"]["scenarios"]}
    assert after["on_premises"] == pytest.approx(before["on_premises"] * 10)
    assert after["public_cloud"] == before["public_cloud"]


def test_the_reports_render_in_headless_chromium(lake, tmp_path: Path) -> None:
    import argparse

    from app.cli.reports import cmd_reports

    settings, _ = lake
    assert cmd_reports(settings, argparse.Namespace(json=False)) == 0
    reports = settings.reports.dir
    pages = [
        reports / "index.html",
        reports / "tableau-de-bord.html",
        reports / "cloud.html",
        reports / "etude" / "index.html",
        reports / "quality" / "index.html",
    ]
    assert all(p.is_file() for p in pages)
    from browser import require_browser, screenshot

    binary = require_browser()

    for page in pages:
        shot = screenshot(binary, page, tmp_path / f"{page.parent.name}-{page.stem}.png")
        assert shot.distinct_rows > 100, page


def test_the_spark_listener_of_this_run_puts_bronze_upstream_of_silver(lake, lake_settings) -> None:
    """The OpenLineage Spark listener's own events of this run (not a file an earlier `make demo`
    left behind) give silver its bronze input, and never a dataset as its own input."""
    import time

    from governance.lineage.graph import LineageGraph
    from lake.spark import spark_events_file

    settings, _ = lake
    events = spark_events_file(lake_settings)  # the session's listener, configured at start-up
    silver, bronze = table_uri(settings, "silver", "adoptions"), "bronze/adoptions"
    deadline = time.monotonic() + 60  # the listener writes from Spark's listener bus thread
    while True:
        graph = LineageGraph.from_events([events])
        found = [
            d
            for d in graph.datasets
            if d.namespace == f"s3://{settings.storage.bucket}" and d.name == "silver/adoptions"
        ]
        if found or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert found, f"no Spark listener event wrote {silver} in {events}"
    upstream = graph.upstream(found[0], depth=1)
    assert any(d.name == bronze for d in upstream.datasets), upstream.datasets
    assert all(e.source.dataset != e.target.dataset for e in graph.column_edges)


def test_a_new_delivery_is_reviewed_and_its_markup_shown_as_text(spark, lake, tmp_path) -> None:
    """Runs last: a third adoptions delivery with markup in a value outside the allowed list."""
    import html
    from html.parser import HTMLParser

    from quality import history
    from quality.review import write_reviews

    settings, _ = lake
    sample = REPO / "samples" / "adoptions" / "delivery-1" / "adoptions_2026-01-15.csv"
    lines = sample.read_text(encoding="latin-1").splitlines()
    lines[5] = (
        lines[5]
        .replace("0-2 ans", "<script>alert(1)</script>")
        .replace("3-5 ans", "<script>alert(1)</script>")
    )
    assert "<script>" in lines[5]
    delivery = tmp_path / "adoptions_2026-03-02.csv"
    delivery.write_text("\n".join(lines) + "\n", encoding="latin-1")
    run(
        spark,
        settings,
        gates=quality_gates(settings),
        lineage=lineage_sink(settings),
        sources=["adoptions"],
        files=[delivery],
    )
    reviews = {r["review_id"] for r in history.read(settings) if r["table"] == "silver/adoptions"}
    assert len(reviews) == 3  # one review per delivery: the trend has three points
    page = write_reviews(settings, domain="Adoption internationale").pages
    text = next(iter(page.values())).read_text(encoding="utf-8")

    class Scripts(HTMLParser):
        found = 0

        def handle_starttag(self, tag, attrs):
            self.found += tag == "script"

    parser = Scripts()
    parser.feed(text)
    assert parser.found == 0  # the value is shown, never run
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    domain_reviews = {
        r["review_id"] for r in history.read(settings) if r["domain"] == "Adoption internationale"
    }
    assert text.count("<circle ") == len(domain_reviews) == 5  # 3 silver + 2 gold reviews
    assert "une valeur hors de la liste autorisée" in html.unescape(text)
