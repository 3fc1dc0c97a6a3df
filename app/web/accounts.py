"""The accounts of ``lake serve``: who signs in, at which exposure level, owning which directions.

Accounts live in the lake, so every container serving the pages finds the same ones: the
append-only table ``meta/web_accounts`` (:data:`ACCOUNTS`, written with delta-rs like every meta
table). Each change (add, new password, disable) appends a row; the latest row of a login is the
account. Passwords are stored only as **argon2id** hashes (argon2-cffi's defaults, RFC 9106's
second recommended profile), never in clear, and checked in constant time; an unknown login is
checked against a dummy hash so that its answer takes as long as a wrong password.

A role is two things (docs/serve.md):

- ``level``: the seed's exposure level the reader may see, 1 (habilités internes) .. 4 (tous),
  the same audience as ``lake export view --audience``;
- ``directions``: the owning directions (``DFAE``, ``DGM``...) the account speaks for. An owner
  reads its domains' reviews and records their decisions; ``DFAE`` also owns ``DFAE/MAI``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.errors import AppError
from lake import meta_tables
from lake.meta_tables import MetaTable
from lake.settings import Settings

ACCOUNTS = MetaTable(
    "web_accounts",
    (
        ("login", "string"),
        ("display_name", "string"),
        ("level", "int64"),
        ("directions", "list<string>"),
        ("password_hash", "string"),
        ("disabled", "bool"),
        ("action", "string"),
        ("changed_at", "timestamp"),
        ("changed_by", "string"),
    ),
)
LOGIN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")
DIRECTION = re.compile(r"^[A-Z0-9][A-Z0-9/_-]{0,40}$")
MIN_PASSWORD = 12
LEVELS = (1, 2, 3, 4)


@dataclass(frozen=True)
class Account:
    """One account as its latest row says."""

    login: str
    display_name: str
    level: int
    directions: tuple[str, ...]
    password_hash: str
    disabled: bool
    changed_at: dt.datetime | None = None

    @property
    def role(self) -> str:
        """The role in words: ``niveau 2`` or ``niveau 1, direction DFAE``."""
        if self.directions:
            return f"niveau {self.level}, direction {', '.join(self.directions)}"
        return f"niveau {self.level}"

    def owns(self, owner: str) -> bool:
        """The account speaks for ``owner`` (a contract's owner: ``DFAE/MAI``...)."""
        return any(owner == d or owner.startswith(d + "/") for d in self.directions)

    def summary(self) -> dict[str, Any]:
        """What ``lake users list`` shows (never the hash)."""
        return {
            "login": self.login,
            "name": self.display_name,
            "level": self.level,
            "directions": list(self.directions),
            "disabled": self.disabled,
            "changed_at": self.changed_at.isoformat() if self.changed_at else None,
        }


def _hasher() -> Any:
    from argon2 import PasswordHasher

    return PasswordHasher()


_DUMMY: list[str] = []


def load_accounts(settings: Settings) -> dict[str, Account]:
    """Every account by login, from its latest row; ``{}`` before the first ``lake users add``."""
    rows = meta_tables.read(settings, ACCOUNTS)
    return accounts_from_rows(rows)


def accounts_from_rows(rows: Sequence[Mapping[str, Any]]) -> dict[str, Account]:
    """The latest row of each login, as accounts."""
    latest: dict[str, Mapping[str, Any]] = {}
    for row in sorted(rows, key=lambda r: r["changed_at"]):
        latest[str(row["login"])] = row
    return {
        login: Account(
            login=login,
            display_name=str(row.get("display_name") or login),
            level=int(row["level"]),
            directions=tuple(row.get("directions") or ()),
            password_hash=str(row.get("password_hash") or ""),
            disabled=bool(row.get("disabled")),
            changed_at=row.get("changed_at"),
        )
        for login, row in latest.items()
    }


def check_new(login: str, password: str, level: int, directions: Sequence[str]) -> None:
    """Refuse a login, password, level or direction the accounts cannot hold.

    Raises:
        AppError: Naming what is wrong and what is accepted.
    """
    if not LOGIN.match(login):
        raise AppError(
            f"Login {login!r} is not accepted: expected 2 to 63 characters among a-z, 0-9, '.', "
            "'_' and '-', starting with a letter or digit.",
            fix="choose a login such as 'dfae.revue' or 'lecteur4'",
        )
    if level not in LEVELS:
        raise AppError(
            f"Level must be 1, 2, 3 or 4 (the seed's exposure levels); found {level!r}.",
            fix="pass --level 1 (habilités internes) .. 4 (tous)",
        )
    bad = [d for d in directions if not DIRECTION.match(d)]
    if bad:
        raise AppError(
            f"Direction(s) {', '.join(map(repr, bad))} not accepted: expected the owner code of "
            "a contract (upper case, e.g. DFAE, DFAE/MAI, DGM).",
            fix="use the 'owner' of contracts/<source>.yaml",
        )
    if len(password) < MIN_PASSWORD:
        raise AppError(
            f"Password too short: {len(password)} characters, at least {MIN_PASSWORD} needed.",
            fix="choose a longer password (a passphrase of several words)",
        )


def add_account(
    settings: Settings,
    login: str,
    password: str,
    *,
    level: int,
    directions: Sequence[str] = (),
    display_name: str | None = None,
    by: str = "lake users",
    now: dt.datetime | None = None,
) -> Account:
    """Create an account, or replace the password, level and directions of an existing one.

    Raises:
        AppError: The login, password, level or a direction is not accepted.
    """
    check_new(login, password, level, directions)
    row = {
        "login": login,
        "display_name": display_name or login,
        "level": level,
        "directions": sorted(set(directions)),
        "password_hash": _hasher().hash(password),
        "disabled": False,
        "action": "add",
        "changed_at": now or dt.datetime.now(dt.UTC),
        "changed_by": by,
    }
    meta_tables.append(settings, ACCOUNTS, [row])
    return accounts_from_rows([row])[login]


def disable_account(settings: Settings, login: str, *, by: str = "lake users") -> Account:
    """Disable an account: it can no longer sign in, and its open sessions stop at once.

    Raises:
        AppError: No such account.
    """
    accounts = load_accounts(settings)
    if login not in accounts:
        known = ", ".join(sorted(accounts)) or "none"
        raise AppError(
            f"No account {login!r}; known accounts: {known}.",
            fix="`lake users list` shows them",
        )
    account = accounts[login]
    row = {
        "login": login,
        "display_name": account.display_name,
        "level": account.level,
        "directions": list(account.directions),
        "password_hash": "",  # a disabled account keeps no usable hash
        "disabled": True,
        "action": "disable",
        "changed_at": dt.datetime.now(dt.UTC),
        "changed_by": by,
    }
    meta_tables.append(settings, ACCOUNTS, [row])
    return accounts_from_rows([row])[login]


def verify(accounts: Mapping[str, Account], login: str, password: str) -> Account | None:
    """The account if ``password`` is its password and it is active; None otherwise.

    An unknown or disabled login costs one argon2 verification too, so timing does not tell
    which logins exist.
    """
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

    hasher = _hasher()
    account = accounts.get(login)
    if account is None or account.disabled or not account.password_hash:
        if not _DUMMY:
            _DUMMY.append(hasher.hash("not a password of any account"))
        with contextlib.suppress(VerificationError, VerifyMismatchError, InvalidHashError):
            hasher.verify(_DUMMY[0], password)
        return None
    try:
        hasher.verify(account.password_hash, password)
    except (VerificationError, VerifyMismatchError, InvalidHashError):
        return None
    return account
