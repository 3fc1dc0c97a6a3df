"""``lake inspect LAYER/NAME``: a table as any other tool sees it, read without Spark.

Registered by :func:`app.cli.main.build_parser`; delta-rs and the MinIO client are imported inside
the command. The version, rows, data files and columns come from delta-rs, the ``_delta_log``
objects are listed from the object store (:func:`lake.delta_reader.snapshot`).
"""

from __future__ import annotations

import argparse

from app.cli.commands import print_json
from app.errors import AppError
from lake.settings import Settings


def cmd_inspect(settings: Settings, args: argparse.Namespace) -> int:
    from lake.delta_reader import snapshot
    from lake.storage import check_storage, table_uri

    layer, _, name = args.table.partition("/")
    try:
        uri = table_uri(settings, layer, name)
    except ValueError as exc:
        raise AppError(
            f"Table {args.table!r}: {exc}.", fix="name a table as LAYER/NAME, e.g. bronze/smoke"
        ) from None
    check_storage(settings)  # one clear line when the store is down or refuses us
    snap = snapshot(settings, uri, version=args.version)
    if args.json:
        print_json(snap.as_dict())
    else:
        print(
            f"{snap.uri}: version {snap.version}, {snap.rows} rows, {snap.data_files} data "
            f"file(s), columns {', '.join(snap.columns)}"
        )
        print(f"_delta_log: {', '.join(snap.log_objects)}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``lake inspect`` to the CLI."""
    help_ = "read a table without Spark (delta-rs + S3 listing)"
    p = sub.add_parser("inspect", help=help_, description=help_)
    p.set_defaults(func=cmd_inspect)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("table", help="LAYER/NAME, e.g. bronze/smoke")
    p.add_argument("--version", type=int, help="time travel to this version")
