"""The contract loader under hostile input (issue 7, part 4): only ContractError escapes, it names
the file and the field (or the line and column of a YAML error), and a contract that loads is one
the readers can use without crashing."""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingestion.readers import ExtractError, read_extract
from lake.contracts import Contract, ContractError, load_contract

pytestmark = [pytest.mark.reliability]

VALID: dict = {
    "source": "demo",
    "title": "Démo",
    "domain": "test",
    "owner": "DFAE/MAI",
    "description": "Un extrait de test.",
    "format": "csv",
    "encoding": "utf-8",
    "primary_key": ["id"],
    "exposure_level": 2,
    "retention": {"years": 10, "end": "purge", "from_column": "day"},
    "columns": [
        {"name": "id", "type": "string", "description": "Identifiant", "nullable": False},
        {"name": "country", "type": "country", "description": "Pays", "aliases": ["Pays"]},
        {"name": "day", "type": "date", "description": "Jour", "pattern": "^[0-9/]+$"},
    ],
}
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats()
    | st.text(max_size=12)
    | st.dates()
    | st.sampled_from(["", "\n", "\r", ";", '"', ",", ".", "csv", "utf-8", "(", "a{999999999999}"])
)
YAML_VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=8) | st.integers(), inner, max_size=4)
    ),
    max_leaves=10,
)


def load_or_explain(path: Path) -> Contract | None:
    """The contract, or None after checking the error names the file and a field."""
    try:
        return load_contract(path)
    except ContractError as exc:
        assert str(exc).startswith(f"Contract {path}: {exc.field}: ")
        assert exc.field
        assert len(str(exc)) < 2000  # found values are shown short
        return None


def usable(contract: Contract, folder: Path) -> None:
    """A loaded contract never crashes the reader: records, malformed lines or ExtractError."""
    suffix = {"csv": ".csv", "json": ".jsonl", "xlsx": ".xlsx"}[contract.format]
    path = folder / f"demo{suffix}"
    header = contract.delimiter.join(c.source_name for c in contract.columns)
    path.write_bytes(f"{header}\nA{contract.delimiter}B\n".encode())
    try:
        _, chunks = read_extract(contract, path)
        for _ in chunks:
            pass
    except ExtractError:
        pass


@FUZZ
@given(data=st.binary(max_size=400))
def test_arbitrary_bytes_are_a_contract_error(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "demo.yaml"
        path.write_bytes(data)
        assert load_or_explain(path) is None  # no byte string is a complete contract


@FUZZ
@given(document=YAML_VALUES)
def test_arbitrary_yaml_documents_are_a_contract_error(document) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "demo.yaml"
        path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
        assert load_or_explain(path) is None


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


PATHS = [p for p in _paths(VALID) if p]


def _replaced(document, path, value):
    import copy

    document = copy.deepcopy(document)
    target = document
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return document


@FUZZ
@given(
    changes=st.lists(st.tuples(st.sampled_from(PATHS), YAML_VALUES), min_size=1, max_size=3),
    extra=st.dictionaries(
        st.sampled_from(
            [
                "delimiter",
                "quote",
                "decimal",
                "thousands",
                "header_row",
                "sheet",
                "null_markers",
                "date_formats",
                "legal_secret",
                "format",
            ]
        ),
        SCALARS,
        max_size=3,
    ),
)
def test_a_mutated_contract_loads_cleanly_or_names_the_field(changes, extra) -> None:
    document = {**VALID, **extra}
    for path, value in changes:
        try:
            document = _replaced(document, path, value)
        except (KeyError, IndexError, TypeError):  # an earlier change removed the path
            continue
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "demo.yaml"
        path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
        contract = load_or_explain(path)
        if contract is None:
            return
        assert all(isinstance(a, str) for c in contract.columns for a in c.header_names)
        assert all(isinstance(f, str) for f in contract.date_formats)
        assert len(contract.delimiter) == 1 and contract.delimiter not in "\r\n"
        assert contract.delimiter != contract.quote
        usable(contract, Path(tmp))


# --- explicit cases ------------------------------------------------------------------------------


def write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "demo.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_a_yaml_alias_bomb_is_refused_quickly_with_a_short_message(tmp_path: Path) -> None:
    lines = ['a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for n in range(1, 10):
        prev, cur = chr(ord("a") + n - 1), chr(ord("a") + n)
        lines.append(f"{cur}: &{cur} [{', '.join(['*' + prev] * 9)}]")
    lines.append("source: *j")  # 9**10 strings once expanded
    path = write(tmp_path, "\n".join(lines) + "\n")
    started = time.monotonic()
    with pytest.raises(ContractError) as err:
        load_contract(path)
    assert time.monotonic() - started < 5
    assert err.value.field == "a"
    assert len(str(err.value)) < 500


def test_a_source_given_as_an_alias_bomb_is_shown_short(tmp_path: Path) -> None:
    bomb = yaml.safe_load("a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a]\n")
    text = yaml.safe_dump({**VALID, "source": [bomb["b"]] * 9})
    with pytest.raises(ContractError) as err:
        load_contract(write(tmp_path, text))
    assert err.value.field == "source"
    assert len(str(err.value)) < 300


@pytest.mark.parametrize(
    ("content", "field", "message"),
    [
        (b"source: d\xe9mo\n", "(file)", "line 1, column 10: not UTF-8 text (found byte 0xe9)"),
        ("source: [unclosed\n", "(file)", "is not valid YAML (line 2, column 1:"),
        ("day: 2021-13-45\n", "(file)", "is not valid YAML (line 1, column 6: impossible date"),
        ("a: " + "[" * 5000 + "\n", "(file)", "is not valid YAML"),
        ("1: x\nsource: demo\n", "1", "is not a contract field; allowed:"),
        ("- a\n- b\n", "(file)", "must be a mapping of fields"),
    ],
)
def test_unreadable_contracts_name_the_file_and_where(
    tmp_path: Path, content, field: str, message: str
) -> None:
    path = write(tmp_path, content)
    with pytest.raises(ContractError) as err:
        load_contract(path)
    assert err.value.field == field
    assert str(err.value).startswith(f"Contract {path}: {field}: {message}")


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"exposure_level": True}, "exposure_level", "must be a str or int; found True."),
        ({"delimiter": "\n"}, "delimiter", "must not be a line end; found '\\n'."),
        ({"quote": ";"}, "quote", "is ';', the delimiter too; they must differ."),
        ({"thousands": ","}, "thousands", "is ','; it must not contain the decimal ','."),
        ({"primary_key": [["id"]]}, "primary_key[0]", "must be a str; found ['id']."),
        ({"date_formats": [dt.date(2021, 1, 1)]}, "date_formats[0]", "must be a str; found"),
        ({"null_markers": [{"a": 1}]}, "null_markers[0]", "must be a str or a number; found"),
    ],
)
def test_values_that_would_break_the_readers_are_refused(
    tmp_path: Path, change: dict, field: str, message: str
) -> None:
    path = write(tmp_path, yaml.safe_dump({**VALID, **change}, allow_unicode=True))
    with pytest.raises(ContractError) as err:
        load_contract(path)
    assert err.value.field == field
    assert str(err.value).startswith(f"Contract {path}: {field}: {message}")


def test_pathological_patterns_and_paths(tmp_path: Path) -> None:
    columns = [{**VALID["columns"][0], "pattern": "a{99999999999}"}, *VALID["columns"][1:]]
    path = write(tmp_path, yaml.safe_dump({**VALID, "columns": columns}))
    with pytest.raises(ContractError, match=r"columns\[0\]\.pattern: is not a valid regular"):
        load_contract(path)
    with pytest.raises(ContractError, match=r"\(file\): cannot be read"):
        load_contract(tmp_path / "nul\x00.yaml")
    with pytest.raises(ContractError, match=r"\(file\): cannot be read"):
        load_contract(tmp_path)
