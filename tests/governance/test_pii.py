"""The PII scanner: detectors, checksums, thresholds, masking and how evidence combines."""

from __future__ import annotations

import random

import pytest
from stdnum import iban, luhn
from stdnum.fr import nir, siren

from governance.sensitivity.pii import (
    Evidence,
    Suggestion,
    mask,
    name_tokens,
    scan_column,
    scan_table,
)

# --- generators of valid identifiers and of look-alikes with a broken check key ----------------


def make_nir(rng: random.Random) -> str:
    """A valid NIR: sex, year, month, department, commune, order, then the stdnum key."""
    body = (
        f"{rng.choice('12')}{rng.randint(40, 99):02d}{rng.randint(1, 12):02d}"
        f"{rng.randint(1, 95):02d}{rng.randint(1, 990):03d}{rng.randint(1, 999):03d}"
    )
    return body + nir.calc_check_digits(body)


def break_key(value: str, width: int) -> str:
    """The same number with its last ``width`` digits (the check key) changed."""
    key = int(value[-width:])
    return value[:-width] + f"{(key % (10**width - 1)) + 1:0{width}d}"


def make_iban(rng: random.Random) -> str:
    """A valid French IBAN (5n bank, 5n branch, 11c account, 2n RIB key) with stdnum's digits."""
    bban = (
        f"{rng.randint(10000, 99999)}{rng.randint(10000, 99999)}{rng.randint(0, 10**11 - 1):011d}"
    )
    bban += f"{rng.randint(1, 97):02d}"
    return "FR" + iban.calc_check_digits("FR00" + bban) + bban


def make_siren(rng: random.Random) -> str:
    base = f"{rng.randint(10000000, 99999999)}"
    return base + luhn.calc_check_digit(base)


def make_siret(rng: random.Random) -> str:
    base = make_siren(rng) + f"{rng.randint(1, 9999):04d}"
    return base + luhn.calc_check_digit(base)


def spaced(value: str, size: int = 4) -> str:
    return " ".join(value[i : i + size] for i in range(0, len(value), size))


RNG_SEED = 20240917


@pytest.fixture
def rng() -> random.Random:
    return random.Random(RNG_SEED)


def only(evidence: list[Evidence]) -> Evidence:
    assert len(evidence) == 1, [e.rule for e in evidence]
    return evidence[0]


# --- identifiers with a checksum ----------------------------------------------------------------


def test_generated_identifiers_are_valid_and_look_alikes_are_not(rng: random.Random) -> None:
    for _ in range(50):
        good_nir, good_iban, good_siren = make_nir(rng), make_iban(rng), make_siren(rng)
        good_siret = make_siret(rng)
        assert nir.is_valid(good_nir) and not nir.is_valid(break_key(good_nir, 2))
        assert iban.is_valid(good_iban)
        assert not iban.is_valid(good_iban[:2] + break_key(good_iban[:4], 2)[2:] + good_iban[4:])
        assert siren.is_valid(good_siren) and not siren.is_valid(break_key(good_siren, 1))
        assert luhn.is_valid(good_siret) and not luhn.is_valid(break_key(good_siret, 1))


def test_nir_column_with_spaces_and_a_few_bad_values(rng: random.Random) -> None:
    valid = [make_nir(rng) for _ in range(38)]
    values = [spaced(v, 3) for v in valid] + ["inconnu", break_key(make_nir(rng), 2), None, " "]
    e = only(scan_column("nir", values))
    assert (e.rule, e.hits, e.sample_size, e.hit_rate) == ("nir", 38, 40, 0.95)
    assert (e.confidence, e.name_match, e.checksum, e.level, e.personal) == (
        "value+name",
        True,
        "validated",
        1,
        True,
    )
    assert e.label_fr == "Numéro de sécurité sociale (NIR)"
    assert e.examples == tuple(mask(spaced(v, 3)) for v in valid[:3])


def test_nir_look_alikes_with_a_wrong_key_are_not_suggested(rng: random.Random) -> None:
    values = [break_key(make_nir(rng), 2) for _ in range(40)]
    assert scan_column("identifiant", values) == []
    # Named like a NIR: a weak, name-only suggestion, never a silent one.
    e = only(scan_column("num_secu", values))
    assert (e.rule, e.confidence, e.hits, e.sample_size, e.hit_rate) == ("nir", "name", 0, 40, 0.0)
    assert e.examples == ()


def test_iban_column_validated_with_dashes_and_spaces(rng: random.Random) -> None:
    valid = [make_iban(rng) for _ in range(20)]
    values = [spaced(v) for v in valid[:10]] + [spaced(v).replace(" ", "-") for v in valid[10:]]
    e = only(scan_column("compte_versement", values))
    assert (e.rule, e.hits, e.sample_size, e.hit_rate, e.confidence) == (
        "iban",
        20,
        20,
        1.0,
        "value",
    )
    assert (e.level, e.personal, e.checksum, e.name_match) == (1, True, "validated", False)


def test_iban_with_wrong_check_digits_is_not_suggested(rng: random.Random) -> None:
    values = []
    for _ in range(30):
        good = make_iban(rng)
        values.append(good[:2] + break_key(good[:4], 2)[2:] + good[4:])
    assert scan_column("compte", values) == []


def test_siren_and_siret_are_company_identifiers_not_personal(rng: random.Random) -> None:
    sirens = scan_column("beneficiaire", [make_siren(rng) for _ in range(25)])
    sirets = scan_column("siret", [spaced(make_siret(rng), 3) for _ in range(25)])
    assert [(e.rule, e.level, e.personal, e.confidence, e.hits) for e in sirens] == [
        ("siren", 3, False, "value", 25)
    ]
    assert [(e.rule, e.level, e.personal, e.confidence, e.hits) for e in sirets] == [
        ("siret", 3, False, "value+name", 25)
    ]


def test_siren_of_individual_entrepreneurs_is_personal(rng: random.Random) -> None:
    e = only(scan_column("siren_entrepreneur_individuel", [make_siren(rng) for _ in range(10)]))
    assert (e.rule, e.level, e.personal) == ("siren", 2, True)
    assert e.note_fr is not None and "entrepreneurs individuels" in e.note_fr


def test_siret_failing_luhn_is_not_suggested(rng: random.Random) -> None:
    values = [break_key(make_siret(rng), 1) for _ in range(30)]
    assert all(len(v) == 14 and v.isdigit() for v in values)
    assert scan_column("numero_etablissement", values) == []


def test_random_nine_digit_ids_passing_luhn_by_chance_are_not_flagged() -> None:
    rng = random.Random(7)
    values = [str(rng.randint(100_000_000, 999_999_999)) for _ in range(1000)]
    by_chance = sum(siren.is_valid(v) for v in values)
    assert 70 < by_chance < 130  # about one in ten passes Luhn
    assert scan_column("code_dossier", values) == []
    # The same hits become evidence only when the threshold is lowered on purpose.
    e = only(scan_column("code_dossier", values, min_hit_rate=0.05))
    assert (e.rule, e.hits, e.sample_size, e.hit_rate) == (
        "siren",
        by_chance,
        1000,
        round(by_chance / 1000, 4),
    )


# --- formats without a checksum -----------------------------------------------------------------


def test_passport_says_it_has_no_checksum() -> None:
    values = ["12AB34567", "07CK99812", "19 ZZ 00123", "23Xy45678", "pas de passeport"]
    e = only(scan_column("numero_passeport", values))
    assert (e.rule, e.hits, e.sample_size, e.hit_rate, e.checksum) == (
        "passport",
        4,
        5,
        0.8,
        "none",
    )
    assert (e.level, e.personal, e.confidence) == (1, True, "value+name")
    assert e.note_fr is not None and "pas de clé de contrôle" in e.note_fr


def test_email_column_exact_evidence() -> None:
    emails = [f"marie.martin{i}@example.fr" for i in range(58)]
    e = only(scan_column("courriel", [*emails, "n/a", "martin@", None]))
    assert (e.rule, e.hits, e.sample_size, e.hit_rate) == ("email", 58, 60, 0.9667)
    assert e.examples == tuple(mask(v) for v in emails[:3])
    assert e.examples[0] == "ma" + "•" * 20 + "fr"


def test_threshold_is_inclusive_and_blank_values_do_not_count() -> None:
    six = [f"a{i}@b.org" for i in range(6)] + ["x", "y", "z", "w", "", "  ", None]
    e = only(scan_column("contact", six))
    assert (e.rule, e.hits, e.sample_size, e.hit_rate, e.confidence) == (
        "email",
        6,
        10,
        0.6,
        "value",
    )
    assert scan_column("contact", [*six[:5], "x", "y", "z", "w", "v"]) == []
    with pytest.raises(ValueError, match=r"min_hit_rate must be in \(0, 1\]; found 0"):
        scan_column("contact", six, min_hit_rate=0)


@pytest.mark.parametrize(
    "value",
    [
        "06 12 34 56 78",
        "01.23.45.67.89",
        "0612345678",
        "+33612345678",
        "+33 6 12 34 56 78",
        "+33 (0)6 12 34 56 78",
        "0033 1 23 45 67 89",
        "+1 (212) 555-0100",
        "+44 20 7946 0958",
        "+221 77 123 45 67",
    ],
)
def test_phone_formats_recognised(value: str) -> None:
    assert only(scan_column("x", [value])).rule == "phone"


@pytest.mark.parametrize(
    "value",
    [
        "12 34 56 78 90",  # no leading 0
        "06 12 34 56",  # too short
        "+33 6 12 34 56 78 9",  # +33 with ten national digits
        "+1234567890123456",  # over E.164's 15 digits
        "+12 34",  # too short
        "2023-01-15",
        "06  12 34 56 78",  # doubled separator
        "06 12 34 56 7a",
    ],
)
def test_phone_look_alikes_rejected(value: str) -> None:
    assert scan_column("x", [value]) == []


# --- data that is personal only when the column name says so ------------------------------------


def test_birth_date_needs_the_column_name() -> None:
    dates = ["12/03/1985", "1990-07-01", "01/01/1950", "31/12/2001", "29/02/2000"]
    e = only(scan_column("date_de_naissance", dates))
    assert (e.rule, e.hits, e.sample_size, e.confidence, e.level, e.personal) == (
        "birth_date",
        5,
        5,
        "value+name",
        2,
        True,
    )
    assert scan_column("registration_date", dates) == []
    assert scan_column("Pays de naissance de l'enfant", ["Sénégal", "Haïti"]) == []
    implausible = ["01/01/1850", "01/01/2999", "31/02/1990", "hier"]
    e = only(scan_column("birthDate", implausible))
    assert (e.rule, e.confidence, e.hits) == ("birth_date", "name", 0)


def test_person_names_need_the_column_name() -> None:
    names = ["DUPONT", "Martin", "Le Goff", "N'Diaye", "Jean-Pierre", "de La Fontaine", "Éloïse"]
    e = only(scan_column("last_name", [*names, "x12", None]))
    assert (e.rule, e.hits, e.sample_size, e.hit_rate, e.confidence) == (
        "person_name",
        7,
        8,
        0.875,
        "value+name",
    )
    assert scan_column("ville", ["Paris", "Dakar", "Lomé"]) == []
    assert scan_column("country_name", ["France", "Sénégal"]) == []
    assert scan_column("Nom du pays", ["France", "Sénégal"]) == []
    assert only(scan_column("prenom_usage_pays", ["Anne"])).confidence == "value+name"
    assert [e.confidence for e in scan_column("prenom", ["1", "2"])] == ["name"]


def test_name_tokens_split_every_naming_style() -> None:
    assert name_tokens("Date de naissance") == ("date", "de", "naissance")
    assert name_tokens("birthDate") == ("birth", "date")
    assert name_tokens("N°_Sécu") == ("n", "secu")
    assert name_tokens("e-mail") == ("e", "mail")


# --- masking and combination --------------------------------------------------------------------


def test_masked_examples_never_show_a_whole_value(rng: random.Random) -> None:
    columns = {
        "nir": [make_nir(rng) for _ in range(5)],
        "iban": [make_iban(rng) for _ in range(5)],
        "email": ["ab@c.fr", "a@b.co", "jo@ex.org"],
        "tel": ["0612345678", "+33612345678"],
        "nom": ["Li", "Wu", "Ng"],
    }
    for name, values in columns.items():
        for e in scan_column(name, values):
            assert e.examples, name
            for example in e.examples:
                assert "•" in example
                assert not any(v in example for v in values)
    assert mask("martin@x.net") == "ma••••••••et"
    assert mask("Li") == "••"
    assert mask("abcdef") == "a••••f"


def test_scan_table_most_restrictive_evidence_wins(rng: random.Random) -> None:
    table: dict[str, list[str | None]] = {
        "siret": [make_iban(rng) for _ in range(10)],  # misnamed: IBANs under a SIRET header
        "amount": ["12,50", "3", None],
        "email": ["a@b.fr", "c@d.fr"],
    }
    suggestions = scan_table(table, source="development_aid")
    assert [(s.column, s.level, s.personal, s.confidence) for s in suggestions] == [
        ("siret", 1, True, "value"),
        ("email", 1, True, "value+name"),
    ]
    siret = suggestions[0]
    assert [(e.rule, e.confidence, e.level) for e in siret.evidence] == [
        ("iban", "value", 1),
        ("siret", "name", 3),
    ]
    assert siret.source == "development_aid"
    assert Suggestion.from_evidence("s", "c", list(reversed(siret.evidence))) == replace_source(
        siret, "s", "c"
    )


def replace_source(s: Suggestion, source: str, column: str) -> Suggestion:
    return Suggestion(source, column, s.level, s.personal, s.evidence, s.confidence)


def test_evidence_round_trips_through_json_dicts(rng: random.Random) -> None:
    e = only(scan_column("nir", [make_nir(rng) for _ in range(3)]))
    assert Evidence.from_dict(e.to_dict()) == e
    assert e.to_dict()["examples"] == list(e.examples)
