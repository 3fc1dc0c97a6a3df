"""The lake's layer vocabulary: the one place that names the layers and which of them do what.

Every prefix of the bucket is a layer (``s3a://lake/<layer>/<name>``, built by
:func:`lake.storage.table_uri`). Stages, lifecycle and governance pick the subset they work on
from here instead of writing the list again.
"""

from __future__ import annotations

from typing import Literal

Layer = Literal["landing", "bronze", "silver", "gold", "quarantine", "meta"]
# Every prefix of the bucket, in the order the data flows (``meta`` holds the lake's own logs).
LAYERS: tuple[Layer, ...] = ("landing", "bronze", "silver", "gold", "quarantine", "meta")

StepLayer = Literal["bronze", "silver", "gold"]
# The steps of the chain, in the order a run takes them (``lake run --layer``, the jobs).
PIPELINE_LAYERS: tuple[StepLayer, ...] = ("bronze", "silver", "gold")

# Layers whose tables hold delivered or derived data: catalogued, leased by one writer at a time,
# judged by the cloud-usage rules.
DATA_LAYERS: tuple[Layer, ...] = ("bronze", "silver", "gold", "quarantine")

# Layers with one table per source, named after the source (gold tables are named by indicator).
SOURCE_LAYERS: tuple[Layer, ...] = ("bronze", "silver", "quarantine")
