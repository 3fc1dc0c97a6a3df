"""spark-submit entry point: the bronze layer (`lake submit bronze -- --source adoptions`)."""

from __future__ import annotations

from app.jobs._ingest import main

if __name__ == "__main__":
    raise SystemExit(main(["bronze"], description=__doc__))
