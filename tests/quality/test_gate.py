"""The gate on real Spark DataFrames with real Great Expectations: IRVE through its Table Schema,
counts that must agree between GX and the lake's row conditions, decisions."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from ingestion.conform import conform
from lake.contracts import load_contract
from quality.gate import decide, flagged_counts, mark_failures
from quality.rules import suite_rules
from quality.tableschema import import_schema, write_contract
from quality.validation import data_docs_index, refresh_data_docs, validate

pytestmark = [pytest.mark.spark, pytest.mark.minio]

REPO = Path(__file__).resolve().parents[2]
IRVE = REPO / "reference" / "table-schema-irve"
needs_irve = pytest.mark.skipif(
    not IRVE.is_dir(), reason="../shared/reference is not beside the repo"
)


@pytest.fixture(scope="module")
def irve(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("irve")
    imported = import_schema(IRVE / "schema-statique.json", primary_key=["id_pdc_itinerance"])
    contract = load_contract(write_contract(imported, root / "contracts"))
    return root, contract


def _frame(spark, contract, text: str):
    """The CSV as bronze would hold it: strings under contract names, plus the line number."""
    rows = list(csv.reader(io.StringIO(text)))
    names = contract.header_map()
    from lake.contracts import normalise_header

    header = [names[normalise_header(h)] for h in rows[0]]
    data = [[*r, i + 2] for i, r in enumerate(rows[1:])]
    schema = ", ".join(f"`{h}` string" for h in header) + ", _line long"
    return spark.createDataFrame(data, schema)


def _review(spark, root: Path, contract, text: str, reports: Path):
    rules = suite_rules(contract, root)
    marked = mark_failures(conform(_frame(spark, contract, text), contract, None, b"k"), rules)
    marked = marked.persist()
    try:
        rows, rejected, flagged = flagged_counts(marked, rules)
        outcomes = validate(marked, rules, suite_name="silver.irve", reports_dir=reports)
        failures = sorted(
            (r["_line"], f["rule"], f["column"], f["value"])
            for r in marked.select("_line", "_failures").collect()
            for f in r["_failures"]
        )
    finally:
        marked.unpersist()
    return rows, rejected, flagged, outcomes, failures


@needs_irve
def test_the_irve_example_passes_its_imported_suite(spark, irve, tmp_path: Path) -> None:
    root, contract = irve
    text = (IRVE / "exemple-valide-statique.csv").read_text(encoding="utf-8")
    rows, rejected, _flagged, outcomes, failures = _review(spark, root, contract, text, tmp_path)
    assert rows == 2 and rejected == 0 and failures == []
    row_outcomes = [o for o in outcomes if o.rule.scope == "row"]
    assert len(row_outcomes) > 30  # types, required, enums, patterns... all evaluated by GX
    assert all(o.success for o in row_outcomes), [o.rule.id for o in row_outcomes if not o.success]
    # engineers' Data Docs: built once after the run's reviews, from the stored results
    assert not data_docs_index(tmp_path).is_file()
    assert refresh_data_docs(tmp_path) == [data_docs_index(tmp_path)]
    assert data_docs_index(tmp_path).is_file()
    assert refresh_data_docs(tmp_path) == []  # nothing validated since: nothing rebuilt


@needs_irve
def test_a_broken_copy_fails_exactly_on_the_broken_cells(spark, irve, tmp_path: Path) -> None:
    root, contract = irve
    rows = list(csv.reader(io.StringIO((IRVE / "exemple-valide-statique.csv").read_text())))
    header = rows[0]
    rows[1][header.index("siren_amenageur")] = "13002526"  # 8 digits: breaks the pattern
    rows[2][header.index("implantation_station")] = "Parking <script>"  # not in the enum
    rows[2][header.index("date_mise_en_service")] = "2020-02-30"  # no such date
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    _rows, rejected, flagged, outcomes, failures = _review(
        spark, root, contract, out.getvalue(), tmp_path
    )
    src = contract.source
    assert failures == [
        (2, f"{src}.siren_amenageur.pattern", "siren_amenageur", "13002526"),
        (3, f"{src}.date_mise_en_service.type", "date_mise_en_service", "2020-02-30"),
        (3, f"{src}.implantation_station.allowed", "implantation_station", "Parking <script>"),
    ]
    assert rejected == 2
    failed = {o.rule.id: o.unexpected_count for o in outcomes if not o.success}
    assert failed == {
        f"{src}.siren_amenageur.pattern": 1,
        f"{src}.implantation_station.allowed": 1,
        f"{src}.date_mise_en_service.type": 1,
        # 2 of 2 rows rejected: over half, so the batch-level gate blocks it
        f"{src}.batch.rejected_share": 2,
    }
    # GX and the lake's own row conditions agree on every row rule
    for o in outcomes:
        if o.rule.id in flagged:
            assert flagged[o.rule.id] == (o.unexpected_count or 0), o.rule.id
    decision, reasons = decide(outcomes, rejected)
    assert decision == "blocked"
    assert reasons == ["Plus de 50 % des lignes sont rejetées : la livraison entière est retenue"]


@pytest.mark.spark
def test_a_suite_saved_by_another_process_meanwhile_is_saved_again(spark, tmp_path: Path) -> None:
    """The validation definition is cached per process; when another process sharing the reports
    directory saves the suite in between (GX then refuses a stale copy), it is saved again."""
    import great_expectations as gx

    from quality.rules import Rule
    from quality.validation import context

    rules = [
        Rule(
            "demo.n.required",
            "expect_column_values_to_not_be_null",
            {"column": "n"},
            "blocking",
            "n",
            "sont vides",
        )
    ]
    df = spark.createDataFrame([(1,), (None,), (3,)], "n int")
    first = validate(df, rules, suite_name="silver.demo", reports_dir=tmp_path, data_docs=False)
    assert [o.unexpected_count for o in first] == [1]
    # what another process's review does: the same suite saved anew (new expectation ids)
    other = gx.ExpectationSuite(
        name="silver.demo",
        expectations=[gx.expectations.ExpectColumnValuesToNotBeNull(column="n")],
    )
    context(tmp_path).suites.add_or_update(other)
    again = validate(df, rules, suite_name="silver.demo", reports_dir=tmp_path, data_docs=False)
    assert [o.unexpected_count for o in again] == [1]
