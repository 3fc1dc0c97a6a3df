"""Retention and erasure on the real stack (MinIO, Spark + Delta, GX gates, lineage), proved with
an independent reader: every object of the bucket is scanned (Delta logs and checkpoints as
bytes, Parquet data files decoded with pyarrow, landing files as bytes) and every readable
version of every table is loaded with delta-rs.

One small lake (the register, the HR extract and the travel advice, two deliveries each) is
ingested once for the module; the tests run in order: access export, erasure dry run, erasure,
rerun of the inbox, then retention on the two other sources.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.compose import lineage_sink, quality_gates
from ingestion.gold import INDICATORS
from ingestion.pipeline import run
from ingestion.runlog import read_runs
from lake import copies, delta_io
from lake.access_roles import view_key
from lake.contracts import load_contracts
from lake.delta_reader import open_table
from lake.objects import ObjectStore
from lake.storage import ensure_bucket, object_client, table_uri
from lifecycle import journal
from lifecycle.access_request import gather, page
from lifecycle.erasure import execute, plan_erasure
from lifecycle.retention import apply, archive_uri, plan_retention
from lifecycle.subjects import Subject

pytestmark = [pytest.mark.spark, pytest.mark.minio, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
SOURCES = ["consular_register", "hr_agents", "travel_advice", "adoptions"]
BUCKET = "lake-lifecycle"


@pytest.fixture(scope="module")
def lake(spark, lake_settings, tmp_path_factory) -> Iterator[Any]:
    tmp = tmp_path_factory.mktemp("lifecycle")
    inbox = tmp / "inbox"
    for source in SOURCES:
        shutil.copytree(REPO / "samples" / source, inbox / source)
    settings = lake_settings.with_overrides(
        {
            "storage": {"bucket": BUCKET},
            "ingestion": {"inbox": str(inbox)},
            "security": {"pseudonymisation_key_file": str(tmp / "key")},
            "lineage": {"transport": "file", "file": str(tmp / "lineage" / "events.jsonl")},
            "reports": {"dir": str(tmp / "reports"), "data_docs": False},
        }
    )
    ensure_bucket(settings)
    summary = run(
        spark,
        settings,
        sources=SOURCES,
        gates=quality_gates(settings, data_docs=False),
        lineage=lineage_sink(settings),
    )
    assert all(r.status == "succeeded" for r in summary.records)
    yield settings


def ports(settings) -> dict[str, Any]:
    """The quality gates and lineage sink a lifecycle action recomputes gold with."""
    return {"gates": quality_gates(settings, data_docs=False), "lineage": lineage_sink(settings)}


def _rows(spark, settings, layer: str, name: str) -> list[dict[str, Any]]:
    uri = table_uri(settings, layer, name)
    if not delta_io.table_exists(spark, uri):
        return []
    return [r.asDict() for r in delta_io.read_table(spark, uri).collect()]


def _subject(spark, settings) -> dict[str, Any]:
    """A registered person delivered in both extracts, with every identifier the lake holds."""
    bronze = delta_io.read_table(spark, table_uri(settings, "bronze", "consular_register"))
    silver = delta_io.read_table(spark, table_uri(settings, "silver", "consular_register"))
    twice = (
        bronze.groupBy("registration_id")
        .count()
        .filter("count = 2")
        .join(silver.select("registration_id"), "registration_id")
        .orderBy("registration_id")
        .first()
    )
    assert twice is not None, "the samples hold registrations delivered twice"
    key = twice["registration_id"]
    raw = bronze.filter(bronze.registration_id == key).collect()
    typed = silver.filter(silver.registration_id == key).first()
    # What names this person alone: the key, contact details and address as delivered, and the
    # pseudonyms of the contact details. A first or last name alone is shared with others; the
    # name, first name and birth date together are checked per row (`together`).
    identifiers = {key}
    for row in raw:
        for column in ("email", "phone", "address"):
            if row[column] and len(row[column].strip()) > 5:
                identifiers.add(row[column].strip())
    for column in ("email", "phone"):
        if typed[column]:
            identifiers.add(typed[column])
    first = raw[0]
    return {
        "key": key,
        "identifiers": identifiers,
        "together": (first["last_name"].strip(), first["first_name"].strip(), first["birth_date"]),
        "bronze_rows": len(raw),
        "last_name": first["last_name"].strip(),
        "first_name": first["first_name"].strip(),
        "birth_date": first["birth_date"].strip(),
    }


def _holds(texts: list[str], needles: set[str], together: tuple[str, ...]) -> list[str]:
    """The needles found in any text, and "name+first name+birth date" if one text (a row or
    a line) holds all three."""
    hits = [n[:4] + "..." for n in needles if any(n in t for t in texts)]
    if any(all(part in t for part in together) for t in texts):
        hits.append("name+first name+birth date")
    return hits


def _scan_bucket(settings, subject: dict[str, Any]) -> list[str]:
    """Every object of the bucket, read independently of Spark; where the person appears."""
    import pyarrow.parquet as pq

    client = object_client(settings)
    found = []
    for obj in client.list_objects(BUCKET, recursive=True):
        name = obj.object_name or ""
        response = client.get_object(BUCKET, name)
        try:
            data = response.read()
        finally:
            response.close()
            response.release_conn()
        texts = data.decode("utf-8", "replace").split("\n")
        if name.endswith(".parquet"):
            rows = pq.read_table(io.BytesIO(data)).to_pylist()
            texts += [json.dumps(r, default=str, ensure_ascii=False) for r in rows]
        hits = _holds(texts, subject["identifiers"], subject["together"])
        found += [f"{name}: {hit}" for hit in hits]
    return found


def _scan_versions(settings, subject: dict[str, Any]) -> list[str]:
    """Every version of every table delta-rs can still load (the time-travel horizon)."""
    found = []
    tables = set()
    for obj in object_client(settings).list_objects(BUCKET, recursive=True):
        name = obj.object_name or ""
        if "/_delta_log/" in name:
            tables.add(name.split("/_delta_log/")[0])
    for table in sorted(tables):
        uri = f"s3a://{BUCKET}/{table}"
        latest = open_table(settings, uri).version()
        for version in range(latest + 1):
            try:
                data = open_table(settings, uri, version=version).to_pyarrow_table()
            except Exception:
                continue  # purged from the log: no longer reachable by time travel
            texts = [json.dumps(r, default=str, ensure_ascii=False) for r in data.to_pylist()]
            found += [
                f"{table}@v{version}: {hit}"
                for hit in _holds(texts, subject["identifiers"], subject["together"])
            ]
    return found


@pytest.fixture(scope="module")
def erased(spark, lake) -> dict[str, Any]:
    settings = lake
    subject = _subject(spark, settings)
    before = {
        layer: _rows(spark, settings, layer, "consular_register")
        for layer in ("bronze", "silver", "quarantine")
    }
    plan = plan_erasure(spark, settings, Subject.parse([f"registration_id={subject['key']}"]))
    certificate = execute(
        spark, settings, plan, **ports(settings), certificate_dir=settings.reports.dir / "rgpd"
    )
    return {"subject": subject, "before": before, "plan": plan, "certificate": certificate}


def test_access_export_gathers_the_person_with_origin(spark, lake) -> None:
    subject = _subject(spark, lake)
    criteria = [
        f"last_name={subject['last_name'].lower()}",
        f"first_name={subject['first_name']}",
        f"birth_date={subject['birth_date']}",
    ]
    export = gather(spark, lake, Subject.parse(criteria))
    (register,) = export["sources"]
    assert register["source"] == "consular_register"
    assert {r["registration_id"] for r in register["delivered"]} == {subject["key"]}
    assert len(register["delivered"]) == subject["bronze_rows"]
    assert all(r["_file_uri"].startswith(f"s3a://{BUCKET}/landing/") for r in register["delivered"])
    assert [r["last_name"] for r in register["current"]] == ["pseudonymisé"]
    assert "gold/inscrits_par_pays_poste" in {c["indicator"] for c in register["counted_in"]}
    html = page({**export, "sources": [{**register, "title": "<script>x</script>"}]})
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_dry_run_plan_names_everything_lineage_derives(spark, lake) -> None:
    subject = _subject(spark, lake)
    plan = plan_erasure(spark, lake, Subject.parse([f"registration_id={subject['key']}"]))
    (match,) = plan.found
    assert match.bronze_rows == subject["bronze_rows"] and match.silver_rows == 1
    derived = plan.lineage["consular_register"]
    assert "silver/consular_register" in derived and "gold/inscrits_par_pays_poste" in derived
    assert plan.unhandled == []
    text = json.dumps(plan.as_dict(), ensure_ascii=False)
    assert not [i for i in subject["identifiers"] if i in text], "a plan never shows the values"
    # the dry run changed nothing
    assert _rows(spark, lake, "silver", "consular_register")


def test_erasure_leaves_no_trace_in_any_object_or_version(lake, erased) -> None:
    assert _scan_bucket(lake, erased["subject"]) == []
    assert _scan_versions(lake, erased["subject"]) == []


def test_erasure_touches_nobody_else_and_reconciles(spark, lake, erased) -> None:
    key = erased["subject"]["key"]
    for layer in ("bronze", "silver"):
        now = _rows(spark, lake, layer, "consular_register")
        others = [r for r in erased["before"][layer] if r["registration_id"] != key]
        assert sorted(map(repr, now)) == sorted(map(repr, others)), layer
    runs = read_runs(lake, source="consular_register")
    removed = journal.removed_per_batch(journal.read(lake), "bronze/consular_register")
    assert sum(removed.values()) == erased["subject"]["bronze_rows"]
    bronze = delta_io.read_table(spark, table_uri(lake, "bronze", "consular_register"))
    for r in runs:
        if r["layer"] == "bronze" and r["status"] == "succeeded" and r["rows_out"]:
            left = bronze.filter(bronze._batch_id == r["batch_id"]).count()
            assert left + removed.get(r["batch_id"], 0) == r["rows_out"], r["batch_id"]


def test_gold_equals_a_recomputation_without_the_person(spark, lake, erased) -> None:
    silver = {
        "consular_register": delta_io.read_table(
            spark, table_uri(lake, "silver", "consular_register")
        )
    }
    for indicator in INDICATORS:
        if indicator.sources != ("consular_register",):
            continue
        expected = indicator.build(silver, lake).collect()
        stored = delta_io.read_table(spark, table_uri(lake, "gold", indicator.name)).collect()
        assert sorted(map(repr, stored)) == sorted(map(repr, expected)), indicator.name


def test_certificate_says_what_was_done_without_the_values(lake, erased) -> None:
    certificate = erased["certificate"]
    text = Path(certificate["files"][0]).read_text() + Path(certificate["files"][1]).read_text()
    assert not [i for i in erased["subject"]["identifiers"] if i in text]
    changes = {c["table"]: c for c in certificate["changes"]}
    assert changes["silver/consular_register"]["rows"] == 1
    assert changes["bronze/consular_register"]["rows"] == erased["subject"]["bronze_rows"]
    assert changes["gold/inscrits_par_pays_poste"]["action"] == "recompute"
    assert (
        sum(f["lines_blanked"] for f in certificate["landing_files"])
        == erased["subject"]["bronze_rows"]
    )
    purged = {p["table"] for p in certificate["purged"]}
    assert {"bronze/consular_register", "silver/consular_register"} <= purged
    assert certificate["outside_lake"], "the silo's copies in the inbox are named"
    assert "Certificat d'effacement" in text


def test_audit_names_the_erasure_and_who_ran_it(lake, erased) -> None:
    import getpass

    from governance.audit import collect

    request = erased["certificate"]["request_id"]
    for table in ("silver/consular_register", "bronze/consular_register"):
        newest = collect(lake, table).versions[0]
        assert newest.run_id == request, table
        assert newest.run is not None and newest.run["user"] == getpass.getuser()
        assert newest.run["job"] == "erasure:delete"


def test_redelivery_does_not_bring_the_person_back(spark, lake, erased) -> None:
    summary = run(
        spark,
        lake,
        sources=["consular_register"],
        gates=quality_gates(lake, data_docs=False),
        lineage=lineage_sink(lake),
    )
    assert all(r.status in ("succeeded", "skipped") for r in summary.records)
    assert _scan_bucket(lake, erased["subject"]) == []


def _landing(settings, source: str) -> dict[str, Any]:
    client = object_client(settings)
    return {
        (o.object_name or "").rsplit("/", 1)[-1]: client.stat_object(BUCKET, o.object_name or "")
        for o in client.list_objects(BUCKET, f"landing/{source}/", recursive=True)
    }


def test_retention_purges_what_is_past_its_dua_in_every_layer(spark, lake) -> None:
    # hr_agents: 5 years from the record's last delivery, then purge.
    as_of = dt.date(2031, 2, 1)  # delivery 1 (2026-01-15) is past, delivery 2 (2026-02-16) not
    (hr,) = plan_retention(spark, lake, as_of=as_of, sources=["hr_agents"])
    bronze_before = _rows(spark, lake, "bronze", "hr_agents")
    silver_before = _rows(spark, lake, "silver", "hr_agents")

    def key(row: dict[str, Any]) -> str:
        return (row["agent_id"] or "").strip()

    second = {key(r) for r in bronze_before if r["_file_uri"].endswith("2026-02-16.csv")} - {""}
    expired_bronze = [
        r
        for r in bronze_before
        if r["_file_uri"].endswith("2026-01-15.csv") and key(r) not in second
    ]
    expired_silver = [r for r in silver_before if r["agent_id"] not in second]
    assert hr.bronze_rows == len(expired_bronze) > 0
    assert hr.silver_rows == len(expired_silver) > 0
    assert not hr.landing_files_whole and len(hr.landing_files_partial) == 1

    report = apply(spark, lake, as_of=as_of, sources=["hr_agents"], **ports(lake))

    bronze_after = _rows(spark, lake, "bronze", "hr_agents")
    gone = {(r["_file_uri"], r["_line"]) for r in expired_bronze}
    assert sorted(map(repr, bronze_after)) == sorted(
        repr(r) for r in bronze_before if (r["_file_uri"], r["_line"]) not in gone
    )
    silver_after = _rows(spark, lake, "silver", "hr_agents")
    assert sorted(r["agent_id"] for r in silver_after) == sorted(
        r["agent_id"] for r in silver_before if r["agent_id"] in second
    )
    first_file = _landing(lake, "hr_agents")["hr_agents_2026-01-15.csv"]
    assert first_file.metadata["x-amz-meta-erased-lines"] == str(len(expired_bronze))
    logged = [r for r in journal.read(lake) if r["request_id"] == report["request_id"]]
    assert sum(r["rows"] for r in logged if r["table"] == "bronze/hr_agents") == len(gone)
    assert any(r["action"] == "vacuum" and r["table"] == "silver/hr_agents" for r in logged)

    # Two years later everything is past its DUA: tables empty, landing files removed.
    apply(spark, lake, as_of=dt.date(2033, 1, 1), sources=["hr_agents"], **ports(lake))
    assert _rows(spark, lake, "bronze", "hr_agents") == []
    assert _rows(spark, lake, "silver", "hr_agents") == []
    assert _landing(lake, "hr_agents") == {}


def test_retention_archives_to_the_cold_prefix(spark, lake) -> None:
    # travel_advice: 5 years from effective_date, then archive.
    before = _rows(spark, lake, "silver", "travel_advice")
    effective = sorted(r["effective_date"] for r in before)
    middle = effective[len(effective) // 2]
    as_of = middle.replace(year=middle.year + 5)
    apply(spark, lake, as_of=as_of, sources=["travel_advice"], **ports(lake))
    after = _rows(spark, lake, "silver", "travel_advice")
    archived = [
        r.asDict()
        for r in delta_io.read_table(spark, archive_uri(lake, "silver", "travel_advice")).collect()
    ]
    assert all(r["effective_date"] >= middle for r in after)
    assert sorted(repr(sorted(r.items())) for r in archived) == sorted(
        repr(sorted(r.items())) for r in before if r["effective_date"] < middle
    )
    assert len(after) + len(archived) == len(before)


def _publish(spark, settings, table: str, audience: int) -> str:
    """A view of ``table`` published for ``audience`` as `lake access publish` does (CSV)."""
    layer, name = table.split("/")
    frame = delta_io.read_table(spark, table_uri(settings, layer, name)).toPandas()
    key = view_key(table, audience)
    ObjectStore(settings).put_bytes(key, frame.to_csv(index=False).encode(), metadata={})
    return key


def test_erasure_reaches_the_archive_every_version_and_every_copy(spark, lake) -> None:
    """Issue 17: retention archives a whole source, then one person of it is erased."""
    silver = _rows(spark, lake, "silver", "adoptions")
    key = sorted(r["adoption_id"] for r in silver)[0]
    person = {"identifiers": {key}, "together": (key,)}
    view = _publish(spark, lake, "silver/adoptions", 2)
    apply(spark, lake, as_of=dt.date(2100, 1, 1), sources=["adoptions"], **ports(lake))
    assert _rows(spark, lake, "silver", "adoptions") == []
    assert _rows(spark, lake, "bronze", "adoptions") == []

    # The registry: every object holding the person is under a prefix of the source's stores,
    # and every object of the bucket is under some source's prefix or a shared one.
    held = sorted({h.split(": ")[0] for h in _scan_bucket(lake, person)})
    assert any(k.startswith("archive/") for k in held), held
    assert view in held
    mine = tuple(copies.bucket_prefixes(lake, "adoptions"))
    assert [k for k in held if not k.startswith(mine)] == []
    registered = (
        tuple(p for s in load_contracts(REPO) for p in copies.bucket_prefixes(lake, s))
        + copies.SHARED_PREFIXES
    )
    keys = [o.object_name or "" for o in object_client(lake).list_objects(BUCKET, recursive=True)]
    stray = [k for k in keys if not k.startswith(registered)]
    assert sorted({k.split("/")[0] for k in stray}) == [], stray

    # Access export finds the person in the archive (nothing is left hot).
    export = gather(spark, lake, Subject.parse([f"adoption_id={key}"]))
    (entry,) = export["sources"]
    assert entry["delivered"] == [] and entry["current"] == []
    assert [r["adoption_id"] for r in entry["archived"]] and {
        r["adoption_id"].strip() for r in entry["archived"]
    } == {key}
    assert [r["adoption_id"] for r in entry["archived_records"]] == [key]

    plan = plan_erasure(spark, lake, Subject.parse([f"adoption_id={key}"]), sources=["adoptions"])
    assert plan.found, "the person is in the archive and in older versions: not 'nothing'"
    certificate = execute(
        spark, lake, plan, **ports(lake), certificate_dir=lake.reports.dir / "rgpd"
    )

    # Every object of the bucket (all prefixes, every data file, _delta_log) and every version
    # delta-rs can still load: no trace of the person.
    assert _scan_bucket(lake, person) == []
    assert _scan_versions(lake, person) == []
    checked = {s["store"]: s for s in certificate["stores_checked"]}
    assert set(checked) >= {p for p in mine}
    assert checked["archive/bronze/adoptions/"]["objects_holding_before"] > 0
    assert checked["archive/silver/adoptions/"]["rows_removed"] == 1
    assert all(s["objects_holding_after"] == 0 for s in checked.values())
    assert certificate["views_withdrawn"] == [view]
    assert certificate["objects_still_holding"] == 0
    for path in certificate["files"]:
        assert key not in Path(path).read_text(encoding="utf-8")

    # Asked again: a scan of every registered object finds nothing, so nothing to erase.
    again = plan_erasure(spark, lake, Subject.parse([f"adoption_id={key}"]), sources=["adoptions"])
    assert not again.found
