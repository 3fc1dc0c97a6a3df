"""Row-level rules on a conformed batch: which rows fail, with which rule, reason and value."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import DEMO_CONTRACT as CONTRACT
from ingestion.conform import conform
from lake.contracts import load_contract
from quality.gate import MASK, flagged_counts, mark_failures
from quality.rules import suite_rules

pytestmark = pytest.mark.spark

RULES = """
rules:
  - id: day_not_future
    expectation: unexpected_rows_expectation
    column: day
    where: "day > DATE'{today}'"
    severity: blocking
    message: ont un jour dans le futur
"""


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = Path(tmp_path_factory.mktemp("root"))
    (root / "contracts" / "rules").mkdir(parents=True)
    (root / "contracts" / "demo.yaml").write_text(CONTRACT)
    (root / "contracts" / "rules" / "demo.yaml").write_text(RULES)
    return root


def marked(spark, root: Path, rows):
    contract = load_contract(root / "contracts" / "demo.yaml")
    columns = ["id", "amount", "n", "day", "ok", "colour", "name"]
    schema = ", ".join(f"{c} string" for c in columns) + ", _line int"
    df = spark.createDataFrame([(*r, i + 2) for i, r in enumerate(rows)], schema)
    rules = suite_rules(contract, root)
    out = mark_failures(conform(df, contract, None, b"k" * 32), rules)
    return {r["_line"]: r for r in out.collect()}, flagged_counts(out, rules)


def test_bad_values_fail_their_rules_with_french_reasons(spark, root) -> None:
    rows, (total, rejected, flagged) = marked(
        spark,
        root,
        [
            ("D", "12,3,4", "douze", "31/02/2021", "peut-être", "bleu", "Martin"),
            (None, "-5", "1", "01/01/2099", "oui", "vert", "Martin"),
            ("F", "1", "2", "01/01/2020", "oui", "vert", "Martin"),
        ],
    )
    first = {f["rule"]: (f["column"], f["value"], f["reason"]) for f in rows[2]["_failures"]}
    assert first == {
        "demo.amount.type": (
            "amount",
            "12,3,4",
            "ont une valeur illisible dans « amount » (attendu : un nombre "
            "(séparateur décimal « , »))",
        ),
        "demo.n.type": (
            "n",
            "douze",
            "ont une valeur illisible dans « n » (attendu : un nombre entier)",
        ),
        "demo.day.type": (
            "day",
            "31/02/2021",
            "ont une valeur illisible dans « day » (attendu : une date au format jj/mm/aaaa "
            "ou aaaa-mm-jj)",
        ),
        "demo.ok.type": (
            "ok",
            "peut-être",
            "ont une valeur illisible dans « ok » (attendu : oui ou non)",
        ),
        "demo.colour.allowed": (
            "colour",
            "bleu",
            "ont dans « colour » une valeur hors de la liste autorisée (vert, rouge)",
        ),
    }
    second = {f["rule"] for f in rows[3]["_failures"]}
    assert second == {"demo.id.required", "demo.amount.range", "demo.day_not_future"}
    assert rows[4]["_failures"] == []
    assert (total, rejected) == (3, 2)
    assert flagged["demo.amount.type"] == 1 and flagged["demo.day_not_future"] == 1


def test_sensitive_values_are_masked_in_failures(spark, root, tmp_path) -> None:
    text = CONTRACT.replace(
        "{name: n, type: integer, description: Nombre}",
        "{name: n, type: integer, description: Nombre, sensitivity: {level: 1, personal: true}}",
    )
    other = tmp_path / "contracts"
    other.mkdir()
    (other / "demo.yaml").write_text(text)
    rows, _ = marked(spark, tmp_path, [("E", "1", "secret", None, None, None, None)])
    (failure,) = rows[2]["_failures"]
    assert (failure["rule"], failure["value"]) == ("demo.n.type", MASK)
