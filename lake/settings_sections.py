"""The sections of the lake's settings, as typed and frozen dataclasses.

One dataclass per ``[section]`` of ``lake.toml`` (storage, minio, spark, lineage, lifecycle,
reports, security, ingestion, gold, locks, export, catalog, maintenance), with the defaults
written in its fields, and :class:`Settings`, which holds one of each plus the project root.
:data:`SECTIONS` maps each section's name to its dataclass for the loader
(:func:`lake.settings.load_settings`), which documents where values come from and in which order
they win.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from lake.errors import ConfigError
from lake.settings_coercion import rooted, typed_values

StorageBackend = Literal["s3", "local"]
LineageTransport = Literal["file", "http", "console", "none"]


@dataclass(frozen=True)
class StorageSettings:
    """Where the Delta tables live.

    ``backend = "s3"`` keeps them in ``bucket`` on MinIO/S3 (``s3a://`` URIs); ``"local"`` keeps
    them under ``local_root`` (``file://`` URIs) for quick runs without a server.
    """

    backend: StorageBackend = "s3"
    bucket: str = "lake"
    endpoint: str = ""
    region: str = "us-east-1"
    local_root: Path = Path("var/lake")
    credentials_file: Path = Path("var/minio/credentials.json")
    # "" = the root (admin) credentials above; a role of policy/minio-roles.yaml ("ingestion",
    # "transformation", "reader-level-N") reads var/secrets/minio-<role>.json (`lake access apply`).
    role: str = ""
    # With no role set and the root credentials of `lake up` in use, a job runs under its role once
    # `lake access apply` created it (bronze: ingestion; silver, gold: transformation; the whole
    # chain: pipeline). false: jobs keep the credentials they were given.
    job_roles: bool = True
    access_key: str = field(default="", repr=False)
    secret_key: str = field(default="", repr=False)


@dataclass(frozen=True)
class MinioSettings:
    """The local MinIO server that ``lake up`` runs (a real process, built from source)."""

    host: str = "127.0.0.1"
    port: int = 9000
    console_port: int = 0
    data_dir: Path = Path("var/minio/data")
    state_file: Path = Path("var/minio/server.json")
    log_file: Path = Path("var/minio/minio.log")
    version: str = "v0.0.0-20260212201848-7aac2a2c5b7c"
    binary: Path | None = None
    start_timeout_s: float = 30.0
    # 1: one directory (data_dir). N in 2..16: erasure coding over data_dir/d1..dN (4 -> EC:2).
    drives: int = 1


@dataclass(frozen=True)
class SparkSettings:
    """How the one SparkSession (and every spark-submit) is configured."""

    master: str = "local[2]"
    app_name: str = "meae-datalake"
    shuffle_partitions: int = 4
    driver_memory: str = "2g"
    ui_enabled: bool = False
    console_progress: bool = False
    log_level: str = "WARN"
    jars_dir: Path | None = None
    conf: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LineageSettings:
    """Where OpenLineage events go."""

    transport: LineageTransport = "file"
    file: Path = Path("var/lineage/events.jsonl")
    url: str = ""
    namespace: str = "meae-datalake"
    spark_listener: bool = True


@dataclass(frozen=True)
class ReportSettings:
    """Where human-readable outputs (quality reviews, studies) are written."""

    dir: Path = Path("var/reports")
    # Build GX Data Docs at each review (engineers' detail; about a second per review).
    data_docs: bool = True


@dataclass(frozen=True)
class SecuritySettings:
    """Secrets the lake generates and the privacy thresholds it applies."""

    pseudonymisation_key_file: Path = Path("var/secrets/pseudonymisation.key")
    pseudonymisation_key: str = field(default="", repr=False)
    min_cell_count: int = 11


@dataclass(frozen=True)
class IngestionSettings:
    """Where deliveries are picked up."""

    inbox: Path = Path("samples")
    # Size of the Parquet files bronze writes (decision 0015): a delivery streams into files of
    # about this size, all committed together.
    bronze_file_mib: int = 128


@dataclass(frozen=True)
class GoldSettings:
    """How gold indicators are recomputed (docs/decisions/0013-incremental-gold.md)."""

    # Recompute only the groups whose silver rows changed (read from silver's Change Data
    # Feed); false: every indicator whose silver changed is recomputed whole.
    incremental: bool = True


@dataclass(frozen=True)
class LocksSettings:
    """Table leases: one writing job per table (docs/decisions/0007-table-leases.md)."""

    lease_ttl_s: float = 120.0
    renew_every_s: float = 0.0  # 0: lease_ttl_s / 3
    wait_s: float = 0.0  # how long a job waits for a busy table before failing


@dataclass(frozen=True)
class LifecycleSettings:
    """Retention (A12) and RGPD requests (docs/lifecycle.md)."""

    # Older table versions are vacuumed by `lake lifecycle apply` after this many hours (the
    # time-travel horizon); an erasure purges the tables it changed at once.
    vacuum_retain_hours: float = 168.0
    # Cold prefix where rows and landing files whose DUA ends in "archive" are moved.
    archive_prefix: str = "archive"


@dataclass(frozen=True)
class ExportSettings:
    """Where open data is published, and whom its readers write to (the DCAT-AP record)."""

    # Absolute URL of the folder where `lake export opendata` files are put online: the record's
    # access and download URLs are <base_url>/<name>.csv (DCAT-AP wants absolute IRIs).
    base_url: str = "https://opendata.diplomatie.example/lake"
    # The record's contact point (vcard:Kind): a functional mailbox, not a person's.
    contact_email: str = "opendata@diplomatie.example"
    contact_name: str = "Ministère de l'Europe et des Affaires étrangères, données ouvertes"


@dataclass(frozen=True)
class CatalogSettings:
    """The shared table catalog: a Hive metastore kept in PostgreSQL (docs/catalog.md).

    With ``url`` empty the lake uses the local PostgreSQL that ``lake up`` starts (a private
    cluster under ``data_dir``, on ``host:port``, run as ``os_user`` when the lake runs as root);
    set ``url`` (``jdbc:postgresql://host:5432/metastore``) to share an existing one. The user and
    password come from ``credentials_file`` (generated, mode 600) or ``LAKE__CATALOG__USER`` /
    ``LAKE__CATALOG__PASSWORD``, never from the TOML file.
    """

    enabled: bool = True
    # Register the tables a run writes at its end (`lake sql --refresh` registers them all).
    register: bool = True
    url: str = ""
    host: str = "127.0.0.1"
    port: int = 5433
    database: str = "metastore"
    data_dir: Path = Path("var/metastore/pgdata")
    state_file: Path = Path("var/metastore/server.json")
    log_file: Path = Path("var/metastore/postgres.log")
    credentials_file: Path = Path("var/secrets/metastore.json")
    # Where Spark puts the databases' own directories (every lake table is external, at its
    # s3a:// location; nothing is written here but empty <db>.db directories).
    warehouse: Path = Path("var/metastore/warehouse")
    os_user: str = "postgres"
    start_timeout_s: float = 30.0
    user: str = ""
    password: str = field(default="", repr=False)


@dataclass(frozen=True)
class MaintenanceSettings:
    """Table maintenance after runs (``lake optimize``'s policy, docs/benchmarks.md)."""

    # After a `lake run` (or a spark-submit job), compact the tables it wrote that passed
    # max_files data files (many small deliveries make many small files).
    optimize_after_run: bool = True
    max_files: int = 32


@dataclass(frozen=True)
class Settings:
    """Everything a job needs to know, loaded once by :func:`lake.settings.load_settings`."""

    root: Path
    config_file: Path | None
    storage: StorageSettings = field(default_factory=StorageSettings)
    minio: MinioSettings = field(default_factory=MinioSettings)
    spark: SparkSettings = field(default_factory=SparkSettings)
    lineage: LineageSettings = field(default_factory=LineageSettings)
    lifecycle: LifecycleSettings = field(default_factory=LifecycleSettings)
    reports: ReportSettings = field(default_factory=ReportSettings)
    security: SecuritySettings = field(default_factory=SecuritySettings)
    ingestion: IngestionSettings = field(default_factory=IngestionSettings)
    gold: GoldSettings = field(default_factory=GoldSettings)
    locks: LocksSettings = field(default_factory=LocksSettings)
    export: ExportSettings = field(default_factory=ExportSettings)
    catalog: CatalogSettings = field(default_factory=CatalogSettings)
    maintenance: MaintenanceSettings = field(default_factory=MaintenanceSettings)

    @property
    def var_dir(self) -> Path:
        """The git-ignored directory holding local state (MinIO data, logs, events)."""
        return self.root / "var"

    @property
    def endpoint(self) -> str:
        """The S3 endpoint URL the lake talks to."""
        return self.storage.endpoint or f"http://{self.minio.host}:{self.minio.port}"

    def with_overrides(self, overrides: Mapping[str, Mapping[str, Any]]) -> Settings:
        """Return a copy with some ``{section: {key: value}}`` values replaced (typed, checked)."""
        sections: dict[str, Any] = {}
        for section, values in overrides.items():
            current = getattr(self, section, None) if section in SECTIONS else None
            if current is None:
                raise ConfigError(
                    f"Unknown settings section '{section}'.",
                    fix=f"use one of: {', '.join(SECTIONS)}",
                )
            typed = typed_values(type(current), values, origin="overrides", section=section)
            replaced = dataclasses.replace(current, **typed)
            sections[section] = rooted(replaced, self.root)
        return dataclasses.replace(self, **sections)


SECTIONS: dict[str, type] = {
    "storage": StorageSettings,
    "minio": MinioSettings,
    "spark": SparkSettings,
    "lineage": LineageSettings,
    "lifecycle": LifecycleSettings,
    "reports": ReportSettings,
    "security": SecuritySettings,
    "ingestion": IngestionSettings,
    "gold": GoldSettings,
    "locks": LocksSettings,
    "export": ExportSettings,
    "catalog": CatalogSettings,
    "maintenance": MaintenanceSettings,
}
