"""``lake audit TABLE``: who ran what, when, on which version of a table.

Registered by :func:`app.cli.main.build_parser`; heavy imports happen inside the command. No Spark:
the Delta log and the run log are read with delta-rs, lineage from the stored events.
"""

from __future__ import annotations

import argparse

from app.cli.commands import print_json
from app.errors import AppError
from lake.settings import Settings


def cmd_audit(settings: Settings, args: argparse.Namespace) -> int:
    from governance.audit import collect, render_text, table_location
    from lake.storage import check_storage

    if args.limit is not None and args.limit < 1:
        raise AppError(f"--limit must be >= 1; found {args.limit}.", fix="omit it for all")
    table_location(settings, args.table)  # a bad name fails before any network call
    check_storage(settings)  # one clear line when the store is down or refuses us
    timeline = collect(settings, args.table, limit=args.limit)
    if args.json:
        print_json(timeline.as_dict())
    else:
        print(render_text(timeline))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``lake audit`` to the CLI."""
    p = sub.add_parser(
        "audit",
        help="who ran what, when, on which version of a table (Delta log + run log + lineage)",
        description="The timeline of a table: each Delta version with the run, OS user, host, "
        "job and command that produced it, and the runs that read it. Read without Spark.",
    )
    p.add_argument("table", help="LAYER/NAME, e.g. silver/consular_register")
    p.add_argument("--limit", type=int, default=20, help="newest N versions (default 20)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_audit)
