"""The lake's OpenLineage emitter: real transports (a file, an HTTP server on loopback), events
valid against the official schemas, and a failed emit that never breaks the job."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from conftest import REPO, base_settings
from governance.lineage.emit import OpenLineageSink
from governance.lineage.ol_schema import EventValidator, SpecLocation, check_run_states
from lake.contracts import load_contracts
from lake.lineage import ColumnSource, DatasetIO
from lake.processes import free_port
from lake.storage import table_uri

SPEC = REPO / "reference" / "openlineage-spec"
needs_spec = pytest.mark.skipif(not SPEC.is_dir(), reason="reference/ (vendored) is missing")


def _step(sink: OpenLineageSink, settings) -> None:
    bronze = table_uri(settings, "bronze", "consular_register")
    silver = table_uri(settings, "silver", "consular_register")
    inputs = [
        DatasetIO(
            uri=bronze,
            columns=[("last_name", "string")],
            source="consular_register",
            assertions=[
                {
                    "assertion": "expect_column_values_to_not_be_null",
                    "success": False,
                    "column": "last_name",
                    "severity": "blocking",
                    "name": "consular_register.last_name.required",
                    "description": "n'ont pas de valeur dans « Nom »",
                    "actual": "1",
                }
            ],
        )
    ]
    outputs = [
        DatasetIO(
            uri=silver,
            columns=[("last_name", "string")],
            lineage={
                "last_name": [
                    ColumnSource(bronze, "last_name", "DIRECT/TRANSFORMATION", True, "HMAC-SHA256")
                ]
            },
            source="consular_register",
            rows=59,
        )
    ]
    whole = sink.start("run", run_id="r1", inputs=[])
    step = sink.start("silver.consular_register", run_id="r1", inputs=inputs)
    sink.complete("silver.consular_register", step, inputs=inputs, outputs=outputs)
    sink.complete("run", whole, inputs=[], outputs=[])


@needs_spec
def test_file_transport_writes_valid_events(tmp_path: Path) -> None:
    settings = base_settings(tmp_path)
    sink = OpenLineageSink(settings, load_contracts(REPO))
    _step(sink, settings)
    report = EventValidator(SpecLocation.find().path).validate_file(settings.lineage.file)
    assert (report.events, report.problems) == (4, [])
    events = [json.loads(line) for line in settings.lineage.file.read_text().splitlines()]
    assert check_run_states(events) == []
    silver = events[2]["outputs"][0]
    assert silver["name"] == "silver/consular_register"
    assert silver["facets"]["ownership"]["owners"] == [{"name": "direction:DFAE", "type": "OWNER"}]
    tags = {(t["field"], t["key"]): t["value"] for t in silver["facets"]["tags"]["tags"]}
    assert tags[("last_name", "niveau_exposition")] == "1"
    assert tags[("last_name", "pseudonymise")] == "true"
    (field,) = silver["facets"]["columnLineage"]["fields"]["last_name"]["inputFields"]
    assert field["transformations"][0]["masking"] is True
    step_run = events[2]["run"]
    assert step_run["facets"]["parent"]["run"]["runId"] == events[0]["run"]["runId"]
    dq = events[2]["inputs"][0]["inputFacets"]["dataQualityAssertions"]["assertions"]
    assert dq[0]["name"] == "consular_register.last_name.required" and dq[0]["success"] is False


@needs_spec
def test_http_transport_posts_events_to_a_lineage_server(tmp_path: Path) -> None:
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"path": self.path, "event": json.loads(body)})
            self.send_response(201)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return None

    port = free_port()
    server = HTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        settings = base_settings(tmp_path).with_overrides(
            {"lineage": {"transport": "http", "url": f"http://127.0.0.1:{port}"}}
        )
        sink = OpenLineageSink(settings, load_contracts(REPO))
        _step(sink, settings)
    finally:
        server.shutdown()
    assert [r["path"] for r in received] == ["/api/v1/lineage"] * 4  # Marquez's endpoint
    validator = EventValidator(SpecLocation.find().path)
    assert all(validator.validate(r["event"]) == [] for r in received)
    assert (sink.emitted, sink.sent, sink.failed) == (4, 4, 0)
    # the server is not the only copy: the journal's spool has every event too
    assert len(settings.lineage.file.read_text().splitlines()) == 4


def test_an_unreachable_lineage_server_never_breaks_the_job(tmp_path: Path) -> None:
    settings = base_settings(tmp_path).with_overrides(
        {"lineage": {"transport": "http", "url": f"http://127.0.0.1:{free_port()}"}}
    )
    sink = OpenLineageSink(settings, load_contracts(REPO))
    _step(sink, settings)  # no exception
    assert (sink.emitted, sink.sent, sink.failed) == (4, 0, 0)  # kept in the journal, not lost
    assert sink.server_down
    assert len(settings.lineage.file.read_text().splitlines()) == 4
