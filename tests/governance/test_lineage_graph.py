"""The lineage graph: building from events, the completion rule, queries and rendering."""

from __future__ import annotations

import json
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from governance.errors import LineageError
from governance.lineage.graph import DatasetEdge, FacetTag, LineageGraph
from governance.lineage.model import LAKE_PRODUCER, ColumnEdge, ColumnRef, DatasetRef
from governance.lineage.render import render_svg, render_tree

REPO = Path(__file__).resolve().parents[2]
NS = "s3://lake"
LAKE = f"{LAKE_PRODUCER}/tree/0.1.0"
SPARK = "https://github.com/OpenLineage/OpenLineage/tree/1.53.0/integration/spark"
SHA = "0123456789abcdef" * 4
LANDING = f"landing/consular_register/{SHA}/registre.csv"


# -- event factories --------------------------------------------------------------------------


def ref(name: str) -> DatasetRef:
    return DatasetRef(NS, name)


def col(name: str, column: str) -> ColumnRef:
    return ColumnRef(ref(name), column)


def source(
    name: str, field: str, subtype: str = "IDENTITY", *, kind: str = "DIRECT", masking: bool = False
) -> dict[str, Any]:
    """One ``inputFields`` entry of a columnLineage facet."""
    return {
        "namespace": NS,
        "name": name,
        "field": field,
        "transformations": [
            {"type": kind, "subtype": subtype, "description": "", "masking": masking}
        ],
    }


def dataset(
    name: str,
    columns: list[str] | None = None,
    lineage: dict[str, list[dict[str, Any]]] | None = None,
    **facets: Any,
) -> dict[str, Any]:
    """An input or output dataset with a schema and, for an output, a columnLineage facet."""
    all_facets: dict[str, Any] = dict(facets)
    if columns is not None:
        all_facets["schema"] = {"fields": [{"name": c, "type": "string"} for c in columns]}
    if lineage is not None:
        all_facets["columnLineage"] = {
            "fields": {c: {"inputFields": inputs} for c, inputs in lineage.items()}
        }
    return {"namespace": NS, "name": name, "facets": all_facets}


def run(
    job: str,
    inputs: list[dict[str, Any]],
    outputs: list[dict[str, Any]],
    *,
    producer: str = LAKE,
    minute: int = 0,
    states: tuple[str, ...] = ("START", "COMPLETE"),
) -> list[dict[str, Any]]:
    """The events of one run; inputs and outputs are on every event, as Spark does."""
    run_id = str(uuid.UUID(int=minute + 1))
    return [
        {
            "eventType": state,
            "eventTime": f"2026-11-29T10:{minute:02d}:{n:02d}Z",
            "producer": producer,
            "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
            "run": {"runId": run_id},
            "job": {"namespace": "meae-datalake", "name": job},
            "inputs": inputs,
            "outputs": outputs,
        }
        for n, state in enumerate(states)
    ]


def lake_events() -> list[dict[str, Any]]:
    """landing -> bronze -> silver (MERGE, one masked column) -> gold (aggregation)."""
    bronze_cols = ["numero", "date_naissance", "pays"]
    silver_cols = ["registration_id", "birth_date", "country"]
    landing = run(
        "lake.bronze.consular_register",
        [dataset(LANDING, ["Numéro", "Date de naissance", "Pays"])],
        [
            dataset(
                "bronze/consular_register",
                bronze_cols,
                {
                    "numero": [source(LANDING, "Numéro")],
                    "date_naissance": [source(LANDING, "Date de naissance")],
                    "pays": [source(LANDING, "Pays")],
                },
                documentation={"description": "Registre brut"},
            )
        ],
        minute=1,
    )
    merge = run(
        "lake.silver.consular_register",
        [dataset("bronze/consular_register", bronze_cols)],
        [
            dataset(
                "silver/consular_register",
                silver_cols,
                {
                    "registration_id": [
                        source("bronze/consular_register", "numero", "TRANSFORMATION", masking=True)
                    ],
                    "birth_date": [source("bronze/consular_register", "date_naissance")],
                    "country": [source("bronze/consular_register", "pays", "TRANSFORMATION")],
                },
                ownership={"owners": [{"name": "DFAE", "type": "team"}]},
                tags={
                    "tags": [
                        {"key": "pii", "value": "true", "source": "CONTRACT", "field": "birth_date"}
                    ]
                },
            )
        ],
        minute=2,
    )
    gold = run(
        "lake.gold.inscrits_par_pays",
        [dataset("silver/consular_register", silver_cols)],
        [
            dataset(
                "gold/inscrits_par_pays",
                ["pays", "inscrits"],
                {
                    "pays": [source("silver/consular_register", "country")],
                    "inscrits": [
                        source("silver/consular_register", "registration_id", "AGGREGATION")
                    ],
                },
                statisticalSecret={"minCount": 11, "countColumns": ["inscrits"]},
            )
        ],
        minute=4,
    )
    return landing + merge + gold


def spark_events() -> list[dict[str, Any]]:
    """Spark's MERGE garbled as in #3613, and a quarantine write the lake does not describe."""
    garbled = run(
        "lake_run.execute_merge_into_command",
        [dataset("silver/consular_register")],
        [
            dataset(
                "silver/consular_register",
                ["registration_id", "country"],
                {
                    "registration_id": [source("silver/consular_register", "registration_id")],
                    "country": [source("bronze/consular_register", "pays_raw")],
                },
            )
        ],
        producer=SPARK,
        minute=3,
    )
    quarantine = run(
        "lake_run.execute_save_into_data_source_command.quarantine_consular_register",
        [dataset("bronze/consular_register")],
        [
            dataset(
                "quarantine/consular_register",
                ["numero"],
                {"numero": [source("bronze/consular_register", "numero")]},
            )
        ],
        producer=SPARK,
        minute=5,
    )
    return garbled + quarantine


@pytest.fixture
def graph() -> LineageGraph:
    return LineageGraph.from_event_dicts(lake_events() + spark_events())


# -- building and the completion rule ---------------------------------------------------------


def test_gold_column_traces_back_to_the_landing_header_through_the_merge(
    graph: LineageGraph,
) -> None:
    paths = graph.paths_to_sources("gold/inscrits_par_pays.inscrits")

    assert [[(str(e.source), str(e.target), e.kind, e.masking) for e in p] for p in paths] == [
        [
            (
                "silver/consular_register.registration_id",
                "gold/inscrits_par_pays.inscrits",
                "DIRECT/AGGREGATION",
                False,
            ),
            (
                "bronze/consular_register.numero",
                "silver/consular_register.registration_id",
                "DIRECT/TRANSFORMATION",
                True,
            ),
            (f"{LANDING}.Numéro", "bronze/consular_register.numero", "DIRECT/IDENTITY", False),
        ]
    ]
    assert paths[0][-1].source.dataset == DatasetRef(NS, LANDING)
    assert {e.producer for e in paths[0]} == {LAKE}


def test_spark_edges_are_ignored_where_the_lake_describes_the_output(
    graph: LineageGraph,
) -> None:
    into_silver = [
        e for e in graph.column_edges if e.target.dataset == ref("silver/consular_register")
    ]

    assert {e.producer for e in into_silver} == {LAKE}
    assert [(str(e.source), str(e.target)) for e in graph.superseded_edges] == [
        ("bronze/consular_register.pays_raw", "silver/consular_register.country")
    ]
    # The self-loop Spark reports for the MERGE is dropped, at both levels.
    assert all(e.source.dataset != e.target.dataset for e in graph.column_edges)
    assert all(e.source != e.target for e in graph.dataset_edges)


def test_spark_edges_are_kept_where_the_lake_is_silent(graph: LineageGraph) -> None:
    assert graph.edges_into(col("quarantine/consular_register", "numero")) == (
        ColumnEdge(
            col("bronze/consular_register", "numero"),
            col("quarantine/consular_register", "numero"),
            "DIRECT/IDENTITY",
            producer=SPARK,
        ),
    )
    assert (
        DatasetEdge(ref("bronze/consular_register"), ref("quarantine/consular_register"), SPARK)
        in graph.dataset_edges
    )


def test_datasets_keep_their_latest_schema_and_facets(graph: LineageGraph) -> None:
    silver = graph.datasets[ref("silver/consular_register")]

    # Spark's garbled schema (minute 3, two columns) is replaced by gold's read (minute 4).
    assert [f.name for f in silver.fields] == ["registration_id", "birth_date", "country"]
    assert silver.owners == ("DFAE",)
    assert silver.tags == (FacetTag("pii", "true", "CONTRACT", "birth_date"),)
    assert graph.columns_of("silver/consular_register") == (
        "birth_date",
        "country",
        "registration_id",
    )
    assert graph.datasets[ref("bronze/consular_register")].description == "Registre brut"
    assert graph.datasets[ref("gold/inscrits_par_pays")].statistical_secret == {
        "minCount": 11,
        "countColumns": ["inscrits"],
    }


def test_dataset_level_lineage_is_kept_apart() -> None:
    out = dataset("gold/g", ["pays", "n"], {"n": [source("silver/s", "id", "AGGREGATION")]})
    group_by = source("silver/s", "pays", "GROUP_BY", kind="INDIRECT")
    out["facets"]["columnLineage"]["dataset"] = [group_by]
    graph = LineageGraph.from_event_dicts(run("lake.gold.g", [dataset("silver/s")], [out]))

    assert [(str(e.source), str(e.target), e.kind) for e in graph.dataset_level_edges] == [
        ("silver/s.pays", "gold/g.", "INDIRECT/GROUP_BY")
    ]
    assert [str(e.source) for e in graph.column_edges] == ["silver/s.id"]


def test_runs_without_complete_give_no_edges() -> None:
    events = run(
        "lake.bronze.x",
        [dataset("landing/x/abc/x.csv", ["a"])],
        [dataset("bronze/x", ["a"], {"a": [source("landing/x/abc/x.csv", "a")]})],
        states=("START", "FAIL"),
    )
    graph = LineageGraph.from_event_dicts(events)

    assert graph.dataset_edges == ()
    assert graph.column_edges == ()
    assert sorted(d.name for d in graph.datasets) == ["bronze/x", "landing/x/abc/x.csv"]


# -- queries ----------------------------------------------------------------------------------


def test_upstream_of_a_column_reaches_the_landing_file(graph: LineageGraph) -> None:
    sub = graph.upstream("gold.inscrits_par_pays", "inscrits")

    assert [d.name for d in sub.datasets] == [
        "bronze/consular_register",
        "gold/inscrits_par_pays",
        LANDING,
        "silver/consular_register",
    ]
    assert sub.columns[DatasetRef(NS, LANDING)] == ("Numéro",)
    assert len(sub.column_edges) == 3


def test_upstream_depth_limits_the_hops(graph: LineageGraph) -> None:
    sub = graph.upstream("gold/inscrits_par_pays", "inscrits", depth=1)

    assert [str(e.source) for e in sub.column_edges] == ["silver/consular_register.registration_id"]


def test_downstream_of_a_bronze_column_reaches_gold(graph: LineageGraph) -> None:
    sub = graph.downstream("bronze/consular_register", "numero")

    assert sorted(str(e.target) for e in sub.column_edges) == [
        "gold/inscrits_par_pays.inscrits",
        "quarantine/consular_register.numero",
        "silver/consular_register.registration_id",
    ]


def test_upstream_of_a_table_follows_dataset_edges(graph: LineageGraph) -> None:
    sub = graph.upstream("s3a://lake/gold/inscrits_par_pays")

    assert [d.name for d in sub.datasets] == [
        "bronze/consular_register",
        "gold/inscrits_par_pays",
        LANDING,
        "silver/consular_register",
    ]


def test_resolve_accepts_the_three_spellings(graph: LineageGraph) -> None:
    expected = ref("silver/consular_register")

    assert graph.resolve("silver/consular_register") == expected
    assert graph.resolve("silver.consular_register") == expected
    assert graph.resolve("s3a://lake/silver/consular_register") == expected
    assert graph.resolve_column(f"{LANDING}.Date de naissance") == col(LANDING, "Date de naissance")
    assert graph.lookup("gold.inscrits_par_pays.inscrits") == col(
        "gold/inscrits_par_pays", "inscrits"
    )
    assert graph.lookup("gold.inscrits_par_pays") == ref("gold/inscrits_par_pays")


def test_resolve_refuses_a_name_in_two_namespaces() -> None:
    other = {"namespace": "file", "name": "bronze/x"}
    graph = LineageGraph.from_event_dicts(run("j", [other], [dataset("bronze/x")]))

    with pytest.raises(LineageError) as caught:
        graph.resolve("bronze/x")

    assert caught.value.message == (
        "Dataset `bronze/x` is ambiguous: it exists in `file/bronze/x`, `s3://lake/bronze/x`."
    )
    assert graph.resolve("s3a://lake/bronze/x") == ref("bronze/x")


def test_resolve_lists_close_matches(graph: LineageGraph) -> None:
    with pytest.raises(LineageError) as caught:
        graph.resolve("silver.consular_registr")

    assert str(caught.value) == (
        "No dataset `silver.consular_registr` in the lineage events. Close matches: "
        "`silver/consular_register`, `bronze/consular_register`, `quarantine/consular_register`. "
        "Fix: Name a dataset as `<layer>/<table>` (e.g. `silver/consular_register`) and check "
        "that the run that wrote it emitted lineage."
    )


def test_unknown_column_lists_close_matches(graph: LineageGraph) -> None:
    with pytest.raises(LineageError) as caught:
        graph.upstream("gold/inscrits_par_pays", "inscrit")

    assert caught.value.message == (
        "No column `inscrit` in dataset `gold/inscrits_par_pays`. Close matches: `inscrits`."
    )


# -- reading files ----------------------------------------------------------------------------


def test_malformed_line_is_skipped_and_named(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    lines = [json.dumps(e) for e in lake_events()]
    lines.insert(1, '{"eventType": "COMPLETE", "run": ')
    events.write_text("\n".join(lines) + "\n", encoding="utf-8")

    graph = LineageGraph.from_events([events, tmp_path / "events-spark.jsonl"])

    assert graph.warnings == [
        f"{events}:2: not valid JSON (Expecting value at column 33); line skipped"
    ]
    assert len(graph.paths_to_sources("gold/inscrits_par_pays.inscrits")) == 1


def test_event_without_run_id_is_reported() -> None:
    graph = LineageGraph.from_event_dicts([{"eventType": "COMPLETE", "producer": LAKE}])

    assert graph.warnings == ["event #1: not a run event (no run.runId); event skipped"]


# -- rendering --------------------------------------------------------------------------------


def test_tree_of_a_column(graph: LineageGraph) -> None:
    text = render_tree(graph.upstream("gold/inscrits_par_pays", "inscrits"))

    assert text == (
        "gold/inscrits_par_pays.inscrits  [gold]\n"
        "└── silver/consular_register.registration_id  [silver]  DIRECT/AGGREGATION\n"
        "    └── bronze/consular_register.numero  [bronze]  DIRECT/TRANSFORMATION [masked]\n"
        "        └── landing/consular_register/0123456789ab…/registre.csv.Numéro  [landing]"
        "  DIRECT/IDENTITY\n"
    )


def test_tree_of_a_table_downstream(graph: LineageGraph) -> None:
    text = render_tree(graph.downstream("bronze/consular_register"))

    assert text == (
        "bronze/consular_register  [bronze]\n"
        "├── quarantine/consular_register  [quarantine]  [spark]\n"
        "└── silver/consular_register  [silver]\n"
        "    └── gold/inscrits_par_pays  [gold]\n"
    )


def test_svg_parses_and_escapes_labels() -> None:
    evil = "silver/<script>alert(1)</script>"
    events = run(
        "lake.silver.evil",
        [dataset("bronze/x", ["a&b"])],
        [dataset(evil, ['"q"'], {'"q"': [source("bronze/x", "a&b", masking=True)]})],
    )
    graph = LineageGraph.from_event_dicts(events)

    svg = render_svg(graph.upstream(evil, '"q"'))
    root = ET.fromstring(svg)

    svg_ns = "{http://www.w3.org/2000/svg}"
    assert root.tag == f"{svg_ns}svg"
    assert root.findtext(f"{svg_ns}title") == f'Lineage upstream of {evil}."q"'
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert not list(root.iter(f"{svg_ns}script"))
    texts = [t.text for t in root.iter(f"{svg_ns}text")]
    assert texts == ["bronze", "silver", "bronze/x", "a&b", evil, '"q"']
    paths = [p for p in root.iter(f"{svg_ns}path") if p.get("class", "").startswith("edge")]
    assert [p.get("class") for p in paths] == ["edge masked"]
    assert svg == render_svg(graph.upstream(evil, '"q"'))


def test_svg_lays_out_layers_left_to_right(graph: LineageGraph) -> None:
    root = ET.fromstring(render_svg(graph.upstream("gold/inscrits_par_pays")))
    svg_ns = "{http://www.w3.org/2000/svg}"

    x_of = {
        g.get("id"): int(g.find(f"{svg_ns}rect").get("x"))  # type: ignore[union-attr,arg-type]
        for g in root.iter(f"{svg_ns}g")
    }
    assert (
        x_of[f"{NS}/{LANDING}"]
        < x_of[f"{NS}/bronze/consular_register"]
        < x_of[f"{NS}/silver/consular_register"]
        < x_of[f"{NS}/gold/inscrits_par_pays"]
    )
