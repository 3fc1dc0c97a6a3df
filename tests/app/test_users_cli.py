"""`lake users add --if-absent`: how a container makes its first account (compose `serve`) without
ever resetting one its owner changed since. A local lake (Delta tables on disk, delta-rs)."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import pytest

from app.cli.users import cmd_add
from app.web.accounts import load_accounts, verify
from conftest import base_settings
from lake.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return base_settings(tmp_path).with_overrides(
        {"storage": {"backend": "local", "local_root": str(tmp_path / "lake")}}
    )


def _add(settings: Settings, monkeypatch, password: str, **options: object) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    args = argparse.Namespace(
        login="admin",
        level=1,
        direction=None,
        name="Administrateur",
        password_stdin=True,
        if_absent=False,
    )
    for key, value in options.items():
        setattr(args, key, value)
    return cmd_add(settings, args)


def test_if_absent_creates_once_and_never_resets(settings, monkeypatch, capsys) -> None:
    assert _add(settings, monkeypatch, "first-password-from-env", if_absent=True) == 0
    assert capsys.readouterr().out.startswith("account admin: ")
    # the owner changes the password (or level); the next container start must keep it
    assert _add(settings, monkeypatch, "changed-by-its-owner", level=2) == 0
    capsys.readouterr()
    assert _add(settings, monkeypatch, "first-password-from-env", if_absent=True) == 0
    assert capsys.readouterr().out == "account admin: exists, unchanged\n"
    accounts = load_accounts(settings)
    assert accounts["admin"].level == 2
    assert verify(accounts, "admin", "changed-by-its-owner") is not None
    assert verify(accounts, "admin", "first-password-from-env") is None
