"""``lake contract``: draft a source contract from a delivered file, and try it on a file.

``lake contract infer FILE`` writes ``contracts/<source>.yaml`` and its rules file, every
inferred value with the reason in a comment and ``TODO`` where a person must decide;
``lake contract check SOURCE --file FILE`` runs the contract on the file in a scratch bucket and
prints the reconciliation, the review and the quarantine, then removes the scratch
(docs/adding-a-source.md).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.cli.commands import add_command, print_json
from app.errors import AppError
from lake.settings import Settings


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cmd_infer(settings: Settings, args: argparse.Namespace) -> int:
    from app.contract_draft.draft import infer
    from app.contract_draft.render import contract_text, rules_text, write_draft

    try:
        draft = infer(args.file, source=args.source)
    except ValueError as exc:
        raise AppError(f"--source: {exc}.", fix="pass --source with a lake identifier") from None
    if args.stdout:
        print(contract_text(draft), end="")
        print("---")
        print(rules_text(draft), end="")
        return 0
    out = args.out or settings.root / "contracts" / f"{draft.source}.yaml"
    try:
        contract, rules = write_draft(draft, out, force=args.force)
    except FileExistsError as exc:
        raise AppError(
            f"{exc.args[0]} exists already; not overwritten.",
            fix="pass --out to write elsewhere, or --force to replace it",
            path=exc.args[0],
        ) from None
    todo = contract.read_text(encoding="utf-8").count(": TODO")
    print(f"Draft contract: {contract}")
    print(f"Draft rules:    {rules}")
    key = ", ".join(draft.keys[0].columns) if draft.keys else "(none found)"
    print(
        f"{len(draft.columns)} column(s), key {key}; {todo} TODO field(s) to fill, then: "
        f"lake contract check {draft.source} --file {args.file}"
    )
    return 0


def cmd_check(settings: Settings, args: argparse.Namespace) -> int:
    from app.contract_draft.check import check_contract, format_check
    from lake.contracts import get_contract, load_contract
    from lake.spark import build_session

    if not args.file.is_file():
        raise AppError(f"{args.file}: no such file.", fix="give the delivered file with --file")
    # Refuse a draft with TODO left before starting Spark (seconds, not minutes).
    if args.contract:
        load_contract(args.contract)
    else:
        get_contract(settings.root, args.source)
    _say(f"Starting Spark ({settings.spark.master})...")
    spark = build_session(settings, app_name="lake-contract-check")
    result = check_contract(
        spark,
        settings,
        args.source,
        args.file,
        contract_path=args.contract,
        scratch=args.scratch,
        progress=_say,
    )
    if args.json:
        print_json(result.to_dict())
    else:
        print(format_check(result))
    failed = any(r["status"] == "failed" for r in result.records)
    return 1 if failed or result.left_behind else 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``lake contract infer`` and ``lake contract check``."""
    group = sub.add_parser(
        "contract",
        help="draft a source contract from a delivered file, and try it on a file",
        description="Draft a source contract from one delivered file (infer), then run it on a "
        "file in a scratch bucket (check). Walkthrough: docs/adding-a-source.md.",
    )
    commands = group.add_subparsers(dest="contract_command", required=True, metavar="COMMAND")
    p = add_command(
        commands,
        "infer",
        cmd_infer,
        "draft contracts/<source>.yaml and its rules from one delivered file (CSV, XLSX, JSON "
        "lines): every inferred value with its reason, TODO where a person must decide",
    )
    p.add_argument("file", type=Path, metavar="FILE", help="the delivered file")
    p.add_argument("--source", help="source id (default: from the file name)")
    p.add_argument(
        "--out", type=Path, help="contract path (default: contracts/<source>.yaml); the "
        "rules go to <its dir>/rules/<its name>"
    )  # fmt: skip
    p.add_argument("--force", action="store_true", help="overwrite existing files")
    p.add_argument("--stdout", action="store_true", help="print the drafts instead of writing")
    p = add_command(
        commands,
        "check",
        cmd_check,
        "run a source's contract on one file in a scratch bucket (nothing written to the real "
        "layers): reconciliation, review, quarantine with reasons; the scratch is removed",
        json_flag=True,
    )
    p.add_argument("source", metavar="SOURCE", help="source id (contracts/<SOURCE>.yaml)")
    p.add_argument("--file", type=Path, required=True, help="the delivered file to try")
    p.add_argument(
        "--contract", type=Path, help="a contract elsewhere than contracts/<SOURCE>.yaml"
    )
    p.add_argument(
        "--scratch",
        choices=("auto", "bucket", "local"),
        default="auto",
        help="where the trial runs: a new bucket on the object store (needs the right to make "
        "one), a temporary directory, or auto (a bucket when allowed; default)",
    )
