"""``lake migrate SOURCE [--apply]``: give silver the schema its contract now declares.

Registered by :func:`app.cli.main.build_parser`. Without ``--apply`` it only shows the plan (what
``lake run`` would evolve by itself, what it refuses); with it, the table is rewritten under the
table's lease, the run log gets a ``migrated`` row and lineage the new schema
(:func:`ingestion.schema_change.migrate`).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from app.cli.commands import add_command, print_json
from lake.settings import Settings


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    from app.compose import lineage_sink
    from ingestion import runlog
    from ingestion.schema_change import migrate
    from lake.access import job_settings
    from lake.contracts import get_contract
    from lake.leases import LeaseSet
    from lake.spark import build_session

    contract = get_contract(settings.root, args.source)
    settings, _ = job_settings(settings, ["silver"])
    run_id = runlog.new_run_id()
    spark = build_session(settings, app_name="lake-migrate")
    table = f"silver/{contract.source}"
    with LeaseSet(settings, [table] if args.apply else [], run_id=run_id, job="migrate"):
        migration, record = migrate(
            spark,
            settings,
            contract,
            apply=args.apply,
            run_id=run_id,
            lineage=lineage_sink(settings) if args.apply else None,
        )
        if record is not None:
            runlog.append(settings, [record])
    plan = migration.plan
    if args.json:
        data: dict[str, Any] = {
            "source": migration.source,
            "table": migration.table,
            "changes": [
                {
                    "kind": c.kind,
                    "column": c.column,
                    "old_type": c.old_type,
                    "new_type": c.new_type,
                    "additive": c.additive,
                }
                for c in plan.changes
            ],
            "applied": record is not None,
            "version": migration.version,
        }
        print_json(data)
        return 0
    if not plan:
        print(f"{migration.table}: its schema is the contract's; nothing to migrate.")
        return 0
    print(f"{migration.table}: {len(plan.changes)} change(s) from the contract")
    for change in plan.changes:
        how = "evolves by itself" if change.additive else "needs this migration"
        print(f"  {change.describe()}: {how}")
    if record is None:
        print(
            f"Nothing changed. `lake migrate {migration.source} --apply` rewrites the table with "
            "the contract's schema (kept columns cast, new ones null, removed ones dropped; "
            "older versions stay readable by time travel).",
            file=sys.stderr,
        )
    else:
        print(f"Applied: {migration.table} is at version {migration.version} (run {run_id}).")
    return 0


def register(sub: Any) -> None:
    """Add ``lake migrate`` to the CLI."""
    p = add_command(
        sub,
        "migrate",
        cmd_migrate,
        "compare silver's schema with its contract and show the migration; --apply rewrites "
        "the table with the contract's schema (history kept, logged in the run log and lineage)",
        json_flag=True,
    )
    p.add_argument("source", help="the source id (its contract under contracts/)")
    p.add_argument("--apply", action="store_true", help="apply the plan (default: only show it)")
