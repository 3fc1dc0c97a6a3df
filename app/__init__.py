"""The layer on top of the stages: what people and schedulers call.

`app` owns the `lake` command line (`app.cli`), the spark-submit entry points (`app.jobs`), the
one composition of the stages' ports (`app.compose`: the quality gates and the lineage sink the
ingestion chain is given), health checks (`app.doctor`) and the benchmark harness (`app.bench`).
It may import everything below it; nothing imports it (tests/test_architecture.py).
"""
