"""The ``lake`` command line: the parser, :func:`main` and the console script.

The subcommands live in the other ``app/cli/*.py`` modules, each adding its own with a
``register(sub)`` function: :mod:`app.cli.server` (the store and the set-up), :mod:`app.cli.jobs`
(running the jobs), :mod:`app.cli.inspect_table`, and the groups of the stages (quality,
governance, reports, lifecycle, audit, locks, access, bench).

Each sub-command parses its arguments, loads the settings once and calls one function of the
core. Heavy imports (pyspark, minio, deltalake) happen inside the commands, so ``lake --help`` and
``lake status`` start instantly. A :class:`LakeError` becomes one line on stderr and exit code 1;
``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from app.cli import (
    access,
    audit,
    bench,
    contract,
    governance,
    inspect_table,
    jobs,
    lifecycle,
    locks,
    migrate,
    optimize,
    quality,
    reports,
    serve,
    server,
    sql,
    users,
)
from lake import __version__
from lake.errors import LakeError
from lake.settings import load_settings
from lake.spark import begin_command, end_of_command


def build_parser() -> argparse.ArgumentParser:
    """The ``lake`` parser with every subcommand, in the order ``lake --help`` lists them."""
    parser = argparse.ArgumentParser(
        prog="lake",
        description="meae-datalake: Delta tables on MinIO, processed by Spark, with quality "
        "reviews and lineage.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--config", type=Path, help="settings file (default: lake.toml, or $LAKE_CONFIG)"
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (
        server,
        jobs,
        migrate,
        contract,
        quality,
        governance,
        reports,
        lifecycle,
        audit,
        locks,
        optimize,
        access,
        bench,
        inspect_table,
        sql,
        serve,
        users,
    ):
        module.register(sub)
    return parser


# The MinIO role each command takes when it would otherwise run on the root keys `lake up` wrote
# (lake.access.command_settings; policy/minio-roles.yaml): root keys serve only `lake up` and
# `lake access apply`. Jobs choose theirs by the layers they write (`run`, `submit`).
COMMAND_ROLES = {
    **dict.fromkeys(
        (
            "runs",
            "inspect",
            "quality",
            "lineage",
            "tags",
            "export",
            "catalog",
            "cloud",
            "study",
            "reports",
            "audit",
            "sql",
            "contract",  # `contract check` then tries its draft in a local scratch lake
        ),
        "steward",
    ),
    "optimize": "pipeline",  # compaction rewrites files of every data layer
    # the web app reads what the steward reads, writes only its decisions and accounts
    "serve": "web",
    "users": "web",
    "lifecycle": "lifecycle",
    "rgpd": "lifecycle",
    "migrate": "transformation",
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``lake`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    begin_command()
    try:
        settings = load_settings(args.config)
        if args.command in COMMAND_ROLES:
            from lake.access import command_settings

            settings, _ = command_settings(settings, COMMAND_ROLES[args.command])
        return int(args.func(settings, args))
    except LakeError as exc:
        if args.debug:
            raise
        print(f"lake {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"lake {args.command}: interrupted", file=sys.stderr)
        return 130
    finally:
        end_of_command()


def console() -> None:
    """The ``lake`` console script: :func:`main`, then an exit that native teardown cannot
    turn into a crash (see :mod:`lake.shutdown`)."""
    from lake.shutdown import exit_now

    try:
        code = main()
    except SystemExit as done:  # --help, argparse errors
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 2)
        if isinstance(done.code, str):
            print(done.code, file=sys.stderr)
    exit_now(code)


if __name__ == "__main__":
    console()
