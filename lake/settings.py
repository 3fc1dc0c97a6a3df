"""Typed, immutable settings: `lake.toml` plus environment overrides.

Precedence, highest first:

1. ``overrides`` passed to :func:`load_settings` (tests and the CLI use them);
2. environment variables ``LAKE__SECTION__KEY`` (for example ``LAKE__MINIO__PORT=0``,
   ``LAKE__STORAGE__BACKEND=local``); a ``[spark.conf]`` entry is ``LAKE__SPARK__CONF__<key>``;
3. the TOML file: ``--config PATH``, else ``$LAKE_CONFIG``, else ``lake.toml`` at the project root;
4. the defaults written in the section dataclasses (:mod:`lake.settings_sections`).

Credentials never come from the TOML file (it is committed): ``storage.access_key`` and
``storage.secret_key`` come from the environment, else from ``storage.credentials_file``, which
``lake up`` generates with mode 0600. Relative paths are resolved against the project root (the
directory holding ``lake.toml``; ``$LAKE_HOME`` forces it).

When ``storage.endpoint`` is empty the lake talks to the local MinIO that ``lake up`` manages: the
endpoint recorded in its state file if it is running, else ``http://{minio.host}:{minio.port}``.

This module loads the layers in that order; values are typed and checked by
:mod:`lake.settings_coercion`. The section classes are re-exported here, so
``from lake.settings import Settings, load_settings`` stays the one import callers need.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lake.errors import ConfigError
from lake.settings_coercion import ENV_PREFIX, rooted, typed_values
from lake.settings_sections import (
    SECTIONS,
    ExportSettings,
    IngestionSettings,
    LifecycleSettings,
    LineageSettings,
    LineageTransport,
    LocksSettings,
    MinioSettings,
    ReportSettings,
    SecuritySettings,
    Settings,
    SparkSettings,
    StorageBackend,
    StorageSettings,
)

__all__ = [
    "CONFIG_FILE_NAME",
    "ENV_PREFIX",
    "ExportSettings",
    "IngestionSettings",
    "LifecycleSettings",
    "LineageSettings",
    "LineageTransport",
    "LocksSettings",
    "MinioSettings",
    "ReportSettings",
    "SecuritySettings",
    "Settings",
    "SparkSettings",
    "StorageBackend",
    "StorageSettings",
    "find_project_root",
    "load_settings",
    "read_credentials_file",
]

CONFIG_FILE_NAME = "lake.toml"
_SECRET_KEYS = frozenset({"access_key", "secret_key", "pseudonymisation_key", "password"})


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
                path=path,
            )
        root = Path(environ["LAKE_HOME"]).resolve() if environ.get("LAKE_HOME") else path.parent
    else:
        root = find_project_root()
        candidate = root / CONFIG_FILE_NAME
        path = candidate if candidate.is_file() else None

    layers: dict[str, dict[str, Any]] = {name: {} for name in SECTIONS}
    if path is not None:
        _merge(layers, _read_toml(path))
    _merge(layers, _read_env(environ))
    if overrides:
        for section, values in overrides.items():
            if section not in SECTIONS:
                raise ConfigError(
                    f"Unknown settings section '{section}' in overrides.",
                    fix=f"use one of: {', '.join(SECTIONS)}",
                )
            layers[section].update(
                typed_values(SECTIONS[section], values, origin="overrides", section=section)
            )

    built = {name: rooted(cls(**layers[name]), root) for name, cls in SECTIONS.items()}
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
            path=path,
        ) from exc


def _read_toml(path: Path) -> dict[str, dict[str, Any]]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"Settings file {path} is not valid TOML: {exc}.",
            fix="correct the TOML at that place",
            path=path,
        ) from exc
    result: dict[str, dict[str, Any]] = {}
    for section, values in data.items():
        if section not in SECTIONS or not isinstance(values, dict):
            raise ConfigError(
                f"Settings file {path}: unknown section [{section}].",
                fix=f"use one of: {', '.join(f'[{s}]' for s in SECTIONS)}",
                path=path,
                key=section,
            )
        secrets = _SECRET_KEYS & values.keys()
        if secrets:
            raise ConfigError(
                f"Settings file {path}: {section}.{sorted(secrets)[0]} holds a credential, and "
                "credentials do not belong in a committed file.",
                fix="remove it; set LAKE__STORAGE__ACCESS_KEY / LAKE__STORAGE__SECRET_KEY or let "
                "`lake up` generate storage.credentials_file",
                path=path,
                key=f"{section}.{sorted(secrets)[0]}",
            )
        result[section] = typed_values(SECTIONS[section], values, origin=str(path), section=section)
    return result


def _read_env(environ: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    raw: dict[str, dict[str, Any]] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        parts = name[len(ENV_PREFIX) :].split("__")
        section = parts[0].lower()
        if section not in SECTIONS or len(parts) < 2:
            raise ConfigError(
                f"Environment variable {name} does not name a setting.",
                fix=f"use LAKE__<SECTION>__<KEY> with SECTION among {', '.join(SECTIONS)}",
                key=name,
            )
        if section == "spark" and parts[1].lower() == "conf" and len(parts) >= 3:
            # Spark keys are case-sensitive and dotted: LAKE__SPARK__CONF__spark.sql.foo=1
            key = "__".join(parts[2:])
            raw.setdefault(section, {}).setdefault("conf", {})[key] = value
            continue
        raw.setdefault(section, {})[parts[1].lower()] = value
    return {
        section: typed_values(SECTIONS[section], values, origin="environment", section=section)
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
