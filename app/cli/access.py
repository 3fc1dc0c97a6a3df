"""``lake access ...``: least-privilege roles on MinIO (policy/minio-roles.yaml).

Registered by :func:`app.cli.main.build_parser`; heavy imports happen inside the commands. No
command prints a key: ``apply`` names the files (mode 600) that hold them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from app.cli.commands import print_json
from lake.settings import Settings


def cmd_apply(settings: Settings, args: argparse.Namespace) -> int:
    from lake.access import apply, load_roles, roles_file

    roles = load_roles(args.roles or roles_file(settings))
    applied = apply(settings, roles)
    if args.json:
        print_json([a.as_dict() for a in applied])
        return 0
    for a in applied:
        role = roles[a.role]
        stale = f", {a.removed_stale_users} stale user(s) removed" if a.removed_stale_users else ""
        print(
            f"{a.role}: policy {a.policy} (read {len(role.read)} prefix(es), write "
            f"{len(role.write)}), user {'created' if a.created else 'kept'}{stale}; "
            f"credentials in {a.credentials_file}"
        )
    print(
        f"Anonymous access to bucket '{settings.storage.bucket}': none. Use a role with "
        "LAKE__STORAGE__ROLE=<role>."
    )
    return 0


def cmd_policies(settings: Settings, args: argparse.Namespace) -> int:
    from lake.access import AccessError, describe, iam_policy, load_roles, roles_file

    roles = load_roles(args.roles or roles_file(settings))
    if args.role and args.role not in roles:
        raise AccessError(
            f"No role {args.role!r} in the roles file; expected one of: {', '.join(roles)}.",
            fix="pass one of these to --role, or omit it for every role",
            path=args.roles or roles_file(settings),
            role=args.role,
        )
    chosen = [roles[args.role]] if args.role else list(roles.values())
    if args.json:
        print_json({r.policy_name: iam_policy(r, settings.storage.bucket) for r in chosen})
    else:
        print("\n".join(describe(chosen)))
    return 0


def cmd_publish(settings: Settings, args: argparse.Namespace) -> int:
    import contextlib
    import csv
    import io
    import tempfile

    from app.cli.governance import cmd_export_view
    from lake.access import view_key
    from lake.objects import ObjectStore

    key = view_key(args.table, args.audience)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "view.csv"
        plan = argparse.Namespace(
            table=args.table, audience=args.audience, key=args.key, out=out, limit=0
        )
        with contextlib.redirect_stdout(io.StringIO()):  # its "N rows -> <tmp file>" line
            cmd_export_view(settings, plan)
        data = out.read_bytes()
    uri = ObjectStore(settings).put_bytes(
        key, data, metadata={"lake-table": args.table, "lake-audience": str(args.audience)}
    )
    rows = max(sum(1 for _ in csv.reader(io.StringIO(data.decode("utf-8")))) - 1, 0)
    print(f"{rows} rows of {args.table} for audience {args.audience} -> {uri}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``lake access`` to the CLI."""
    help_ = "least-privilege roles on MinIO: policies and users per role (policy/minio-roles.yaml)"
    access = sub.add_parser("access", help=help_, description=help_)
    asub = access.add_subparsers(dest="access_command", required=True, metavar="SUBCOMMAND")
    p = asub.add_parser(
        "apply",
        help="create or update each role's policy and user (as admin); keys to var/secrets/",
        description="As the MinIO root user: remove anonymous access, add one policy and one "
        "user per role, and write each role's keys to var/secrets/minio-<role>.json (mode 600). "
        "Idempotent; keys are never printed.",
    )
    p.add_argument("--roles", type=Path, help="roles file (default policy/minio-roles.yaml)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_apply)
    p = asub.add_parser(
        "policies",
        help="the IAM policy documents generated from the roles file (no server needed)",
        description="Print what each role may read and write, or with --json the exact MinIO "
        "policy documents `lake access apply` installs.",
    )
    p.add_argument("--roles", type=Path, help="roles file (default policy/minio-roles.yaml)")
    p.add_argument("--role", help="only this role")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_policies)
    p = asub.add_parser(
        "publish",
        help="publish a table's view for one audience under views/level-N/ (what readers read)",
        description="Apply the audience's column plan (as `lake export view`: exclusion and "
        "higher-level columns dropped, keys masked if asked) and write the CSV to "
        "views/level-<audience>/<layer>_<name>.csv, where only readers of levels 1..audience "
        "may read it. Run as the transformation role.",
    )
    p.add_argument("table", help="LAYER/NAME, e.g. gold/adoptions_par_pays_annee_age")
    p.add_argument("--audience", type=int, required=True, choices=(1, 2, 3, 4))
    p.add_argument("--key", action="append", help="join key to mask rather than drop")
    p.set_defaults(func=cmd_publish)
