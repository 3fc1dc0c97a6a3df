"""The protections of ``lake serve``: session key, CSRF tokens, sign-in throttling, headers.

- **Sessions** are Starlette's signed cookies (itsdangerous, HMAC-SHA1 over a timestamped
  payload): ``HttpOnly``, ``SameSite=Strict``, ``Secure`` when served behind TLS
  (``--https-only``); the signature's timestamp makes a cookie older than the idle timeout
  invalid, and the sign-in time kept in the session bounds its whole life.
- The **session key** comes from ``$LAKE_SERVE_SECRET`` (at least 32 hex digits, the same in
  every container) or is generated once in ``var/secrets/serve-session.key`` (mode 600).
- Every POST carries a **CSRF token** drawn for the session, compared in constant time.
- **Sign-in attempts** are throttled per client address and login: after
  :data:`MAX_FAILURES` failures in :data:`WINDOW_S` seconds, the next attempts get HTTP 429.
- Every answer carries a **Content-Security-Policy** (scripts refused on the lake's pages; for
  the GX Data Docs only scripts from the server itself), ``nosniff``, no referrer, no framing.
"""

from __future__ import annotations

import hmac
import os
import secrets
import threading
import time
from collections import defaultdict, deque
from pathlib import Path

from app.errors import AppError
from lake.settings import Settings

MAX_FAILURES = 5
WINDOW_S = 15 * 60
CSP_PAGES = (
    "default-src 'none'; script-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
CSP_DATA_DOCS = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; form-action 'none'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def session_secret(settings: Settings) -> str:
    """The key signing the session cookies (environment, else a file generated once).

    Raises:
        AppError: ``$LAKE_SERVE_SECRET`` is shorter than 32 hex digits.
    """
    env = os.environ.get("LAKE_SERVE_SECRET", "").strip()
    if env:
        if len(env) < 32:
            raise AppError(
                f"LAKE_SERVE_SECRET is {len(env)} characters long; at least 32 are needed.",
                fix="generate one with `python -c 'import secrets; print(secrets.token_hex(32))'`",
            )
        return env
    path = secret_file(settings)
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
    return path.read_text(encoding="utf-8").strip()


def secret_file(settings: Settings) -> Path:
    """``var/secrets/serve-session.key`` beside the lake's other generated secrets."""
    return settings.security.pseudonymisation_key_file.parent / "serve-session.key"


def new_token() -> str:
    """A fresh CSRF token."""
    return secrets.token_urlsafe(32)


def same_token(expected: object, given: object) -> bool:
    """Constant-time comparison of the session's token with the form's."""
    if not isinstance(expected, str) or not isinstance(given, str) or not expected:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


class Throttle:
    """Failed sign-ins per (client address, login) in a sliding window."""

    def __init__(self, max_failures: int = MAX_FAILURES, window_s: float = WINDOW_S) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures[key]
        while times and now - times[0] > self.window_s:
            times.popleft()
        return times

    def blocked(self, client: str, login: str) -> bool:
        """Too many recent failures for this client and login."""
        with self._lock:
            return len(self._recent((client, login), time.monotonic())) >= self.max_failures

    def failed(self, client: str, login: str) -> None:
        """Record one failure."""
        with self._lock:
            now = time.monotonic()
            self._recent((client, login), now).append(now)

    def succeeded(self, client: str, login: str) -> None:
        """Forget the failures of a client and login that signed in."""
        with self._lock:
            self._failures.pop((client, login), None)
