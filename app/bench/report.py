"""The results of a benchmark for people: a console table and a Markdown section for
``docs/benchmarks.md`` (appended under its ``## Runs`` heading)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

DOC_HEADER = "# Benchmarks\n\nResults of `make bench` / `lake bench`, newest last.\n\n## Runs\n"


def _fmt_ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _met(row: Mapping[str, Any]) -> str:
    if row["target"] is None:
        return "(no target)"
    if row["met"]:
        return "yes"
    over = row["ratio"] / row["target"] if row["target"] else float("inf")
    return f"NO ({over:.1f}x the target)"


def console_table(report: Mapping[str, Any]) -> str:
    """One line per scenario: ratio, both times, target."""
    lines = [f"{'scenario':<12} {'ratio':>8}  {'a (s)':>9}  {'b (s)':>9}  target  met"]
    for name, row in report["scenarios"].items():
        target = "-" if row["target"] is None else f"{row['target']:g}"
        lines.append(
            f"{name:<12} {_fmt_ratio(row['ratio']):>8}  {row['a']['seconds']:>9.2f}  "
            f"{row['b']['seconds']:>9.2f}  {target:>6}  {_met(row)}"
        )
        lines.append(f"{'':<12} a = {row['a']['label']}; b = {row['b']['label']}")
    return "\n".join(lines)


def markdown(report: Mapping[str, Any]) -> str:
    """The section of one run (sizes, machine, versions, ratios, memory, phases)."""
    opts = report["options"]
    base = report["sizes"]["base"]
    m = report["machine"]
    v = report["versions"]
    out = [
        f"### {report['started_at']}: {base['lines']:,} lines ({base['rows_per_file']:,} per file "
        f"x {base['files']} files, {base['mib']} MiB), scale factor {opts['scale_factor']}",
        "",
        f"- Machine: {m['cores']} cores, {m['ram_gib']} GiB RAM, {m['cpu_model']}; load average "
        f"{m['load_average_at_start']} at start, {m['load_average']} at the end (shared machine); "
        f"{m['java']}; Python {m['python']}.",
        "- Versions: " + ", ".join(f"{k} {val}" for k, val in v.items() if val) + ".",
        f"- Mode: {report['mode']}; driver memory {opts['driver_memory']}; GX Data Docs "
        f"{'on' if opts['data_docs'] else 'off'}; lineage {opts['lineage']}; whole bench "
        f"{report['duration_s']:.0f} s.",
    ]
    sizes = report["sizes"]
    if sizes.get("scaling_1x"):
        s = sizes["scaling_1x"]
        out.append(f"- Scaling 1x inbox: {s['lines']:,} lines ({s['mib']} MiB).")
    if sizes.get("increment"):
        s = sizes["increment"]
        out.append(
            f"- Incremental delivery: {s['lines']:,} lines in {s['files']} file(s) "
            f"({s['lines'] / max(base['lines'], 1):.1%} of the base inbox's lines)."
        )
    out += [
        "",
        "| scenario | a | a (s) | b | b (s) | ratio a/b | target | met |",
        "|---|---|---:|---|---:|---:|---:|---|",
    ]
    for name, row in report["scenarios"].items():
        target = "-" if row["target"] is None else f"{row['target']:g}"
        out.append(
            f"| {name} | {row['a']['label']} | {row['a']['seconds']:.2f} | {row['b']['label']} | "
            f"{row['b']['seconds']:.2f} | {_fmt_ratio(row['ratio'])} | {target} | {_met(row)} |"
        )
    io = report["scenarios"].get("io")
    if io:
        out.append(
            f"\nI/O: {io['mib']} MiB of source files; bronze ingest {io['mib_per_s']['a']} MiB/s, "
            f"plain upload {io['mib_per_s']['b']} MiB/s."
        )
    out += ["", "| measurement | seconds | Spark jobs | peak JVM (MiB) | peak Python (MiB) |"]
    out.append("|---|---:|---:|---:|---:|")
    for meas in report["measurements"]:
        mem = meas["memory"]
        jobs = meas["details"].get("spark_jobs", "-")
        out.append(
            f"| {meas['label']} | {meas['seconds']:.2f} | {jobs} | {mem.get('jvm_mib', 0):.0f} | "
            f"{mem.get('python_mib', 0):.0f} |"
        )
    phases = report["scenarios"].get("governance", {}).get("phases")
    if phases:
        a, b = phases["a"], phases["b"]
        out.append(
            f"\nPhases: governed bronze+silver {a['bronze_silver_s']:.1f} s, gold "
            f"{a['gold_s']:.1f} s; bare bronze+silver {b['bronze_silver_s']:.1f} s, gold "
            f"{b['gold_s']:.1f} s."
        )
    return "\n".join(out) + "\n"


def append_to_docs(doc: Path, report: Mapping[str, Any]) -> Path:
    """Append the run's section to ``doc`` (created with its header if missing)."""
    text = doc.read_text(encoding="utf-8") if doc.is_file() else DOC_HEADER
    if not text.endswith("\n"):
        text += "\n"
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text + "\n" + markdown(report), encoding="utf-8")
    return doc
