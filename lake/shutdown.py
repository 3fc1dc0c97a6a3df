"""Leaving a process without tripping over native libraries' teardown.

delta-rs (and the Arrow threads behind it) can abort the interpreter at exit with "terminate
called without an active exception" once work is done (delta-rs #2184): a command that succeeded
would then exit with SIGABRT. Commands that used delta-rs therefore flush their output and leave
with ``os._exit``, after closing what must be closed (the SparkSession) themselves.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import NoReturn


def exit_now(code: int) -> NoReturn:
    """Flush stdout/stderr and exit with ``code`` without interpreter finalisation."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe must not block the exit
            stream.flush()
    os._exit(code)
