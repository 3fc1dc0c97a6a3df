"""Accounts of ``lake serve``: checks, argon2id hashes, latest row wins, who opens what."""

from __future__ import annotations

import datetime as dt

import pytest

from app.errors import AppError
from app.web import access
from app.web.accounts import ACCOUNTS, accounts_from_rows, add_account, check_new, verify
from app.web.security import Throttle, same_token
from conftest import REPO
from lake import meta_tables
from lake.contracts import load_contracts
from lake.settings import Settings

T0 = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


def row(login: str, level: int, *, hash_: str = "", disabled: bool = False, at: int = 0) -> dict:
    return {
        "login": login,
        "display_name": login,
        "level": level,
        "directions": ["DFAE"],
        "password_hash": hash_,
        "disabled": disabled,
        "action": "disable" if disabled else "add",
        "changed_at": T0 + dt.timedelta(minutes=at),
        "changed_by": "test",
    }


@pytest.mark.parametrize(
    ("login", "password", "level", "dirs", "message"),
    [
        ("X", "a" * 12, 1, [], "Login 'X' is not accepted: expected 2 to 63 characters"),
        (
            "ok",
            "a" * 12,
            5,
            [],
            "Level must be 1, 2, 3 or 4 (the seed's exposure levels); found 5.",
        ),
        ("ok", "a" * 12, 1, ["dfae"], "Direction(s) 'dfae' not accepted"),
        ("ok", "short", 1, [], "Password too short: 5 characters, at least 12 needed."),
    ],
)
def test_what_an_account_cannot_hold(
    login: str, password: str, level: int, dirs: list[str], message: str
) -> None:
    with pytest.raises(AppError) as refused:
        check_new(login, password, level, dirs)
    assert str(refused.value).startswith(message)


def test_latest_row_wins_and_a_disabled_account_cannot_sign_in() -> None:
    from argon2 import PasswordHasher

    good = PasswordHasher().hash("une phrase de passe")
    accounts = accounts_from_rows([row("a", 2, hash_=good, at=0), row("a", 1, hash_=good, at=1)])
    assert accounts["a"].level == 1 and accounts["a"].role == "niveau 1, direction DFAE"
    assert verify(accounts, "a", "une phrase de passe") == accounts["a"]
    assert verify(accounts, "a", "une autre phrase") is None
    assert verify(accounts, "inconnu", "une phrase de passe") is None
    gone = accounts_from_rows([row("a", 1, hash_=good), row("a", 1, disabled=True, at=1)])
    assert verify(gone, "a", "une phrase de passe") is None


def test_who_opens_which_domain() -> None:
    contracts = load_contracts(REPO)
    owner = accounts_from_rows([row("dfae", 2)])["dfae"]
    public = accounts_from_rows([{**row("p", 4), "directions": []}])["p"]
    assert access.domain_level(contracts, "Administration consulaire") == 1
    assert access.may_read_domain(owner, contracts, "Administration consulaire")  # owner
    assert access.may_read_domain(owner, contracts, "Adoption internationale")  # DFAE/MAI
    assert not access.may_read_domain(public, contracts, "Administration consulaire")
    assert access.may_read_domain(public, contracts, "Sécurité des Français à l'étranger")
    with pytest.raises(access.Forbidden):
        access.require_internal(public, "Le tableau de bord")


def test_csrf_tokens_and_throttle() -> None:
    assert same_token("abc", "abc") and not same_token("abc", "abd")
    assert not same_token(None, None) and not same_token("", "")
    throttle = Throttle(max_failures=2, window_s=60)
    throttle.failed("1.2.3.4", "a")
    assert not throttle.blocked("1.2.3.4", "a")
    throttle.failed("1.2.3.4", "a")
    assert throttle.blocked("1.2.3.4", "a") and not throttle.blocked("1.2.3.4", "b")
    throttle.succeeded("1.2.3.4", "a")
    assert not throttle.blocked("1.2.3.4", "a")


@pytest.mark.minio
def test_passwords_are_stored_only_as_argon2id_hashes(
    lake_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> None:
    settings = lake_settings.with_overrides({"storage": {"bucket": "lake-web-accounts"}})
    from lake.storage import ensure_bucket

    ensure_bucket(settings)
    secret = "ma phrase de passe secrète"
    add_account(settings, "agent.test", secret, level=2, directions=["DGM"])
    stored = meta_tables.read(settings, ACCOUNTS)
    assert len(stored) == 1
    assert stored[0]["password_hash"].startswith("$argon2id$")
    assert all(secret not in str(v) for v in stored[0].values())
