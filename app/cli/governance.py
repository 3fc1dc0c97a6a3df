"""``lake lineage``, ``lake tags``, ``lake export`` and ``lake catalog`` (governance commands).

Registered by :func:`app.cli.main.build_parser`; heavy imports happen inside the commands. None of
these needs Spark: tables are read with delta-rs, lineage from the stored OpenLineage events.
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


def _tags_store(settings: Settings) -> Path:
    return settings.reports.dir.parent / "tags" / "suggestions.json"


# --- lineage -------------------------------------------------------------------------------------


def cmd_lineage_show(settings: Settings, args: argparse.Namespace) -> int:
    from governance.lineage.render import render_svg, render_tree
    from governance.sensitivity.tags import load_graph

    graph = load_graph(settings)
    for warning in graph.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    dataset = graph.resolve(args.table)
    walk = graph.downstream if args.downstream else graph.upstream
    sub = walk(dataset, args.column, args.depth)
    root = graph.column(dataset, args.column) if args.column else dataset
    if args.json:
        print_json(
            {
                "root": str(root),
                "direction": sub.direction,
                "datasets": sorted(str(d) for d in sub.datasets),
                "column_edges": [
                    {
                        "from": str(e.source),
                        "to": str(e.target),
                        "kind": e.kind,
                        "masking": e.masking,
                        "producer": e.producer,
                    }
                    for e in sub.column_edges
                ],
            }
        )
    else:
        print(render_tree(sub, root))
    if args.svg:
        args.svg.parent.mkdir(parents=True, exist_ok=True)
        args.svg.write_text(render_svg(sub), encoding="utf-8")
        print(f"SVG written: {args.svg}", file=sys.stderr)
    return 0


def cmd_lineage_validate(settings: Settings, args: argparse.Namespace) -> int:
    """Every stored event against the official OpenLineage schemas (vendored in reference/)."""
    from governance.lineage.model import LAKE_PRODUCER
    from governance.lineage.ol_schema import EventValidator, SpecLocation, check_run_states
    from governance.sensitivity.tags import event_files
    from lake.lineage_journal import JOURNAL

    validator = EventValidator(SpecLocation.find(args.spec).path)
    reports: list[dict[str, Any]] = []
    ours: list[dict[str, Any]] = []
    for path in event_files(settings):
        report = validator.validate_file(path)
        events = [
            json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line
        ]
        ours += [e for e in events if str(e.get("producer", "")).startswith(LAKE_PRODUCER)]
        reports.append(
            {
                "object": f"{JOURNAL}{path.parent.name}/{path.name}",
                "events": report.events,
                "problems": report.problems,
            }
        )
    # START/COMPLETE pairs are checked over the whole journal: a run may span publications
    runs = check_run_states(ours) if ours else []
    failed = runs or any(r["problems"] for r in reports)
    if args.json:
        print_json({"journal": reports, "runs": runs, "valid": not failed})
    else:
        for r in reports:
            state = "valid" if not r["problems"] else "INVALID"
            print(f"{r['object']}: {r['events']} event(s), {state}")
            for line in r["problems"][:20]:
                print(f"  {line}")
        for line in runs[:20]:
            print(f"  {line}")
        if not reports:
            print("No lineage events in the lake yet (run `lake run` first).")
        else:
            total = sum(r["events"] for r in reports)
            print(
                f"{total} event(s) in {len(reports)} object(s) of {JOURNAL}: "
                + ("INVALID" if failed else "all valid against the official OpenLineage schemas")
            )
    return 1 if failed else 0


# --- tags ----------------------------------------------------------------------------------------


def cmd_tags_scan(settings: Settings, args: argparse.Namespace) -> int:
    from governance.sensitivity.pii import scan_table
    from governance.sensitivity.suggestions import record, review_lines
    from lake.contracts import load_contracts
    from lake.delta_reader import open_table
    from lake.errors import TableError
    from lake.storage import table_uri

    contracts = load_contracts(settings.root)
    names = args.source or sorted(contracts)
    suggestions = []
    for source in names:
        try:
            table = open_table(settings, table_uri(settings, "bronze", source))
        except TableError:
            print(f"  {source}: no bronze table yet, skipped", file=sys.stderr)
            continue
        data = table.to_pyarrow_table().slice(0, args.rows).to_pydict()
        columns = {k: [None if v is None else str(v) for v in vals] for k, vals in data.items()}
        columns = {k: v for k, v in columns.items() if not k.startswith("_")}
        found = scan_table(columns, source=source)
        print(f"  {source}: {len(found)} suggestion(s) from {args.rows} rows", file=sys.stderr)
        suggestions += found
    store = _tags_store(settings)
    summary = record(store, suggestions, contracts=contracts)
    if args.json:
        print_json([s.to_dict() for s in suggestions])
    else:
        print(summary)
        for line in review_lines(store):
            print(line)
    return 0


def cmd_tags_review(settings: Settings, args: argparse.Namespace) -> int:
    from governance.sensitivity.suggestions import apply_to_contract, decide, pending, review_lines

    store = _tags_store(settings)
    target = args.accept or args.reject
    if target:
        if not args.reason:
            raise AppError("A decision needs its reason.", fix='add --reason "..."')
        source, _, column = target.partition(".")
        entry = decide(store, source, column, accept=bool(args.accept), reason=args.reason)
        print(f"{source}.{column}: {entry.status}")
        if args.accept and args.apply:
            path = settings.root / "contracts" / f"{source}.yaml"
            print(
                apply_to_contract(
                    path, column, entry.level, entry.personal, allow_lower=args.allow_lower
                )
            )
        return 0
    waiting = pending(store)
    if args.json:
        print_json([e.to_dict() for e in waiting])
        return 0
    lines = review_lines(waiting)
    print("\n".join(lines) if lines else "Aucune suggestion en attente.")
    return 0


# --- export --------------------------------------------------------------------------------------


def _table_frame(settings: Settings, table: str) -> tuple[Any, Any]:
    from governance.lineage.model import DatasetRef
    from lake.delta_reader import open_table
    from lake.storage import openlineage_dataset, table_uri

    layer, _, name = table.replace(".", "/").partition("/")
    uri = table_uri(settings, layer, name)  # type: ignore[arg-type]
    frame = open_table(settings, uri).to_pyarrow_table().to_pandas()
    return DatasetRef(*openlineage_dataset(uri)), frame


def cmd_export_opendata(settings: Settings, args: argparse.Namespace) -> int:
    from app.cli.quality import table_schema
    from governance.sensitivity.dcat import themes_for_domain
    from governance.sensitivity.export import export_opendata
    from governance.sensitivity.tags import derived_tags, load_graph
    from lake.contracts import load_contracts
    from lake.delta_reader import open_table
    from lake.storage import table_uri

    layer, _, name = args.table.replace(".", "/").partition("/")
    if layer != "gold":
        raise AppError(
            f"Only gold tables can be opened; {args.table!r} is in {layer or '(no layer)'}.",
            fix="export a gold indicator, e.g. gold/pvt_par_pays_annee",
        )
    ref, frame = _table_frame(settings, args.table)
    derived = derived_tags(settings, load_graph(settings))
    by_column = {c.column: d for c, d in derived.items() if c.dataset == ref}
    meta = open_table(settings, table_uri(settings, "gold", name)).metadata()
    # The themes of the domain of the gold table's sources (as the catalogue finds its domain).
    contracts = load_contracts(settings.root)
    sources = [s.strip() for s in meta.configuration.get("lake.sources", "").split(",")]
    domains = [contracts[s].domain for s in sources if s in contracts]
    domain = domains[0] if domains else meta.configuration.get("lake.domain", "")
    from app.cli.reports import OPENDATA  # the folder the dashboard counts schemas in

    files = export_opendata(
        ref,
        frame,
        by_column,
        args.out or settings.reports.dir / OPENDATA,
        table_schema=table_schema(settings, args.table),
        title=meta.name or name,
        description=meta.description or name,
        base_url=settings.export.base_url,
        contact_email=settings.export.contact_email,
        contact_name=settings.export.contact_name,
        themes=themes_for_domain(domain),
        mode="overwrite" if args.overwrite else "error",
    )
    print(f"{files.rows} rows -> {files.csv}\nTable Schema: {files.schema}\nDCAT-AP: {files.dcat}")
    print(f"DCAT-AP 3.0.1: valid, {len(files.warnings)} recommendation(s) not met")
    for warning in files.warnings:
        print(f"  - {warning}")
    return 0


def cmd_export_view(settings: Settings, args: argparse.Namespace) -> int:
    from governance.sensitivity.export import apply_plan, visible_columns
    from governance.sensitivity.tags import derived_tags, load_graph
    from lake.keys import pseudonymisation_key

    ref, frame = _table_frame(settings, args.table)
    derived = derived_tags(settings, load_graph(settings))
    tags = {c.column: d for c, d in derived.items() if c.dataset == ref}
    missing = [c for c in frame.columns if c not in tags and not c.startswith("_")]
    if missing:
        raise AppError(
            f"No known sensitivity for {', '.join(missing)} of {args.table}: refusing to show it.",
            fix="run the pipeline with lineage on (lineage.transport) so tags can be derived",
        )
    frame = frame[[c for c in frame.columns if c in tags]]
    plan = visible_columns(tags, args.audience, keys=args.key or ())
    for d in plan.decisions:
        print(f"  {d.column}: {d.action} ({d.reason_fr})", file=sys.stderr)
    view = apply_plan(frame, plan, key=pseudonymisation_key(settings))
    if args.out:
        from governance.sensitivity.export import write_view_csv

        write_view_csv(args.out, view)  # cells neutralised against formula injection
        print(f"{len(view)} rows -> {args.out}")
    else:
        print(view.head(args.limit).to_string(index=False))
    return 0


# --- catalog -------------------------------------------------------------------------------------


def cmd_catalog(settings: Settings, args: argparse.Namespace) -> int:
    from governance.catalog.entries import build_catalog
    from governance.catalog.render import render_text
    from governance.sensitivity.tags import derived_tags, load_graph
    from lake.contracts import load_contracts

    contracts = load_contracts(settings.root)
    graph = load_graph(settings)
    catalog = build_catalog(
        settings,
        contracts=contracts,
        graph=graph,
        derived=derived_tags(settings, graph, contracts),
    )
    if args.json:
        print_json(catalog.to_dict())
    else:
        print(render_text(catalog))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the governance commands to the CLI."""

    def group(name: str, help_: str) -> Any:
        p = sub.add_parser(name, help=help_, description=help_)
        return p.add_subparsers(dest=f"{name}_command", required=True, metavar="SUBCOMMAND")

    lineage = group("lineage", "lineage from the stored OpenLineage events (column level)")
    p = lineage.add_parser(
        "show",
        help="the lineage graph of a table or column, as a tree (and SVG)",
        description="Trace a table or one column back to its sources (default) or forward to "
        "what uses it, from the lake's events completed where Spark's are wrong.",
    )
    p.add_argument("table", help="e.g. gold/inscrits_par_pays_poste or silver.consular_register")
    p.add_argument("--column", help="one column of the table")
    way = p.add_mutually_exclusive_group()
    way.add_argument("--upstream", action="store_true", help="where it comes from (default)")
    way.add_argument("--downstream", action="store_true", help="what is derived from it")
    p.add_argument("--depth", type=int, help="at most N steps")
    p.add_argument("--svg", type=Path, help="also write the graph as an SVG image")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_lineage_show)

    p = lineage.add_parser(
        "validate",
        help="check every stored event against the official OpenLineage JSON Schemas",
        description="Validate the lake's and the Spark listener's events against the official "
        "OpenLineage schemas (core and facets), and check one START and one terminal event per "
        "lake run. Exit 1 on any problem.",
    )
    p.add_argument("--spec", type=Path, help="OpenLineage spec directory (default: vendored)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_lineage_validate)

    tags = group("tags", "sensitivity tags: PII scanner suggestions and their review")
    p = tags.add_parser(
        "scan",
        help="scan bronze samples for personal data and store suggestions with evidence",
        description="Scan bronze samples (NIR, IBAN, SIREN/SIRET, passports, e-mails, phones, "
        "birth dates, names) and store suggestions with their evidence for review.",
    )
    p.add_argument("--source", action="append", help="source id (repeatable; default: all)")
    p.add_argument("--rows", type=int, default=500, help="rows sampled per table (default 500)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_tags_scan)
    p = tags.add_parser(
        "review",
        help="list pending suggestions, or accept/reject one (and write it into its contract)",
        description="Nothing enters a contract without a decision: list pending suggestions, "
        "accept or reject one with a reason, --apply to write an accepted tag.",
    )
    choice = p.add_mutually_exclusive_group()
    choice.add_argument("--accept", metavar="SOURCE.COLUMN")
    choice.add_argument("--reject", metavar="SOURCE.COLUMN")
    p.add_argument("--reason", help="why (recorded with the decision)")
    p.add_argument("--apply", action="store_true", help="write the accepted tag into the contract")
    p.add_argument("--allow-lower", action="store_true", help="allow lowering a declared level")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_tags_review)

    export = group("export", "exports by audience, open data only when every column allows it")
    p = export.add_parser(
        "opendata",
        help="CSV + Table Schema + DCAT-AP of a gold table, refused above level 4",
        description="Write a gold table as open data (CSV UTF-8, Table Schema, DCAT-AP) only "
        "when every column is level 4 with no personal data; otherwise name each offending "
        "column with its lineage path.",
    )
    p.add_argument("table", help="gold/<indicator>")
    p.add_argument("--out", type=Path, help="output directory (default <reports>/opendata)")
    p.add_argument("--overwrite", action="store_true", help="replace existing files")
    p.set_defaults(func=cmd_export_opendata)
    p = export.add_parser(
        "view",
        help="a table as one audience (level 1-4) may see it: columns above it dropped/masked",
        description="Show or write a table as an audience may see it: exclusion columns "
        "dropped, columns above the audience's level dropped (keys masked if asked).",
    )
    p.add_argument("table", help="LAYER/NAME")
    p.add_argument("--audience", type=int, required=True, choices=(1, 2, 3, 4))
    p.add_argument("--key", action="append", help="join key to mask rather than drop")
    p.add_argument("--out", type=Path, help="CSV file to write (default: print)")
    p.add_argument("--limit", type=int, default=20, help="rows printed (default 20)")
    p.set_defaults(func=cmd_export_view)

    p = sub.add_parser(
        "catalog",
        help="every table: layer, domain, owner, rows, size, version, tags, level, quality",
        description="The catalogue (A08/A11): every table with its description, owner, "
        "volume, version, columns with their tags, exposure level and last quality score.",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_catalog)
