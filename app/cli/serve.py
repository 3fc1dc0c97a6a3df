"""``lake serve``: the business units' web application on 127.0.0.1 (docs/serve.md).

Registered by :func:`app.cli.main.build_parser`. Makes the GX Data Docs site offline (fetching
the pinned npm assets into the user cache the first time), then serves the application with
uvicorn until interrupted.
"""

from __future__ import annotations

import argparse
import sys

from lake.settings import Settings

DEFAULT_PORT = 8088


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from app.web.accounts import load_accounts
    from app.web.server import create_app, prepare_data_docs

    try:
        changed = prepare_data_docs(settings)
    except Exception as exc:  # the reviews work without Data Docs: say so and go on
        print(f"GX Data Docs not made offline ({exc}); /gx/ may load nothing.", file=sys.stderr)
    else:
        print(f"GX Data Docs offline: {len(changed)} page(s) rewritten.", file=sys.stderr)
    accounts = load_accounts(settings)
    app = create_app(
        settings,
        https_only=args.https_only,
        idle_timeout_s=args.idle_timeout * 60,
    )
    print(
        f"lake serve: http://{args.host}:{args.port}/ ({len(accounts)} account(s); "
        "add one with `lake users add LOGIN --level N [--direction DIR]`)",
        flush=True,
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, access_log=False)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``lake serve`` to the CLI."""
    p = sub.add_parser(
        "serve",
        help="the web application: quality reviews per direction, sign-off, dashboard, catalogue",
        description="Serve the reports computed from the lake to signed-in accounts, each "
        "seeing what its exposure level and directions allow (docs/serve.md).",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    p.add_argument(
        "--https-only",
        action="store_true",
        help="mark the session cookie Secure (when a TLS proxy is in front)",
    )
    p.add_argument(
        "--idle-timeout", type=int, default=30, help="minutes before an unused session expires"
    )
    p.add_argument("--log-level", default="warning", help="uvicorn's log level")
    p.set_defaults(func=cmd_serve)
