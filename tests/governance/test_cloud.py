"""The A09 cloud-usage framework: policy file, decisions per table, terminal and HTML renderings."""

from __future__ import annotations

import copy
import datetime as dt
import json
import textwrap
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import REPO
from governance.catalog.entries import Catalog, ColumnEntry, TableEntry
from governance.cloud.framework import (
    CloudPolicyError,
    Decision,
    assess,
    load_policy,
    render_html,
    render_text,
)
from governance.cloud.policy import Condition, DatasetFacts, Policy, default_policy_path
from governance.errors import GovernanceError
from governance.lineage.model import Tag

POLICY = default_policy_path(REPO)
NOW = dt.datetime(2026, 3, 2, 10, 30, tzinfo=dt.UTC)
GIB = 1024**3


def table(layer: str, name: str, **values: Any) -> dict[str, Any]:
    """One table exactly as `TableEntry.to_dict()` shapes it (values overridable)."""
    base: dict[str, Any] = {
        "layer": layer,
        "name": name,
        "uri": f"s3a://lake/{layer}/{name}",
        "domain": "Administration consulaire",
        "owner": "DFAE",
        "description": "",
        "sources": [name] if layer != "gold" else [],
        "rows": 100,
        "size_bytes": 4096,
        "version": 0,
        "updated_at": NOW.isoformat(),
        "created_at": NOW.isoformat(),
        "level": 2,
        "personal": False,
        "exclusion": False,
        "quality_score": None,
        "quality_reviewed_at": None,
        "columns": [],
    }
    assert set(values) <= set(base), set(values) - set(base)
    return {**base, **values}


def catalog(*tables: dict[str, Any]) -> dict[str, Any]:
    """A catalogue exactly as `Catalog.to_dict()` shapes it (summary left at zero)."""
    return {
        "generated_at": NOW.isoformat(),
        "summary": {
            "tables": len(tables),
            "domains": [],
            "domain_count": 0,
            "tables_per_level": {"1": 0, "2": 0, "3": 0, "4": 0},
            "unclassified": 0,
            "tables_per_layer": {"bronze": 0, "silver": 0, "gold": 0, "quarantine": 0},
            "personal_tables": 0,
            "rows": 0,
            "size_bytes": 0,
        },
        "tables": list(tables),
        "warnings": [],
    }


REGISTER_BRONZE = table(
    "bronze",
    "consular_register",
    level=1,
    personal=True,
    exclusion=True,
    columns=[
        {
            "name": "birth_date",
            "type": "date",
            "description": "Date de naissance.",
            "declared": {"level": 1, "personal": True, "exclusion": False},
            "pseudonymised": False,
            "derived": None,
            "derived_fr": "",
            "tag": {"level": 1, "personal": True, "exclusion": False},
        }
    ],
)
REGISTER_SILVER = table("silver", "consular_register", level=1, personal=True, exclusion=True)
OPEN_GOLD = table(
    "gold",
    "visas_par_pays",
    domain="Mobilité internationale",
    owner="DGM/MOB",
    sources=["pvt_visas"],
    level=4,
)
INTERNAL = table("silver", "development_aid", domain="Aide au développement", owner="DGM", level=2)


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy(POLICY)


def decide(policy, *tables: dict[str, Any], **secrets: bool) -> list[Decision]:
    return assess(catalog(*tables), policy, contracts_legal_secret=secrets)


# --- the project's policy ---------------------------------------------------------------------


def test_the_project_policy_has_ordered_rules_and_a_final_default(policy: Policy) -> None:
    assert [r.id for r in policy.rules] == [
        "non-classe",
        "secret-legal-nominatif",
        "secret-legal",
        "donnees-personnelles",
        "champs-exclusion",
        "acces-habilite",
        "interne",
        "partenaires",
        "donnees-ouvertes",
        "defaut",
    ]
    assert policy.rules[-1].when.items == ()
    assert [h.label for h in policy.hostings] == [
        "Infrastructures internes du ministère",
        "Cloud qualifié SecNumCloud",
        "Cloud commercial public",
    ]
    assert [n.id for n in policy.notes] == ["gros-volume"]


def test_the_consular_register_is_never_in_the_public_cloud(policy: Policy) -> None:
    bronze, silver = decide(policy, REGISTER_BRONZE, REGISTER_SILVER)
    for d in (bronze, silver):
        assert d.hostings == ("on_premises", "secnumcloud")
        assert d.rule_id == "donnees-personnelles"
        assert d.rule_title_fr == "Données personnelles"
        assert "RGPD" in d.explanation_fr
        assert "hors de l'Union européenne" in d.explanation_fr
        assert "circulaire n° 6282/SG" in d.explanation_fr
        assert set(d.uses) == {"on_premises", "secnumcloud"}
    assert (bronze.level, bronze.personal, bronze.legal_secret) == (1, True, False)


def test_the_consular_register_under_a_legal_secret_stays_on_premises(policy: Policy) -> None:
    (d,) = decide(policy, REGISTER_BRONZE, consular_register=True)
    assert d.legal_secret is True
    assert d.hostings == ("on_premises",)
    assert d.rule_id == "secret-legal-nominatif"
    assert "conduite de la politique extérieure de la France" in d.explanation_fr


def test_a_legal_secret_admits_only_on_premises_or_secnumcloud(policy: Policy) -> None:
    internal, gold, flagged = decide(
        policy,
        INTERNAL,
        OPEN_GOLD,  # level 4, but built from a source under a legal secret: gold inherits it
        {**table("gold", "depeches", sources=[], level=3), "legal_secret": True},
        development_aid=True,
        pvt_visas=True,
    )
    for d in (internal, gold, flagged):
        assert d.legal_secret is True
        assert d.hostings == ("on_premises", "secnumcloud")
        assert d.rule_id == "secret-legal"
        assert "articles L. 311-5 et L. 311-6" in d.explanation_fr
        assert "SecNumCloud" in d.explanation_fr


def test_open_data_gold_is_admitted_everywhere(policy: Policy) -> None:
    (d,) = decide(policy, OPEN_GOLD, pvt_visas=False)
    assert d.hostings == ("on_premises", "secnumcloud", "public_cloud")
    assert d.rule_id == "donnees-ouvertes"
    assert "data.gouv.fr" in d.explanation_fr
    assert any("data.gouv.fr" in use for use in d.uses["public_cloud"])
    assert any("capacités" in use for use in d.uses["on_premises"])


def test_internal_level_2_data_go_to_secnumcloud_or_stay_on_premises(policy: Policy) -> None:
    (d,) = decide(policy, INTERNAL)
    assert (d.level, d.personal, d.legal_secret) == (2, False, False)
    assert d.hostings == ("on_premises", "secnumcloud")
    assert d.rule_id == "interne"
    assert "par précaution" in d.explanation_fr


@pytest.mark.parametrize(
    ("values", "rule_id", "hostings"),
    [
        ({"level": 3}, "partenaires", ("on_premises", "secnumcloud")),
        ({"level": 1}, "acces-habilite", ("on_premises", "secnumcloud")),
        ({"level": 4, "exclusion": True}, "champs-exclusion", ("on_premises", "secnumcloud")),
        ({"level": 4, "personal": True}, "donnees-personnelles", ("on_premises", "secnumcloud")),
        ({"level": None}, "non-classe", ("on_premises",)),
    ],
)
def test_each_rule_decides_its_case(
    policy: Policy, values: dict[str, Any], rule_id: str, hostings: tuple[str, ...]
) -> None:
    (d,) = decide(policy, table("gold", "indicateur", **values))
    assert (d.rule_id, d.hostings) == (rule_id, hostings)


def test_a_large_volume_mentions_the_ministry_capacity_without_restricting(policy: Policy) -> None:
    small, large = decide(
        policy,
        OPEN_GOLD,
        {**OPEN_GOLD, "name": "visas_detail", "size_bytes": 250 * GIB, "rows": None},
    )
    assert large.hostings == small.hostings == ("on_premises", "secnumcloud", "public_cloud")
    assert large.rule_id == small.rule_id == "donnees-ouvertes"
    assert large.note_ids == ("gros-volume",)
    assert small.note_ids == ()
    assert large.explanation_fr.startswith(small.explanation_fr + " Volume important")
    assert "capacités de stockage et de calcul" in large.explanation_fr
    assert "capacités" not in small.explanation_fr


def test_decisions_follow_the_real_catalogue_shape(policy: Policy) -> None:
    entry = TableEntry(
        layer="silver",
        name="consular_register",
        uri="s3a://lake/silver/consular_register",
        domain="Administration consulaire",
        owner="DFAE",
        description="Inscriptions.",
        sources=("consular_register",),
        rows=12,
        size_bytes=2048,
        version=1,
        updated_at=NOW,
        columns=(ColumnEntry("birth_date", "date", declared=Tag(1, personal=True)),),
        contract_level=1,
    )
    real = Catalog((entry,), NOW).to_dict()
    assert real.keys() == catalog().keys()
    assert real["tables"][0].keys() == REGISTER_BRONZE.keys()
    (d,) = assess(real, policy)
    assert (d.key, d.hostings, d.rule_id) == (
        "silver/consular_register",
        ("on_premises", "secnumcloud"),
        "donnees-personnelles",
    )


def test_a_decision_is_plain_json(policy: Policy) -> None:
    (d,) = decide(policy, OPEN_GOLD)
    data = json.loads(json.dumps(d.to_dict()))
    assert list(data) == [
        "table",
        "layer",
        "domain",
        "description",
        "level",
        "personal",
        "legal_secret",
        "exclusion",
        "size_bytes",
        "rows",
        "hostings",
        "rule_id",
        "rule_title_fr",
        "explanation_fr",
        "notes",
        "uses",
    ]
    assert data["hostings"] == ["on_premises", "secnumcloud", "public_cloud"]
    assert list(data["uses"]) == data["hostings"]


def test_a_catalogue_without_tables_is_refused(policy: Policy) -> None:
    with pytest.raises(GovernanceError, match=r"^The catalogue has no 'tables' list \(found"):
        assess({"summary": {}}, policy)
    with pytest.raises(GovernanceError, match=r"tables\[1\] has no layer or name"):
        assess(catalog(INTERNAL, {"layer": "gold"}), policy)


# --- the rule language and its validation ---------------------------------------------------


def minimal() -> dict[str, Any]:
    uses = {"label": "L", "uses": ["u"]}
    return {
        "version": 1,
        "title": "Cadre de test",
        "doctrine": ["Doctrine."],
        "hostings": {h: dict(uses) for h in ("on_premises", "secnumcloud", "public_cloud")},
        "rules": [
            {
                "id": "personnelles",
                "title": "Données personnelles",
                "when": {"personal": True},
                "hostings": ["secnumcloud", "on_premises"],
                "explanation": "RGPD.",
            },
            {
                "id": "habilites",
                "title": "Habilités",
                "when": {"level_max": 1},
                "hostings": ["on_premises"],
                "explanation": "Niveau 1.",
            },
            {
                "id": "defaut",
                "title": "Défaut",
                "when": {},
                "hostings": ["public_cloud"],
                "explanation": "Défaut.",
            },
        ],
    }


def write_policy(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "cloud.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_the_first_matching_rule_decides(tmp_path: Path) -> None:
    data = minimal()
    personal_level_1 = table("bronze", "x", level=1, personal=True)
    (d,) = assess(catalog(personal_level_1), load_policy(write_policy(tmp_path, data)))
    assert (d.rule_id, d.hostings) == ("personnelles", ("on_premises", "secnumcloud"))

    data["rules"][0], data["rules"][1] = data["rules"][1], data["rules"][0]
    (d,) = assess(catalog(personal_level_1), load_policy(write_policy(tmp_path, data)))
    assert (d.rule_id, d.hostings) == ("habilites", ("on_premises",))

    (d,) = assess(catalog(table("gold", "y", level=4)), load_policy(write_policy(tmp_path, data)))
    assert (d.rule_id, d.explanation_fr) == ("defaut", "Défaut.")


def policy_error(tmp_path: Path, data: dict[str, Any]) -> CloudPolicyError:
    path = write_policy(tmp_path, data)
    with pytest.raises(CloudPolicyError) as caught:
        load_policy(path)
    assert isinstance(caught.value, GovernanceError)
    assert str(caught.value).startswith(f"Cloud policy {path}")
    assert caught.value.fix == (
        f"correct {path} (the comments at the top of policy/cloud.yaml describe every field), "
        "then rerun `lake cloud`"
    )
    return caught.value


def test_an_unknown_condition_key_is_named(tmp_path: Path) -> None:
    data = minimal()
    data["rules"][1]["when"] = {"level_max": 1, "colour": "rouge"}
    error = policy_error(tmp_path, data)
    assert error.message == (
        f"Cloud policy {tmp_path / 'cloud.yaml'}, rule 'habilites' (rules[1]), field "
        "when.colour: unknown condition key 'colour'; allowed: classified, exclusion, layer, "
        "legal_secret, level_max, level_min, personal, rows_max, rows_min, tables, "
        "volume_bytes_max, volume_bytes_min."
    )
    assert (error.rule, error.field) == ("habilites", "when.colour")


def test_an_unknown_hosting_is_named(tmp_path: Path) -> None:
    data = minimal()
    data["rules"][0]["hostings"] = ["on_premises", "cloud_public"]
    error = policy_error(tmp_path, data)
    assert error.message == (
        f"Cloud policy {tmp_path / 'cloud.yaml'}, rule 'personnelles' (rules[0]), field "
        "hostings[1]: unknown hosting 'cloud_public'; allowed: on_premises, secnumcloud, "
        "public_cloud."
    )


def test_a_policy_without_a_default_rule_is_refused(tmp_path: Path) -> None:
    data = minimal()
    del data["rules"][2]
    error = policy_error(tmp_path, data)
    assert error.message == (
        f"Cloud policy {tmp_path / 'cloud.yaml'}, field rules: no default rule: the last rule "
        "'habilites' has a condition; end the list with a rule whose condition is empty "
        "(when: {}) so that every dataset gets a decision."
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["rules"].insert(0, copy.deepcopy(d["rules"][2]) | {"id": "tout"}),
            "field rules[0].when: rule 'tout' matches every dataset, so the rules after it "
            "('personnelles', 'habilites', 'defaut') can never apply; keep the rule with an "
            "empty condition last.",
        ),
        (
            lambda d: d["rules"][1]["when"].update(level_max=5),
            "rule 'habilites' (rules[1]), field when.level_max: must be an exposure level "
            "1, 2, 3 or 4; found 5.",
        ),
        (
            lambda d: d["rules"][0]["when"].update(personal="oui"),
            "rule 'personnelles' (rules[0]), field when.personal: must be true or false; "
            "found 'oui'.",
        ),
        (
            lambda d: d["rules"][0]["when"].update(layer=["or"]),
            "rule 'personnelles' (rules[0]), field when.layer: unknown layer 'or'; allowed: "
            "bronze, silver, gold, quarantine.",
        ),
        (
            lambda d: d["rules"][1].update(id="personnelles"),
            "field rules: id 'personnelles' is used twice; ids must be unique.",
        ),
        (
            lambda d: d["rules"][1].pop("explanation"),
            "rule 'habilites' (rules[1]), field explanation: is required.",
        ),
        (
            lambda d: d["rules"][1].update(id="Habilités"),
            "rule #2 (rules[1]), field id: is 'Habilités'; allowed: lower-case letters, "
            "digits and '-'.",
        ),
        (
            lambda d: d["hostings"].pop("secnumcloud"),
            "field hostings.secnumcloud: is required: describe every hosting option.",
        ),
        (
            lambda d: d["hostings"].update(cloud_souverain={"label": "x", "uses": ["y"]}),
            "field hostings.cloud_souverain: unknown hosting 'cloud_souverain'; allowed: "
            "on_premises, secnumcloud, public_cloud.",
        ),
        (
            lambda d: d.update(notes=[{"id": "n", "title": "N", "when": {}, "text": "T"}]),
            "note 'n' (notes[0]), field when: must not be empty: a note applies to some "
            "datasets only.",
        ),
    ],
)
def test_policy_errors_name_the_file_the_rule_and_the_field(
    tmp_path: Path, change: Callable[[dict[str, Any]], Any], message: str
) -> None:
    data = minimal()
    change(data)
    error = policy_error(tmp_path, data)
    assert error.message == f"Cloud policy {tmp_path / 'cloud.yaml'}, {message}"


def test_an_unreadable_policy_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "absent.yaml"
    with pytest.raises(CloudPolicyError, match=r"absent.yaml, field \(file\): cannot be read"):
        load_policy(missing)
    broken = tmp_path / "broken.yaml"
    broken.write_text("rules: [", encoding="utf-8")
    with pytest.raises(CloudPolicyError, match=r"field \(file\): is not valid YAML"):
        load_policy(broken)


def test_conditions_read_in_plain_french(policy: Policy) -> None:
    described = {r.id: r.when.describe_fr() for r in policy.rules}
    assert described["secret-legal-nominatif"] == (
        "niveau d'exposition 1 et secret protégé par la loi"
    )
    assert described["partenaires"] == "niveau d'exposition 1 à 3"
    assert described["interne"] == "niveau d'exposition 1 ou 2"
    assert described["defaut"] == "tous les jeux (règle par défaut)"
    assert policy.notes[0].when.describe_fr() == "volume ≥ 100,0 Go"


# --- renderings ---------------------------------------------------------------------------------


def test_render_text_aligns_one_line_per_table_then_counts(policy: Policy) -> None:
    decisions = decide(
        policy,
        REGISTER_BRONZE,
        {**OPEN_GOLD, "size_bytes": 200 * GIB},
        table("gold", "sans_niveau", level=None),
    )
    assert render_text(decisions) == textwrap.dedent(
        """\
        couche  table              niveau      RGPD  secret légal  hébergements admissibles            règle
        bronze  consular_register  1           oui   non           interne, SecNumCloud                donnees-personnelles
        gold    visas_par_pays     4           non   non           interne, SecNumCloud, cloud public  donnees-ouvertes
        gold    sans_niveau        non classé  non   non           interne                             non-classe

        Jeux admis par hébergement : interne → 3, SecNumCloud → 2, cloud public → 1
        Avis : gold/visas_par_pays : gros-volume
        """  # noqa: E501
    )


class _Checker(HTMLParser):
    """Collects start tags and checks that every non-void element is closed in order."""

    VOID = frozenset({"meta", "br", "link", "img", "hr", "input"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, (tag, self.stack[-5:])
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_render_html_groups_datasets_by_hosting_and_escapes_everything(
    policy: Policy, tmp_path: Path
) -> None:
    planted = "<script>alert('x')</script>"
    decisions = decide(
        policy,
        {**REGISTER_BRONZE, "description": f"Registre {planted}"},
        OPEN_GOLD,
        table("gold", f"evil{planted}", level=2),
    )
    out = render_html(decisions, policy, tmp_path / "rapports" / "cloud.html", generated_at=NOW)
    assert out == tmp_path / "rapports" / "cloud.html"
    html = out.read_text(encoding="utf-8")

    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    checker = _Checker()
    checker.feed(html)
    checker.close()
    assert checker.stack == []
    assert not any(tag == "script" for tag, _ in checker.tags)
    csp = [
        str(a["content"])
        for _, a in checker.tags
        if a.get("http-equiv") == "Content-Security-Policy"
    ]
    assert csp and "script-src 'none'" in csp[0] and "default-src 'none'" in csp[0]
    assert not any(t == "link" or "src" in a for t, a in checker.tags)
    text = " ".join(" ".join(checker.text).split())
    assert f"Registre {planted}" in text  # shown as text, never as markup

    sections = {a["id"]: i for i, (t, a) in enumerate(checker.tags) if t == "section"}
    assert list(sections) == [
        "doctrine", "on_premises", "secnumcloud", "public_cloud", "decisions", "regles"
    ]  # fmt: skip
    body = html.split('<section id="on_premises"')[1]
    on_prem, secnum, public = (
        body.split('<section id="secnumcloud"')[0],
        body.split('<section id="secnumcloud"')[1].split('<section id="public_cloud"')[0],
        body.split('<section id="public_cloud"')[1].split('<section id="decisions"')[0],
    )
    for part in (on_prem, secnum):
        assert "bronze/consular_register" in part and "gold/visas_par_pays" in part
    assert "gold/visas_par_pays" in public and "consular_register" not in public
    assert "Diffusion des données ouvertes (data.gouv.fr" in public
    assert "Partage avec des partenaires habilités" in secnum
    assert "Cloud au centre" in text and "n° 6404/SG" in text
    assert "la première qui s'applique décide" in text
    assert "niveau d'exposition 1 et secret protégé par la loi" in text
    assert "Cadre généré le 2 mars 2026" in text


def test_render_html_of_an_empty_lake_says_so(policy: Policy, tmp_path: Path) -> None:
    html = render_html([], policy, tmp_path / "cloud.html", generated_at=NOW).read_text()
    assert html.count("Aucun jeu de données du lac n'est admis sur cet hébergement.") == 3
    assert "Le catalogue ne contient encore aucune table." in html


def test_the_condition_language_is_a_conjunction_of_safe_checks() -> None:
    facts = DatasetFacts(
        layer="gold",
        name="x",
        level=None,
        personal=False,
        legal_secret=False,
        exclusion=False,
        size_bytes=10,
        rows=None,
    )
    assert Condition().matches(facts)
    assert Condition((("classified", False),)).matches(facts)
    assert not Condition((("level_max", 4),)).matches(facts)  # unclassified: no level holds
    assert not Condition((("rows_min", 0),)).matches(facts)  # unknown row count
    assert Condition((("layer", ("gold",)), ("tables", ("gold/x",)))).matches(facts)
    assert not Condition((("layer", ("gold",)), ("volume_bytes_max", 9))).matches(facts)
    assert Condition((("layer", ("gold",)), ("tables", ("gold/x",)))).describe_fr() == (
        "couche gold et table gold/x"
    )


def test_a_targeted_exception_goes_before_the_general_rule(tmp_path: Path) -> None:
    data = minimal()
    data["rules"].insert(
        0,
        {
            "id": "exception-x",
            "title": "Exception validée par le RSSI",
            "when": {"tables": "gold/x", "personal": False},
            "hostings": ["public_cloud", "on_premises"],
            "explanation": "Analyse de risques du 1er mars.",
        },
    )
    policy = load_policy(write_policy(tmp_path, data))
    assert policy.rules[0].when.items == (("tables", ("gold/x",)), ("personal", False))
    x, y = assess(catalog(table("gold", "x", level=1), table("gold", "y", level=1)), policy)
    assert (x.rule_id, x.hostings) == ("exception-x", ("on_premises", "public_cloud"))
    assert y.rule_id == "habilites"
