"""``lake contract check``: a contract run on one file in a scratch place, then removed.

The file goes through landing, bronze and silver with the lake's own chain and quality gate, but
every table, the run log, the quality history and the leases live in a scratch bucket made for
the run on the same object store, or in a scratch directory (``file://``, the same Spark and
Delta) when the bucket cannot be made: a least-privilege role may write only its prefixes of the
lake bucket, and ``storage.backend = "local"`` has no bucket. Reports and lineage go to a
temporary directory. Nothing reaches the real layers. What the run did (the reconciliation,
the review, each quarantined row with its reason) is read back before the scratch is removed,
in a ``finally``, so a failed run leaves nothing behind either.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from lake.contracts import Contract, contracts_dir, get_contract
from lake.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

Progress = Any
Scratch = Literal["auto", "bucket", "local"]
SCRATCH_MODES: tuple[str, ...] = ("auto", "bucket", "local")


@dataclass
class CheckResult:
    """What a contract did to one file: per-layer counts, the review, the quarantine."""

    source: str
    file: str
    scratch: str
    records: list[dict[str, Any]] = field(default_factory=list)
    review: list[dict[str, Any]] = field(default_factory=list)
    quarantine: list[dict[str, Any]] = field(default_factory=list)
    left_behind: int = 0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            "source": self.source,
            "file": self.file,
            "scratch": self.scratch,
            "records": self.records,
            "review": self.review,
            "quarantine": self.quarantine,
            "left_behind": self.left_behind,
        }


def scratch_settings(settings: Settings, work: Path, *, local: bool = False) -> Settings:
    """``settings`` with every table, log, lease, report and event in a scratch place: a new
    bucket on the same store, or (``local``, or a local lake) a directory under ``work``."""
    token = secrets.token_hex(4)
    storage: dict[str, Any] = {"backend": "local", "local_root": str(work / "lake")}
    if settings.storage.backend != "local" and not local:
        storage = {"bucket": f"{settings.storage.bucket[:40]}-check-{token}"}
    overrides: dict[str, dict[str, Any]] = {
        "storage": storage,
        "reports": {"dir": str(work / "reports"), "data_docs": False},
        "lineage": {"transport": "none", "file": str(work / "lineage.jsonl")},
        "security": {"pseudonymisation_key_file": str(work / "pseudonymisation.key")},
    }
    # A scratch table must never be registered by name in the shared catalog (it would hide
    # the real table of the same name, then point at nothing once the scratch is removed).
    catalog = getattr(settings, "catalog", None)
    if catalog is not None and hasattr(catalog, "register"):
        overrides["catalog"] = {"register": False}
    return settings.with_overrides(overrides)


def check_contract(
    spark: SparkSession,
    settings: Settings,
    source: str,
    file: Path,
    *,
    contract_path: Path | None = None,
    scratch: Scratch = "auto",
    progress: Progress = lambda _: None,
) -> CheckResult:
    """Run the contract of ``source`` on ``file`` in a scratch place and report what it did.

    Args:
        spark: The session (its S3A credentials must reach the scratch bucket).
        settings: The lake's settings; the real layers are only read for nothing.
        source: The source id.
        file: The delivered file.
        contract_path: A contract elsewhere than ``contracts/<source>.yaml`` (its rules file,
            if any, at ``<dir>/rules/<name>``).
        scratch: ``bucket`` (a new bucket, which needs the right to make one), ``local`` (a
            temporary directory) or ``auto`` (a bucket when the credentials may make one).
        progress: Receives progress lines.

    Raises:
        ContractError: The contract is invalid or still has TODO fields.
        StorageError: ``scratch="bucket"`` and the credentials may not make a bucket.
        LakeError: The run failed (the scratch is removed all the same).
    """
    from app.compose import quality_gates
    from ingestion.pipeline import run

    work = Path(tempfile.mkdtemp(prefix=f"lake-check-{source}-"))
    try:
        root = settings.root
        if contract_path is not None:
            root = _private_root(work, source, contract_path)
        contract = get_contract(root, source)  # refuses a draft with TODO left, before any IO
        if scratch not in SCRATCH_MODES:
            raise ValueError(f"scratch must be one of {', '.join(SCRATCH_MODES)}; got {scratch!r}")
        target = replace(scratch_settings(settings, work, local=scratch == "local"), root=root)
        result = CheckResult(source=contract.source, file=str(file), scratch="")
        try:
            target = _made(target, work, root, fallback=scratch == "auto", progress=progress)
            result.scratch = _scratch_name(target)
            progress(f"scratch: {result.scratch} (removed at the end)")
            summary = run(
                spark,
                target,
                sources=[source],
                layers=("bronze", "silver"),
                gates=quality_gates(target, data_docs=False),
                files=[file],
                progress=progress,
                job="contract-check",
            )
            result.records = [r.as_dict() for r in summary.records]
            result.review = [
                {**a, "batch_id": r.batch_id}
                for r in summary.records
                if r.layer == "silver"
                for a in r.assertions
            ]
            result.quarantine = _quarantine(spark, target, contract)
        finally:
            spark.catalog.clearCache()
            result.left_behind = remove_scratch(target)
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _made(
    target: Settings, work: Path, root: Path, *, fallback: bool, progress: Progress
) -> Settings:
    """Make the scratch bucket; when refused and ``fallback``, a scratch directory instead."""
    from lake.errors import StorageError
    from lake.storage import ensure_bucket

    if target.storage.backend == "local":
        return target
    try:
        ensure_bucket(target)
    except StorageError as exc:
        if not fallback:
            raise
        progress(
            f"the credentials may not make a scratch bucket ({str(exc).splitlines()[0][:160]}); "
            "checking in a scratch directory instead (same chain, Spark and Delta, on disk)"
        )
        return replace(scratch_settings(target, work, local=True), root=root)
    return target


def _private_root(work: Path, source: str, contract_path: Path) -> Path:
    root = work / "root"
    target = contracts_dir(root)
    (target / "rules").mkdir(parents=True)
    shutil.copyfile(contract_path, target / f"{source}.yaml")
    rules = contract_path.parent / "rules" / contract_path.name
    if rules.is_file():
        shutil.copyfile(rules, target / "rules" / f"{source}.yaml")
    return root


def _scratch_name(settings: Settings) -> str:
    from lake.storage import lake_root

    return lake_root(settings)


def _quarantine(
    spark: SparkSession, settings: Settings, contract: Contract
) -> list[dict[str, Any]]:
    """Every quarantined row: where it was, which rule, why; the value masked when its column
    is personal or level 1, as the quality reviews show it."""
    from governance.sensitivity.pii import mask
    from lake import delta_io
    from lake.storage import table_uri

    sensitive = {
        c.name for c in contract.columns if c.sensitivity.personal or c.sensitivity.level == 1
    }
    uri = table_uri(settings, "quarantine", contract.source)
    if not delta_io.table_exists(spark, uri):
        return []
    rows = (
        delta_io.read_table(spark, uri)
        .select("stage", "_line", "column", "value", "rule", "reason")
        .orderBy("_line")
        .collect()
    )
    found = [r.asDict() for r in rows]
    for row in found:
        if row["column"] in sensitive and row["value"]:
            row["value"] = mask(str(row["value"]))
    return found


def remove_scratch(settings: Settings) -> int:
    """Remove the scratch bucket (or directory) and everything in it; returns what is left."""
    if settings.storage.backend == "local":
        shutil.rmtree(settings.storage.local_root, ignore_errors=True)
        return int(settings.storage.local_root.exists())
    from minio.deleteobjects import DeleteObject

    from lake.storage import object_client

    client = object_client(settings)
    bucket = settings.storage.bucket
    try:
        if not client.bucket_exists(bucket):
            return 0
    except Exception:  # refused (a role): the bucket was never made with these credentials
        return 0
    keys = [o.object_name for o in client.list_objects(bucket, recursive=True)]
    errors = list(client.remove_objects(bucket, [DeleteObject(k) for k in keys if k]))
    left = [o.object_name for o in client.list_objects(bucket, recursive=True)]
    if not left and not errors:
        client.remove_bucket(bucket)
    return len(left)


def format_check(result: CheckResult) -> str:
    """The check as text: reconciliation per layer, the review's failed checks, the quarantine."""
    lines = [f"contract check {result.source} on {result.file} (scratch {result.scratch})", ""]
    lines.append("reconciliation:")
    for r in result.records:
        if r["layer"] == "bronze":
            lines.append(
                f"  bronze  {r['status']}: {r['lines_read']} lines -> {r['rows_out']} bronze rows"
                f" + {r['quarantined']} malformed"
                + (
                    f"; extra columns: {', '.join(r['extra_columns'])}"
                    if r["extra_columns"]
                    else ""
                )
            )
        else:
            lines.append(
                f"  silver  {r['status']}: {r['rows_in']} bronze rows -> {r['rows_out']} silver"
                f" + {r['quarantined']} quarantined + {r['duplicates_resolved']} duplicates"
                f" (review: {r['quality'] or '-'})"
            )
        if r["status"] != "succeeded" and r.get("message"):
            lines.append(f"          {r['message']}")
    failed = [a for a in result.review if not a.get("success")]
    passed = len(result.review) - len(failed)
    lines += ["", f"review: {passed}/{len(result.review)} checks passed"]
    for a in failed:
        lines.append(
            f"  {a['severity']:8} {a['name']}: {a.get('actual') or '?'} row(s) {a['description']}"
        )
    reasons = Counter((q["stage"], q["rule"] or "-", q["reason"]) for q in result.quarantine)
    lines += ["", f"quarantine: {len(result.quarantine)} row(s)"]
    for (stage, rule, reason), n in sorted(reasons.items()):
        where = [
            str(q["_line"])
            for q in result.quarantine
            if (q["stage"], q["rule"] or "-", q["reason"]) == (stage, rule, reason)
        ]
        lines.append(f"  {stage:6} {rule}: {reason} (x{n}, line(s) {', '.join(where[:10])})")
    lines += ["", "scratch removed: nothing left" if not result.left_behind
              else f"scratch NOT fully removed: {result.left_behind} object(s) left"]  # fmt: skip
    return "\n".join(lines)
