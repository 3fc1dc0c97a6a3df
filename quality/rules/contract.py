"""The rules a source contract states by itself, worded in French for the business units.

Types, required values, allowed values, ranges, patterns, lengths, country reference, column and
key uniqueness, plus the batch-level guards (an empty delivery, too many rejected rows). Rules
validate the *conformed* batch: typed columns, plus ``__raw_<col>`` (the cleaned text as
delivered) for every contract column, and ``<col>_status`` for country columns.
"""

from __future__ import annotations

from lake.contracts import Column, Contract
from lake.gates import FAILURE_COUNT, RAW_PREFIX
from quality.rules.model import Rule, sql_column

MAX_REJECTED_SHARE = 0.5
# Beside each typed column, the delivered text typing could not read (null when read or empty).
UNREAD_PREFIX = "__unread_"


def unread_column(name: str) -> str:
    """The gate's column holding the text of ``name`` that typing could not read."""
    return f"{UNREAD_PREFIX}{name}"


def is_sensitive(col: Column) -> bool:
    """Whether failing values of ``col`` are masked wherever they are shown."""
    return col.sensitivity.personal or col.sensitivity.level == 1


def _fmt(value: float) -> str:
    return f"{value:g}".replace(".", ",")


def anchored(pattern: str) -> str:
    """A pattern that must match the whole value (Table Schema and contract semantics)."""
    return f"^(?:{pattern})$"


def contract_rules(contract: Contract) -> list[Rule]:
    """The rules a contract states by itself: types, required, allowed, ranges, patterns,
    lengths, reference membership, key and column uniqueness, plus the batch-level guards."""
    rules: list[Rule] = []
    src = contract.source
    for col in contract.columns:
        raw = f"{RAW_PREFIX}{col.name}"
        base = {"column": col.name, "sensitive": is_sensitive(col), "origin": "contract"}
        label = f"« {col.source_name} »"
        if col.type in ("integer", "decimal", "date", "boolean"):
            what = {
                "integer": "un nombre entier",
                "decimal": f"un nombre (séparateur décimal « {contract.decimal} »)",
                "date": "une date au format " + " ou ".join(_formats_fr(contract)),
                "boolean": "oui ou non",
            }[col.type]
            # The text typing could not read: delivered (raw not null) but typed null. As a
            # column of its own, GX checks it in its aggregate pass with the other column rules
            # (expect it null), not in a query of its own.
            unread = unread_column(col.name)
            rules.append(
                Rule(
                    id=f"{src}.{col.name}.type",
                    expectation="expect_column_values_to_be_null",
                    kwargs={"column": unread},
                    adds=(
                        (
                            unread,
                            f"CASE WHEN {sql_column(col.name)} IS NULL THEN {sql_column(raw)} END",
                        ),
                    ),
                    severity="blocking",
                    message=f"ont une valeur illisible dans {label} (attendu : {what})",
                    fix=f"Saisir dans {label} {what}.",
                    **base,  # type: ignore[arg-type]
                )
            )
        if not col.nullable:
            rules.append(
                Rule(
                    id=f"{src}.{col.name}.required",
                    expectation="expect_column_values_to_not_be_null",
                    kwargs={"column": raw},
                    severity="blocking",
                    message=f"n'ont pas de valeur dans {label}, qui est obligatoire",
                    fix=f"Renseigner {label} pour chaque ligne avant l'export.",
                    **base,  # type: ignore[arg-type]
                )
            )
        if col.allowed:
            rules.append(
                Rule(
                    id=f"{src}.{col.name}.allowed",
                    expectation="expect_column_values_to_be_in_set",
                    kwargs={"column": raw, "value_set": list(col.allowed)},
                    severity="blocking",
                    message=(
                        f"ont dans {label} une valeur hors de la liste autorisée "
                        f"({', '.join(col.allowed)})"
                    ),
                    fix=f"Choisir {label} dans la liste : {', '.join(col.allowed)}.",
                    **base,  # type: ignore[arg-type]
                )
            )
        if col.type in ("integer", "decimal") and (
            col.minimum is not None or col.maximum is not None
        ):
            bounds = []
            if col.minimum is not None:
                bounds.append(f"au moins {_fmt(col.minimum)}")
            if col.maximum is not None:
                bounds.append(f"au plus {_fmt(col.maximum)}")
            rules.append(
                Rule(
                    id=f"{src}.{col.name}.range",
                    expectation="expect_column_values_to_be_between",
                    kwargs={
                        "column": col.name,
                        "min_value": col.minimum,
                        "max_value": col.maximum,
                    },
                    severity="blocking",
                    message=f"ont dans {label} une valeur hors des bornes ({' et '.join(bounds)})",
                    fix=f"Vérifier {label} : la valeur doit être {' et '.join(bounds)}.",
                    **base,  # type: ignore[arg-type]
                )
            )
        if col.pattern is not None:
            rules.append(
                Rule(
                    id=f"{src}.{col.name}.pattern",
                    expectation="expect_column_values_to_match_regex",
                    kwargs={"column": raw, "regex": anchored(col.pattern)},
                    severity="blocking",
                    message=f"ont dans {label} une valeur qui ne respecte pas le format attendu",
                    fix=f"Respecter le format de {label} (motif {col.pattern}).",
                    **base,  # type: ignore[arg-type]
                )
            )
        if col.min_length is not None or col.max_length is not None:
            rules.append(
                Rule(
                    id=f"{src}.{col.name}.length",
                    expectation="expect_column_value_lengths_to_be_between",
                    kwargs={
                        "column": raw,
                        "min_value": col.min_length,
                        "max_value": col.max_length,
                    },
                    severity="blocking",
                    message=f"ont dans {label} une valeur trop courte ou trop longue",
                    fix=f"Vérifier la longueur de {label}.",
                    **base,  # type: ignore[arg-type]
                )
            )
        if col.type == "country":
            rules.append(
                Rule(
                    id=f"{src}.{col.name}.reference",
                    expectation="expect_column_values_to_not_be_in_set",
                    kwargs={"column": f"{col.name}_status", "value_set": ["unknown", "ambiguous"]},
                    severity="blocking",
                    message=(
                        f"ont dans {label} un pays absent du référentiel "
                        "(ISO 3166 et code officiel géographique de l'Insee)"
                    ),
                    fix=f"Saisir dans {label} le nom officiel du pays ou son code ISO.",
                    **base,  # type: ignore[arg-type]
                )
            )
        if col.unique:
            rules.append(
                Rule(
                    id=f"{src}.{col.name}.unique",
                    expectation="expect_column_values_to_be_unique",
                    kwargs={"column": col.name},
                    severity="warning",
                    message=f"partagent leur valeur de {label} avec une autre ligne",
                    fix=f"Chaque valeur de {label} doit être unique dans l'extraction.",
                    **base,  # type: ignore[arg-type]
                )
            )
    key = list(contract.primary_key)
    key_label = ", ".join(f"« {contract.column(k).source_name} »" for k in key)
    rules.append(
        Rule(
            id=f"{src}.primary_key.unique",
            # GX wants two columns at least for the compound form
            expectation=(
                "expect_compound_columns_to_be_unique"
                if len(key) > 1
                else "expect_column_values_to_be_unique"
            ),
            kwargs={"column_list": key} if len(key) > 1 else {"column": key[0]},
            severity="warning",
            column=None,
            message=(
                f"partagent leur identifiant ({key_label}) avec une autre ligne de la livraison "
                "(le lac ne garde que la plus récente)"
            ),
            fix="Supprimer les doublons de l'extraction ou vérifier les identifiants attribués.",
        )
    )
    rules.append(
        Rule(
            id=f"{src}.batch.not_empty",
            expectation="expect_table_row_count_to_be_between",
            kwargs={"min_value": 1},
            severity="warning",
            column=None,
            message="La livraison ne contient aucune ligne de données",
            fix="Vérifier l'extraction : le fichier ne contient que l'en-tête.",
        )
    )
    rules.append(
        Rule(
            id=f"{src}.batch.rejected_share",
            expectation="expect_column_values_to_be_between",
            kwargs={
                "column": FAILURE_COUNT,
                "min_value": 0,
                "max_value": 0,
                "mostly": round(1 - MAX_REJECTED_SHARE, 4),
            },
            severity="blocking",
            column=None,
            message=(
                f"Plus de {int(MAX_REJECTED_SHARE * 100)} % des lignes sont rejetées : "
                "la livraison entière est retenue"
            ),
            fix="Vérifier le format de l'extraction (colonnes, séparateur, encodage).",
        )
    )
    return rules


def _formats_fr(contract: Contract) -> list[str]:
    return [
        f.replace("dd", "jj").replace("yyyy", "aaaa").replace("MM", "mm")
        for f in contract.date_formats
    ]
