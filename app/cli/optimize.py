"""``lake optimize [TABLE ...]``: table maintenance, compaction and a log checkpoint (issue 18).

After many small deliveries a table is many small files, and every read lists and opens them
all. ``lake optimize`` rewrites them into few (Delta ``OPTIMIZE``; silver tables Z-ordered on
their contract's primary key, so a MERGE or a lookup by key skips most files) and writes a
checkpoint of the log. The rows, the versions and time travel are unchanged: old files stay until
``lake lifecycle apply`` vacuums them past the retention horizon, never here.

The policy: without a table, every data table of the lake (bronze, silver, quarantine of each
contract, the gold indicators) that has more than ``--max-files`` data files is optimized, the
others are left alone. ``lake run`` applies the same policy to the tables it wrote
(``[maintenance]``, :func:`app.maintenance.maintain_after_run`); this command also runs from cron.
Named tables are optimized whatever their file count. The tables are leased first (one writer per
table), so a pipeline run and a maintenance pass never write the same table at once.

Registered by :func:`app.cli.main.build_parser`; Spark is imported inside the command.
"""

from __future__ import annotations

import argparse
from typing import Any

from app.cli.commands import print_json
from app.errors import AppError
from app.maintenance import lake_tables, optimize_tables
from lake.settings import Settings


def cmd_optimize(settings: Settings, args: argparse.Namespace) -> int:
    from ingestion.runlog import new_run_id
    from lake.access import job_settings
    from lake.layers import DATA_LAYERS
    from lake.leases import LeaseSet
    from lake.spark import build_session

    known = lake_tables(settings)
    if args.table:
        wanted: dict[str, tuple[str, ...]] = {}
        for table in args.table:
            layer, _, name = table.partition("/")
            if layer not in DATA_LAYERS or not name:
                raise AppError(
                    f"Table {table!r}: expected LAYER/NAME with a layer among "
                    f"{', '.join(DATA_LAYERS)}.",
                    fix="name a table as LAYER/NAME, e.g. silver/consular_register",
                )
            wanted[table] = known.get(table, ())
        max_files = None
    else:
        wanted = known
        max_files = settings.maintenance.max_files if args.max_files is None else args.max_files
    layers = sorted({t.partition("/")[0] for t in wanted})
    settings, _ = job_settings(settings, layers)
    spark = build_session(settings, app_name="lake-optimize")
    with LeaseSet(settings, list(wanted), run_id=new_run_id(), job="optimize"):
        results = optimize_tables(
            spark, settings, wanted, max_files=max_files, checkpoint=not args.no_checkpoint
        )
    rows: list[dict[str, Any]] = [
        {
            "table": r.uri,
            "files_before": r.files_before,
            "files_after": r.files_after,
            "version": r.version,
            "zorder_by": list(r.zorder_by),
            "checkpoint": r.checkpoint,
        }
        for r in results
    ]
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("No table to optimize (none exists yet).")
    for r in rows:
        if r["version"] is None:
            print(f"{r['table']}: {r['files_before']} file(s), left as is")
            continue
        order = f", Z-ordered on {', '.join(r['zorder_by'])}" if r["zorder_by"] else ""
        print(
            f"{r['table']}: {r['files_before']} -> {r['files_after']} file(s), version "
            f"{r['version']}{order}{', checkpoint written' if r['checkpoint'] else ''}"
        )
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``lake optimize`` to the CLI."""
    help_ = (
        "compact small files (silver Z-ordered on its key) and checkpoint the log; without "
        "TABLE, every table past --max-files data files"
    )
    p = sub.add_parser("optimize", help=help_, description=help_)
    p.set_defaults(func=cmd_optimize)
    p.add_argument("table", nargs="*", help="LAYER/NAME, e.g. silver/consular_register")
    p.add_argument(
        "--max-files",
        type=int,
        default=None,
        help="without TABLE: optimize tables with more data files than this "
        "(default maintenance.max_files in lake.toml, 32)",
    )
    p.add_argument("--no-checkpoint", action="store_true", help="do not write a log checkpoint")
    p.add_argument("--json", action="store_true", help="machine-readable output")
