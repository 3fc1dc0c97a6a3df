"""Benchmarks of the lake (``lake bench``, ``make bench``): every figure is a ratio of two times
measured in the same run, on the same machine, against a baseline (issue 8).

Like the CLI and the spark-submit jobs, this package composes ``ingestion``, ``quality`` and
``governance`` (STYLE.md): it runs the real chain and compares it with plain Spark, plain uploads
and a single-machine peer (polars + ``deltalake``). Results go to ``var/bench/`` as JSON and to
``docs/benchmarks.md``.
"""
