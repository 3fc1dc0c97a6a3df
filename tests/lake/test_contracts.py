"""Contract validation: every error names the file, the field and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from lake.contracts import ContractError, get_contract, load_contract

VALID = {
    "source": "demo",
    "title": "Démo",
    "domain": "test",
    "owner": "DFAE/MAI",
    "description": "Un extrait de test.",
    "format": "csv",
    "encoding": "latin-1",
    "primary_key": ["id"],
    "exposure_level": 2,
    "retention": {"years": 10, "end": "purge", "from_column": "day"},
    "columns": [
        {"name": "id", "type": "string", "description": "Identifiant", "nullable": False},
        {
            "name": "country",
            "type": "country",
            "description": "Pays",
            "source_name": "Pays",
            "aliases": ["Pays d'origine"],
        },
        {"name": "day", "type": "date", "description": "Jour"},
        {
            "name": "last_name",
            "type": "string",
            "description": "Nom",
            "pseudonymise": True,
            "sensitivity": {"level": 1, "personal": True},
        },
    ],
}


def write(tmp_path: Path, data: dict, name: str = "demo.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


def test_a_valid_contract_loads_with_defaults(tmp_path: Path) -> None:
    contract = load_contract(write(tmp_path, VALID))
    assert contract.source == "demo" and contract.delimiter == ";"
    assert contract.column("country").reference == "iso3166"
    assert contract.header_map()["pays d'origine"] == "country"
    assert contract.column("last_name").sensitivity.personal is True
    assert contract.personal is True
    assert contract.date_formats == ("dd/MM/yyyy",)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"format": "parquet"}, "format", "is 'parquet'; allowed: csv, xlsx, json."),
        (
            {"encoding": "utf-16"},
            "encoding",
            "is 'utf-16'; allowed: utf-8, utf-8-sig, latin-1, cp1252.",
        ),
        ({"exposure_level": 5}, "exposure_level", "is 5; allowed: 1, 2, 3, 4."),
        (
            {"owner": "DGSE"},
            "owner",
            "is 'DGSE'; allowed: a direction among DFAE, DGM, CDCS, "
            "DRH, DNUM, DAF, DCP, DGP, SG (optionally /SERVICE).",
        ),
        (
            {"primary_key": ["nope"]},
            "primary_key",
            "'nope' is not a column; allowed: id, country, day, last_name.",
        ),
        ({"delimiter": ";;"}, "delimiter", "must be exactly one character; found ';;'."),
        ({"colour": "blue"}, "colour", "is not a contract field; allowed: columns, date_formats"),
        (
            {"retention": {"years": 10, "end": "burn"}},
            "retention.end",
            "is 'burn'; allowed: purge, anonymise, archive.",
        ),
    ],
)
def test_errors_name_file_field_and_allowed(tmp_path: Path, change, field, message) -> None:
    path = write(tmp_path, {**VALID, **change})
    with pytest.raises(ContractError) as err:
        load_contract(path)
    assert err.value.field == field
    assert str(err.value).startswith(f"Contract {path}: {field}: {message}")


def test_column_errors_point_at_the_column(tmp_path: Path) -> None:
    bad = {
        **VALID,
        "columns": [*VALID["columns"][:2], {"name": "day", "type": "datetime", "description": "x"}],
    }
    with pytest.raises(ContractError) as err:
        load_contract(write(tmp_path, bad))
    assert err.value.field == "columns[2].type"
    assert "allowed: string, integer, decimal, date, boolean, country" in str(err.value)


def test_only_text_can_be_pseudonymised(tmp_path: Path) -> None:
    bad = {
        **VALID,
        "columns": [
            *VALID["columns"],
            {"name": "n", "type": "integer", "description": "x", "pseudonymise": True},
        ],
    }
    with pytest.raises(ContractError, match=r"columns\[4\]\.pseudonymise: only string"):
        load_contract(write(tmp_path, bad))


def test_invalid_yaml_and_unknown_source(tmp_path: Path) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text("source: [unclosed\n")
    with pytest.raises(ContractError, match="is not valid YAML"):
        load_contract(path)
    (tmp_path / "contracts").mkdir()
    write(tmp_path / "contracts", VALID)
    with pytest.raises(ContractError) as err:
        get_contract(tmp_path, "visas")
    assert "unknown source 'visas'" in str(err.value)
    assert err.value.fix == "use one of: demo"


def test_the_project_contracts_load() -> None:
    from lake.contracts import load_contracts

    repo = Path(__file__).resolve().parents[2]
    contracts = load_contracts(repo)
    assert len(contracts) >= 6
