"""Country referential: the spellings silos deliver, and the referential's own consistency."""

from __future__ import annotations

import csv
import gettext
from importlib import metadata
from pathlib import Path

import pycountry
import pytest

from ingestion import countries, country_sources
from ingestion.countries import CountryMatch, CountryReferential, country_key

DATA = Path(countries.__file__).parent / "data"
INSEE_CSV = DATA / countries.INSEE_FILE
ALIASES_CSV = DATA / countries.ALIASES_FILE
FRENCH = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["fr"])


@pytest.fixture(scope="module")
def ref() -> CountryReferential:
    return CountryReferential.load()


def insee_rows() -> list[dict[str, str]]:
    with INSEE_CSV.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def alias_rows() -> list[dict[str, str]]:
    lines = [
        line
        for line in ALIASES_CSV.read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    return list(csv.DictReader(lines))


def ok(raw: str, iso3: str, iso2: str, label: str, insee: str) -> CountryMatch:
    return CountryMatch(raw, iso3, iso2, label, insee, "ok", None)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Côte d'Ivoire", "COTE D IVOIRE"),
        ("COTE D IVOIRE", "COTE D IVOIRE"),
        ("Cote-d'Ivoire", "COTE D IVOIRE"),
        ("  côte  d’ivoire ", "COTE D IVOIRE"),
        ("États-Unis d’Amérique", "ETATS UNIS D AMERIQUE"),
        ("Congo (Rép. dém.)", "CONGO REP DEM"),
        ("U.S.A.", "U S A"),
        ("Åland", "ALAND"),
        ("Færøerne", "FAEROERNE"),
        ("São Tomé_et_Príncipe", "SAO TOME ET PRINCIPE"),
        (" - ", ""),
    ],
)
def test_country_key(text: str, key: str) -> None:
    assert country_key(text) == key


@pytest.mark.parametrize(
    "raw",
    [
        "Côte d'Ivoire",
        "COTE D IVOIRE",
        "Cote-d'Ivoire",
        "Côte d’Ivoire",
        " cote d ivoire ",
        "CI",
        "CIV",
        "civ",
        "ci",
        "Ivory Coast",
        "République de Côte d'Ivoire",
        "99326",
    ],
)
def test_cote_d_ivoire_spellings(ref: CountryReferential, raw: str) -> None:
    # INSEE's label keeps its typographic apostrophe.
    assert ref.match(raw) == ok(raw, "CIV", "CI", "Côte d’Ivoire", "99326")


@pytest.mark.parametrize(
    "raw",
    [
        "Etats-Unis",
        "États-Unis",
        "ETATS UNIS",
        "Etats-Unis d'Amérique",
        "USA",
        "usa",
        "US",
        "U.S.A.",
        "U.S.",
        "United States",
        "United States of America",
    ],
)
def test_united_states(ref: CountryReferential, raw: str) -> None:
    assert ref.match(raw) == ok(raw, "USA", "US", "États-Unis", "99404")


@pytest.mark.parametrize(
    "raw",
    [
        "Royaume-Uni",
        "ROYAUME UNI",
        "Grande-Bretagne",
        "Great Britain",
        "UK",
        "GB",
        "GBR",
        "United Kingdom",
        "Angleterre",
        "Écosse",
        "Pays de Galles",
        "Irlande du Nord",
        "Royaume-Uni de Grande-Bretagne et d'Irlande du Nord",
        "le Royaume-Uni",
    ],
)
def test_united_kingdom(ref: CountryReferential, raw: str) -> None:
    assert ref.match(raw) == ok(raw, "GBR", "GB", "Royaume-Uni", "99132")


@pytest.mark.parametrize(
    ("raw", "iso3", "label"),
    [
        ("RDC", "COD", "République démocratique du Congo"),
        ("Congo (Rép. dém.)", "COD", "République démocratique du Congo"),
        ("Congo-Kinshasa", "COD", "République démocratique du Congo"),
        ("Congo, The Democratic Republic of the", "COD", "République démocratique du Congo"),
        ("Congo-Brazzaville", "COG", "Congo"),
        ("République du Congo", "COG", "Congo"),
        ("Corée du Sud", "KOR", "Corée du Sud"),
        ("République de Corée", "KOR", "Corée du Sud"),
        ("Republic of Korea", "KOR", "Corée du Sud"),
        ("South Korea", "KOR", "Corée du Sud"),
        ("Corée du Nord", "PRK", "Corée du Nord"),
        ("Russie", "RUS", "Russie"),
        ("Fédération de Russie", "RUS", "Russie"),
        ("Russian Federation", "RUS", "Russie"),
        ("Viet Nam", "VNM", "Vietnam"),
        ("Vietnam", "VNM", "Vietnam"),
        ("Viêt-nam", "VNM", "Vietnam"),
        ("Birmanie", "MMR", "Birmanie"),
        ("Myanmar", "MMR", "Birmanie"),
        ("Burma", "MMR", "Birmanie"),
        ("Hollande", "NLD", "Pays-Bas"),
        ("The Netherlands", "NLD", "Pays-Bas"),
        ("Tchéquie", "CZE", "Tchéquie"),
        ("République tchèque", "CZE", "Tchéquie"),
        ("Eswatini", "SWZ", "Swaziland"),
        ("Guinée-Bissau", "GNB", "Guinée-Bissao"),
        ("Guinée équatoriale", "GNQ", "Guinée équatoriale"),
        ("Kirghizistan", "KGZ", "Kirghizstan"),
        ("Türkiye", "TUR", "Turquie"),
        ("Turkey", "TUR", "Turquie"),
        ("La Barbade", "BRB", "Barbade"),
        ("The Gambia", "GMB", "Gambie"),
        ("L'Inde", "IND", "Inde"),
        ("Iran, République islamique d'", "IRN", "Iran"),
        ("Saint-Siège", "VAT", "Vatican"),
        ("France métropolitaine", "FRA", "France"),
    ],
)
def test_usual_variants(ref: CountryReferential, raw: str, iso3: str, label: str) -> None:
    match = ref.match(raw)
    assert (match.iso3, match.label_fr, match.status, match.reason_fr) == (iso3, label, "ok", None)


def test_kosovo_has_no_iso_code(ref: CountryReferential) -> None:
    expected = "Kosovo : pays sans code ISO 3166 (code INSEE 99157)"
    for raw in ("Kosovo", "KOSOVO", "République du Kosovo", "99157", "XK"):
        assert ref.match(raw) == CountryMatch(
            raw, None, None, "Kosovo", "99157", "no_iso_code", expected
        )
    # No user-assigned code is invented or accepted as if it were ISO.
    assert ref.match("XKX").status == "unknown"


def test_territories(ref: CountryReferential) -> None:
    assert ref.match("Groenland") == CountryMatch(
        "Groenland",
        "GRL",
        "GL",
        "Groenland",
        "99430",
        "territory",
        "Groenland : territoire non souverain (pays de rattachement : Danemark), avec son propre "
        "code ISO 3166 (GRL)",
    )
    assert ref.match("Nouvelle-Calédonie") == CountryMatch(
        "Nouvelle-Calédonie",
        "NCL",
        "NC",
        "Nouvelle-Calédonie",
        None,
        "territory",
        "Nouvelle-Calédonie : outre-mer français, avec son propre code ISO 3166 (NCL) ; hors de "
        "la liste des pays de l'INSEE (partie de la France)",
    )
    assert ref.match("Porto Rico") == CountryMatch(
        "Porto Rico",
        "PRI",
        "PR",
        "Porto Rico",
        "99432",
        "territory",
        "Porto Rico : territoire non souverain (pays de rattachement : États-Unis), avec son "
        "propre code ISO 3166 (PRI) ; code INSEE du groupe « Territoires des États-Unis en "
        "Amérique » (99432)",
    )
    hong_kong = ref.match("Hong-Kong")
    assert (hong_kong.iso3, hong_kong.label_fr, hong_kong.insee_code, hong_kong.status) == (
        "HKG",
        "Hong Kong",
        "99230",
        "territory",
    )
    assert ref.match("Puerto Rico").iso3 == "PRI"
    assert ref.match("La Réunion").iso3 == ref.match("Réunion").iso3 == "REU"
    # INSEE gives the territories of Spain the parent's code; the code itself still means Spain.
    ceuta = ref.match("Territoires espagnols en Afrique du Nord")
    assert (ceuta.iso3, ceuta.insee_code, ceuta.status) == ("ESP", "99313", "territory")
    assert ref.match("ESP") == ok("ESP", "ESP", "ES", "Espagne", "99134")
    # An INSEE group without an ISO code of its own.
    assert ref.match("Territoires norvégiens en Atlantique Nord") == CountryMatch(
        "Territoires norvégiens en Atlantique Nord",
        None,
        None,
        "Territoires norvégiens en Atlantique Nord",
        "99159",
        "no_iso_code",
        "Territoires norvégiens en Atlantique Nord : territoire non souverain (pays de "
        "rattachement : Norvège), sans code ISO 3166 propre (code INSEE 99159)",
    )


def test_unknown_and_blank(ref: CountryReferential) -> None:
    assert ref.match("Atlantide") == CountryMatch(
        "Atlantide",
        None,
        None,
        None,
        None,
        "unknown",
        "« Atlantide » ne correspond à aucun pays du référentiel INSEE/ISO",
    )
    for blank in ("", "   ", "\t"):
        assert ref.match(blank) == CountryMatch(
            blank, None, None, None, None, "unknown", "valeur vide : aucun pays indiqué"
        )
    # Partial names are not guessed.
    assert ref.match("Amérique").status == "unknown"
    assert ref.match("Bosnie").status == "unknown"


def test_congo_and_guinea_follow_the_data(ref: CountryReferential) -> None:
    # INSEE 99324 and ISO 3166-1 both call the Republic of the Congo exactly "Congo".
    assert ref.match("Congo") == ok("Congo", "COG", "CG", "Congo", "99324")
    assert ref.match("CONGO").iso3 == "COG"
    assert ref.match("Guinée") == ok("Guinée", "GIN", "GN", "Guinée", "99330")
    assert ref.match("Guinea").iso3 == "GIN"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (
            "Corée",
            "« Corée » peut désigner plusieurs pays : Corée du Nord (PRK), Corée du Sud "
            "(KOR) ; préciser lequel",
        ),
        (
            "Korea",
            "« Korea » peut désigner plusieurs pays : Corée du Nord (PRK), Corée du Sud "
            "(KOR) ; préciser lequel",
        ),
        (
            "Îles Vierges",
            "« Îles Vierges » peut désigner plusieurs pays : Îles Vierges "
            "britanniques (VGB), Îles Vierges des États-Unis (VIR) ; préciser "
            "lequel",
        ),
        (
            "Saint-Martin",
            "« Saint-Martin » peut désigner plusieurs pays : Saint-Martin (partie "
            "française) (MAF), Saint-Martin (partie néerlandaise) (SXM) ; préciser "
            "lequel",
        ),
    ],
)
def test_ambiguous(ref: CountryReferential, raw: str, reason: str) -> None:
    assert ref.match(raw) == CountryMatch(raw, None, None, None, None, "ambiguous", reason)


def test_countries_that_no_longer_exist(ref: CountryReferential) -> None:
    assert ref.match("Tchécoslovaquie") == CountryMatch(
        "Tchécoslovaquie",
        None,
        None,
        "Tchécoslovaquie",
        None,
        "no_iso_code",
        "Tchécoslovaquie : pays ou territoire qui n'existe plus (retiré de l'ISO 3166-1 en 1993, "
        "ISO 3166-3 CSHH) ; pas de successeur unique, le pays actuel dépend du lieu",
    )
    assert ref.match("Zaïre").reason_fr == (
        "République du Zaïre : pays ou territoire qui n'existe plus (retiré de l'ISO 3166-1 en "
        "1997, ISO 3166-3 ZRCD) ; successeur selon l'ISO 3166-3 : République démocratique du "
        "Congo (COD)"
    )
    for raw in ("URSS", "USSR", "Union soviétique", "SUN"):
        assert ref.match(raw).label_fr == "URSS", raw
    for raw in ("Yougoslavie", "Yugoslavia", "YUG", "RDA", "Serbie-et-Monténégro"):
        match = ref.match(raw)
        assert (match.iso3, match.status) == (None, "no_iso_code"), raw
    # A current name always wins over an ISO 3166-3 one ("Yemen, Democratic...", "East Timor").
    assert ref.match("Yémen").iso3 == "YEM"
    assert ref.match("Timor oriental").iso3 == "TLS"
    # ISO reused ATF: the code means today's French Southern Territories.
    assert ref.match("ATF").iso3 == "ATF"


def test_match_many_deduplicates(ref: CountryReferential) -> None:
    result = ref.match_many(["CI", "Côte d'Ivoire", "CI", "Atlantide", "CI", "Côte d'Ivoire"])
    assert list(result) == ["CI", "Côte d'Ivoire", "Atlantide"]
    assert result["CI"] == ref.match("CI")
    assert result["Atlantide"].status == "unknown"
    assert ref.match_many([]) == {}


def test_every_insee_row_matches_its_own_names(ref: CountryReferential) -> None:
    rows = insee_rows()
    assert len(rows) == 229
    for row in rows:
        for name in (row["name"], row["official_name"]):
            match = ref.match(name)
            assert (match.iso3, match.iso2) == (row["iso3_code"] or None, row["iso2_code"] or None)
            assert (match.insee_code, match.label_fr) == (row["code"], row["name"]), name
            assert match.status == (
                "ok"
                if row["actual_id"] == "1" and not row["parent_code"] and row["iso3_code"]
                else "territory"
                if row["iso3_code"]
                else "no_iso_code"
            ), name


def test_every_iso_country_matches_its_names_and_codes(ref: CountryReferential) -> None:
    insee = {r["iso3_code"]: r for r in insee_rows() if r["iso3_code"]}
    for country in pycountry.countries:
        names = [
            getattr(country, a)
            for a in ("name", "official_name", "common_name")
            if hasattr(country, a)
        ]
        for raw in [*names, *(FRENCH.gettext(n) for n in names), country.alpha_2, country.alpha_3]:
            assert ref.match(raw).iso3 == country.alpha_3, raw
        if country.alpha_3 in insee:
            assert insee[country.alpha_3]["iso2_code"] == country.alpha_2


def test_rows_cover_every_iso_code_once(ref: CountryReferential) -> None:
    rows = ref.rows()
    assert [r[0] for r in rows] == sorted(c.alpha_3 for c in pycountry.countries)
    assert {r[3] for r in rows} == {"ok", "territory"}
    by_iso3 = {r[0]: r for r in rows}
    assert by_iso3["CIV"] == ("CIV", "CI", "Côte d’Ivoire", "ok")
    assert by_iso3["ESP"] == ("ESP", "ES", "Espagne", "ok")
    assert by_iso3["GRL"] == ("GRL", "GL", "Groenland", "territory")
    assert by_iso3["NCL"] == ("NCL", "NC", "Nouvelle-Calédonie", "territory")
    # Only the sovereign states INSEE lists, plus Kosovo, are countries; the rest is territories.
    assert (
        sum(r[3] == "ok" for r in rows)
        == sum(r["actual_id"] == "1" and not r["parent_code"] for r in insee_rows()) - 1
    )


def test_territory_table_is_exactly_what_insee_lacks() -> None:
    insee = {r["iso3_code"] for r in insee_rows()}
    missing = {c.alpha_3 for c in pycountry.countries} - insee
    assert set(country_sources._TERRITORIES_OUTSIDE_INSEE) == missing
    groups = {r["code"]: r for r in insee_rows()}
    for iso3, (_label, parent, group) in country_sources._TERRITORIES_OUTSIDE_INSEE.items():
        assert groups[parent]["actual_id"] == "1", iso3
        if group is not None:
            # The group must be an INSEE territory of the same parent, without an ISO code.
            assert (groups[group]["parent_code"], groups[group]["iso3_code"]) == (parent, ""), iso3


def test_every_alias_is_needed_and_lands_where_declared(ref: CountryReferential) -> None:
    bare = CountryReferential._from_text(INSEE_CSV.read_text(encoding="utf-8"), "alias,code\n")
    aliases = alias_rows()
    assert len({country_key(a["alias"]) for a in aliases}) == len(aliases)
    for alias in aliases:
        # Three fields exactly: an unquoted comma in a source would shift the columns.
        assert list(alias) == ["alias", "code", "source"] and alias["source"], alias
        raw, code = alias["alias"], alias["code"]
        match = ref.match(raw)
        if "|" in code:
            assert match.status == "ambiguous", raw
        elif len(code) == 3:
            assert match.iso3 == code, raw
        elif len(code) == 4:
            assert (match.status, f"ISO 3166-3 {code}" in (match.reason_fr or "")) == (
                "no_iso_code",
                True,
            ), raw
        else:
            assert match.insee_code == code, raw
        # Without the alias file the value would not land there.
        assert bare.match(raw) != match, raw


def test_aliases_cannot_contradict_the_sources() -> None:
    insee = INSEE_CSV.read_text(encoding="utf-8")
    with pytest.raises(ValueError, match="contradicts the sources"):
        CountryReferential._from_text(insee, "alias,code\nGuinée,GNB\n")
    with pytest.raises(ValueError, match="is a code"):
        CountryReferential._from_text(insee, "alias,code\nCD,COG\n")
    with pytest.raises(ValueError, match="unknown code"):
        CountryReferential._from_text(insee, "alias,code\nAtlantide,ATL\n")


def test_load_is_cached_and_names_its_sources() -> None:
    first = CountryReferential.load()
    assert CountryReferential.load() is first
    assert first.source_note.startswith("INSEE COG 2025 pays et territoires étrangers (229 lignes)")
    assert f"pycountry {metadata.version('pycountry')} ;" in first.source_note
