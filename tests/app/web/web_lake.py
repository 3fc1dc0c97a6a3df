"""A small real lake for the ``lake serve`` tests: tables, lineage, reviews, Data Docs, accounts.

Everything is written the way the lake writes it, without Spark: two silver tables with delta-rs
on the test MinIO (the level-1 consular register, the level-4 travel advice), the OpenLineage
events of their bronze -> silver step (so tags are derived as for ``lake export view``), review
rows in ``meta/quality_results``, a real GX Data Docs site (pandas validation, GX's own pages
with their CDN links) and accounts created with ``lake users add``.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conftest import REPO, lake_env
from lake.settings import Settings
from lake.storage import ensure_bucket, table_uri

LAKE = str(Path(sys.executable).parent / "lake")
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
BIRTH_DATE = "1987-03-14"  # a level-1 value a level-4 reader must never see
PASSWORDS = {
    "dfae.revue": "phrase de passe DFAE " + secrets.token_hex(4),
    "lecteur4": "phrase de passe publique " + secrets.token_hex(4),
    "agent2": "phrase de passe interne " + secrets.token_hex(4),
}
ACCOUNTS = {
    "dfae.revue": ("1", ["DFAE"]),
    "lecteur4": ("4", []),
    "agent2": ("2", []),
}


@dataclass
class WebLake:
    settings: Settings
    env: dict[str, str]
    tmp: Path


def web_settings(base: Settings, tmp: Path) -> Settings:
    """The test MinIO with a bucket of its own (nobody else writes its meta tables)."""
    settings = base.with_overrides(
        {
            "storage": {"bucket": "lake-web"},
            "reports": {"dir": str(tmp / "reports")},
            "lineage": {"file": str(tmp / "lineage" / "events.jsonl"), "transport": "file"},
            "security": {"pseudonymisation_key_file": str(tmp / "secrets" / "pseudo.key")},
        }
    )
    ensure_bucket(settings)
    return settings


def write_tables(settings: Settings) -> None:
    """Two silver tables and the lineage of their bronze -> silver step."""
    import pyarrow as pa
    from deltalake import write_deltalake

    from governance.lineage.emit import OpenLineageSink
    from lake.contracts import load_contracts
    from lake.delta_reader import storage_options, to_delta_rs_uri
    from lake.lineage import ColumnSource, DatasetIO

    tables = {
        "consular_register": {
            "registration_id": ["INS-0001", "INS-0002"],
            "birth_date": [BIRTH_DATE, "1990-11-02"],
        },
        "travel_advice": {"country": ["ISL", "NOR"], "zone": ["vert", "rouge"]},
    }
    contracts = load_contracts(settings.root)
    sink = OpenLineageSink(settings, contracts)
    for source, columns in tables.items():
        uri = table_uri(settings, "silver", source)
        write_deltalake(
            to_delta_rs_uri(uri),
            pa.table(columns),
            mode="overwrite",
            storage_options=storage_options(settings) or None,
        )
        bronze = table_uri(settings, "bronze", source)
        names = [(c, "string") for c in columns]
        inputs = [DatasetIO(uri=bronze, columns=names, source=source)]
        outputs = [
            DatasetIO(
                uri=uri,
                columns=names,
                source=source,
                lineage={c: [ColumnSource(bronze, c)] for c in columns},
            )
        ]
        run = sink.start("silver", run_id=f"web-{source}", inputs=inputs)
        sink.complete("silver", run, inputs=inputs, outputs=outputs)


def review_rows(
    review_id: str, source: str, domain: str, owner: str, at: dt.datetime, failing: bool
) -> list[dict[str, Any]]:
    """The rows of one silver review as the gate writes them (two rules)."""
    base = {
        "review_id": review_id,
        "run_id": "run-" + review_id,
        "reviewed_at": at,
        "source": source,
        "domain": domain,
        "owner": owner,
        "table": f"silver/{source}",
        "layer": "silver",
        "batch_id": "batch-" + review_id,
        "table_version": 1,
        "severity": "blocking",
        "scope": "row",
        "element_count": 2,
        "decision": "promoted_with_warnings" if failing else "promoted",
        "rows_reviewed": 2,
        "rows_rejected": 1 if failing else 0,
        "data_docs": "/tmp/whatever/index.html",
    }
    first = "birth_date" if source == "consular_register" else "zone"
    return [
        {
            **base,
            "rule_id": f"{first}.required",
            "expectation": "expect_column_values_to_not_be_null",
            "column": first,
            "success": not failing,
            "unexpected_count": 1 if failing else 0,
            "unexpected_percent": 50.0 if failing else 0.0,
            "message": "valeur manquante",
            "fix": "renseigner la valeur dans le logiciel source",
        },
        {
            **base,
            "rule_id": "batch.not_empty",
            "expectation": "expect_table_row_count_to_be_between",
            "column": None,
            "success": True,
            "unexpected_count": 0,
            "unexpected_percent": 0.0,
            "scope": "table",
            "severity": "warning",
        },
    ]


def write_reviews(settings: Settings) -> None:
    from quality import history

    history.append(
        settings,
        [
            *review_rows(
                "rev-cr-1",
                "consular_register",
                "Administration consulaire",
                "DFAE",
                NOW - dt.timedelta(hours=2),
                failing=True,
            ),
            *review_rows(
                "rev-ta-1",
                "travel_advice",
                "Sécurité des Français à l'étranger",
                "CDCS",
                NOW - dt.timedelta(hours=2),
                failing=False,
            ),
        ],
    )


def build_data_docs(settings: Settings) -> Path:
    """A real GX Data Docs site (one pandas validation), with GX's CDN links in it."""
    import great_expectations as gx
    import pandas as pd

    from quality.validation import context, data_docs_index

    ctx = context(settings.reports.dir)
    source = ctx.data_sources.add_pandas("web-test")
    batch = source.add_dataframe_asset("pays").add_batch_definition_whole_dataframe("whole")
    suite = ctx.suites.add(
        gx.ExpectationSuite(
            name="web.pays",
            expectations=[
                gx.expectations.ExpectColumnValuesToNotBeNull(column="country"),
                gx.expectations.ExpectColumnValuesToBeInSet(
                    column="zone", value_set=["vert", "orange"]
                ),
            ],
        )
    )
    definition = ctx.validation_definitions.add(
        gx.ValidationDefinition(name="web.pays", data=batch, suite=suite)
    )
    frame = pd.DataFrame({"country": ["ISL", "NOR", "FRA"], "zone": ["vert", "rouge", "vert"]})
    definition.run(batch_parameters={"dataframe": frame})
    ctx.build_data_docs()
    return data_docs_index(settings.reports.dir)


def add_accounts(settings: Settings, env: dict[str, str]) -> None:
    for login, (level, directions) in ACCOUNTS.items():
        args = [LAKE, "users", "add", login, "--level", level, "--password-stdin"]
        for d in directions:
            args += ["--direction", d]
        done = subprocess.run(
            args,
            input=PASSWORDS[login] + "\n",
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=REPO,
        )
        assert done.returncode == 0, done.stderr


def serve_env(settings: Settings) -> dict[str, str]:
    return lake_env(
        settings,
        LAKE__REPORTS__DIR=str(settings.reports.dir),
        LAKE__LINEAGE__TRANSPORT="file",
    )


def start_server(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    """``lake serve`` as users start it, on 127.0.0.1:port; waits until it answers."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [LAKE, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            start_new_session=True,
        )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"lake serve exited {proc.returncode}: {log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise AssertionError(f"lake serve did not listen on {port}: {log.read_text()}")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait(timeout=20)
