"""``lake quality ...``: reviews, results and Table Schemas (roadmap action A13).

Registered by :func:`app.cli.main.build_parser`; heavy imports happen inside the commands.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from app.cli.commands import print_json
from app.errors import AppError
from lake.settings import Settings


def cmd_review(settings: Settings, args: argparse.Namespace) -> int:
    from quality.review import write_reviews

    files = write_reviews(settings, domain=args.domain)
    if args.json:
        print_json(
            {"index": str(files.index), "pages": {k: str(v) for k, v in files.pages.items()}}
        )
    else:
        print(f"Index: {files.index}")
        for name, path in files.pages.items():
            print(f"  {name}: {path}")
    return 0


def cmd_results(settings: Settings, args: argparse.Namespace) -> int:
    from quality import history

    rows = history.read(settings, domain=args.domain)
    if args.failed:
        rows = [r for r in rows if not r["success"]]
    rows = rows[-args.limit :] if args.limit else rows
    if args.json:
        print_json(rows)
        return 0
    print(f"{history.review_count(rows)} review(s)")
    for r in rows:
        mark = "ok " if r["success"] else ("BLK" if r["severity"] == "blocking" else "WRN")
        count = "" if r["unexpected_count"] is None else f" unexpected={r['unexpected_count']}"
        print(f"{r['reviewed_at']:%Y-%m-%d %H:%M} {r['table']:<40} {mark} {r['rule_id']}{count}")
    return 0


def cmd_import_schema(settings: Settings, args: argparse.Namespace) -> int:
    from quality.tableschema import import_schema, write_contract

    imported = import_schema(
        args.schema,
        source=args.source,
        owner=args.owner,
        domain=args.domain,
        exposure_level=args.level,
        primary_key=args.key,
    )
    target = args.out or settings.root / "contracts"
    if args.print:
        print(imported.contract_yaml)
    else:
        path = write_contract(imported, target, overwrite=args.overwrite)
        print(f"Contract written: {path} (source {imported.source!r})")
        print("Review it before the first delivery: sensitivity, owner and retention are defaults.")
    for warning in imported.warnings:
        print(f"  note: {warning}", file=sys.stderr)
    return 0


def cmd_export_schema(settings: Settings, args: argparse.Namespace) -> int:
    schema = table_schema(settings, args.table)
    text = json.dumps(schema, indent=2, ensure_ascii=False)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")
        print(f"Table Schema written: {args.out}")
    else:
        print(text)
    return 0


def table_schema(settings: Settings, table: str) -> dict[str, Any]:
    """The Table Schema of ``silver/<source>`` (from its contract) or ``gold/<name>`` (from the
    Delta table's schema and description, read with delta-rs)."""
    from lake.contracts import get_contract
    from quality.tableschema import schema_for_contract, schema_for_fields

    layer, _, name = table.replace(".", "/").partition("/")
    if layer == "silver" and name:
        return schema_for_contract(get_contract(settings.root, name))
    if layer == "gold" and name:
        from lake.delta_reader import open_table
        from lake.storage import table_uri

        delta = open_table(settings, table_uri(settings, "gold", name))
        meta = delta.metadata()
        declared = meta.configuration.get("lake.grain", "").split(",")
        grain = [g.strip() for g in declared if g.strip()]
        arrow: Any = delta.schema().to_arrow()  # a pyarrow.Schema
        fields = [(f.name, _spark_type(str(f.type)), None, f.nullable) for f in arrow]
        return schema_for_fields(name, meta.name or name, meta.description or "", fields, grain)
    raise AppError(
        f"{table!r} is not a table the lake can describe.",
        fix="use silver/<source> or gold/<indicator>, e.g. gold/inscrits_par_pays_poste",
    )


def _spark_type(arrow_type: str) -> str:
    """Arrow type name -> the Spark simple type string Table Schema export understands."""
    mapping = {
        "string": "string",
        "large_string": "string",
        "string_view": "string",
        "int64": "bigint",
        "int32": "int",
        "double": "double",
        "float": "float",
        "bool": "boolean",
        "date32[day]": "date",
    }
    if arrow_type.startswith("decimal"):
        return arrow_type.replace("decimal128", "decimal")
    if arrow_type.startswith("timestamp"):
        return "timestamp"
    return mapping.get(arrow_type, "string")


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``lake quality`` and its subcommands to the CLI."""
    quality = sub.add_parser(
        "quality",
        help="quality reviews (A13): French reports, results, Table Schemas",
        description="Quality reviews (A13): reports for business units, the results history, "
        "and Table Schemas in (schema.data.gouv.fr) and out.",
    )
    qsub = quality.add_subparsers(dest="quality_command", required=True, metavar="SUBCOMMAND")
    p = qsub.add_parser(
        "review",
        help="write the French review pages (one per domain + index) from the quality history",
        description="Write the French review pages (one per business domain, plus an index) "
        "into <reports.dir>/quality, from the stored reviews; GX Data Docs are linked.",
    )
    p.add_argument("--domain", help="only this business domain's page (and the index)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_review)
    p = qsub.add_parser(
        "results",
        help="the quality history: one line per expectation per review",
        description="The quality history (meta/quality_results), read without Spark.",
    )
    p.add_argument("--domain", help="only this business domain")
    p.add_argument("--failed", action="store_true", help="only failed expectations")
    p.add_argument("--limit", type=int, default=200, help="newest N rows (0: all)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_results)
    p = qsub.add_parser(
        "import-schema",
        help="turn a Table Schema (schema.data.gouv.fr) into a source contract and its rules",
        description="Turn a Frictionless Table Schema into a lake contract (types, required, "
        "unique, enum, pattern, bounds, lengths, key, missing values); its rules follow.",
    )
    p.add_argument("schema", type=Path, help="the Table Schema JSON file")
    p.add_argument("--source", help="source id (default: from the schema name)")
    p.add_argument("--owner", default="DNUM", help="owning direction (default DNUM)")
    p.add_argument("--domain", help="business domain (default: the schema title)")
    p.add_argument("--level", type=int, default=4, choices=(1, 2, 3, 4), help="exposure level")
    p.add_argument("--key", action="append", help="primary key field (repeatable)")
    p.add_argument("--out", type=Path, help="contracts directory (default: contracts/)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing contract")
    p.add_argument("--print", action="store_true", help="print the contract instead")
    p.set_defaults(func=cmd_import_schema)
    p = qsub.add_parser(
        "export-schema",
        help="write the Table Schema of a silver or gold table (A13: publish a data schema)",
        description="Write a valid Table Schema describing silver/<source> or gold/<indicator>.",
    )
    p.add_argument("table", help="silver/<source> or gold/<indicator>")
    p.add_argument("--out", type=Path, help="file to write (default: print)")
    p.set_defaults(func=cmd_export_schema)
