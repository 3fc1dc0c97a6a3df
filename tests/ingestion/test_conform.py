"""Typing rules as pure DataFrame transforms, on tiny DataFrames (one Spark session)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import DEMO_CONTRACT as CONTRACT
from ingestion.conform import conform, hmac_sha256
from lake.contracts import load_contract

pytestmark = pytest.mark.spark

KEY = bytes(range(32))


@pytest.fixture(scope="module")
def contract(tmp_path_factory):
    path = Path(tmp_path_factory.mktemp("c")) / "demo.yaml"
    path.write_text(CONTRACT)
    return load_contract(path)


def typed(spark, contract, rows):
    columns = ["id", "amount", "n", "day", "ok", "colour", "name"]
    schema = ", ".join(f"{c} string" for c in columns) + ", _line int"
    df = spark.createDataFrame([(*r, i + 2) for i, r in enumerate(rows)], schema)
    return {r["_line"]: r for r in conform(df, contract, None, KEY).collect()}


def test_french_values_are_typed(spark, contract) -> None:
    rows = typed(
        spark,
        contract,
        [
            (" A ", "1.250,50", "1\u00a0234", "03/04/2021", "Oui", "vert", "Dupont"),
            ("B", "2\u202f000", " 12 ", "2021-12-31", "non", "rouge", "dupont "),
            ("C", "NC", "X", "N/A", "", "vert", None),
        ],
    )
    a, b, c = rows[2], rows[3], rows[4]
    assert (a["id"], a["amount"], a["n"], a["day"], a["ok"]) == (
        "A",
        Decimal("1250.50"),
        1234,
        dt.date(2021, 4, 3),
        True,
    )
    assert (b["amount"], b["n"], b["day"], b["ok"]) == (
        Decimal("2000.00"),
        12,
        dt.date(2021, 12, 31),
        False,
    )
    assert (c["amount"], c["n"], c["day"], c["ok"]) == (None, None, None, None)
    assert "_failures" not in a  # judging values is the quality gate's job
    # same person, other spelling: same pseudonym
    assert a["name"] == b["name"]


def test_unreadable_values_become_null_beside_their_delivered_text(spark, contract) -> None:
    rows = typed(
        spark,
        contract,
        [("D", "12,3,4", "douze", "31/02/2021", "peut-être", "bleu", "Martin")],
    )
    row = rows[2]
    assert (row["amount"], row["n"], row["day"], row["ok"]) == (None, None, None, None)
    assert (row["__raw_amount"], row["__raw_n"], row["__raw_day"], row["__raw_ok"]) == (
        "12,3,4",
        "douze",
        "31/02/2021",
        "peut-être",
    )
    assert row["colour"] == "bleu"  # allowed values are a quality rule, not a typing matter


def test_hmac_in_spark_matches_the_standard(spark) -> None:
    from pyspark.sql import functions as F

    for key in (KEY, b"k" * 100):
        df = spark.createDataFrame([("DUPONT",), ("ÉLODIE",), ("",)], ["v"])
        got = [r[0] for r in df.select(hmac_sha256(F.col("v"), key)).collect()]
        want = [
            hmac.new(key, v.encode(), hashlib.sha256).hexdigest() for v in ("DUPONT", "ÉLODIE", "")
        ]
        assert got == want
