"""Sensitivity propagation: inheritance, the three declassifications, cycles and explanations."""

from __future__ import annotations

import random

import pytest

from governance.errors import GovernanceError
from governance.lineage.model import ColumnEdge, ColumnRef, DatasetRef, Tag
from governance.sensitivity.propagation import DerivedTag, explain_fr, propagate, table_levels

NS = "s3://lake"
BRONZE = DatasetRef(NS, "bronze/consular_register")
REGISTER = DatasetRef(NS, "silver/consular_register")
COUNTRIES = DatasetRef(NS, "silver/countries")
AID = DatasetRef(NS, "silver/development_aid")
GOLD = DatasetRef(NS, "gold/inscrits_par_pays")

RESTRICTED = Tag(level=1, personal=True)
OPEN = Tag(level=4)


def col(ds: DatasetRef, name: str) -> ColumnRef:
    return ColumnRef(ds, name)


def edge(
    src: ColumnRef,
    dst: ColumnRef,
    kind: str = "DIRECT/IDENTITY",
    *,
    masking: bool = False,
    description: str = "",
) -> ColumnEdge:
    return ColumnEdge(src, dst, kind, masking=masking, description=description)


BIRTH = col(REGISTER, "birth_date")
ISO3 = col(COUNTRIES, "iso3")
INSCRITS = col(GOLD, "inscrits")
PAYS = col(GOLD, "pays_iso3")


def gold_edges() -> list[ColumnEdge]:
    """Count of people by country: the key from an open referential, the count from birth dates."""
    return [
        edge(BIRTH, INSCRITS, "DIRECT/AGGREGATION"),
        edge(ISO3, PAYS, "DIRECT/IDENTITY"),
        edge(ISO3, col(GOLD, ""), "INDIRECT/GROUP_BY"),  # dataset-level: every gold column
    ]


DECLARED = {BIRTH: RESTRICTED, ISO3: OPEN}


# --- aggregation and the statistical secret ----------------------------------------------------


def test_aggregation_under_the_secret_is_no_longer_personal() -> None:
    derived = propagate(gold_edges(), DECLARED, secret={GOLD: 11})

    assert derived[INSCRITS].tag == Tag(level=4, personal=False, exclusion=False)
    assert derived[PAYS].tag == OPEN
    assert explain_fr(INSCRITS, derived[INSCRITS]) == (
        "niveau 4 — hérité de silver/consular_register.birth_date via gold/inscrits_par_pays "
        "(agrégation sous secret statistique, seuil 11)"
    )


def test_aggregation_without_the_secret_keeps_the_restriction() -> None:
    derived = propagate(gold_edges(), DECLARED)

    assert derived[INSCRITS] == DerivedTag(
        RESTRICTED,
        declared=False,
        path=(edge(BIRTH, INSCRITS, "DIRECT/AGGREGATION"),),
        reason_fr="hérité de silver/consular_register.birth_date via gold/inscrits_par_pays "
        "(agrégation)",
    )
    assert explain_fr(INSCRITS, derived[INSCRITS]) == (
        "niveau 1, données personnelles — hérité de silver/consular_register.birth_date "
        "via gold/inscrits_par_pays (agrégation)"
    )
    assert table_levels(derived)[GOLD] == RESTRICTED


def test_a_secret_below_the_minimum_count_does_not_declassify() -> None:
    derived = propagate(gold_edges(), DECLARED, secret={GOLD: 5}, min_count=11)

    assert derived[INSCRITS].tag == RESTRICTED
    assert derived[INSCRITS].reason_fr == (
        "hérité de silver/consular_register.birth_date via gold/inscrits_par_pays "
        "(agrégation, secret statistique insuffisant (seuil 5 < 11))"
    )


def test_a_count_grouped_by_a_personal_column_is_personal_unless_the_secret_applies() -> None:
    country = col(REGISTER, "country")
    edges = [edge(country, col(GOLD, ""), "INDIRECT/GROUP_BY")]
    declared = {country: Tag(level=2, personal=True)}
    known = {GOLD: ["inscrits"]}  # count(*): no column-level edge, only the group-by keys

    without = propagate(edges, declared, columns=known)
    with_secret = propagate(edges, declared, columns=known, secret={GOLD: 11})

    assert without[INSCRITS].tag == Tag(level=2, personal=True)
    assert without[INSCRITS].reason_fr == (
        "hérité de silver/consular_register.country via gold/inscrits_par_pays (regroupement)"
    )
    assert without[INSCRITS].path == (edge(country, INSCRITS, "INDIRECT/GROUP_BY"),)
    assert with_secret[INSCRITS].tag == OPEN


def test_a_group_key_of_a_secret_aggregate_is_declassified_with_it() -> None:
    # The statistical-secret facet certifies the whole table is an aggregate with small cells
    # suppressed: its group keys describe groups of at least 11 people, not a person.
    country = col(REGISTER, "country")
    edges = [
        edge(country, PAYS, "DIRECT/IDENTITY"),
        edge(country, col(GOLD, ""), "INDIRECT/GROUP_BY"),
    ]

    derived = propagate(edges, {country: Tag(2, True)}, secret={GOLD: 11})

    assert derived[PAYS].tag == Tag(level=4, personal=False)
    # without the secret the copied key keeps its restriction
    assert propagate(edges, {country: Tag(2, True)})[PAYS].tag == Tag(level=2, personal=True)


def test_the_secret_does_not_lift_business_confidentiality() -> None:
    amount = col(AID, "amount_eur")
    total = col(GOLD, "montant")
    derived = propagate(
        [edge(amount, total, "DIRECT/AGGREGATION")], {amount: Tag(3)}, secret={GOLD: 11}
    )

    assert derived[total].tag == Tag(level=3)


def test_a_confidential_input_mixed_with_personal_data_survives_the_aggregation() -> None:
    joined = col(DatasetRef(NS, "silver/joined"), "value")
    confidential = col(AID, "project_id")
    edges = [
        edge(BIRTH, joined),
        edge(confidential, joined, "INDIRECT/JOIN"),
        edge(joined, INSCRITS, "DIRECT/AGGREGATION"),
    ]
    derived = propagate(edges, {BIRTH: RESTRICTED, confidential: Tag(2)}, secret={GOLD: 11})

    assert derived[joined].tag == RESTRICTED
    assert derived[INSCRITS].tag == Tag(level=2, personal=False)


def test_aggregate_level_caps_what_the_secret_opens() -> None:
    derived = propagate(gold_edges(), DECLARED, secret={GOLD: 11}, aggregate_level=3)

    assert derived[INSCRITS].tag == Tag(level=3)


def test_a_legal_secret_is_never_relaxed() -> None:
    derived = propagate(gold_edges(), DECLARED, secret={GOLD: 11}, legal_secret={REGISTER})

    assert derived[INSCRITS].tag == RESTRICTED
    assert derived[INSCRITS].reason_fr.endswith(
        "(agrégation sous secret statistique, seuil 11, sans effet : secret légal)"
    )


# --- pseudonymisation and exclusion ------------------------------------------------------------


def test_pseudonymisation_opens_to_internal_staff_and_stays_personal() -> None:
    raw, pseudo = col(BRONZE, "last_name"), col(REGISTER, "last_name")
    edges = [edge(raw, pseudo, "DIRECT/TRANSFORMATION", masking=True, description="HMAC-SHA256")]

    derived = propagate(edges, {raw: RESTRICTED})

    assert derived[pseudo].tag == Tag(level=2, personal=True)
    assert explain_fr(pseudo, derived[pseudo]) == (
        "niveau 2, données personnelles — hérité de bronze/consular_register.last_name "
        "via silver/consular_register (pseudonymisation)"
    )


def test_pseudonymisation_never_makes_a_column_more_open_than_its_source() -> None:
    src, dst = col(AID, "title"), col(GOLD, "title")
    derived = propagate([edge(src, dst, masking=True)], {src: Tag(3, personal=True)})

    assert derived[dst].tag == Tag(level=3, personal=True)


def test_explanations_name_every_hop() -> None:
    raw, pseudo = col(BRONZE, "last_name"), col(REGISTER, "last_name")
    edges = [
        edge(raw, pseudo, "DIRECT/TRANSFORMATION", masking=True),
        edge(pseudo, INSCRITS, "DIRECT/AGGREGATION"),
    ]

    derived = propagate(edges, {raw: RESTRICTED})

    assert explain_fr(INSCRITS, derived[INSCRITS]) == (
        "niveau 2, données personnelles — hérité de bronze/consular_register.last_name via "
        "silver/consular_register.last_name (pseudonymisation), gold/inscrits_par_pays "
        "(agrégation)"
    )


def test_exclusion_survives_pseudonymisation_and_the_secret() -> None:
    address = col(REGISTER, "address")
    hashed = col(DatasetRef(NS, "silver/hashed"), "address")
    edges = [edge(address, hashed, masking=True), edge(hashed, INSCRITS, "DIRECT/AGGREGATION")]

    derived = propagate(edges, {address: Tag(1, True, True)}, secret={GOLD: 11})

    assert derived[hashed].tag == Tag(level=2, personal=True, exclusion=True)
    assert derived[INSCRITS].tag == Tag(level=2, personal=True, exclusion=True)
    assert derived[INSCRITS].reason_fr.endswith(
        "gold/inscrits_par_pays (agrégation sous secret statistique, seuil 11, "
        "sans effet : champ d'exclusion)"
    )


def test_removed_columns_carry_nothing() -> None:
    address = col(REGISTER, "address")
    dropped = col(GOLD, "address")
    edges = [edge(address, dropped), edge(ISO3, dropped, "INDIRECT/FILTER")]

    derived = propagate(edges, {address: Tag(1, True, True), ISO3: OPEN}, removed={dropped})

    assert dropped not in derived


# --- combination, determinism, cycles ----------------------------------------------------------


def test_the_most_restrictive_of_two_inputs_wins() -> None:
    a, b = col(REGISTER, "registration_id"), col(AID, "country")
    out = col(GOLD, "joined")
    edges = [edge(b, out, "INDIRECT/JOIN"), edge(a, out, "DIRECT/TRANSFORMATION")]

    derived = propagate(edges, {a: Tag(1), b: Tag(3, personal=True)})

    assert derived[out].tag == Tag(level=1, personal=True)
    assert derived[out].reason_fr == (
        "hérité de silver/consular_register.registration_id via gold/inscrits_par_pays "
        "(transformation) ; restriction combinée avec silver/development_aid.country"
    )


def test_a_declared_tag_is_authoritative() -> None:
    derived = propagate([edge(BIRTH, PAYS)], {BIRTH: RESTRICTED, PAYS: OPEN})

    assert derived[PAYS] == DerivedTag(OPEN, True, None, "étiquette déclarée")
    assert explain_fr(BIRTH, derived[BIRTH]) == (
        "niveau 1, données personnelles — étiquette déclarée pour "
        "silver/consular_register.birth_date"
    )


def test_columns_without_any_tagged_input_are_unknown() -> None:
    landing = col(DatasetRef(NS, "landing/x/abc/file.csv"), "Nom")
    derived = propagate([edge(landing, col(BRONZE, "last_name"))], {})

    assert derived == {}


def test_the_result_does_not_depend_on_edge_order() -> None:
    edges = [
        *gold_edges(),
        edge(col(REGISTER, "country"), PAYS, "INDIRECT/FILTER"),
        edge(col(AID, "country"), PAYS, "INDIRECT/JOIN"),
    ]
    declared = {**DECLARED, col(REGISTER, "country"): Tag(2, True), col(AID, "country"): Tag(2)}
    expected = propagate(edges, declared, secret={GOLD: 11})

    for seed in range(5):
        shuffled = edges[:]
        random.Random(seed).shuffle(shuffled)
        assert propagate(shuffled, declared, secret={GOLD: 11}) == expected


def test_cycles_terminate_and_paths_stay_acyclic() -> None:
    ring = [col(DatasetRef(NS, f"silver/t{i}"), "c") for i in range(50)]
    edges = [edge(ring[i], ring[(i + 1) % 50]) for i in range(50)]
    edges += [edge(BIRTH, ring[0]), edge(ring[7], ring[7])]  # a MERGE reads its own target

    derived = propagate(edges, {BIRTH: RESTRICTED})

    assert all(derived[c].tag == RESTRICTED for c in ring)
    assert [e.target for e in derived[ring[3]].path or ()] == ring[:4]


def test_a_cycle_combining_two_inputs_still_explains_from_a_declared_column() -> None:
    a, b = col(DatasetRef(NS, "silver/a"), "c"), col(DatasetRef(NS, "silver/b"), "c")
    x, y = col(AID, "x"), col(AID, "y")
    edges = [edge(x, a), edge(y, b), edge(a, b), edge(b, a)]

    derived = propagate(edges, {x: Tag(1), y: Tag(3, personal=True)})

    for c in (a, b):
        path = derived[c].path
        assert derived[c].tag == Tag(level=1, personal=True)
        assert path and path[0].source in (x, y) and path[-1].target == c
        assert len({e.target for e in path}) == len(path)


def test_a_cycle_without_a_declared_column_stays_unknown() -> None:
    a, b = col(DatasetRef(NS, "silver/a"), "c"), col(DatasetRef(NS, "silver/b"), "c")

    assert propagate([edge(a, b), edge(b, a)], {}) == {}


# --- table levels and validation ---------------------------------------------------------------


def test_a_table_is_as_restricted_as_its_most_restricted_column() -> None:
    levels = table_levels(
        {
            col(GOLD, "a"): Tag(4),
            col(GOLD, "b"): Tag(3, personal=True),
            col(GOLD, "c"): Tag(2),
            ISO3: OPEN,
        }
    )

    assert levels == {COUNTRIES: OPEN, GOLD: Tag(level=2, personal=True)}


def test_an_invalid_level_is_refused() -> None:
    with pytest.raises(GovernanceError) as err:
        propagate([], {BIRTH: Tag(level=5)})

    assert err.value.message == (
        "declared tag of silver/consular_register.birth_date: exposure level must be "
        "1, 2, 3 or 4; found 5."
    )
    assert (err.value.table, err.value.column) == ("silver/consular_register", "birth_date")
