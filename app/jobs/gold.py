"""spark-submit entry point: the gold layer (`lake submit gold -- --source adoptions`)."""

from __future__ import annotations

from app.jobs._ingest import main

if __name__ == "__main__":
    raise SystemExit(main(["gold"], description=__doc__))
