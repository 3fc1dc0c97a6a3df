"""The lake's core, which the three stage packages stand on.

`lake` owns what every job needs and nothing stage-specific: typed settings (`settings`), the
error root (`errors`), the toolchain caches (`toolchain`: Spark jars fetched with Maven, the MinIO
binary built with Go), the local MinIO server (`minio_server`), the storage layout and S3 access
(`storage`), the one SparkSession builder (`spark`), Delta reads/writes/merges (`delta_io`),
health checks (`doctor`), the `lake` CLI (`cli`) and the thin spark-submit entry points (`jobs`).

`ingestion`, `quality` and `governance` import from here, never from each other.
"""

from __future__ import annotations

__version__ = "0.1.0"
