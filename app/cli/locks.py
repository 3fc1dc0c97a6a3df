"""``lake locks``: the table leases (one writing job per table, decision 0007).

Registered by :func:`app.cli.main.build_parser`; reads the lease objects with the MinIO client only.
"""

from __future__ import annotations

import argparse
from typing import Any

from app.cli.commands import print_json
from lake.settings import Settings


def cmd_locks(settings: Settings, args: argparse.Namespace) -> int:
    from lake.leases import list_leases

    rows: list[dict[str, Any]] = []
    for table, lease in list_leases(settings):
        if lease.state == "released" and not args.all:
            continue
        record = lease.record
        rows.append(
            {
                "table": table,
                "state": lease.state,
                "run_id": record.run_id,
                "job": record.job,
                "user": record.user,
                "host": record.host,
                "pid": record.pid,
                "acquired_at": record.acquired_at,
                "renewed_at": record.renewed_at,
                "expires_at": record.expires_at,
                "released_at": record.released_at,
            }
        )
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("No table is being written (no held lease).")
        return 0
    print(f"{'table':<45} {'state':<9} {'run':<24} {'job':<18} holder")
    for r in rows:
        until = f"released {r['released_at']}" if r["released_at"] else f"until {r['expires_at']}"
        print(
            f"{r['table']:<45} {r['state']:<9} {r['run_id']:<24} {r['job']:<18} "
            f"{r['user']}@{r['host']} pid {r['pid']}, since {r['acquired_at']}, {until}"
        )
    return 0


def register(sub: Any) -> None:
    """Add ``lake locks`` to the CLI."""
    help_ = (
        "the table leases: which job writes which table, since when, until when "
        "(held, expired, dead = holder gone on this host)"
    )
    p = sub.add_parser("locks", help=help_, description=help_)
    p.set_defaults(func=cmd_locks)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--all", action="store_true", help="also the released leases")
