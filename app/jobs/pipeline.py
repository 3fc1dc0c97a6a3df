"""spark-submit entry point: the whole chain bronze -> silver -> gold for some or all sources."""

from __future__ import annotations

from app.jobs._ingest import main

if __name__ == "__main__":
    raise SystemExit(main(["bronze", "silver", "gold"], description=__doc__))
