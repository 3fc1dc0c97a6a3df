"""Secret keys the lake generates for itself (never in code, never in the committed settings).

The pseudonymisation key is read from ``$LAKE__SECURITY__PSEUDONYMISATION_KEY`` (hex) if set,
else from ``security.pseudonymisation_key_file``, which is generated once (32 random bytes, hex,
mode 0600). Losing it means new pseudonyms for everybody: back it up with the lake's secrets.
"""

from __future__ import annotations

import os
import secrets

from lake.errors import ConfigError
from lake.settings import Settings


def pseudonymisation_key(settings: Settings) -> bytes:
    """The HMAC key for pseudonyms (generated on first use)."""
    if settings.security.pseudonymisation_key:
        return _decode(
            settings.security.pseudonymisation_key, "LAKE__SECURITY__PSEUDONYMISATION_KEY"
        )
    path = settings.security.pseudonymisation_key_file
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
