"""The `lake` console script, run as users run it (a subprocess)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli.main import build_parser, main
from conftest import REPO, lake_env
from lake.delta_reader import snapshot
from lake.storage import table_uri

LAKE = str(Path(sys.executable).parent / "lake")
COMMANDS = [
    "up",
    "init",
    "down",
    "status",
    "doctor",
    "config",
    "setup",
    "submit",
    "inspect",
    "run",
    "runs",
    "migrate",
    "contract",
    "generate",
    "cluster",
    "quality",
    "lineage",
    "tags",
    "export",
    "catalog",
    "cloud",
    "study",
    "reports",
    "locks",
    "optimize",
    "access",
    "audit",
    "lifecycle",
    "bench",
    "rgpd",
    "serve",
    "users",
    "sql",
]
SUBCOMMANDS = [
    ("users", "add"),
    ("users", "list"),
    ("users", "disable"),
    ("contract", "infer"),
    ("contract", "check"),
    ("quality", "review"),
    ("quality", "results"),
    ("quality", "import-schema"),
    ("quality", "export-schema"),
    ("lineage", "show"),
    ("lineage", "validate"),
    ("tags", "scan"),
    ("tags", "review"),
    ("export", "opendata"),
    ("export", "view"),
    ("lifecycle", "plan"),
    ("lifecycle", "apply"),
    ("rgpd", "erase"),
    ("rgpd", "export"),
]


def run_lake(
    *args: str, env: dict[str, str] | None = None, cwd: Path = REPO, timeout: int = 60
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("LAKE")}
    if "LAKE_CACHE_DIR" in os.environ:
        base["LAKE_CACHE_DIR"] = os.environ["LAKE_CACHE_DIR"]
    base.update(env or {})
    return subprocess.run(
        [LAKE, *args], env=base, capture_output=True, text=True, timeout=timeout, cwd=cwd
    )


def test_every_command_has_help(capsys) -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert sorted(sub.choices) == sorted(COMMANDS)  # type: ignore[union-attr]
    for command in COMMANDS:
        with pytest.raises(SystemExit) as done:
            main([command, "--help"])
        assert done.value.code == 0
        assert f"usage: lake {command}" in capsys.readouterr().out
    for command, subcommand in SUBCOMMANDS:
        with pytest.raises(SystemExit) as done:
            main([command, subcommand, "--help"])
        assert done.value.code == 0
        assert f"usage: lake {command} {subcommand}" in capsys.readouterr().out


def test_console_script_starts_without_heavy_imports() -> None:
    code = (
        "import sys; from app.cli.main import build_parser; build_parser(); "
        "print(sorted(m for m in ('pyspark', 'minio', 'deltalake') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.fixture
def broken_project(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A project with an empty cache, no credentials and nothing listening."""
    shutil.copy(REPO / "lake.toml", tmp_path / "lake.toml")
    shutil.copytree(REPO / "jvm", tmp_path / "jvm")
    env = {
        "LAKE_HOME": str(tmp_path),
        "LAKE_CACHE_DIR": str(tmp_path / "empty-cache"),
        "LAKE__STORAGE__ENDPOINT": "http://127.0.0.1:9",
    }
    return tmp_path, env


def test_doctor_names_each_missing_piece_with_its_fix(broken_project) -> None:
    project, env = broken_project
    result = run_lake("doctor", env=env, cwd=project)
    assert result.returncode == 1
    lines = {line[7:].split()[0]: line for line in result.stdout.splitlines() if line[:1] == "["}
    assert lines["python"].startswith("[ok  ]")
    assert lines["java"].startswith("[ok  ]")
    assert lines["jars"].startswith("[FAIL]")
    assert lines["jars"].endswith("-> fix: run `make jars` (or `lake setup jars`)")
    assert lines["minio-binary"].startswith("[FAIL]")
    assert "fix: run `make minio`" in lines["minio-binary"]
    assert lines["credentials"].startswith("[FAIL]")
    assert "fix: run `lake up`" in lines["credentials"]
    assert lines["server"] == (
        "[FAIL] server         nothing answers /minio/health/live at "
        "http://127.0.0.1:9 -> fix: run `lake up` (or fix "
        "storage.endpoint)"
    )
    assert lines["bucket"].startswith("[FAIL]")
    assert result.stdout.strip().endswith("5 problem(s) found.")

    as_json = json.loads(run_lake("doctor", "--json", env=env, cwd=project).stdout)
    assert as_json["ok"] is False
    failed = {c["name"] for c in as_json["checks"] if not c["ok"]}
    assert failed == {"jars", "minio-binary", "credentials", "server", "bucket"}
    assert all(c["fix"] for c in as_json["checks"] if not c["ok"])


@pytest.mark.minio
def test_doctor_is_green_on_a_working_setup(lake_settings) -> None:
    env = _env_for(lake_settings)
    result = run_lake("doctor", env=env)
    assert result.returncode == 0, result.stdout
    assert result.stdout.strip().endswith("Everything the lake needs is here.")


def test_errors_are_one_line_and_debug_shows_the_traceback(broken_project) -> None:
    project, env = broken_project
    result = run_lake("inspect", "bronze/smoke", env=env, cwd=project)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "lake inspect: error: No credentials for the object store at http://127.0.0.1:9. "
        f"Fix: run `lake up` (it generates them in {project}/var/minio/credentials.json) or "
        "set LAKE__STORAGE__ACCESS_KEY and LAKE__STORAGE__SECRET_KEY"
    )
    debug = run_lake("--debug", "inspect", "bronze/smoke", env=env, cwd=project)
    assert "Traceback (most recent call last)" in debug.stderr


def test_bad_setting_is_one_clear_line(broken_project) -> None:
    project, env = broken_project
    result = run_lake("status", env={**env, "LAKE__MINIO__PORT": "abc"}, cwd=project)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "lake status: error: environment: minio.port is 'abc'; expected an integer. "
        "Fix: correct LAKE__MINIO__PORT in the environment"
    )


def test_submit_print_shows_the_command_without_secrets() -> None:
    env = {"LAKE__STORAGE__ACCESS_KEY": "someone", "LAKE__STORAGE__SECRET_KEY": "hidden-123456"}
    result = run_lake("submit", "--print", "smoke", env=env)
    assert result.returncode == 0, result.stderr
    assert "spark-submit" in result.stdout and "--jars" in result.stdout
    assert "spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension" in result.stdout
    assert "hidden-123456" not in result.stdout and "someone" not in result.stdout
    unknown = run_lake("submit", "nope", env=env)
    assert unknown.returncode == 1
    assert (
        "No job named 'nope'. Fix: use one of: bronze, gold, pipeline, silver, smoke"
        in unknown.stderr
    )


def test_config_redacts_credentials() -> None:
    env = {"LAKE__STORAGE__ACCESS_KEY": "someone", "LAKE__STORAGE__SECRET_KEY": "hidden-123456"}
    result = run_lake("config", env=env)
    data = json.loads(result.stdout)
    assert data["storage"]["secret_key"] == "***" and data["storage"]["access_key"] == "***"
    assert "hidden-123456" not in result.stdout


def _env_for(settings) -> dict[str, str]:
    return {k: v for k, v in lake_env(settings).items() if k.startswith("LAKE")}


@pytest.mark.spark
@pytest.mark.minio
def test_submit_runs_the_smoke_job_with_spark_submit(lake_settings) -> None:
    """The real path of `make demo`: spark-submit, cached jars, S3A to MinIO, Delta."""
    result = run_lake(
        "submit",
        "smoke",
        "--rows",
        "20",
        "--table",
        "smoke_submit",
        env=_env_for(lake_settings),
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary == {
        "table": f"s3a://{lake_settings.storage.bucket}/bronze/smoke_submit",
        "versions": [0, 1],
        "rows_latest": 40,
        "rows_at_first_version": 20,
        "ok": True,
    }
    seen = snapshot(lake_settings, table_uri(lake_settings, "bronze", "smoke_submit"))
    assert (seen.version, seen.rows) == (1, 40)
    inspect = run_lake("inspect", "bronze/smoke_submit", "--json", env=_env_for(lake_settings))
    assert json.loads(inspect.stdout)["rows"] == 40


def test_submit_options_work_before_or_after_the_job() -> None:
    from app.cli.jobs import _lift_submit_options

    parser = build_parser()
    args = parser.parse_args(
        [
            "submit",
            "bronze",
            "--source",
            "x",
            "--master",
            "spark://127.0.0.1:7077",
            "--print",
            "--",
            "--master",
            "y",
        ]
    )
    _lift_submit_options(args)
    assert (args.job, args.master, args.print) == ("bronze", "spark://127.0.0.1:7077", True)
    assert args.job_args == ["--source", "x", "--master", "y"]
    args = parser.parse_args(["submit", "--master", "local[1]", "smoke", "--rows", "5"])
    _lift_submit_options(args)
    assert (args.master, args.job_args) == ("local[1]", ["--rows", "5"])
