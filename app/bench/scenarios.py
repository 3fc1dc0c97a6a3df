"""The scenarios of issue 8: which tasks each one times, and the ratio it reports.

Each scenario is two measurements of the same run (``a``, what the lake does, and ``b``, its
baseline) and their ratio, with the issue's target when it sets one. The governed first run is
measured once and shared: it is ``a`` of the governance and scaling scenarios, ``b`` of the
rerun and incremental ones, and its bronze + silver part is ``a`` of the peer scenario.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.bench import data
from app.bench.tasks import TaskKind

SCENARIOS: tuple[str, ...] = (
    "governance",
    "review",
    "rerun",
    "incremental",
    "scaling",
    "io",
    "peer",
)
# Upper bounds from issue 8 (None: reported, no target). Scaling's is the size factor itself.
TARGETS: dict[str, float | None] = {
    "governance": 1.25,
    "review": 3.0,
    "rerun": 0.05,
    "incremental": 0.15,
    "scaling": None,
    "io": None,
    "peer": None,
}
_NEEDS_FIRST_RUN = {"governance", "review", "rerun", "incremental", "scaling", "peer"}


@dataclass
class Measurement:
    """One timed task: what it was, how long, its details and its peak memory."""

    label: str
    kind: str
    bucket: str
    seconds: float
    details: dict[str, Any] = field(default_factory=dict)
    memory: dict[str, Any] = field(default_factory=dict)


Measure = Callable[..., Measurement]


def ratio(
    name: str,
    a: tuple[str, float],
    b: tuple[str, float],
    *,
    target: float | None,
    memory: Mapping[str, Mapping[str, Any]],
    **extra: Any,
) -> dict[str, Any]:
    seconds_a, seconds_b = round(a[1], 4), round(b[1], 4)
    ratio = seconds_a / seconds_b if seconds_b > 0 else None
    return {
        "scenario": name,
        "a": {"label": a[0], "seconds": seconds_a, "memory": dict(memory.get("a", {}))},
        "b": {"label": b[0], "seconds": seconds_b, "memory": dict(memory.get("b", {}))},
        "ratio": None if ratio is None else round(ratio, 4),
        "target": target,
        "met": None if target is None or ratio is None else ratio <= target,
        **extra,
    }


def measure_all(
    run: Measure,
    wanted: tuple[str, ...],
    base: data.Inbox,
    small: data.Inbox | None,
    increment: data.Inbox | None,
    *,
    on_measured: Callable[[dict[str, Any], list[Measurement]], None] = lambda _r, _m: None,
) -> tuple[dict[str, Any], list[Measurement]]:
    """Measure the ``wanted`` scenarios with ``run(label, kind, bucket, inbox, bare=...)``.

    Returns the scenarios' results and every measurement; ``on_measured`` sees both after
    each measurement (to save what is done so far).
    """
    done: list[Measurement] = []
    results: dict[str, Any] = {}

    def measure(
        label: str, kind: TaskKind, bucket: str, inbox: Path, *, bare: bool = False
    ) -> Measurement:
        m = run(label, kind, bucket, inbox, bare=bare)
        done.append(m)
        on_measured(results, done)
        return m

    first = None
    if _NEEDS_FIRST_RUN & set(wanted):
        first = measure("governed first run", "pipeline", "gov", base.path)
    if "governance" in wanted and first:
        bare = measure("bare Spark baseline", "baseline", "bare", base.path, bare=True)
        results["governance"] = ratio(
            "governance",
            ("full pipeline (gates, lineage, run log)", first.seconds),
            ("bare Spark: same reads, casts, merge, aggregates", bare.seconds),
            target=TARGETS["governance"],
            memory={"a": first.memory, "b": bare.memory},
            spark_jobs={"a": first.details.get("spark_jobs"), "b": bare.details.get("spark_jobs")},
            phases={
                "a": {k: first.details.get(k) for k in ("bronze_silver_s", "gold_s")},
                "b": {k: bare.details.get(k) for k in ("bronze_silver_s", "gold_s")},
            },
        )
    if "review" in wanted and first:
        review = measure("quality review of the silver tables", "review", "gov", base.path)
        results["review"] = ratio(
            "review",
            ("one quality review of every silver table", review.details["review_s"]),
            ("one plain Spark scan of the same tables", review.details["scan_s"]),
            target=TARGETS["review"],
            memory={"a": review.memory, "b": review.memory},
            tables=review.details.get("tables"),
            spark_jobs={
                "a": review.details.get("spark_jobs"),
                "b": review.details.get("spark_jobs_scan"),
            },
        )
    if "rerun" in wanted and first:
        rerun = measure("idempotent rerun", "pipeline", "gov", base.path)
        results["rerun"] = ratio(
            "rerun",
            ("rerun, no new delivery", rerun.seconds),
            ("first run", first.seconds),
            target=TARGETS["rerun"],
            memory={"a": rerun.memory, "b": first.memory},
        )
    if "incremental" in wanted and first and increment:
        inc = measure("incremental delivery", "pipeline", "gov", increment.path)
        results["incremental"] = ratio(
            "incremental",
            (f"run after a delivery of {increment.lines} new lines", inc.seconds),
            ("first run", first.seconds),
            target=TARGETS["incremental"],
            memory={"a": inc.memory, "b": first.memory},
            delivered_share=round(increment.lines / base.lines, 4),
        )
    if "scaling" in wanted and first and small:
        one = measure("scaling 1x", "pipeline", "small", small.path)
        factor = base.lines / small.lines
        results["scaling"] = ratio(
            "scaling",
            (f"first run at {base.lines} lines", first.seconds),
            (f"first run at {small.lines} lines", one.seconds),
            target=round(factor, 2),
            memory={"a": first.memory, "b": one.memory},
            size_factor=round(factor, 2),
        )
    if "io" in wanted:
        bronze = measure("bronze ingest", "bronze", "io", base.path)
        upload = measure("plain upload (MinIO client)", "upload", "upload", base.path)
        mib = base.bytes / 2**20
        results["io"] = ratio(
            "io",
            ("bronze ingest of the files", bronze.seconds),
            ("plain upload of the same files", upload.seconds),
            target=TARGETS["io"],
            memory={"a": bronze.memory, "b": upload.memory},
            mib=_significant(mib),
            mib_per_s={
                "a": _significant(mib / bronze.seconds) if bronze.seconds else None,
                "b": _significant(mib / upload.seconds) if upload.seconds else None,
            },
        )
    if "peer" in wanted and first:
        peer = measure("polars + deltalake peer", "peer", "peer", base.path)
        bare_bs = next(
            (m.details.get("bronze_silver_s") for m in done if m.kind == "baseline"), None
        )
        results["peer"] = ratio(
            "peer",
            ("ours: bronze -> silver of the governed first run", first.details["bronze_silver_s"]),
            ("polars + deltalake: bronze -> silver", peer.seconds),
            target=TARGETS["peer"],
            memory={"a": first.memory, "b": peer.memory},
            bare_spark_bronze_silver_s=None if bare_bs is None else round(bare_bs, 3),
        )
    return results, done


def _significant(value: float) -> float:
    """Four significant digits: MiB and MiB/s of tiny smoke inputs must not round to 0."""
    return float(f"{value:.4g}")
