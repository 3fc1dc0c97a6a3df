"""Validate OpenLineage events against the official JSON Schemas, offline.

The core and facet schemas of a local copy of OpenLineage's ``spec/`` (:class:`SpecLocation`)
load once into a ``referencing.Registry`` keyed by ``$id``; a core URL of another version resolves
to the local core, other unknown URLs are refused, never fetched. :meth:`EventValidator.check`:

- The event is checked against the core definition its ``schemaURL`` names (``RunEvent``,
  ``DatasetEvent``, ``JobEvent``; inferred from its keys otherwise), at the reference version.
  Formats ``uuid``, ``date-time`` (with an offset) and ``uri`` are asserted, not mere annotations:
  runs are joined on ``runId`` and ordered by ``eventTime``.
- A facet whose ``_schemaURL`` names an official facet (``.../facets/1-2-0/X.json#/$defs/X``) is
  checked against it. If that version is not in the reference set, the nearest one (same major
  first, ties to the newer) is used and the gap is named only in the problems it causes: minor
  versions are additive, so a facet that passes the nearest version fits.
- Any other facet (Spark's ``spark_properties``, the lake's ``statisticalSecret``) or a facet marked
  ``_deleted`` is checked against the core base definition for its position and listed in
  ``unknown_facets``, which is not an error.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from jsonschema import Draft202012Validator, FormatChecker, ValidationError
from referencing import Registry, Resource
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012

from governance.errors import GovernanceError, LineageError

SPEC_ENV = "LAKE_OPENLINEAGE_SPEC"
CORE_FILE = "OpenLineage.json"
# Vendored in the repository (reference/README.md), so any clone validates the same way.
DEFAULT_SPEC_DIR = Path(__file__).resolve().parents[2] / "reference" / "openlineage-spec"
TERMINAL_STATES = ("COMPLETE", "FAIL", "ABORT")

_CORE_URL = re.compile(r"^https?://openlineage\.io/spec/\d+-\d+-\d+/OpenLineage\.json$")
_FACET_URL = re.compile(
    r"^https?://openlineage\.io/spec/facets/(?P<version>\d+-\d+-\d+)/(?P<file>\w+\.json)"
    r"(?:#/\$defs/(?P<definition>\w+))?$"
)
_EVENT_DEF = re.compile(r"#/(?:\$defs|definitions)/(\w+)$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S*$")

_FORMATS = FormatChecker(formats=())
_FORMATS.checks("uuid")(lambda value: not isinstance(value, str) or bool(_UUID.match(value)))
_FORMATS.checks("uri")(lambda value: not isinstance(value, str) or bool(_URI.match(value)))
_FORMATS.checks("date-time", raises=ValueError)(
    lambda value: (
        not isinstance(value, str)
        or datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None
    )
)
_BASES = (("run", "RunFacet"), ("job", "JobFacet"), ("dataset", "DatasetFacet"))
_SIDES = (
    ("inputs", "inputFacets", "InputDatasetFacet"),
    ("outputs", "outputFacets", "OutputDatasetFacet"),
)
_STEPS = {"START": "S", "RUNNING": "R"} | dict.fromkeys(TERMINAL_STATES, "T")


@dataclass(frozen=True)
class SpecLocation:
    """The OpenLineage reference directory, and the rule that found it.

    Precedence: an explicit path, else ``$LAKE_OPENLINEAGE_SPEC``, else the copy vendored in
    ``<repo>/reference/openlineage-spec``. A named directory without a spec is an error.
    """

    path: Path
    origin: Literal["argument", "environment", "default"]

    @classmethod
    def find(
        cls, path: Path | str | None = None, *, env: Mapping[str, str] | None = None
    ) -> SpecLocation:
        """Locate the spec directory (``env`` defaults to ``os.environ``).

        Raises:
            GovernanceError: The chosen directory has no ``OpenLineage.json``.
        """
        environ = os.environ if env is None else env
        origin: Literal["argument", "environment", "default"] = "default"
        candidate = DEFAULT_SPEC_DIR
        if path is not None:
            candidate, origin = Path(path), "argument"
        elif environ.get(SPEC_ENV):
            candidate, origin = Path(environ[SPEC_ENV]), "environment"
        if not (candidate / CORE_FILE).is_file():
            raise GovernanceError(
                f"No OpenLineage spec at {candidate} (from the {origin}): expected {CORE_FILE} "
                "and facets/*.json there.",
                fix=f"pass the directory, or set {SPEC_ENV} to a copy of the OpenLineage "
                "repository's spec/ folder.",
            )
        return cls(candidate.resolve(), origin)


@dataclass(frozen=True)
class UnknownFacet:
    """A facet checked only against its position's base definition (not an error)."""

    where: str
    name: str
    schema_url: str


@dataclass
class EventReport:
    """What :meth:`EventValidator.check` found in one event."""

    problems: list[str] = field(default_factory=list)
    unknown_facets: list[UnknownFacet] = field(default_factory=list)


@dataclass
class FileReport:
    """What :meth:`EventValidator.validate_file` found in a JSON-lines file.

    Attributes:
        events: Non-blank lines read, each meant to be one event.
        problems: ``file:line: where: message`` per schema problem or unreadable line.
        runs: Run-lifecycle problems (:func:`check_run_states`), kept apart from the schema.
        unknown_facets: How many times each ``(facet name, _schemaURL)`` was seen.
    """

    path: Path
    events: int = 0
    problems: list[str] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)
    unknown_facets: Counter[tuple[str, str]] = field(default_factory=Counter)

    @property
    def valid(self) -> bool:
        """Whether every event fits the schemas (the run lifecycle is not included)."""
        return not self.problems


class EventValidator:
    """Checks events against the reference schemas in ``spec_dir``, loaded once.

    Attributes:
        registry: Every loaded schema by ``$id``; retrieving an unknown URL raises.
        schema_ids: File name (``ColumnLineageDatasetFacet.json``) -> ``$id``.
    """

    def __init__(self, spec_dir: Path) -> None:
        self.spec_dir = SpecLocation.find(spec_dir).path
        files = [self.spec_dir / CORE_FILE, *sorted(self.spec_dir.glob("facets/*.json"))]
        files += sorted(self.spec_dir.glob("registry/**/facets/*.json"))
        resources = {path.name: _load(path) for path in files}
        self.schema_ids = {name: str(res.id()) for name, res in resources.items()}
        self._core = resources[CORE_FILE]
        self._core_id = self.schema_ids[CORE_FILE]
        # file name -> version -> ($id, definition names), for matching facets' _schemaURL
        self._facets: dict[str, dict[tuple[int, ...], tuple[str, frozenset[str]]]] = {}
        for name, resource in resources.items():
            if match := _FACET_URL.match(self.schema_ids[name]):
                entry = (self.schema_ids[name], frozenset(resource.contents.get("$defs", {})))
                self._facets.setdefault(name, {})[_version(match["version"])] = entry
        # mypy's attrs plugin misses the ``retrieve`` alias of Registry's private field
        registry = Registry(retrieve=self._retrieve)  # type: ignore[call-arg]
        self.registry: Registry[Any] = registry.with_resources(
            (str(res.id()), res) for res in resources.values()
        )
        self._validators: dict[str, Draft202012Validator] = {}

    def validate(self, event: object) -> list[str]:
        """Every schema problem of one event, as ``where: message`` lines; empty when valid."""
        return self.check(event).problems

    def check(self, event: object) -> EventReport:
        """Validate one event and each of its facets (rules in the module docstring)."""
        report = EventReport()
        if not isinstance(event, dict):
            report.problems.append(f"event: expected a JSON object, found {type(event).__name__}")
            return report
        problems = self.validate_document(event, f"{self._core_id}#/$defs/{_event_kind(event)}")
        for where, base, name, facet in _facets(event):
            url = facet.get("_schemaURL")
            official = None if facet.get("_deleted") is True else self._official(url)
            if official is None:
                report.unknown_facets.append(UnknownFacet(where, name, str(url or "")))
                problems += self.validate_document(facet, f"{self._core_id}#/$defs/{base}", where)
            else:
                schema_url, gap = official
                found = self.validate_document(facet, schema_url, where)
                problems += [f"{line} ({gap})" if gap else line for line in found]
        report.problems = list(dict.fromkeys(problems))  # the core pass repeats base-facet errors
        return report

    def validate_document(self, document: object, schema_url: str, where: str = "") -> list[str]:
        """Validate a JSON value against a loaded schema's ``$id`` (optionally ``#/$defs/X``).

        ``where`` prefixes the locations in the messages, e.g. ``outputs[0].facets.schema``.

        Raises:
            GovernanceError: The schema, or a ``$ref`` inside it, is not in the reference set.
        """
        validator = self._validators.get(schema_url)
        if validator is None:
            validator = Draft202012Validator(
                {"$ref": schema_url}, registry=self.registry, format_checker=_FORMATS
            )
            self._validators[schema_url] = validator
        try:
            errors = sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.path)))
        except Unresolvable as exc:
            raise GovernanceError(
                f"Cannot resolve {schema_url} offline: {exc}.",
                fix=f"add the missing schema to {self.spec_dir} (from OpenLineage's spec/).",
            ) from exc
        return [_line(leaf, where) for error in errors for leaf in _leaves(error)]

    def validate_file(self, path: Path) -> FileReport:
        """Validate each line of a JSON-lines events file, then the runs' lifecycle.

        Raises:
            LineageError: The file does not exist (a GovernanceError).
        """
        if not path.is_file():
            raise LineageError(
                f"OpenLineage events file {path} does not exist.",
                fix="pass the events file the jobs write (lineage.file), or run a job first",
                path=path,
            )
        report, events, labels = FileReport(path), [], []
        with path.open(encoding="utf-8", errors="replace") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                report.events += 1
                try:
                    event = json.loads(line)
                except json.JSONDecodeError as exc:
                    problem = f"not valid JSON ({exc.msg} at column {exc.colno})"
                    report.problems.append(f"{path}:{number}: {problem}")
                    continue
                checked = self.check(event)
                report.problems += [f"{path}:{number}: {p}" for p in checked.problems]
                report.unknown_facets.update((u.name, u.schema_url) for u in checked.unknown_facets)
                events.append(event)
                labels.append(f"{path}:{number}")
        report.runs = check_run_states(events, labels=labels)
        return report

    def _official(self, url: object) -> tuple[str, str] | None:
        """``(schema URL, version-gap note)`` when ``url`` names an official facet, else None."""
        match = _FACET_URL.match(url) if isinstance(url, str) else None
        if match is None:
            return None
        definition = match["definition"] or match["file"].removesuffix(".json")
        known = self._facets.get(match["file"], {}).items()
        versions = {version: id_ for version, (id_, defs) in known if definition in defs}
        if not versions:
            return None
        want = _version(match["version"])
        near = min(
            versions, key=lambda v: ([abs(a - b) for a, b in zip(v, want, strict=True)], v < want)
        )
        note = (
            f"{match['file']} {match['version']} is not in the reference set; checked against "
            f"{versions[near].split('/')[-2]}"
        )
        return f"{versions[near]}#/$defs/{definition}", "" if near == want else note

    def _retrieve(self, uri: str) -> Resource[Any]:
        if _CORE_URL.match(uri):  # facets of another release may name another core version
            return self._core
        raise GovernanceError(
            f"Schema {uri} is not in the local OpenLineage reference set, and it is never "
            "fetched from the network.",
            fix=f"add it to {self.spec_dir} from OpenLineage's spec/ folder",
        )


def check_run_states(events: Iterable[object], *, labels: Sequence[str] | None = None) -> list[str]:
    """One line per run without exactly one START and one terminal event (COMPLETE/FAIL/ABORT).

    RUNNING is allowed between them and OTHER anywhere, in the order given (file order for
    :meth:`EventValidator.validate_file`); events without ``run.runId`` are ignored. ``labels``
    say where each event comes from (``file:line``), ``event #n`` by default.
    """
    runs: dict[str, list[tuple[str, str]]] = {}
    jobs: dict[str, str] = {}
    for index, event in enumerate(events):
        run_id = _get(event, "run", "runId")
        if not isinstance(run_id, str) or not isinstance(event, Mapping):
            continue
        label = labels[index] if labels is not None else f"event #{index + 1}"
        runs.setdefault(run_id, []).append((str(event.get("eventType") or "OTHER"), label))
        jobs.setdefault(run_id, f"{_get(event, 'job', 'namespace')}/{_get(event, 'job', 'name')}")
    problems: list[str] = []
    for run_id, states in runs.items():
        steps = "".join(_STEPS.get(state, "") for state, _ in states)  # OTHER is allowed anywhere
        head = f"run {run_id} (job {jobs[run_id]}):"
        seen = ", ".join(f"{state} at {label}" for state, label in states)
        starts, ends = steps.count("S"), steps.count("T")
        if starts != 1:
            problems.append(f"{head} {starts} START events, expected exactly one ({seen})")
        if ends != 1:
            problems.append(
                f"{head} {ends} terminal events (COMPLETE, FAIL or ABORT), expected exactly one "
                f"({seen})"
            )
        if starts == ends == 1 and not re.fullmatch("SR*T", steps):
            problems.append(f"{head} expected START, RUNNING..., then the end; found {seen}")
    return problems


def _load(path: Path) -> Resource[Any]:
    try:
        contents = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise LineageError(
            f"Cannot read the OpenLineage schema {path}: {exc}.",
            fix="copy the file again from OpenLineage's spec/ folder",
            path=path,
        ) from exc
    if not isinstance(contents, dict) or not isinstance(contents.get("$id"), str):
        raise LineageError(
            f"The OpenLineage schema {path} has no $id.",
            fix="copy the file again from OpenLineage's spec/ folder",
            path=path,
        )
    return Resource.from_contents(contents, default_specification=DRAFT202012)


def _event_kind(event: Mapping[str, Any]) -> str:
    match = _EVENT_DEF.search(str(event.get("schemaURL", "")))
    if match and match[1] in ("RunEvent", "DatasetEvent", "JobEvent"):
        return match[1]
    if "run" in event or ("job" not in event and "dataset" not in event):
        return "RunEvent"
    return "JobEvent" if "job" in event else "DatasetEvent"


def _facets(event: Mapping[str, Any]) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """``(where, base definition, name, facet)`` for every facet object of an event."""
    places = [(f"{key}.facets", base, _get(event, key, "facets")) for key, base in _BASES]
    for side, own, base in _SIDES:
        datasets = event.get(side)
        for i, dataset in enumerate(datasets if isinstance(datasets, list) else []):
            places.append((f"{side}[{i}].facets", "DatasetFacet", _get(dataset, "facets")))
            places.append((f"{side}[{i}].{own}", base, _get(dataset, own)))
    for where, base, facets in places:
        for name, facet in facets.items() if isinstance(facets, dict) else ():
            if isinstance(facet, dict):
                yield f"{where}.{name}", base, name, facet


def _get(value: object, *keys: str) -> object:
    for key in keys:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def _leaves(error: ValidationError) -> Iterator[ValidationError]:
    """The errors under an ``anyOf``/``oneOf``, from the branch that got furthest into the value.

    The deepest branch is the one the producer meant (a DATASET entry failing deep inside its
    fields, rather than the JOB branch rejecting its ``type``); ties go to the fewest errors.
    """
    if not error.context:
        yield error
        return
    branches: dict[object, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    chosen = max(branches.values(), key=lambda errs: (max(map(_depth, errs)), -len(errs)))
    for sub in chosen:
        yield from _leaves(sub)


def _depth(error: ValidationError) -> int:
    return max([len(error.absolute_path), *map(_depth, error.context)])


def _line(error: ValidationError, prefix: str) -> str:
    where = prefix
    for part in error.absolute_path:
        where += f"[{part}]" if isinstance(part, int) else f".{part}" if where else str(part)
    message, shown = error.message, repr(error.instance)
    if len(shown) > 60 and message.startswith(shown):  # don't echo a whole object or list
        kind = type(error.instance).__name__
        message = f"the {'object' if kind == 'dict' else kind}{message[len(shown) :]}"
    return f"{where or 'event'}: {message}"


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("-"))
