"""The core's Table Schema check agrees with frictionless, and passes what the lake publishes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import frictionless
import pytest

from lake.contracts import load_contracts
from lake.table_schema import FIELD_TYPES, schema_problems
from quality.tableschema import schema_for_contract

REPO = Path(__file__).resolve().parents[2]

VALID: list[Any] = [
    {"fields": [{"name": "a"}]},
    {"fields": [{"name": "a", "type": "integer", "constraints": {"minimum": 0, "unique": True}}]},
    {"fields": [{"name": "a", "constraints": {"required": True}}], "primaryKey": "a"},
    {
        "fields": [{"name": "a"}, {"name": "b"}],
        "primaryKey": ["a", "b"],
        "missingValues": ["", "NA"],
    },
    {"fields": [{"name": "a"}], "foreignKeys": [{"fields": "a", "reference": {"fields": "a"}}]},
    {"fields": [{"name": "a", "type": "string", "constraints": {"pattern": "x", "maxLength": 3}}]},
    {"fields": [{"name": "d", "type": "date", "format": "%d/%m/%Y"}]},
]
INVALID: list[Any] = [
    {},
    {"fields": "x"},
    {"fields": [{"type": "string"}]},
    {"fields": [{"name": "a", "type": "bogus"}]},
    {"fields": [{"name": "a"}, {"name": "a"}]},
    {"fields": [{"name": "a"}], "primaryKey": ["b"]},
    {"fields": [{"name": "a", "constraints": {"required": "yes"}}]},
    {"fields": [{"name": "a", "constraints": {"minimum": 1}}]},
    {"fields": [{"name": "a", "type": "list", "constraints": {"enum": []}}]},
    {"fields": [{"name": "a", "constraints": {"maxLength": "x"}}]},
    {"fields": [{"name": "a", "constraints": {"enum": "x"}}]},
    {"fields": [{"name": "a"}], "missingValues": [1]},
    {"fields": [{"name": "a"}], "foreignKeys": [{"fields": "b", "reference": {"fields": "a"}}]},
]


def frictionless_accepts(descriptor: Any) -> bool:
    return bool(frictionless.Schema.validate_descriptor(descriptor).valid)


@pytest.mark.parametrize("descriptor", VALID)
def test_valid_schemas_pass_both_checks(descriptor: Any) -> None:
    assert frictionless_accepts(descriptor)
    assert schema_problems(descriptor) == []


@pytest.mark.parametrize("descriptor", INVALID)
def test_invalid_schemas_fail_both_checks(descriptor: Any) -> None:
    assert not frictionless_accepts(descriptor)
    assert schema_problems(descriptor)


@pytest.mark.parametrize("descriptor", [{"fields": []}, {"fields": [{"name": ""}]}])
def test_two_rules_are_stricter_than_frictionless(descriptor: Any) -> None:
    """A schema without a named field describes nothing a re-user can check."""
    assert frictionless_accepts(descriptor)
    assert schema_problems(descriptor)


def test_problems_name_the_field_and_the_rule() -> None:
    descriptor = {
        "fields": [
            {"name": "a", "type": "bogus"},
            {"name": "b", "constraints": {"minimum": 1}},
            {"name": "b"},
        ],
        "primaryKey": ["c"],
    }
    assert schema_problems(descriptor) == [
        "field 'a': type 'bogus' is not a Table Schema type",
        "field 'b': constraint 'minimum' is not supported by type 'string'",
        "field names are not unique: b",
        "'primaryKey' names fields the schema does not have: c",
    ]
    assert schema_problems([]) == ["a Table Schema is a JSON object; found list"]


def test_every_type_frictionless_knows_is_known() -> None:
    for kind in FIELD_TYPES:
        assert frictionless_accepts({"fields": [{"name": "a", "type": kind}]}), kind
        assert schema_problems({"fields": [{"name": "a", "type": kind}]}) == [], kind


def test_the_schemas_the_lake_writes_and_the_irve_reference_pass() -> None:
    for contract in load_contracts(REPO).values():
        assert schema_problems(schema_for_contract(contract)) == [], contract.source
    irve = json.loads(
        (REPO / "reference" / "table-schema-irve" / "schema-statique.json").read_text()
    )
    assert schema_problems(irve) == []
