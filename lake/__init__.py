"""The lake's core, which the stage packages stand on.

`lake` owns what every job needs and nothing stage-specific: typed settings (`settings`), the
error root (`errors`), the toolchain caches (`toolchain`: Spark jars fetched with Maven, the MinIO
binary built with Go), the local MinIO server (`minio_server`), the layer vocabulary (`layers`),
the storage layout and S3 access (`storage`, `objects`), the one SparkSession builder (`spark`),
Delta reads/writes/merges (`delta_io`), the same tables seen by delta-rs (`delta_reader`), the
append-only `meta/` tables (`meta_tables`), the source contracts (`contracts`), one writer per
table (`leases`), MinIO roles (`access`), the French page toolkit (`pages`), and the ports the
stages implement (`gates`, `lineage`).

`ingestion`, `quality` and `governance` import from here, never from each other; this package
imports none of them, nor `app` (tests/test_architecture.py).
"""

from __future__ import annotations

__version__ = "0.1.0"
