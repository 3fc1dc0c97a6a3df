"""``lake users add|list|disable``: the accounts of ``lake serve`` (``meta/web_accounts``).

Registered by :func:`app.cli.main.build_parser`. Passwords are read from the terminal (twice)
or, for scripts, from standard input with ``--password-stdin``; never from an argument (it
would stay in the shell history and the process list). Only their argon2id hash is stored.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from app.cli.commands import print_json
from app.errors import AppError
from lake.settings import Settings


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Mot de passe : ")
    if getpass.getpass("Mot de passe (encore) : ") != first:
        raise AppError("The two passwords differ.", fix="type the same password twice")
    return first


def cmd_add(settings: Settings, args: argparse.Namespace) -> int:
    from app.web.accounts import add_account, load_accounts

    password = _password(args)
    if args.if_absent:
        existing = load_accounts(settings).get(args.login)
        if existing is not None:  # a first-start account: never reset what its owner changed
            print(f"account {existing.login}: exists, unchanged")
            return 0
    account = add_account(
        settings,
        args.login,
        password,
        level=args.level,
        directions=args.direction or (),
        display_name=args.name,
        by=getpass.getuser(),
    )
    print(f"account {account.login}: {account.role}")
    return 0


def cmd_list(settings: Settings, args: argparse.Namespace) -> int:
    from app.web.accounts import load_accounts

    accounts = [
        a.summary() for a in sorted(load_accounts(settings).values(), key=lambda a: a.login)
    ]
    if args.json:
        print_json(accounts)
        return 0
    if not accounts:
        print("No account yet: `lake users add LOGIN --level N [--direction DIR]`.")
    for a in accounts:
        state = "disabled" if a["disabled"] else "active"
        dirs = ", ".join(a["directions"]) or "-"
        print(f"{a['login']:<24} level {a['level']}  directions {dirs:<20} {state}")
    return 0


def cmd_disable(settings: Settings, args: argparse.Namespace) -> int:
    from app.web.accounts import disable_account

    account = disable_account(settings, args.login, by=getpass.getuser())
    print(f"account {account.login}: disabled")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``lake users`` to the CLI."""
    users = sub.add_parser(
        "users",
        help="accounts of lake serve: add, list, disable (argon2id hashes in meta/web_accounts)",
        description="Manage who signs in to `lake serve`, at which exposure level (1..4) and "
        "for which owning directions.",
    )
    actions = users.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = actions.add_parser("add", help="create an account, or reset its password and role")
    p.add_argument("login")
    p.add_argument(
        "--level",
        type=int,
        required=True,
        choices=(1, 2, 3, 4),
        help="exposure level the account may see (1 habilités .. 4 tous)",
    )
    p.add_argument(
        "--direction",
        action="append",
        help="owning direction the account speaks for (repeat for several)",
    )
    p.add_argument("--name", help="name shown on the pages")
    p.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input",
    )
    p.add_argument(
        "--if-absent",
        action="store_true",
        help="do nothing when the login exists (an account made at a container's first start)",
    )
    p.set_defaults(func=cmd_add)
    p = actions.add_parser("list", help="every account with its role (never a hash)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_list)
    p = actions.add_parser("disable", help="stop an account (its sessions end at once)")
    p.add_argument("login")
    p.set_defaults(func=cmd_disable)
