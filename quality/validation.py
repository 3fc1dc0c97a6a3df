"""Run a list of rules as one Great Expectations suite on a Spark DataFrame.

One file-mode GX context per reports directory (``<reports>/gx``), so suites are readable JSON
files and Data Docs are built for engineers (``<reports>/gx/uncommitted/data_docs/local_site``),
once per run from the stored results (:func:`refresh_data_docs`, called by the gates' ``finish``).
The DataFrame is persisted once by the caller; GX's own Spark datasource is created with
``persist=False`` because GX never unpersists what it caches (STACK.md). Results are asked in
``SUMMARY`` format without unexpected value lists: values are shown from the quarantine, masked,
never from GX output.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from quality.errors import QualityError
from quality.rules import Rule

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

RESULT_FORMAT = {
    "result_format": "SUMMARY",
    "partial_unexpected_count": 0,
    "include_unexpected_rows": False,
}
_contexts: dict[Path, Any] = {}
_definitions: dict[tuple[Path, str], tuple[str, Any]] = {}
_stale_docs: set[Path] = set()
_lock = threading.Lock()


@dataclass(frozen=True)
class Outcome:
    """One expectation's result in a review."""

    rule: Rule
    success: bool
    element_count: int | None
    unexpected_count: int | None
    unexpected_percent: float | None
    observed_value: str | None


def gx_class_name(expectation: str) -> str:
    """``expect_column_values_to_not_be_null`` -> ``ExpectColumnValuesToNotBeNull``."""
    return "".join(part[:1].upper() + part[1:] for part in expectation.split("_"))


def to_expectation(rule: Rule) -> Any:
    """The GX expectation object of a rule (meta carries the rule id and severity)."""
    import great_expectations as gx

    cls = getattr(gx.expectations, gx_class_name(rule.expectation), None)
    if cls is None:
        raise QualityError(
            f"Great Expectations has no expectation {rule.expectation!r}.",
            fix="install the Great Expectations version of constraints.txt (make setup)",
            rule=rule.id,
        )
    meta = {"rule_id": rule.id, "severity": rule.severity, "message_fr": rule.message}
    kwargs = dict(rule.kwargs)
    if rule.expectation == "unexpected_rows_expectation":
        kwargs["unexpected_rows_query"] = f"SELECT * FROM {{batch}} WHERE {rule.where}"
        kwargs["description"] = rule.message
    if rule.expectation == "expect_column_pair_values_a_to_be_greater_than_b":
        kwargs.setdefault("ignore_row_if", "either_value_is_missing")
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    return cls(**kwargs, meta=meta)


def context(reports_dir: Path) -> Any:
    """The file-mode GX context of a reports directory (created once per process)."""
    import great_expectations as gx

    root = reports_dir.resolve()
    with _lock:
        if root not in _contexts:
            root.mkdir(parents=True, exist_ok=True)
            for noisy in ("great_expectations", "py4j"):
                logging.getLogger(noisy).setLevel(logging.ERROR)
            ctx = gx.get_context(mode="file", project_root_dir=str(root))
            from great_expectations.data_context.types.base import ProgressBarsConfig

            ctx.variables.progress_bars = ProgressBarsConfig(
                globally=False, metric_calculations=False
            )
            _contexts[root] = ctx
        return _contexts[root]


def data_docs_index(reports_dir: Path) -> Path:
    """Where GX writes its Data Docs site."""
    return reports_dir.resolve() / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"


def validate(
    df: DataFrame,
    rules: Sequence[Rule],
    *,
    suite_name: str,
    reports_dir: Path,
    data_docs: bool = True,
) -> list[Outcome]:
    """Validate ``df`` against ``rules`` with Great Expectations; one outcome per rule.

    Raises:
        QualityError: GX could not evaluate an expectation (its message is kept).
    """
    ctx = context(reports_dir)
    try:
        source = ctx.data_sources.get("lake")
    except (KeyError, ValueError, LookupError):
        source = ctx.data_sources.add_spark("lake", persist=False)
    asset_name = suite_name.replace("/", ".")
    try:
        asset = source.get_asset(asset_name)
    except LookupError:
        asset = source.add_dataframe_asset(asset_name)
    try:
        batch_def = asset.get_batch_definition("whole")
    except (KeyError, LookupError, ValueError):
        batch_def = asset.add_batch_definition_whole_dataframe("whole")
    from great_expectations.exceptions.resource_freshness import ResourceFreshnessAggregateError

    # ValidationDefinition.run stores the result in the context's validation results store, so
    # Data Docs can be built from every stored result once per run (refresh_data_docs) rather
    # than by a checkpoint action after each batch (a second or more each time).
    for attempt in range(3):
        definition = _definition(ctx, reports_dir, batch_def, suite_name, rules, fresh=attempt > 0)
        try:
            result = definition.run(batch_parameters={"dataframe": df}, result_format=RESULT_FORMAT)
            break
        except ResourceFreshnessAggregateError:
            # another process sharing this reports directory saved the suite since this one
            # did (GX refuses to run a stale copy): save ours again and retry
            if attempt == 2:
                raise
    if data_docs:
        with _lock:
            _stale_docs.add(reports_dir.resolve())
    by_id = {r.id: r for r in rules}
    outcomes: list[Outcome] = []
    for item in result.results:
        rule = by_id[item.expectation_config.meta["rule_id"]]
        info = item.exception_info or {}
        if info.get("raised_exception"):
            raise QualityError(
                f"Rule {rule.id} ({rule.expectation}) could not be evaluated: "
                f"{info.get('exception_message')}",
                fix="correct the rule's column, kwargs or where clause (business rules: "
                "contracts/rules/<source>.yaml)",
                rule=rule.id,
            )
        res = dict(item.result or {})
        observed = res.get("observed_value")
        unexpected = res.get("unexpected_count")
        if unexpected is None and rule.expectation == "unexpected_rows_expectation":
            unexpected = int(observed or 0)
        outcomes.append(
            Outcome(
                rule=rule,
                success=bool(item.success),
                element_count=res.get("element_count"),
                unexpected_count=unexpected,
                unexpected_percent=res.get("unexpected_percent"),
                observed_value=None if observed is None else json.dumps(observed, default=str),
            )
        )
    order = {r.id: i for i, r in enumerate(rules)}
    return sorted(outcomes, key=lambda o: order[o.rule.id])


def _definition(
    ctx: Any,
    reports_dir: Path,
    batch_def: Any,
    suite_name: str,
    rules: Sequence[Rule],
    *,
    fresh: bool = False,
) -> Any:
    """The suite's validation definition, saved to the context only when its rules changed in
    this process (saving rewrites JSON files: a quarter of a second each, every batch), or when
    ``fresh`` (another process saved it since)."""
    import great_expectations as gx

    key = (reports_dir.resolve(), suite_name)
    fingerprint = repr(list(rules))  # every field of every rule: what the suite is built from
    with _lock:
        cached = _definitions.get(key)
    if not fresh and cached is not None and cached[0] == fingerprint:
        return cached[1]
    suite = gx.ExpectationSuite(name=suite_name, expectations=[to_expectation(r) for r in rules])
    suite = ctx.suites.add_or_update(suite)
    definition = ctx.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=suite_name, data=batch_def, suite=suite)
    )
    with _lock:
        _definitions[key] = (fingerprint, definition)
    return definition


def refresh_data_docs(reports_dir: Path | None = None) -> list[Path]:
    """Build the Data Docs of every reports directory validated since the last build (or of
    ``reports_dir`` only); returns the index pages written."""
    with _lock:
        todo = sorted(_stale_docs if reports_dir is None else _stale_docs & {reports_dir.resolve()})
        _stale_docs.difference_update(todo)
    built = []
    for root in todo:
        context(root).build_data_docs()
        built.append(data_docs_index(root))
    return built
