"""What every group of ``lake`` subcommands shares: how a command is added and how JSON prints.

Each ``app/cli/<group>.py`` module has a ``register(sub)`` that adds its commands with
:func:`add_command` (the help is also the description; ``--json`` where scripts read the output)
and prints machine-readable output with :func:`print_json`.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from lake.settings import Settings

Command = Callable[[Settings, argparse.Namespace], int]


def add_command(
    sub: argparse._SubParsersAction,
    name: str,
    func: Command,
    help_: str,
    json_flag: bool = False,
) -> argparse.ArgumentParser:
    """Add subcommand ``name`` running ``func``; with ``json_flag``, a ``--json`` option."""
    p: argparse.ArgumentParser = sub.add_parser(name, help=help_, description=help_)
    p.set_defaults(func=func)
    if json_flag:
        p.add_argument("--json", action="store_true", help="machine-readable output")
    return p


def print_json(data: Any) -> None:
    """Print ``data`` as indented JSON (UTF-8 text kept as is; dates and paths as strings)."""
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str))
