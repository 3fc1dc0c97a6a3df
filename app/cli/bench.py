"""``lake bench``: the benchmarks of issue 8 (ratios against baselines, measured in one run).

Registered by :func:`app.cli.main.build_parser`; heavy imports happen inside the command.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from app.cli.commands import print_json
from lake.settings import Settings


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cmd_bench(settings: Settings, args: argparse.Namespace) -> int:
    from app.bench.harness import BenchOptions, run_bench
    from app.bench.report import append_to_docs, console_table

    options = BenchOptions(
        rows=args.rows,
        scale_factor=args.scale_factor,
        only=tuple(args.only or ()),
        output_dir=args.output_dir,
        driver_memory=args.driver_memory,
    )
    if args.source:
        options = dataclasses.replace(options, sources=tuple(args.source))
    report = run_bench(settings, options, progress=_say)
    if not args.no_docs:
        doc = append_to_docs(settings.root / "docs" / "benchmarks.md", report)
        _say(f"Appended to {doc}")
    if args.json:
        print_json(report)
    else:
        print(console_table(report))
        print(f"Results: {report['json_file']}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``lake bench`` to the ``lake`` command."""
    from app.bench.harness import DEFAULT_ROWS, SCENARIOS

    help_ = (
        "measure the lake against baselines (governance, review, rerun, incremental, scaling, "
        "I/O, polars peer) as ratios of two times from one run"
    )
    p = sub.add_parser("bench", help=help_, description=help_)
    p.set_defaults(func=cmd_bench)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument(
        "--rows",
        type=int,
        default=DEFAULT_ROWS,
        help=f"data lines across every source and delivery (default {DEFAULT_ROWS:,})",
    )
    p.add_argument(
        "--scale-factor",
        type=int,
        default=10,
        help="the scaling scenario compares --rows with --rows / FACTOR (default 10)",
    )
    p.add_argument(
        "--only",
        action="append",
        choices=SCENARIOS,
        metavar="SCENARIO",
        help=f"run only this scenario (repeatable): {', '.join(SCENARIOS)}",
    )
    p.add_argument(
        "--output-dir",
        type=Path,
        default=Path("var/bench"),
        help="where the JSON results, logs and generated extracts go (default var/bench)",
    )
    p.add_argument(
        "--no-docs", action="store_true", help="do not append the results to docs/benchmarks.md"
    )
    p.add_argument(
        "--source",
        action="append",
        metavar="SOURCE",
        help="only these silos (repeatable; default all seven): quicker, less representative",
    )
    p.add_argument(
        "--driver-memory",
        help="Spark driver memory of every measured task, e.g. 1g (default spark.driver_memory)",
    )
