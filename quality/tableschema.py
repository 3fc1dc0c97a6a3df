"""Table Schema (schema.data.gouv.fr) to and from source contracts.

Import: a Frictionless Table Schema becomes the YAML text of a lake contract. Each field keeps its
name as the delivered header (``source_name``) and gets a snake_case column name; what a contract
cannot state exactly (datetimes, geopoints, date bounds...) is approximated and listed in
``warnings``, which the YAML also carries as comments for the reviewer.

Export: a silver table (from its contract) or a gold table (from its Spark columns) described as a
Table Schema, ready to publish next to the data. Pure Python: no Spark, no frictionless at run
time (the tests use frictionless to check what is produced).
"""

from __future__ import annotations

import json
import re
import tempfile
import textwrap
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lake.contracts import Column, Contract, ContractError, load_contract
from quality.errors import SchemaError

TABLE_SCHEMA = "https://specs.frictionlessdata.io/schemas/table-schema.json"
FIELD_TYPES: tuple[str, ...] = (
    *("any", "array", "boolean", "date", "datetime", "duration", "geojson", "geopoint"),
    *("integer", "list", "number", "object", "string", "time", "year", "yearmonth"),
)
# What ingestion.conform.parse_boolean accepts, compared lower-cased (quality does not import it).
LAKE_TRUE = frozenset({"oui", "o", "vrai", "true", "1", "yes", "y"})
LAKE_FALSE = frozenset({"non", "n", "faux", "false", "0", "no"})
HEX64 = "[0-9a-f]{64}"
COUNTRY_STATUSES = ("ok", "territory", "no_iso_code")  # unknown/ambiguous go to quarantine
# Columns bronze adds and silver keeps (ingestion.bronze.PROVENANCE, in order).
PROVENANCE: tuple[tuple[str, str, str], ...] = (
    ("_source", "string", "Identifiant de la source (contrat) qui a livré la ligne."),
    ("_batch_id", "string", "Lot de livraison : la source et le début de l'empreinte du fichier."),
    ("_file_uri", "string", "Emplacement du fichier livré dans la zone d'atterrissage du lac."),
    ("_file_sha256", "string", "Empreinte SHA-256 du fichier livré (64 caractères hexadécimaux)."),
    ("_line", "integer", "Numéro de la ligne dans le fichier livré."),
    ("_delivered_at", "datetime", "Date et heure de livraison du fichier."),
    ("_ingested_at", "datetime", "Date et heure d'écriture de la ligne dans la couche bronze."),
)
ROW_HASH = "_row_hash"

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_NUM = r"-?\d+(?:\.\d+)?"
_JSON_OBJECT, _JSON_ARRAY = r"\{[\s\S]*\}", r"\[[\s\S]*\]"
_DATETIME = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?"
_DURATION = r"P(?:\d+Y)?(?:\d+M)?(?:\d+W)?(?:\d+D)?(?:T(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d+)?S)?)?"
# (type, format) -> the pattern a string column gets in the contract (None: no check possible).
_TEXT_PATTERNS: dict[tuple[str, str], str | None] = {
    ("string", "email"): r"[^@\s]+@[^@\s]+\.[^@\s]+",
    ("string", "uri"): r"[A-Za-z][A-Za-z0-9+.\-]*:\S+",
    ("string", "uuid"): r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}",
    ("string", "binary"): r"[A-Za-z0-9+/]*={0,2}",
    ("datetime", "default"): _DATETIME,
    ("time", "default"): r"\d{2}:\d{2}:\d{2}(?:\.\d+)?",
    ("year", "default"): r"\d{4}",
    ("yearmonth", "default"): r"\d{4}-(?:0[1-9]|1[0-2])",
    ("geopoint", "default"): rf"{_NUM}\s*,\s*{_NUM}",
    ("geopoint", "array"): rf"\[\s*{_NUM}\s*,\s*{_NUM}\s*\]",
    ("geopoint", "object"): _JSON_OBJECT,
    ("geojson", "default"): _JSON_OBJECT,
    ("geojson", "topojson"): _JSON_OBJECT,
    ("object", "default"): _JSON_OBJECT,
    ("array", "default"): _JSON_ARRAY,
    ("duration", "default"): _DURATION,
}
_STRPTIME = {"Y": "yyyy", "y": "yy", "m": "MM", "d": "dd", "B": "MMMM", "b": "MMM", "j": "DDD"}
_STRPTIME |= {"H": "HH", "M": "mm", "S": "ss", "%": "%"}
_SPARK_TYPES = {"string": "string", "date": "date", "boolean": "boolean"}
_SPARK_TYPES |= dict.fromkeys(("bigint", "int", "long", "smallint", "tinyint"), "integer")
_SPARK_TYPES |= dict.fromkeys(("double", "float"), "number")
_SPARK_TYPES |= dict.fromkeys(("timestamp", "timestamp_ntz"), "datetime")
_SPARK_PREFIXES = {"decimal": "number", "varchar(": "string", "char(": "string"}
_SPARK_PREFIXES |= {"array<": "array", "struct<": "object", "map<": "object"}


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


def snake_case(text: str) -> str:
    """``coordonneesXY`` -> ``coordonnees_xy``, ``Date d'été`` -> ``date_d_ete`` (ASCII)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    split = re.sub(r"([a-z0-9])([A-Z])|([A-Z]+)([A-Z][a-z])", r"\1\3_\2\4", ascii_text)
    name = re.sub(r"[^A-Za-z0-9]+", "_", split).strip("_").lower()
    return name if re.match(r"[a-z]", name) else f"c_{name}".rstrip("_")


def spark_date_format(fmt: str) -> str | None:
    """A strptime format (``%d/%m/%Y``) as a Spark pattern (``dd/MM/yyyy``); None if impossible."""
    out = []
    for token in re.findall(r"%.?|[A-Za-z]+|'|[^%A-Za-z']+", fmt):
        if token.startswith("%"):
            if token[1:] not in _STRPTIME:
                return None
            out.append(_STRPTIME[token[1:]])
        elif token == "'":
            out.append("''")
        else:  # letters are pattern symbols in Spark: quote them to keep them literal
            out.append(f"'{token}'" if token[0].isalpha() else token)
    return "".join(out)


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
        raise SchemaError(path_text, f"cannot be read ({exc.strerror}).") from exc
    except json.JSONDecodeError as exc:
        raise SchemaError(
            path_text,
            f"is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}).",
            fix=f"correct the JSON at that place (python -m json.tool {path_text} shows it).",
        ) from exc
    if not isinstance(descriptor, dict) or not isinstance(descriptor.get("fields"), list):
        raise SchemaError(path_text, "has no 'fields' list; expected a Table Schema object.")
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
        "null_markers": [_missing_value(m) for m in descriptor.get("missingValues", [""])],
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
            str(contracts_dir), f"the contract's source is {source!r}, not {imported.source!r}."
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
        return SchemaError(self.path, f"{where}: {message}", fix=fix)

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
            col["allowed"] = [_text(v) for v in constraints["enum"]]
        for key in ("minimum", "maximum"):
            if key in constraints and ctype in ("integer", "decimal"):
                col[key] = _number(constraints[key])
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
            if fmt not in ("default", *(f for t, f in _TEXT_PATTERNS if t == "string")):
                self.warn(field, f"format {fmt} non vérifié.")
            elif fmt != "default":
                self.warn(field, f"format {fmt} vérifié par un motif simplifié.")
            return "string", _TEXT_PATTERNS.get(("string", fmt))
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
                    f"made of %{', %'.join(_STRPTIME)} and literal text.",
                )
            if fmt == "any":
                self.warn(field, "format de date any : seul le format ISO aaaa-mm-jj est lu.")
            if spark not in self.date_formats:
                self.date_formats.append(spark)
                if len(self.date_formats) > 1:  # the contract has one list for every date
                    accepted = " ou ".join(self.date_formats)
                    self.warn(field, f"format {spark} : chaque date du contrat accepte {accepted}.")
            return "date", None
        pattern = _TEXT_PATTERNS.get((ftype, fmt))
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


def _missing_value(marker: Any) -> str:
    """A missingValues entry: a string (v1) or ``{"value": ..., "label": ...}`` (v2)."""
    return str(marker["value"]) if isinstance(marker, dict) else str(marker)


def _text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _number(value: Any) -> int | float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else number


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
            raise SchemaError(
                origin, f"the generated contract is invalid: {detail}", fix=exc.fix
            ) from exc


def schema_for_contract(contract: Contract) -> dict[str, Any]:
    """The Table Schema of a source's silver table: provenance, typed columns, row hash.

    Field names are the silver column names; each business field's ``title`` is the header the
    silo delivers. Pseudonymised columns are described as HMAC-SHA256 pseudonyms.
    """
    fields = [
        _field(name, ftype, text, required=True, pattern=HEX64 if name == "_file_sha256" else None)
        for name, ftype, text in PROVENANCE
    ]
    for col in contract.columns:
        fields += _silver_fields(col)
    fields.append(
        _field(
            ROW_HASH,
            "string",
            "Empreinte SHA-256 des valeurs métier typées de la ligne (détecte les modifications).",
            required=True,
            pattern=HEX64,
        )
    )
    description = (
        f"{contract.description}\n\nTable silver du lac : valeurs typées et conformes au contrat "
        f"« {contract.source} », une ligne par clé (la version livrée la plus récente) ; les "
        "colonnes préfixées par « _ » retracent la provenance de chaque ligne."
    )
    return _schema(
        f"silver.{contract.source}", contract.title, description, fields, contract.primary_key
    )


def _silver_fields(col: Column) -> list[dict[str, Any]]:
    text = col.description.strip() + (f" Unité : {col.unit}." if col.unit else "")
    label = col.source_name
    required = not col.nullable
    if col.pseudonymise:
        text += (
            " Pseudonyme : HMAC-SHA256 (64 caractères hexadécimaux) de la valeur en majuscules ; "
            "la valeur d'origine n'est pas conservée."
        )
        return [_field(col.name, "string", text, title=label, required=required, pattern=HEX64)]
    if col.type == "country":
        iso = f"{text} Code ISO 3166-1 alpha-3, vide pour un lieu sans code ISO (no_iso_code)."
        status = (
            f"Rapprochement de « {label} » au référentiel des pays : ok, territory (territoire "
            "avec son code ISO) ou no_iso_code (lieu connu sans code ISO)."
        )
        return [
            _field(col.name, "string", iso, title=label, pattern="[A-Z]{3}"),
            _field(f"{col.name}_label", "string", f"Nom du pays de « {label} » selon l'Insee."),
            _field(
                f"{col.name}_status", "string", status, required=required, enum=COUNTRY_STATUSES
            ),
        ]
    ftype = {"integer": "integer", "decimal": "number"}.get(col.type, col.type)
    constraints: dict[str, Any] = {"required": required, "unique": col.unique}
    if col.allowed and col.type in ("string", "integer", "decimal"):
        constraints["enum"] = list(col.allowed)
    if col.type in ("integer", "decimal"):
        constraints.update(minimum=col.minimum, maximum=col.maximum)
    if col.type == "string":
        constraints.update(pattern=col.pattern, minLength=col.min_length, maxLength=col.max_length)
    return [_field(col.name, ftype, text, title=label, **constraints)]


def schema_for_fields(
    name: str,
    title: str,
    description: str,
    fields: Sequence[tuple[str, str, str | None, bool]],
    primary_key: Sequence[str],
) -> dict[str, Any]:
    """The Table Schema of a gold table, from its Spark columns.

    Args:
        name: Table name (lower case, ``-._/`` allowed), e.g. ``gold.adoptions_par_pays``.
        title: Short French title.
        description: French description of the table (what one row is).
        fields: ``(column, Spark simple type string, French description or None, nullable)``.
        primary_key: The columns identifying a row.

    Raises:
        SchemaError: A Spark type has no Table Schema equivalent, a column is declared twice or
            a key column is not a field.
    """
    out: list[dict[str, Any]] = []
    for column, spark_type, text, nullable in fields:
        simple = spark_type.strip().lower()
        ftype = _SPARK_TYPES.get(simple) or next(
            (t for prefix, t in _SPARK_PREFIXES.items() if simple.startswith(prefix)), None
        )
        if ftype is None:
            raise SchemaError(
                name,
                f"column {column!r}: Spark type {spark_type!r} has no Table Schema equivalent; "
                f"expected one of: {', '.join(_SPARK_TYPES)}, decimal(p,s), array<..>, "
                "struct<..>, map<..>.",
            )
        if any(f["name"] == column for f in out):
            raise SchemaError(name, f"column {column!r} is declared twice.")
        out.append(_field(column, ftype, text, required=not nullable))
    missing = [k for k in primary_key if k not in {f["name"] for f in out}]
    if missing:
        names = ", ".join(f["name"] for f in out)
        raise SchemaError(
            name, f"primary key {missing[0]!r} is not a column; expected one of: {names}."
        )
    return _schema(name, title, description, out, primary_key)


def _field(
    name: str, ftype: str, text: str | None, *, title: str | None = None, **constraints: Any
) -> dict[str, Any]:
    field: dict[str, Any] = {"name": name}
    if title and title != name:
        field["title"] = title
    if text:
        field["description"] = text
    field["type"] = ftype
    kept = {k: v for k, v in constraints.items() if v is not None and v is not False}
    if "enum" in kept:
        kept["enum"] = list(kept["enum"])
    if kept:
        field["constraints"] = kept
    return field


def _schema(
    name: str, title: str, description: str, fields: list[dict[str, Any]], key: Sequence[str]
) -> dict[str, Any]:
    return {
        "$schema": TABLE_SCHEMA,
        "name": name,
        "title": title,
        "description": description,
        "fields": fields,
        "primaryKey": list(key),
        "missingValues": [""],
    }
