"""Secret keys the lake generates for itself (never in code, never in the committed settings).

The pseudonymisation key is read from ``$LAKE__SECURITY__PSEUDONYMISATION_KEY`` (hex) if set (a
compose secret, a scheduler's vault), else from ``security.pseudonymisation_key_file``, generated
once (32 random bytes, hex, mode 0600). Losing it means new pseudonyms for everybody: back it up
with the lake's secrets.

The lake remembers which key its data was made with: ``meta/keys/pseudonymisation.json`` holds
the key's *fingerprint* (an HMAC of a fixed label under the key: it tells keys apart and reveals
nothing of the key). :func:`pseudonymisation_key` compares every job's key with it and refuses a
different one, so a container or machine that was given another key (or generated its own) stops
with one clear error instead of silently giving everybody new pseudonyms; a job with no key at all
never generates one for a lake that already has data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import secrets
from pathlib import Path

from lake.errors import ConfigError, KeyMismatchError, StorageError
from lake.layers import Layer
from lake.settings import Settings

log = logging.getLogger(__name__)
_META: Layer = "meta"
REGISTRY_KEY = f"{_META}/keys/pseudonymisation.json"
_LABEL = b"meae-datalake pseudonymisation key fingerprint v1"
_verified: set[tuple[str, str, str]] = set()  # (lake root, key source, fingerprint) checked


def fingerprint(key: bytes) -> str:
    """A short public identifier of ``key`` (HMAC-SHA256 of a fixed label, 16 hex digits)."""
    return hmac.new(key, _LABEL, hashlib.sha256).hexdigest()[:16]


def pseudonymisation_key(settings: Settings, *, check_lake: bool = True) -> bytes:
    """The HMAC key for pseudonyms, checked against the key the lake's data was made with.

    Args:
        settings: The lake settings (the key's source, the store).
        check_lake: Compare with (and, on first use, record) the fingerprint in the lake.
            Only tools that never touch a lake's data (benchmark peers on their own copies)
            turn it off.

    Raises:
        KeyMismatchError: The lake records another key, or this job has none to give.
        ConfigError: The key is malformed.
    """
    if settings.security.pseudonymisation_key:
        where = "LAKE__SECURITY__PSEUDONYMISATION_KEY"
        key = _decode(settings.security.pseudonymisation_key, where)
    else:
        path = settings.security.pseudonymisation_key_file
        where = str(path)
        if not path.is_file() and check_lake:
            recorded = _recorded(settings)
            if recorded is not None:  # never a new key for a lake that already has data
                raise KeyMismatchError(
                    f"The lake at {_root(settings)} holds data pseudonymised with the key "
                    f"{recorded}, and this job has no key ({path} does not exist).",
                    expected=recorded,
                    found=None,
                    path=path,
                    fix="give the job the lake's key: copy the key file from the lake's "
                    "secrets backup to that path, or set LAKE__SECURITY__PSEUDONYMISATION_KEY "
                    "(compose: `make compose-env` writes it to .env)",
                )
        key = _file_key(path)
    if check_lake:
        _check_against_lake(settings, key, where)
    return key


def _file_key(path: Path) -> bytes:
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another job created it first: read theirs
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
    return _decode(path.read_text().strip(), str(path))


def _root(settings: Settings) -> str:
    from lake.storage import lake_root

    return lake_root(settings)


def _recorded(settings: Settings) -> str | None:
    """The fingerprint the lake records, or None (a new lake, or one made before the record)."""
    from lake.objects import ObjectStore

    store = ObjectStore(settings)
    try:
        if store.stat(REGISTRY_KEY) is None:
            return None
        record = json.loads(store.get_bytes(REGISTRY_KEY))
    except StorageError as exc:  # a role that may not read meta/ (readers): nothing to compare
        log.warning("pseudonymisation key not compared with the lake's record: %s", exc)
        return None
    return str(record["fingerprint"])


def _check_against_lake(settings: Settings, key: bytes, where: str) -> None:
    mine = fingerprint(key)
    seen = (_root(settings), where, mine)
    if seen in _verified:
        return
    recorded = _recorded(settings)
    if recorded is None:
        _record(settings, mine)
    elif recorded != mine:
        raise KeyMismatchError(
            f"The pseudonymisation key of this job ({where}, fingerprint {mine}) is not the one "
            f"the data of the lake at {_root(settings)} was pseudonymised with (fingerprint "
            f"{recorded}, {REGISTRY_KEY}): its pseudonyms would not match the lake's.",
            expected=recorded,
            found=mine,
            path=None if where.startswith("LAKE__") else where,
            fix="give every job the lake's key (the same key file, or "
            "LAKE__SECURITY__PSEUDONYMISATION_KEY from the lake's secrets); never a new one",
        )
    _verified.add(seen)


def _record(settings: Settings, mine: str) -> None:
    """Record the key's fingerprint for a lake that has none (best-effort for read-only roles:
    the first job that writes records it)."""
    from lake.objects import ObjectStore

    record = {
        "fingerprint": mine,
        "algorithm": "HMAC-SHA256",
        "recorded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "note": "fingerprint of the pseudonymisation key; the key itself is never stored here",
    }
    try:
        ObjectStore(settings).put_bytes(REGISTRY_KEY, json.dumps(record, indent=1).encode())
    except StorageError as exc:
        log.warning("pseudonymisation key fingerprint not recorded in the lake: %s", exc)


def _decode(text: str, where: str) -> bytes:
    # a key replaced by a new one gives everybody new pseudonyms: restoring it is the fix
    fix = f"restore {where} from the backup of the lake's secrets (at least 32 hex digits)"
    key_name = "security.pseudonymisation_key"
    path = None if where.startswith("LAKE__") else where
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise ConfigError(
            f"{where}: the pseudonymisation key must be hexadecimal.",
            fix=fix,
            path=path,
            key=key_name,
        ) from None
    if len(key) < 16:
        raise ConfigError(
            f"{where}: the pseudonymisation key must be at least 16 bytes "
            f"(32 hex digits); found {len(key)}.",
            fix=fix,
            path=path,
            key=key_name,
        )
    return key
