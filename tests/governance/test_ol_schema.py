"""Validation of OpenLineage events against the official JSON Schemas, fully offline."""

from __future__ import annotations

import copy
import json
import socket
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attr
import pytest
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    DatasetFacet,
    column_lineage_dataset,
    data_quality_assertions_dataset,
    datasource_dataset,
    documentation_dataset,
    job_type_job,
    ownership_dataset,
    schema_dataset,
    tags_dataset,
)
from openlineage.client.serde import Serde

from governance.errors import GovernanceError
from governance.lineage.model import LAKE_PRODUCER, STATISTICAL_SECRET_SCHEMA
from governance.lineage.ol_schema import (
    DEFAULT_SPEC_DIR,
    SPEC_ENV,
    EventValidator,
    SpecLocation,
    UnknownFacet,
    check_run_states,
)

REPO = Path(__file__).resolve().parents[2]
SPEC = DEFAULT_SPEC_DIR if (DEFAULT_SPEC_DIR / "OpenLineage.json").is_file() else None
needs_spec = pytest.mark.skipif(SPEC is None, reason=f"no OpenLineage spec at {DEFAULT_SPEC_DIR}")
EXAMPLES = sorted((SPEC / "tests").glob("*/*.json")) if SPEC else []
NS = "s3://lake"
RUN_ID = "01a22683-3339-76ca-afe0-ad57f02c7969"


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a connection fails the test: schemas must resolve from disk."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture(scope="module")
def validator() -> EventValidator:
    if SPEC is None:
        pytest.skip(f"no OpenLineage spec at {DEFAULT_SPEC_DIR}")
    return EventValidator(SPEC)


# -- locating the spec ------------------------------------------------------------------------


@needs_spec
def test_spec_location_precedence_is_argument_then_environment_then_default() -> None:
    assert SPEC is not None
    from_argument = SpecLocation.find(SPEC, env={SPEC_ENV: "/nowhere"})
    from_env = SpecLocation.find(env={SPEC_ENV: str(SPEC)})
    default = SpecLocation.find(env={})

    assert (from_argument.path, from_argument.origin) == (SPEC.resolve(), "argument")
    assert (from_env.path, from_env.origin) == (SPEC.resolve(), "environment")
    assert (default.path, default.origin) == (SPEC.resolve(), "default")


def test_spec_location_names_the_directory_and_the_fix_when_missing(tmp_path: Path) -> None:
    with pytest.raises(GovernanceError) as caught:
        SpecLocation.find(env={SPEC_ENV: str(tmp_path)})

    assert str(caught.value) == (
        f"No OpenLineage spec at {tmp_path} (from the environment): expected OpenLineage.json "
        "and facets/*.json there. Fix: pass the directory, or set LAKE_OPENLINEAGE_SPEC to a "
        "copy of the OpenLineage repository's spec/ folder."
    )
    with pytest.raises(GovernanceError, match=r"\(from the argument\)"):
        EventValidator(tmp_path)


def test_unknown_schema_url_is_refused_not_fetched(validator: EventValidator) -> None:
    with pytest.raises(GovernanceError) as caught:
        validator.validate_document({}, "https://example.com/spec/Other.json")

    message = str(caught.value)
    assert message.startswith("Cannot resolve https://example.com/spec/Other.json offline: ")
    assert message.endswith(f"Fix: add the missing schema to {SPEC} (from OpenLineage's spec/).")


def test_a_core_url_of_another_version_resolves_to_the_local_core(
    validator: EventValidator,
) -> None:
    old_core = "https://openlineage.io/spec/1-0-5/OpenLineage.json#/$defs/Run"

    assert validator.validate_document({"runId": RUN_ID}, old_core) == []
    assert validator.validate_document({}, old_core) == ["event: 'runId' is a required property"]


# -- the official examples --------------------------------------------------------------------


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_official_facet_examples_validate(validator: EventValidator, example: Path) -> None:
    # As upstream does: each example is checked against the facet file its folder is named
    # after (several examples' own _schemaURL are stale or name a sibling facet).
    document = json.loads(example.read_text(encoding="utf-8"))
    schema = validator.schema_ids[f"{example.parent.name}.json"]

    assert validator.validate_document(document, schema) == []


@needs_spec
def test_official_full_event_example_validates(validator: EventValidator) -> None:
    assert SPEC is not None
    event = json.loads((SPEC / "tests" / "example_full_event.json").read_text(encoding="utf-8"))

    report = validator.check(event)

    assert report.problems == []
    assert report.unknown_facets == [UnknownFacet("job.facets.sql", "sql", "http://123")]


@needs_spec
def test_a_facet_version_missing_from_the_reference_set_uses_the_nearest_one(
    validator: EventValidator,
) -> None:
    assert SPEC is not None
    example = SPEC / "tests" / "ColumnLineageDatasetFacet" / "1.json"
    facets = json.loads(example.read_text(encoding="utf-8"))  # names 1-1-0; the set has 1-2-0
    event = lake_event()
    event["outputs"][0]["facets"] = facets

    assert validator.check(event).problems == []
    assert validator.check(event).unknown_facets == []

    del facets["columnLineage"]["fields"]["NAME"]["inputFields"]
    assert validator.validate(event) == [
        "outputs[0].facets.columnLineage.fields.NAME: 'inputFields' is a required property "
        "(ColumnLineageDatasetFacet.json 1-1-0 is not in the reference set; checked against 1-2-0)"
    ]


@needs_spec
def test_a_failing_one_of_reports_the_branch_that_got_furthest(validator: EventValidator) -> None:
    assert SPEC is not None
    facet = json.loads((SPEC / "tests/LineageFacet/generator.json").read_text("utf-8"))["lineage"]
    del facet["entries"][0]["fields"]["total"]["inputs"][0]["transformations"][0]["type"]
    job_facet = validator.schema_ids["LineageFacet.json"] + "#/$defs/LineageJobFacet"

    # entries[] is a oneOf DATASET/JOB entry: the JOB branch fails at once on "type", the
    # DATASET branch (the one meant) deep inside; the message must come from the latter.
    assert validator.validate_document(facet, job_facet, "job.facets.lineage") == [
        "job.facets.lineage.entries[0].fields.total.inputs[0].transformations[0]: "
        "'type' is a required property"
    ]


# -- the lake's own events, as openlineage-python writes them ----------------------------------


@attr.define
class StatisticalSecretDatasetFacet(DatasetFacet):
    minCount: int = 0
    countColumns: list[str] = attr.field(factory=list)

    @staticmethod
    def _get_schema() -> str:
        return STATISTICAL_SECRET_SCHEMA


def lake_event() -> dict[str, Any]:
    """A gold step's COMPLETE event with every facet the lake emits, as plain JSON data."""
    silver, gold = "silver/consular_register", "gold/inscrits_par_pays"
    source = column_lineage_dataset.InputField(
        NS,
        silver,
        "pays",
        transformations=[column_lineage_dataset.Transformation("DIRECT", "IDENTITY", "", False)],
    )
    assertion = data_quality_assertions_dataset.Assertion(
        assertion="expect_column_values_to_not_be_null", success=True, column="pays"
    )
    event = RunEvent(
        eventType=RunState.COMPLETE,
        eventTime=datetime(2026, 11, 29, 10, 41, tzinfo=UTC).isoformat(),
        run=Run(runId=str(uuid.UUID(RUN_ID))),
        job=Job(
            namespace="meae-datalake",
            name="lake_run.gold_inscrits_par_pays",
            facets={"jobType": job_type_job.JobTypeJobFacet("BATCH", "MEAE_DATALAKE", "JOB")},
        ),
        inputs=[
            InputDataset(
                NS,
                silver,
                inputFacets={
                    "dataQualityAssertions": (
                        data_quality_assertions_dataset.DataQualityAssertionsDatasetFacet(
                            assertions=[assertion]
                        )
                    )
                },
            )
        ],
        outputs=[
            OutputDataset(
                NS,
                gold,
                facets={
                    "schema": schema_dataset.SchemaDatasetFacet(
                        fields=[
                            schema_dataset.SchemaDatasetFacetFields("pays", "string"),
                            schema_dataset.SchemaDatasetFacetFields("inscrits", "bigint"),
                        ]
                    ),
                    "dataSource": datasource_dataset.DatasourceDatasetFacet(
                        name=NS, uri="s3://lake"
                    ),
                    "documentation": documentation_dataset.DocumentationDatasetFacet(
                        "Inscrits au registre consulaire par pays."
                    ),
                    "ownership": ownership_dataset.OwnershipDatasetFacet(
                        owners=[ownership_dataset.Owner("DNUM", "direction")]
                    ),
                    "tags": tags_dataset.TagsDatasetFacet(
                        tags=[tags_dataset.TagsDatasetFacetFields("exposure", "C1", "LAKE", "pays")]
                    ),
                    "columnLineage": column_lineage_dataset.ColumnLineageDatasetFacet(
                        fields={"pays": column_lineage_dataset.Fields(inputFields=[source])}
                    ),
                    "statisticalSecret": StatisticalSecretDatasetFacet(11, ["inscrits"]),
                },
            )
        ],
        producer=f"{LAKE_PRODUCER}/tree/0.1.0",
    )
    return json.loads(json.dumps(Serde.to_dict(event)))


def test_the_lake_client_output_fits_the_spec(validator: EventValidator) -> None:
    report = validator.check(lake_event())

    assert report.problems == []
    assert report.unknown_facets == [
        UnknownFacet(
            "outputs[0].facets.statisticalSecret", "statisticalSecret", STATISTICAL_SECRET_SCHEMA
        )
    ]


def broken(change: str) -> dict[str, Any]:
    """The lake event with one thing broken."""
    event = copy.deepcopy(lake_event())
    output = event["outputs"][0]["facets"]
    if change == "no runId":
        del event["run"]["runId"]
    elif change == "bad eventType":
        event["eventType"] = "DONE"
    elif change == "field without inputFields":
        del output["columnLineage"]["fields"]["pays"]["inputFields"]
    elif change == "tag without key":
        del output["tags"]["tags"][0]["key"]
    elif change == "runId not a uuid":
        event["run"]["runId"] = "run-42"
    elif change == "naive eventTime":
        event["eventTime"] = "2026-11-29T10:41:00"
    elif change == "official facet without producer":
        del output["tags"]["_producer"]
    elif change == "custom facet without producer":
        del output["statisticalSecret"]["_producer"]
    elif change == "assertion without success":
        del event["inputs"][0]["inputFacets"]["dataQualityAssertions"]["assertions"][0]["success"]
    return event


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("no runId", "run: 'runId' is a required property"),
        (
            "bad eventType",
            "eventType: 'DONE' is not one of "
            "['START', 'RUNNING', 'COMPLETE', 'ABORT', 'FAIL', 'OTHER']",
        ),
        (
            "field without inputFields",
            "outputs[0].facets.columnLineage.fields.pays: 'inputFields' is a required property",
        ),
        ("tag without key", "outputs[0].facets.tags.tags[0]: 'key' is a required property"),
        ("runId not a uuid", "run.runId: 'run-42' is not a 'uuid'"),
        ("naive eventTime", "eventTime: '2026-11-29T10:41:00' is not a 'date-time'"),
        # the core pass and the facet schema both see it: reported once
        (
            "official facet without producer",
            "outputs[0].facets.tags: '_producer' is a required property",
        ),
        (
            "custom facet without producer",
            "outputs[0].facets.statisticalSecret: '_producer' is a required property",
        ),
        (
            "assertion without success",
            "inputs[0].inputFacets.dataQualityAssertions.assertions[0]: "
            "'success' is a required property",
        ),
    ],
)
def test_broken_events_give_one_exact_line_each(
    validator: EventValidator, change: str, expected: str
) -> None:
    assert validator.validate(broken(change)) == [expected]


def test_an_event_that_is_not_an_object_is_one_problem(validator: EventValidator) -> None:
    assert validator.validate([1, 2]) == ["event: expected a JSON object, found list"]


def test_a_job_event_is_checked_against_the_job_event_definition(
    validator: EventValidator,
) -> None:
    event = lake_event()
    event["schemaURL"] = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/JobEvent"

    assert validator.validate(event) == [
        "event: the object should not be valid under {'required': ['run']}"
    ]


# -- run lifecycle ----------------------------------------------------------------------------


def run_event(run_id: str, state: str, job: str = "lake_run") -> dict[str, Any]:
    return {"eventType": state, "run": {"runId": run_id}, "job": {"namespace": "ns", "name": job}}


def test_run_states_allow_running_between_and_other_anywhere() -> None:
    events = [run_event("a", s) for s in ("START", "RUNNING", "RUNNING", "FAIL", "OTHER")]

    assert check_run_states(events) == []


def test_run_states_report_two_starts_and_a_missing_terminal_event() -> None:
    events = [
        run_event("a", "START"),
        run_event("b", "START", "lake_run.map_partitions_parallel_collection"),
        run_event("a", "START"),
        run_event("a", "COMPLETE"),
        {"eventType": "START", "dataset": {"namespace": "ns", "name": "x"}},  # no run: ignored
    ]

    assert check_run_states(events) == [
        "run a (job ns/lake_run): 2 START events, expected exactly one "
        "(START at event #1, START at event #3, COMPLETE at event #4)",
        "run b (job ns/lake_run.map_partitions_parallel_collection): 0 terminal events "
        "(COMPLETE, FAIL or ABORT), expected exactly one (START at event #2)",
    ]


def test_run_states_report_two_terminal_events_a_missing_start_and_bad_order() -> None:
    events = [
        run_event("a", "START"),
        run_event("a", "COMPLETE"),
        run_event("a", "ABORT"),
        run_event("b", "COMPLETE"),
        run_event("c", "START"),
        run_event("c", "COMPLETE"),
        run_event("c", "RUNNING"),
    ]

    assert check_run_states(events, labels=[f"f:{n}" for n in range(1, 8)]) == [
        "run a (job ns/lake_run): 2 terminal events (COMPLETE, FAIL or ABORT), expected exactly "
        "one (START at f:1, COMPLETE at f:2, ABORT at f:3)",
        "run b (job ns/lake_run): 0 START events, expected exactly one (COMPLETE at f:4)",
        "run c (job ns/lake_run): expected START, RUNNING..., then the end; "
        "found START at f:5, COMPLETE at f:6, RUNNING at f:7",
    ]


# -- files ------------------------------------------------------------------------------------


def test_validate_file_reports_lines_runs_and_unknown_facets(
    validator: EventValidator, tmp_path: Path
) -> None:
    start = lake_event() | {"eventType": "START"}
    lines = [json.dumps(start), "", "{not json", json.dumps(broken("no runId"))]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    report = validator.validate_file(path)

    assert report.events == 3
    assert report.problems == [
        f"{path}:3: not valid JSON (Expecting property name enclosed in double quotes at column 2)",
        f"{path}:4: run: 'runId' is a required property",
    ]
    assert not report.valid
    assert report.runs == [
        f"run {RUN_ID} (job meae-datalake/lake_run.gold_inscrits_par_pays): 0 terminal events "
        f"(COMPLETE, FAIL or ABORT), expected exactly one (START at {path}:1)"
    ]
    assert report.unknown_facets == {("statisticalSecret", STATISTICAL_SECRET_SCHEMA): 2}


def test_validate_file_refuses_a_missing_file(validator: EventValidator, tmp_path: Path) -> None:
    missing = tmp_path / "none.jsonl"

    with pytest.raises(GovernanceError) as caught:
        validator.validate_file(missing)

    assert caught.value.message == f"OpenLineage events file {missing} does not exist."
    assert caught.value.path == missing
