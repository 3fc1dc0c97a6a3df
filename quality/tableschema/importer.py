"""Table Schema import: a Frictionless Table Schema becomes the YAML text of a lake contract.

Each field keeps its name as the delivered header (``source_name``) and gets a snake_case column
name; what a contract cannot state exactly (datetimes, geopoints, date bounds...) is approximated
and listed in ``warnings``, which the YAML also carries as comments for the reviewer.
"""

from __future__ import annotations

import json
import re
import tempfile
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lake.contracts import Contract, ContractError, load_contract
from quality.errors import SchemaError
from quality.tableschema.field_types import (
    FIELD_TYPES,
    LAKE_FALSE,
    LAKE_TRUE,
    STRPTIME_TO_SPARK,
    TEXT_PATTERNS,
    missing_value,
    number_value,
    snake_case,
    spark_date_format,
    text_value,
)

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class ImportedSchema:
    """A Table Schema turned into a contract.

    Attributes:
        contract_yaml: The contract, as YAML text that :func:`lake.contracts.load_contract` loads.
        source: The contract's source id (and file name).
        warnings: What was approximated or dropped, in French, one sentence per item.
        column_names: Table Schema field name -> contract column name.
    """

    contract_yaml: str
    source: str
    warnings: list[str]
    column_names: dict[str, str]


def import_schema(
    schema_path: Path,
    *,
    source: str | None = None,
    owner: str = "DNUM",
    domain: str | None = None,
    exposure_level: int = 4,
    retention_years: int = 5,
    primary_key: Sequence[str] | None = None,
) -> ImportedSchema:
    """Turn a Table Schema file into the YAML text of a source contract.

    Args:
        schema_path: The Table Schema (JSON), e.g. downloaded from schema.data.gouv.fr.
        source: Source id; defaults to the schema ``name`` (else the file name) in snake_case.
        owner: Owning direction (``DNUM`` or ``DFAE/SERVICE``...).
        domain: Business domain; defaults to the schema title.
        exposure_level: Exposure level of the source and of every column (4 = open to all).
        retention_years: DUA in years (the data is archived at its end).
        primary_key: Field (or column) names of the key; overrides the schema's ``primaryKey``.
            Without both, the first field both unique and required is the key.

    Returns:
        The contract text, its source id, the approximations made and the column names.

    Raises:
        SchemaError: Naming the file, the field and what was expected.
    """
    path_text = str(schema_path)
    try:
        descriptor = json.loads(schema_path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SchemaError(
            path_text,
            f"cannot be read ({exc.strerror}).",
            fix="check the path and that the file is readable",
        ) from exc
    except json.JSONDecodeError as exc:
        raise SchemaError(
            path_text,
            f"is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}).",
            fix=f"correct the JSON at that place (python -m json.tool {path_text} shows it).",
        ) from exc
    if not isinstance(descriptor, dict) or not isinstance(descriptor.get("fields"), list):
        raise SchemaError(
            path_text,
            "has no 'fields' list; expected a Table Schema object.",
            fix="pass a Table Schema (a JSON object with a 'fields' list)",
            field="fields",
        )
    importer = _Importer(path_text, descriptor, exposure_level)
    columns = [importer.column(raw, i) for i, raw in enumerate(descriptor["fields"])]
    key = importer.key(primary_key)
    for col in columns:
        if col["name"] in key:
            col["nullable"] = False
    source = source or snake_case(str(descriptor.get("name") or schema_path.stem))
    if not _NAME.match(source):
        raise SchemaError(
            path_text,
            f"source id {source!r} is not valid; expected lower-case letters, digits and '_', "
            "starting with a letter.",
            fix="pass a valid source id (source=, CLI --source)",
            source=source,
        )
    title = str(descriptor.get("title") or descriptor.get("name") or schema_path.stem)
    contract = {
        "source": source,
        "title": title,
        "domain": domain or title,
        "owner": owner,
        "description": str(descriptor.get("description") or title).strip(),
        "format": "csv",
        "encoding": "utf-8",
        "delimiter": ",",
        "quote": '"',
        **importer.number_dialect(),
        "date_formats": importer.date_formats or ["yyyy-MM-dd"],
        "null_markers": [missing_value(m) for m in descriptor.get("missingValues", [""])],
        "header_row": 1,
        "primary_key": key,
        "exposure_level": exposure_level,
        "legal_secret": False,
        "retention": {"years": retention_years, "end": "archive"},
        "columns": columns,
    }
    name, version = descriptor.get("name"), descriptor.get("version")
    details = ", ".join(filter(None, [name and str(name), version and f"version {version}"]))
    header = [
        f"Contrat généré depuis le schéma Table Schema « {title} » ({details or 'sans nom'}), "
        f"fichier {path_text}.",
        "À relire avant usage : propriétaire, domaine, niveau d'exposition, sensibilité des "
        "colonnes, clé, durée de conservation.",
    ] + [f"Approximation : {w}" for w in importer.warnings]
    text = _render(header, contract)
    _check_loads(text, path_text)
    return ImportedSchema(text, source, list(importer.warnings), dict(importer.names))


def write_contract(
    imported: ImportedSchema, contracts_dir: Path, *, overwrite: bool = False
) -> Path:
    """Write ``<contracts_dir>/<source>.yaml`` and return its path.

    Raises:
        ContractError: The file exists and ``overwrite`` is False.
        SchemaError: The text does not load as a contract.
    """
    source = _check_loads(imported.contract_yaml, str(contracts_dir)).source
    if source != imported.source:
        raise SchemaError(
            str(contracts_dir),
            f"the contract's source is {source!r}, not {imported.source!r}.",
            fix="import the schema again: its contract text was changed since",
            source=imported.source,
        )
    target = contracts_dir / f"{source}.yaml"
    if target.exists() and not overwrite:
        raise ContractError(
            target,
            "(file)",
            "already exists; the imported schema would replace it.",
            fix="compare both, then pass overwrite=True, or import under another source id.",
        )
    contracts_dir.mkdir(parents=True, exist_ok=True)
    target.write_text(imported.contract_yaml, encoding="utf-8")
    return target


class _Importer:
    """Reads Table Schema fields into contract columns, collecting approximations."""

    def __init__(self, path: str, descriptor: dict[str, Any], level: int) -> None:
        self.path, self.descriptor, self.level = path, descriptor, level
        self.warnings: list[str] = []
        self.date_formats: list[str] = []
        self.names: dict[str, str] = {}
        self.decimal_chars: set[str] = set()
        self.group_chars: set[str] = set()

    def fail(self, where: str, message: str, fix: str | None = None) -> SchemaError:
        return SchemaError(
            self.path,
            f"{where}: {message}",
            fix=fix or f"correct {where} in {Path(self.path).name}",
            field=where,
        )

    def warn(self, field: str, message: str) -> None:
        self.warnings.append(f"{field} : {message}")

    def column(self, raw: Any, index: int) -> dict[str, Any]:
        where = f"fields[{index}]"
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not raw["name"]:
            raise self.fail(where, "expected an object with a non-empty 'name'.")
        field = raw["name"]
        where = f"field {field!r} ({where})"
        if field in self.names:
            raise self.fail(where, "is declared twice; field names must be unique.")
        ftype = raw.get("type", "string")
        if ftype not in FIELD_TYPES:
            raise self.fail(
                where,
                f"type {ftype!r} is not a Table Schema type; expected one of: "
                f"{', '.join(FIELD_TYPES)}.",
            )
        fmt = str(raw.get("format", "default")).removeprefix("fmt:")
        constraints = raw.get("constraints", {})
        if not isinstance(constraints, dict):
            raise self.fail(where, f"constraints must be an object; found {constraints!r}.")
        name = snake_case(field)
        while name in self.names.values():
            name += "_bis"
            self.warn(field, f"colonne renommée {name} (même nom qu'un autre champ).")
        self.names[field] = name
        ctype, pattern = self.type_of(field, ftype, fmt, raw, where)
        col: dict[str, Any] = {"name": name, "type": ctype, "source_name": field}
        col["description"] = str(raw.get("description") or raw.get("title") or field).strip()
        if constraints.get("required"):
            col["nullable"] = False
        if constraints.get("enum"):
            if not isinstance(constraints["enum"], list):
                raise self.fail(where, f"enum must be a list; found {constraints['enum']!r}.")
            col["allowed"] = [text_value(v) for v in constraints["enum"]]
        for key in ("minimum", "maximum"):
            if key in constraints and ctype in ("integer", "decimal"):
                col[key] = number_value(constraints[key])
                if col[key] is None:
                    raise self.fail(where, f"{key} must be a number; found {constraints[key]!r}.")
            elif key in constraints:  # dates, years...: GX needs a business rule
                self.warn(field, f"borne {key} ({ftype}) non reprise ; l'écrire en règle métier.")
        if "pattern" in constraints:
            if ctype != "string":
                self.warn(field, f"motif ignoré sur un champ {ftype}.")
            else:
                if pattern is not None:
                    self.warn(field, f"le motif du schéma remplace le contrôle du format {fmt}.")
                pattern = str(constraints["pattern"])
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise self.fail(
                    where, f"pattern is not a valid regular expression ({exc})."
                ) from exc
            col["pattern"] = pattern
        for key, target in (("minLength", "min_length"), ("maxLength", "max_length")):
            if key in constraints:
                col[target] = constraints[key]
                if not isinstance(col[target], int) or isinstance(col[target], bool):
                    raise self.fail(where, f"{key} must be an integer; found {col[target]!r}.")
        if constraints.get("unique"):
            col["unique"] = True
        for key in ("exclusiveMinimum", "exclusiveMaximum", "jsonSchema"):
            if key in constraints:
                self.warn(field, f"contrainte {key} non reprise ; l'écrire en règle métier.")
        if "missingValues" in raw:
            self.warn(field, "valeurs manquantes propres au champ non reprises (liste commune).")
        col["sensitivity"] = {"level": self.level}
        return col

    def type_of(
        self, field: str, ftype: str, fmt: str, raw: dict[str, Any], where: str
    ) -> tuple[str, str | None]:
        """(contract type, pattern implied by the type or format)."""
        if ftype == "string":
            if fmt not in ("default", *(f for t, f in TEXT_PATTERNS if t == "string")):
                self.warn(field, f"format {fmt} non vérifié.")
            elif fmt != "default":
                self.warn(field, f"format {fmt} vérifié par un motif simplifié.")
            return "string", TEXT_PATTERNS.get(("string", fmt))
        if ftype == "integer":
            if raw.get("bareNumber") is False:
                self.warn(field, "nombres entourés de texte (bareNumber false) non lus.")
            return "integer", None
        if ftype == "number":
            self.decimal_chars.add(str(raw.get("decimalChar", ".")))
            self.group_chars.add(str(raw.get("groupChar", "")))
            self.warn(field, "nombre stocké en decimal(18,2) par le lac (2 décimales).")
            return "decimal", None
        if ftype == "boolean":
            trues = [str(v) for v in raw.get("trueValues", ["true", "True", "TRUE", "1"])]
            falses = [str(v) for v in raw.get("falseValues", ["false", "False", "FALSE", "0"])]
            odd = [v for v in trues if v.lower() not in LAKE_TRUE]
            odd += [v for v in falses if v.lower() not in LAKE_FALSE]
            if odd:
                self.warn(
                    field,
                    f"valeurs booléennes non reconnues par le lac ({', '.join(odd)}) ; "
                    "acceptées : oui/non, o/n, vrai/faux, true/false, 1/0, yes/no.",
                )
            return "boolean", None
        if ftype == "date":
            spark = "yyyy-MM-dd" if fmt in ("default", "any") else spark_date_format(fmt)
            if spark is None:
                raise self.fail(
                    where,
                    f"date format {fmt!r} cannot be converted; expected 'default' or a format "
                    f"made of %{', %'.join(STRPTIME_TO_SPARK)} and literal text.",
                )
            if fmt == "any":
                self.warn(field, "format de date any : seul le format ISO aaaa-mm-jj est lu.")
            if spark not in self.date_formats:
                self.date_formats.append(spark)
                if len(self.date_formats) > 1:  # the contract has one list for every date
                    accepted = " ou ".join(self.date_formats)
                    self.warn(field, f"format {spark} : chaque date du contrat accepte {accepted}.")
            return "date", None
        pattern = TEXT_PATTERNS.get((ftype, fmt))
        shown = f"{ftype} ({fmt})" if fmt != "default" else ftype
        checked = "vérifié par un motif" if pattern else "sans contrôle de forme"
        self.warn(field, f"type {shown} importé en texte, {checked}.")
        return "string", pattern

    def key(self, explicit: Sequence[str] | None) -> list[str]:
        declared = explicit if explicit is not None else self.descriptor.get("primaryKey")
        if isinstance(declared, str):
            declared = [declared]
        if declared:
            by_column = {column: column for column in self.names.values()}
            for k in declared:
                if k not in self.names and k not in by_column:
                    raise self.fail(
                        "primaryKey",
                        f"{k!r} is not a field; expected one of: {', '.join(self.names)}.",
                    )
            return [self.names.get(k) or by_column[k] for k in declared]
        for raw in self.descriptor["fields"]:
            constraints = raw.get("constraints", {})
            if constraints.get("unique") and constraints.get("required"):
                return [self.names[raw["name"]]]
        raise self.fail(
            "primaryKey",
            "is missing and no field is both unique and required; the lake needs a key "
            "to deduplicate and merge rows.",
            fix="pass the field(s) identifying a row as primary_key, or declare primaryKey "
            "in the schema.",
        )

    def number_dialect(self) -> dict[str, str]:
        """The contract's one decimal and thousands separator, from the number fields."""
        decimals, groups = self.decimal_chars or {"."}, self.group_chars or {""}
        if len(decimals) > 1 or len(groups) > 1 or not decimals <= {".", ","}:
            self.warn("(dialecte)", "séparateurs de nombres non uniformes : « . » retenu.")
            return {"decimal": ".", "thousands": ""}
        return {"decimal": decimals.pop(), "thousands": groups.pop()}


def _render(header: list[str], contract: dict[str, Any]) -> str:
    import yaml

    lines = [
        line
        for text in header
        for line in textwrap.wrap(
            text,
            100,
            initial_indent="# ",
            subsequent_indent="#   ",
            break_long_words=False,
            break_on_hyphens=False,
        )
    ]
    body = yaml.safe_dump(contract, allow_unicode=True, sort_keys=False, width=100)
    return "\n".join(lines) + "\n" + body


def _check_loads(text: str, origin: str) -> Contract:
    """The contract in ``text``; a SchemaError naming ``origin`` when it does not load."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "contract.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            return load_contract(path)
        except ContractError as exc:
            detail = exc.message.removeprefix(f"Contract {path}: ")
            # the generated file is temporary: what to correct is the option or the schema field
            raise SchemaError(
                origin,
                f"the generated contract is invalid: {detail}",
                fix=f"correct {exc.field} (an option of the import, or the schema field it "
                "comes from)",
                field=exc.field,
            ) from exc
