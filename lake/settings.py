"""Typed, immutable settings: `lake.toml` plus environment overrides.

Precedence, highest first:

1. ``overrides`` passed to :func:`load_settings` (tests and the CLI use them);
2. environment variables ``LAKE__SECTION__KEY`` (for example ``LAKE__MINIO__PORT=0``,
   ``LAKE__STORAGE__BACKEND=local``); a ``[spark.conf]`` entry is ``LAKE__SPARK__CONF__<key>``;
3. the TOML file: ``--config PATH``, else ``$LAKE_CONFIG``, else ``lake.toml`` at the project root;
4. the defaults written in the dataclasses below.

Credentials never come from the TOML file (it is committed): ``storage.access_key`` and
``storage.secret_key`` come from the environment, else from ``storage.credentials_file``, which
``lake up`` generates with mode 0600. Relative paths are resolved against the project root (the
directory holding ``lake.toml``; ``$LAKE_HOME`` forces it).

When ``storage.endpoint`` is empty the lake talks to the local MinIO that ``lake up`` manages: the
endpoint recorded in its state file if it is running, else ``http://{minio.host}:{minio.port}``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from lake.errors import ConfigError

ENV_PREFIX = "LAKE__"
CONFIG_FILE_NAME = "lake.toml"
_SECRET_KEYS = frozenset({"access_key", "secret_key", "pseudonymisation_key"})

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
    # With no role set and the root credentials of `lake up` in use, a job of one layer runs under
    # that layer's role once `lake access apply` created it (bronze: ingestion; silver, gold:
    # transformation). false: jobs keep the credentials they were given.
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
class Settings:
    """Everything a job needs to know, loaded once by :func:`load_settings`."""

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
    locks: LocksSettings = field(default_factory=LocksSettings)

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
            current = getattr(self, section, None) if section in _SECTIONS else None
            if current is None:
                raise ConfigError(
                    f"Unknown settings section '{section}'.",
                    fix=f"use one of: {', '.join(_SECTIONS)}",
                )
            typed = _typed_values(type(current), values, origin="overrides", section=section)
            replaced = dataclasses.replace(current, **typed)
            sections[section] = _rooted(replaced, self.root)
        return dataclasses.replace(self, **sections)


_SECTIONS: dict[str, type] = {
    "storage": StorageSettings,
    "minio": MinioSettings,
    "spark": SparkSettings,
    "lineage": LineageSettings,
    "lifecycle": LifecycleSettings,
    "reports": ReportSettings,
    "security": SecuritySettings,
    "ingestion": IngestionSettings,
    "locks": LocksSettings,
}


def find_project_root(start: Path | None = None) -> Path:
    """The project root: ``$LAKE_HOME``, else the nearest parent holding ``lake.toml``.

    Falls back to the source checkout this package was imported from, so an editable install
    works from any directory.
    """
    home = os.environ.get("LAKE_HOME")
    if home:
        return Path(home).resolve()
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / CONFIG_FILE_NAME).is_file():
            return candidate
    checkout = Path(__file__).resolve().parents[1]
    if (checkout / CONFIG_FILE_NAME).is_file():
        return checkout
    return here


def load_settings(
    config_file: Path | str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> Settings:
    """Load the settings (see the module docstring for the precedence).

    Args:
        config_file: A TOML file to read instead of ``$LAKE_CONFIG`` / ``lake.toml``.
        env: The environment to read overrides from (defaults to ``os.environ``).
        overrides: ``{section: {key: value}}`` values that win over everything else.

    Raises:
        ConfigError: The file cannot be parsed, or a key or value is unknown or of the wrong type.
    """
    environ = os.environ if env is None else env
    if config_file is None and environ.get("LAKE_CONFIG"):
        config_file = environ["LAKE_CONFIG"]
    if config_file is not None:
        path: Path | None = Path(config_file).resolve()
        assert path is not None
        if not path.is_file():
            raise ConfigError(
                f"Settings file {path} does not exist.",
                fix="pass an existing TOML file to --config or LAKE_CONFIG",
            )
        root = Path(environ["LAKE_HOME"]).resolve() if environ.get("LAKE_HOME") else path.parent
    else:
        root = find_project_root()
        candidate = root / CONFIG_FILE_NAME
        path = candidate if candidate.is_file() else None

    layers: dict[str, dict[str, Any]] = {name: {} for name in _SECTIONS}
    if path is not None:
        _merge(layers, _read_toml(path))
    _merge(layers, _read_env(environ))
    if overrides:
        for section, values in overrides.items():
            if section not in _SECTIONS:
                raise ConfigError(
                    f"Unknown settings section '{section}' in overrides.",
                    fix=f"use one of: {', '.join(_SECTIONS)}",
                )
            layers[section].update(
                _typed_values(_SECTIONS[section], values, origin="overrides", section=section)
            )

    built = {name: _rooted(cls(**layers[name]), root) for name, cls in _SECTIONS.items()}
    settings = Settings(root=root, config_file=path, **built)
    return _with_runtime_state(settings)


def _with_runtime_state(settings: Settings) -> Settings:
    """Fill the endpoint from a running local MinIO and the credentials from their file."""
    storage = settings.storage
    updates: dict[str, Any] = {}
    if not storage.endpoint and settings.minio.state_file.is_file():
        try:
            state = json.loads(settings.minio.state_file.read_text(encoding="utf-8"))
            updates["endpoint"] = str(state["endpoint"])
        except (OSError, ValueError, KeyError):
            pass  # a stale or broken state file: `lake status` reports it, loading must not fail
    creds_file = (
        settings.var_dir / "secrets" / f"minio-{storage.role}.json"
        if storage.role
        else storage.credentials_file
    )
    if not (storage.access_key and storage.secret_key) and creds_file.is_file():
        creds = read_credentials_file(creds_file)
        updates.setdefault("access_key", storage.access_key or creds[0])
        updates.setdefault("secret_key", storage.secret_key or creds[1])
    if not updates:
        return settings
    return dataclasses.replace(settings, storage=dataclasses.replace(storage, **updates))


def read_credentials_file(path: Path) -> tuple[str, str]:
    """Read ``(access_key, secret_key)`` from a credentials file written by ``lake up``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return str(data["access_key"]), str(data["secret_key"])
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(
            f"Credentials file {path} is unreadable or incomplete ({exc}).",
            fix="delete it and run `lake up` to generate new credentials",
        ) from exc


def _read_toml(path: Path) -> dict[str, dict[str, Any]]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Settings file {path} is not valid TOML: {exc}.") from exc
    result: dict[str, dict[str, Any]] = {}
    for section, values in data.items():
        if section not in _SECTIONS or not isinstance(values, dict):
            raise ConfigError(
                f"Settings file {path}: unknown section [{section}].",
                fix=f"use one of: {', '.join(f'[{s}]' for s in _SECTIONS)}",
            )
        secrets = _SECRET_KEYS & values.keys()
        if secrets:
            raise ConfigError(
                f"Settings file {path}: {section}.{sorted(secrets)[0]} holds a credential, and "
                "credentials do not belong in a committed file.",
                fix="remove it; set LAKE__STORAGE__ACCESS_KEY / LAKE__STORAGE__SECRET_KEY or let "
                "`lake up` generate storage.credentials_file",
            )
        result[section] = _typed_values(
            _SECTIONS[section], values, origin=str(path), section=section
        )
    return result


def _read_env(environ: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    raw: dict[str, dict[str, Any]] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        parts = name[len(ENV_PREFIX) :].split("__")
        section = parts[0].lower()
        if section not in _SECTIONS or len(parts) < 2:
            raise ConfigError(
                f"Environment variable {name} does not name a setting.",
                fix=f"use LAKE__<SECTION>__<KEY> with SECTION among {', '.join(_SECTIONS)}",
            )
        if section == "spark" and parts[1].lower() == "conf" and len(parts) >= 3:
            # Spark keys are case-sensitive and dotted: LAKE__SPARK__CONF__spark.sql.foo=1
            key = "__".join(parts[2:])
            raw.setdefault(section, {}).setdefault("conf", {})[key] = value
            continue
        raw.setdefault(section, {})[parts[1].lower()] = value
    return {
        section: _typed_values(_SECTIONS[section], values, origin="environment", section=section)
        for section, values in raw.items()
    }


def _merge(layers: dict[str, dict[str, Any]], new: Mapping[str, Mapping[str, Any]]) -> None:
    for section, values in new.items():
        for key, value in values.items():
            if key == "conf":
                merged = dict(layers[section].get("conf", {}))
                merged.update(value)
                layers[section]["conf"] = merged
            else:
                layers[section][key] = value


def _typed_values(
    cls: type, values: Mapping[str, Any], *, origin: str, section: str
) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    typed: dict[str, Any] = {}
    for key, value in values.items():
        if key not in hints:
            raise ConfigError(
                f"{origin}: unknown setting {section}.{key}.",
                fix=f"valid keys of [{section}]: {', '.join(names)}",
            )
        typed[key] = _coerce(value, hints[key], where=f"{origin}: {section}.{key}")
    return typed


def _coerce(value: Any, hint: Any, *, where: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if (value is None or value == "") and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _coerce(value, inner[0], where=where)
    if origin is Literal:
        if value not in args:
            allowed = ", ".join(repr(a) for a in args)
            raise ConfigError(f"{where} is {value!r}; expected one of {allowed}.")
        return value
    if origin in (Mapping, dict) or hint is Mapping:
        if not isinstance(value, Mapping):
            raise ConfigError(f'{where} must be a table of key = "value" pairs.')
        return {str(k): str(v) for k, v in value.items()}
    if hint is bool:
        if isinstance(value, bool):
            return value
        lowered = str(value).strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"{where} is {value!r}; expected true or false.")
    if hint in (int, float):
        if isinstance(value, bool):
            raise ConfigError(f"{where} is {value!r}; expected a number.")
        try:
            return hint(value)
        except (TypeError, ValueError):
            kind = "an integer" if hint is int else "a number"
            raise ConfigError(f"{where} is {value!r}; expected {kind}.") from None
    if hint is Path:
        return Path(str(value)).expanduser()
    if hint is str:
        if not isinstance(value, str | int | float):
            raise ConfigError(f"{where} is {value!r}; expected a string.")
        return str(value)
    return value


_T = typing.TypeVar("_T")


def _rooted(section: _T, root: Path) -> _T:
    """Resolve the relative paths of a settings section against the project root."""
    changes = {
        f.name: root / value
        for f in dataclasses.fields(section)  # type: ignore[arg-type]
        if isinstance(value := getattr(section, f.name), Path) and not value.is_absolute()
    }
    return dataclasses.replace(section, **changes) if changes else section  # type: ignore[type-var]
