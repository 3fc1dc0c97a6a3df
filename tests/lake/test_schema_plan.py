"""The schema-change policy (issue 17, point 4), without Spark: what evolves, what is refused."""

from __future__ import annotations

import pytest

from lake.schema_plan import SchemaChange, compare, widens

TABLE = [("id", "string"), ("n", "int"), ("amount", "decimal(18,2)"), ("note", "string")]


def test_no_difference_is_an_empty_plan() -> None:
    plan = compare(TABLE, TABLE)
    assert not plan and plan.summary() == "no change"


def test_new_optional_columns_and_widened_types_are_additive() -> None:
    wanted = [("id", "string"), ("n", "bigint"), ("amount", "decimal(20,3)"), ("note", "string")]
    plan = compare(TABLE, [*wanted, ("comment", "string")])
    assert plan.refused == []
    assert plan.additive == [
        SchemaChange("widened", "n", "int", "bigint"),
        SchemaChange("widened", "amount", "decimal(18,2)", "decimal(20,3)"),
        SchemaChange("added", "comment", None, "string"),
    ]
    assert plan.summary() == (
        "column n widened (int -> bigint); column amount widened (decimal(18,2) -> "
        "decimal(20,3)); column comment added (string)"
    )


def test_removed_renamed_narrowed_changed_and_required_columns_are_refused() -> None:
    wanted = [("id", "string"), ("n", "smallint"), ("amount", "string"), ("remark", "string")]
    plan = compare(TABLE, [*wanted, ("code", "string")], required=frozenset({"code"}))
    assert plan.additive == [SchemaChange("added", "remark", None, "string")]  # the rename's half
    assert [c.describe() for c in plan.refused] == [
        "column n changed type (int -> smallint)",
        "column amount changed type (decimal(18,2) -> string)",
        "column code added as required (string; old rows would be null)",
        "column note removed (was string)",
    ]


@pytest.mark.parametrize(
    ("old", "new", "wider"),
    [
        ("tinyint", "int", True),
        ("int", "bigint", True),
        ("bigint", "int", False),
        ("float", "double", True),
        ("double", "float", False),
        ("date", "timestamp_ntz", True),
        ("decimal(10,2)", "decimal(12,2)", True),
        ("decimal(10,2)", "decimal(10,3)", False),  # one digit fewer before the point
        ("bigint", "decimal(18,2)", False),
        ("string", "string", False),
    ],
)
def test_widening_keeps_every_value(old: str, new: str, wider: bool) -> None:
    assert widens(old, new) is wider
