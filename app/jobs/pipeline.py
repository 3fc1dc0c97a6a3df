"""spark-submit entry point: the whole chain bronze -> silver -> gold for some or all sources."""

from __future__ import annotations

from app.jobs._ingest import main
from lake.layers import PIPELINE_LAYERS

if __name__ == "__main__":
    raise SystemExit(main(list(PIPELINE_LAYERS), description=__doc__))
