"""Shared body of the bronze / silver / gold spark-submit entry points."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main(layers: list[str], argv: list[str] | None = None, *, description: str) -> int:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--source", action="append", help="source id (repeatable; default: all)")
    parser.add_argument(
        "--file",
        action="append",
        type=Path,
        help="deliver this file instead of the inbox (bronze, one source)",
    )
    parser.add_argument(
        "--wait",
        type=float,
        metavar="SECONDS",
        help="wait up to SECONDS for tables another job is writing (default locks.wait_s); "
        "without it a busy table fails the job at once",
    )
    args = parser.parse_args(argv)

    from app.compose import lineage_sink, quality_gates
    from ingestion.pipeline import run
    from lake.errors import LakeError
    from lake.settings import load_settings
    from lake.spark import build_session, end_of_command

    def say(message: str) -> None:
        print(f"[{'/'.join(layers)}] {message}", file=sys.stderr, flush=True)

    try:
        from lake.access import job_settings

        settings, role = job_settings(load_settings(), layers)
        if role:
            say(f"running under the MinIO role '{role}' (policy/minio-roles.yaml)")
        spark = build_session(settings, app_name=f"lake-{'-'.join(layers)}")
        summary = run(
            spark,
            settings,
            sources=args.source,
            layers=layers,  # type: ignore[arg-type]
            gates=quality_gates(settings),
            lineage=lineage_sink(settings),
            files=args.file,
            progress=say,
            job="/".join(layers),
            wait_s=args.wait,
        )
        from app.maintenance import maintain_after_run

        maintain_after_run(spark, settings, summary.records, run_id=summary.run_id, progress=say)
    except LakeError as exc:
        print(f"{'/'.join(layers)}: error: {exc}", file=sys.stderr)
        end_of_command()  # the FAIL events are facts too
        return 1
    print(json.dumps([r.as_dict() for r in summary.records], default=str))
    end_of_command()  # listeners flush, then the lineage goes to the lake's journal
    from lake.shutdown import exit_now

    exit_now(0)
