"""spark-submit entry point: the silver layer (`lake submit silver -- --source adoptions`)."""

from __future__ import annotations

from app.jobs._ingest import main

if __name__ == "__main__":
    raise SystemExit(main(["silver"], description=__doc__))
