"""OpenLineage events for the lake's own steps, with openlineage-python.

Implements :class:`lake.lineage.LineageSink`: a START when a step begins and a COMPLETE or FAIL
when it ends, every step a child (``parent`` facet) of the run's own event pair. Datasets are
named as the OpenLineage spec and its Spark listener name them (``s3a://b/p`` -> namespace
``s3://b``, name ``p``), so Spark's events and ours join. Dataset facets: schema, data source,
documentation (French description from the contract), ownership (owning direction), tags
(sensitivity per column: exposure level, personal data, exclusion, pseudonymised), column
lineage; inputs carry the quality review as ``dataQualityAssertions``; gold outputs under the
statistical secret carry the custom ``statisticalSecret`` facet.

Every event goes to the journal's local spool (``lineage.file``), which
:mod:`lake.lineage_journal` copies to the lake (``meta/lineage/``) so that any container or host
reads the same lineage; ``transport = http`` also sends each event to the server (Marquez),
``console`` prints them, ``none`` keeps nothing. Emitting is best-effort: a failed emit is logged
and the job goes on (STYLE.md); an unreachable server is not retried for the rest of the run,
the journal has the events. Credentials never appear: only dataset names and facts are sent.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import attr
from openlineage.client.generated.base import DatasetFacet

from governance.lineage.model import (
    LAKE_PRODUCER,
    STATISTICAL_SECRET_FACET,
    STATISTICAL_SECRET_SCHEMA,
)
from lake import __version__
from lake.contracts import Contract
from lake.lineage import DatasetIO
from lake.lineage_journal import publish_quietly
from lake.settings import Settings
from lake.storage import openlineage_dataset

log = logging.getLogger(__name__)
PRODUCER = f"{LAKE_PRODUCER}/tree/{__version__}"


@attr.define
class StatisticalSecretDatasetFacet(DatasetFacet):
    """Cells counting fewer than ``minCount`` people are suppressed in ``countColumns``."""

    minCount: int = 0
    countColumns: list[str] = attr.field(factory=list)

    @staticmethod
    def _get_schema() -> str:
        return STATISTICAL_SECRET_SCHEMA


def _journal_transport(settings: Settings) -> Any:
    """The local spool of the lineage journal (:mod:`lake.lineage_journal` copies it to the
    lake): every event goes there first, whatever else receives it."""
    from openlineage.client.transport.file import FileConfig, FileTransport

    settings.lineage.file.parent.mkdir(parents=True, exist_ok=True)
    return FileTransport(FileConfig(log_file_path=str(settings.lineage.file), append=True))


def _server_transport(settings: Settings) -> Any:
    """The server that also receives the events (``transport = http``: Marquez), or None."""
    lineage = settings.lineage
    if lineage.transport == "http":
        from openlineage.client.transport.http import HttpConfig, HttpTransport

        # few retries: an unreachable server must not slow every step (the journal keeps all)
        retry = {
            "total": 2,
            "connect": 2,
            "read": 2,
            "backoff_factor": 0.2,
            "status_forcelist": [500, 502, 503, 504],
            "allowed_methods": ["POST"],
        }
        return HttpTransport(HttpConfig(url=lineage.url, timeout=5.0, retry=retry))
    if lineage.transport == "console":
        from openlineage.client.transport.console import ConsoleConfig, ConsoleTransport

        return ConsoleTransport(ConsoleConfig())
    return None


class OpenLineageSink:
    """A :class:`lake.lineage.LineageSink` emitting OpenLineage events."""

    def __init__(self, settings: Settings, contracts: Mapping[str, Contract]) -> None:
        self.settings = settings
        self.contracts = contracts
        self.namespace = settings.lineage.namespace
        transport = settings.lineage.transport
        self.journal = _journal_transport(settings) if transport in ("file", "http") else None
        self.server = _server_transport(settings)
        self._parent: tuple[str, str] | None = None  # (job name, run id) of the whole run
        self.emitted = 0  # events in the journal's spool (or on the console)
        self.failed = 0
        self.sent = 0  # events the server took
        self.server_down = False

    # --- LineageSink -------------------------------------------------------------------------

    def start(self, job: str, *, run_id: str, inputs: Sequence[DatasetIO]) -> str:
        step_run = str(uuid.uuid4())
        if job == "run":
            self._parent = (job, step_run)
        self._emit("START", job, step_run, run_id=run_id, inputs=inputs, outputs=[])
        return step_run

    def complete(
        self,
        job: str,
        step_run: str,
        *,
        inputs: Sequence[DatasetIO],
        outputs: Sequence[DatasetIO],
    ) -> None:
        self._emit("COMPLETE", job, step_run, inputs=inputs, outputs=outputs)

    def fail(self, job: str, step_run: str, *, error: str, inputs: Sequence[DatasetIO]) -> None:
        self._emit("FAIL", job, step_run, inputs=inputs, outputs=[], error=error)

    # --- events ------------------------------------------------------------------------------

    def event(
        self,
        state: str,
        job: str,
        step_run: str,
        *,
        inputs: Sequence[DatasetIO],
        outputs: Sequence[DatasetIO],
        run_id: str | None = None,
        error: str | None = None,
    ) -> Any:
        """The RunEvent object (public for tests)."""
        from openlineage.client.event_v2 import (
            InputDataset,
            Job,
            OutputDataset,
            Run,
            RunEvent,
            RunState,
        )
        from openlineage.client.generated import (
            documentation_job,
            error_message_run,
            job_type_job,
            parent_run,
            processing_engine_run,
        )

        run_facets: dict[str, Any] = {
            "processing_engine": processing_engine_run.ProcessingEngineRunFacet(
                version=__version__, name="meae-datalake", openlineageAdapterVersion=_ol_version()
            )
        }
        if self._parent and job != "run":
            run_facets["parent"] = parent_run.ParentRunFacet(
                run=parent_run.Run(runId=self._parent[1]),
                job=parent_run.Job(namespace=self.namespace, name=self._parent[0]),
            )
        if error:
            run_facets["errorMessage"] = error_message_run.ErrorMessageRunFacet(
                message=error[:2000], programmingLanguage="python"
            )
        layer = job.split(".", 1)[0]
        job_facets: dict[str, Any] = {
            "jobType": job_type_job.JobTypeJobFacet(
                processingType="BATCH", integration="MEAE_DATALAKE", jobType=layer.upper()
            ),
            "documentation": documentation_job.DocumentationJobFacet(
                description=_JOB_DOC.get(layer, "Étape de la chaîne du lac de données.")
            ),
        }
        return RunEvent(
            eventType=getattr(RunState, state),
            eventTime=dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"),
            run=Run(runId=step_run, facets=run_facets),
            job=Job(namespace=self.namespace, name=job, facets=job_facets),
            producer=PRODUCER,
            inputs=[
                InputDataset(
                    namespace=ns,
                    name=name,
                    facets=self._facets(d, with_lineage=False),
                    inputFacets=self._input_facets(d),
                )
                for d in inputs
                for ns, name in [openlineage_dataset(d.uri)]
            ],
            outputs=[
                OutputDataset(
                    namespace=ns,
                    name=name,
                    facets=self._facets(d, with_lineage=True),
                    outputFacets=self._output_facets(d),
                )
                for d in outputs
                for ns, name in [openlineage_dataset(d.uri)]
            ],
        )

    def _emit(self, state: str, job: str, step_run: str, **kw: Any) -> None:
        if self.journal is None and self.server is None:
            return
        try:
            event = self.event(state, job, step_run, **kw)
        except Exception as exc:  # best-effort: lineage never breaks a job
            self.failed += 1
            log.warning("lineage event %s %s not built: %s", state, job, exc)
            return
        if self.journal is not None:
            try:
                self.journal.emit(event)
                self.emitted += 1
            except Exception as exc:
                self.failed += 1
                log.warning("lineage event %s %s not kept: %s", state, job, exc)
            if state != "START" and (job == "run" or self._parent is None):
                # a whole run (or a step outside one) ended: its events go to the lake now
                publish_quietly(self.settings)
        if self.server is None or self.server_down:
            return
        try:
            self.server.emit(event)
            self.sent += 1
            if self.journal is None:
                self.emitted += 1
        except Exception as exc:
            # the journal keeps every event; stop trying an unreachable server for this run
            self.server_down = True
            log.warning(
                "lineage server %s unreachable (%s); events stay in the lake's journal only",
                self.settings.lineage.url,
                exc,
            )

    # --- facets ------------------------------------------------------------------------------

    def _facets(self, d: DatasetIO, *, with_lineage: bool) -> dict[str, Any]:
        from openlineage.client.generated import (
            column_lineage_dataset as cl,
        )
        from openlineage.client.generated import (
            datasource_dataset,
            documentation_dataset,
            ownership_dataset,
            schema_dataset,
            tags_dataset,
        )

        namespace, _ = openlineage_dataset(d.uri)
        contract = self.contracts.get(d.source) if d.source else None
        facets: dict[str, Any] = {
            "dataSource": datasource_dataset.DatasourceDatasetFacet(name=namespace, uri=namespace)
        }
        if d.columns:
            descriptions = {c.name: c.description for c in contract.columns} if contract else {}
            facets["schema"] = schema_dataset.SchemaDatasetFacet(
                fields=[
                    schema_dataset.SchemaDatasetFacetFields(
                        name=n, type=t, description=descriptions.get(n)
                    )
                    for n, t in d.columns
                ]
            )
        description = d.description or (contract.description if contract else None)
        if description:
            facets["documentation"] = documentation_dataset.DocumentationDatasetFacet(
                description=description, contentType="text/plain"
            )
        owner = d.owner or (contract.owner if contract else None)
        if owner:
            facets["ownership"] = ownership_dataset.OwnershipDatasetFacet(
                owners=[ownership_dataset.Owner(name=f"direction:{owner}", type="OWNER")]
            )
        if contract and d.columns:
            tags = _tags(contract, {n for n, _ in d.columns}, d.uri)
            if tags:
                facets["tags"] = tags_dataset.TagsDatasetFacet(tags=tags)
        if with_lineage and d.lineage:
            facets["columnLineage"] = cl.ColumnLineageDatasetFacet(
                fields={
                    out: cl.Fields(
                        inputFields=[
                            cl.InputField(
                                namespace=ns,
                                name=name,
                                field=src.column,
                                transformations=[
                                    cl.Transformation(
                                        type=src.kind.split("/")[0],
                                        subtype=src.kind.split("/")[1],
                                        description=src.description,
                                        masking=src.masking,
                                    )
                                ],
                            )
                            for src in sources
                            for ns, name in [openlineage_dataset(src.uri)]
                        ]
                    )
                    for out, sources in d.lineage.items()
                }
            )
        if d.statistical_secret:
            facets[STATISTICAL_SECRET_FACET] = StatisticalSecretDatasetFacet(
                minCount=d.statistical_secret, countColumns=list(d.count_columns)
            )
        return facets

    def _input_facets(self, d: DatasetIO) -> dict[str, Any]:
        from openlineage.client.generated import data_quality_assertions_dataset as dq

        if not d.assertions:
            return {}
        return {
            "dataQualityAssertions": dq.DataQualityAssertionsDatasetFacet(
                assertions=[
                    dq.Assertion(
                        assertion=a["assertion"],
                        success=bool(a["success"]),
                        column=a.get("column"),
                        severity=a.get("severity"),
                        name=a.get("name"),
                        description=a.get("description"),
                        actual=a.get("actual"),
                    )
                    for a in d.assertions
                ]
            )
        }

    def _output_facets(self, d: DatasetIO) -> dict[str, Any]:
        from openlineage.client.generated import output_statistics_output_dataset as stats

        if d.rows is None:
            return {}
        return {"outputStatistics": stats.OutputStatisticsOutputDatasetFacet(rowCount=d.rows)}


_JOB_DOC = {
    "run": "Exécution de la chaîne : dépôt -> bronze -> silver -> gold, avec revues de qualité.",
    "bronze": "Ingestion d'une livraison : le fichier déposé est lu tel quel en bronze.",
    "silver": "Typage, revue de qualité, quarantaine, dédoublonnage et fusion (MERGE) en silver.",
    "gold": "Calcul d'un indicateur métier à partir des tables silver, avec revue de qualité.",
}


def _tags(contract: Contract, present: set[str], uri: str) -> list[Any]:
    """Declared sensitivity of each column present (contract columns only)."""
    from openlineage.client.generated import tags_dataset

    found = []
    for col in contract.columns:
        if col.name not in present:
            continue
        s = col.sensitivity
        values = [
            ("niveau_exposition", str(s.level)),
            ("donnees_personnelles", str(s.personal).lower()),
        ]
        if s.exclusion:
            values.append(("exclusion", "true"))
        if col.pseudonymise and "/silver/" in uri:
            values.append(("pseudonymise", "true"))
        found += [
            tags_dataset.TagsDatasetFacetFields(key=k, value=v, source="CONTRACT", field=col.name)
            for k, v in values
        ]
    return found


def _ol_version() -> str:
    from importlib.metadata import version

    return version("openlineage-python")
