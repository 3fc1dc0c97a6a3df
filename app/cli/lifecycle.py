"""``lake lifecycle`` (retention, A12) and ``lake rgpd`` (erasure and access requests).

Registered by :func:`app.cli.main.build_parser`. These commands change or read row-level data, so
they start Spark (the same session settings as the jobs); heavy imports happen inside.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import Any

from app.cli.commands import print_json
from lake.settings import Settings


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _spark(settings: Settings, name: str) -> Any:
    from lake.spark import build_session

    _say(f"Starting Spark ({settings.spark.master})...")
    return build_session(settings, app_name=f"lake-{name}")


def _rgpd_dir(settings: Settings) -> Any:
    return settings.reports.dir / "rgpd"


def cmd_lifecycle_plan(settings: Settings, args: argparse.Namespace) -> int:
    from lifecycle.retention import plan_retention

    plans = plan_retention(
        _spark(settings, "lifecycle"), settings, as_of=args.as_of, sources=args.source
    )
    if args.json:
        print_json([p.as_dict() for p in plans])
        return 0
    for p in plans:
        d = p.as_dict()
        print(
            f"{d['source']:<20} DUA {d['dua_years']:>2} ans ({d['end']:<9}) depuis "
            f"{d['age_from']:<18} avant {d['cutoff']}: {d['silver_rows']} silver, "
            f"{d['bronze_rows']} bronze, {d['quarantine_rows']} quarantine, "
            f"{d['landing_files_whole']} fichier(s) entier(s), "
            f"{d['landing_files_partial']} fichier(s) en partie"
        )
    return 0


def cmd_lifecycle_apply(settings: Settings, args: argparse.Namespace) -> int:
    if args.dry_run:
        return cmd_lifecycle_plan(settings, args)
    from app.compose import lineage_sink, quality_gates
    from lifecycle.retention import apply

    report = apply(
        _spark(settings, "lifecycle"),
        settings,
        as_of=args.as_of,
        sources=args.source,
        gates=quality_gates(settings),
        lineage=lineage_sink(settings),
        progress=_say,
    )
    if args.json:
        print_json(report)
        return 0
    for entry in report["sources"]:
        for change in entry["changes"]:
            print(
                f"{entry['source']:<20} {change['action']:<16} {change['table']:<40} "
                f"{change['rows']:>7} ligne(s)  v{change['version_before']} -> "
                f"v{change['version_after']}"
            )
    print(
        f"{len(report['vacuumed'])} table(s) nettoyée(s) des versions de plus de "
        f"{settings.lifecycle.vacuum_retain_hours:g} h; journal: meta/lifecycle_log "
        f"({report['request_id']})"
    )
    return 0


def cmd_rgpd_erase(settings: Settings, args: argparse.Namespace) -> int:
    from lifecycle.erasure import execute, plan_erasure
    from lifecycle.subjects import Subject

    subject = Subject.parse(args.subject)
    spark = _spark(settings, "rgpd")
    plan = plan_erasure(spark, settings, subject, sources=args.source)
    if args.dry_run or not plan.found:
        if args.json:
            print_json(plan.as_dict())
        else:
            _print_plan(plan.as_dict())
            if not plan.found:
                print("Aucune donnée de cette personne dans le lac: rien à effacer.")
        return 0
    from app.compose import lineage_sink, quality_gates

    certificate = execute(
        spark,
        settings,
        plan,
        gates=quality_gates(settings),
        lineage=lineage_sink(settings),
        certificate_dir=_rgpd_dir(settings),
        progress=_say,
    )
    if args.json:
        print_json(certificate)
    else:
        for change in certificate["changes"]:
            print(
                f"{change['table']:<40} {change['action']:<10} {change['rows']:>6} ligne(s)  "
                f"v{change['version_before']} -> v{change['version_after']}"
            )
        print(f"Certificat: {', '.join(certificate.get('files', []))}")
    return 0 if not plan.unhandled else 3


def _print_plan(plan: dict[str, Any]) -> None:
    print(f"Demande {plan['request_id']} (référence {plan['subject_reference']})")
    for s in plan["sources"]:
        print(
            f"  {s['source']}: {s['keys']} clé(s), {s['bronze_rows']} ligne(s) bronze, "
            f"{s['silver_rows']} silver, {s['quarantine_rows']} quarantaine, "
            f"{s['landing_files']} fichier(s) de dépôt; or recalculé: "
            f"{', '.join(s['gold_recomputed']) or 'aucun'}"
        )
        if s["derived_by_lineage"]:
            print(f"    dérivés selon le lignage: {', '.join(s['derived_by_lineage'])}")
        for store, objects in s.get("stores_holding", {}).items():
            print(f"    trouvé dans {store}: {objects} objet(s) (versions, journal, archive, vues)")
    if not plan["lineage_available"]:
        print("  (lignage indisponible: seules les tables connues du lac sont traitées)")
    for name in plan["not_handled"]:
        print(f"  NON TRAITÉ (dérivé selon le lignage, à effacer à la main): {name}")


def cmd_rgpd_export(settings: Settings, args: argparse.Namespace) -> int:
    from lifecycle.access_request import gather, write
    from lifecycle.subjects import Subject

    export = gather(_spark(settings, "rgpd"), settings, Subject.parse(args.subject))
    paths = write(args.output or _rgpd_dir(settings), export)
    if args.json:
        print_json({"files": [str(p) for p in paths], "sources": len(export["sources"])})
    else:
        print(f"{len(export['sources'])} source(s) détiennent des données: {paths[1]}")
    return 0


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``lake lifecycle`` and ``lake rgpd``."""
    from pathlib import Path

    lifecycle = sub.add_parser(
        "lifecycle",
        help="retention periods (DUA) enforced in every layer (A12)",
        description="Apply each contract's DUA: rows and landing files past it are purged, "
        "anonymised or archived as the contract says, old table versions vacuumed.",
    )
    group = lifecycle.add_subparsers(dest="lifecycle_command", required=True, metavar="SUBCOMMAND")
    for name, func, help_ in (
        ("plan", cmd_lifecycle_plan, "what the DUA makes due today (changes nothing)"),
        ("apply", cmd_lifecycle_apply, "purge, anonymise or archive what is past its DUA"),
    ):
        p = group.add_parser(name, help=help_, description=help_)
        p.add_argument("--source", action="append", help="source id (repeatable; default: all)")
        p.add_argument("--as-of", type=_date, help="judge ages at this date (default: today)")
        p.add_argument("--json", action="store_true", help="machine-readable output")
        if name == "apply":
            p.add_argument("--dry-run", action="store_true", help="show the plan only")
        p.set_defaults(func=func)

    rgpd = sub.add_parser(
        "rgpd",
        help="data-subject requests: erasure with a certificate, access export",
        description="Erase one person everywhere lineage says their records went, or gather "
        "everything held on them.",
    )
    group = rgpd.add_subparsers(dest="rgpd_command", required=True, metavar="SUBCOMMAND")
    p = group.add_parser(
        "erase",
        help="erase one person in every layer, purge old versions, write a certificate",
        description="Delete the person's rows (bronze, quarantine, silver), blank their lines in "
        "the landing files, recompute gold, purge older versions, write a certificate (without "
        "the erased values) under reports/rgpd/. Exit 3 if lineage names a derived dataset the "
        "lake cannot erase from.",
    )
    p.add_argument(
        "--subject",
        action="append",
        required=True,
        help="COLUMN=VALUE naming the person (repeatable), e.g. registration_id=FR-2021-000123",
    )
    p.add_argument("--source", action="append", help="only this source (repeatable)")
    p.add_argument("--dry-run", action="store_true", help="show the plan, change nothing")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_rgpd_erase)
    p = group.add_parser(
        "export",
        help="everything held on one person, with its origin (JSON + HTML)",
        description="Gather the person's rows as delivered, their current record, quarantine "
        "rows and the indicators they are counted in; write JSON and a French HTML page "
        "(mode 600).",
    )
    p.add_argument("--subject", action="append", required=True, help="COLUMN=VALUE (repeatable)")
    p.add_argument("--output", type=Path, help="directory (default: reports/rgpd)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_rgpd_export)
