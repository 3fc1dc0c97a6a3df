"""The plain data the lineage graph, tag propagation and exports share.

Datasets are named as OpenLineage names them (naming spec): a table at ``s3a://lake/silver/x``
is namespace ``s3://lake``, name ``silver/x``; a delivered file is ``landing/<source>/<sha>/<file>``
in the same namespace. Column edges come from ``columnLineage`` facets; their ``kind`` is the
OpenLineage transformation (``DIRECT/IDENTITY``, ``DIRECT/TRANSFORMATION``, ``DIRECT/AGGREGATION``,
``INDIRECT/FILTER``, ``INDIRECT/GROUP_BY``, ``INDIRECT/JOIN``...), ``masking`` its masking flag
(true for a pseudonymisation).
"""

from __future__ import annotations

from dataclasses import dataclass

from lake.layers import LAYERS

# Producer URI of the events the lake emits itself (openlineage-python), as opposed to Spark's.
LAKE_PRODUCER = "https://github.com/meae/meae-datalake"
# Custom dataset facet on gold outputs that apply the statistical secret.
STATISTICAL_SECRET_FACET = "statisticalSecret"
STATISTICAL_SECRET_SCHEMA = (
    "https://github.com/meae/meae-datalake/blob/main/docs/facets/"
    "StatisticalSecretDatasetFacet.json#/$defs/StatisticalSecretDatasetFacet"
)


@dataclass(frozen=True, order=True)
class DatasetRef:
    """A dataset by its OpenLineage namespace and name."""

    namespace: str
    name: str

    def __str__(self) -> str:
        return self.name

    @property
    def layer(self) -> str:
        """``landing``, ``bronze``, ``silver``, ``gold``, ``quarantine``, ``meta`` or ``?``."""
        head = self.name.split("/", 1)[0]
        return head if head in LAYERS else "?"


@dataclass(frozen=True, order=True)
class ColumnRef:
    """One column of a dataset."""

    dataset: DatasetRef
    column: str

    def __str__(self) -> str:
        return f"{self.dataset.name}.{self.column}"


@dataclass(frozen=True, order=True)
class ColumnEdge:
    """``source`` feeds ``target`` through a transformation.

    Attributes:
        kind: ``TYPE/SUBTYPE`` of the OpenLineage transformation (``DIRECT/IDENTITY``...).
        masking: The transformation hides the value (pseudonymisation, hash).
        description: Free text of the transformation (e.g. ``HMAC-SHA256``).
        producer: Who reported the edge (the lake's own events or the Spark listener).
    """

    source: ColumnRef
    target: ColumnRef
    kind: str = "DIRECT/IDENTITY"
    masking: bool = False
    description: str = ""
    producer: str = ""


@dataclass(frozen=True, order=True)
class DatasetEdge:
    """``source`` was read by a completed run that wrote ``target``, as ``producer`` reported."""

    source: DatasetRef
    target: DatasetRef
    producer: str = ""


@dataclass(frozen=True)
class Tag:
    """Sensitivity of a column: exposure level (1 most restricted .. 4 open to all).

    Attributes:
        level: Exposure level, MISSION.md: 1 habilités, 2 interne, 3 externes habilités, 4 tous.
        personal: Personal data (RGPD).
        exclusion: Must never leave the lake, even internally (removed before any exposure).
    """

    level: int = 4
    personal: bool = False
    exclusion: bool = False
