"""A worker process running one benchmark task.

``python -m app.bench.worker TASK.json RESULT.json``.

Each measured task runs in a process of its own so that every measurement starts from the same
state (a fresh JVM, warmed up the same way), the bare baseline can start Spark without the
OpenLineage listener, and the harness can read each task's peak memory from its process tree.
The JVM start and the warm-up are not timed. Credentials come from the environment
(``LAKE__STORAGE__ACCESS_KEY`` / ``SECRET_KEY``), never from the task file.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    task_file, result_file = Path(argv[0]), Path(argv[1])
    task = json.loads(task_file.read_text(encoding="utf-8"))
    from app.bench.tasks import SPARK_TASKS, execute, warm_up
    from lake.settings import load_settings

    settings = load_settings(task.get("config_file"), overrides=task["overrides"])
    spark = None
    started = time.perf_counter()
    if task["kind"] in SPARK_TASKS:
        from lake.spark import build_session

        spark = build_session(
            settings,
            app_name=f"bench-{task['kind']}",
            # the status tracker keeps 1000 jobs by default; the chain runs more
            extra_conf={"spark.ui.retainedJobs": "100000"},
        )
        warm_up(spark, settings)
    ready = time.perf_counter() - started
    try:
        result = execute(task["kind"], settings, spark, sources=task.get("sources"))
    finally:
        if spark is not None:
            spark.stop()
    result["startup_s"] = ready
    result_file.write_text(json.dumps(result, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    from lake.shutdown import exit_now

    try:
        code = main(sys.argv[1:])
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    exit_now(code)
