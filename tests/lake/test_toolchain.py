"""The JVM dependency declaration agrees with the Python packages it runs beside."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pyspark
import pytest

from lake.errors import ToolchainError
from lake.settings import load_settings
from lake.toolchain import cache_dir, maven_coordinates, minio_binary, spark_jars

REPO = Path(__file__).resolve().parents[2]
PYSPARK_JARS = Path(pyspark.__file__).parent / "jars"


@pytest.fixture
def settings():
    return load_settings(REPO / "lake.toml", env={})


def _coordinate(settings, artifact: str) -> str:
    found = [c for c in maven_coordinates(settings) if c.split(":")[1] == artifact]
    assert found, f"{artifact} is not declared in jvm/pom.xml"
    return found[0].split(":")[2]


def test_hadoop_aws_matches_the_hadoop_inside_pyspark(settings) -> None:
    bundled = sorted(PYSPARK_JARS.glob("hadoop-client-api-*.jar"))
    assert len(bundled) == 1
    hadoop = bundled[0].name.removeprefix("hadoop-client-api-").removesuffix(".jar")
    assert _coordinate(settings, "hadoop-aws") == hadoop


def test_delta_jar_matches_the_delta_python_package(settings) -> None:
    assert _coordinate(settings, "delta-spark_2.13") == importlib.metadata.version("delta-spark")


def test_scala_suffix_matches_pyspark(settings) -> None:
    scala = next(PYSPARK_JARS.glob("scala-library-*.jar")).name.split("-")[2]
    binary = ".".join(scala.split(".")[:2])
    for coordinate in maven_coordinates(settings):
        artifact = coordinate.split(":")[1]
        if "_2." in artifact:
            assert artifact.endswith(f"_{binary}"), coordinate


def test_cache_dir_honours_environment(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LAKE_CACHE_DIR", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c"
    monkeypatch.delenv("LAKE_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "meae-datalake"


def test_minio_binary_is_versioned_in_the_cache(monkeypatch, tmp_path: Path, settings) -> None:
    monkeypatch.setenv("LAKE_CACHE_DIR", str(tmp_path))
    assert minio_binary(settings) == tmp_path / "minio" / settings.minio.version / "minio"


def test_missing_jars_say_how_to_fetch_them(monkeypatch, tmp_path: Path, settings) -> None:
    monkeypatch.setenv("LAKE_CACHE_DIR", str(tmp_path))
    with pytest.raises(ToolchainError) as err:
        spark_jars(settings)
    assert "are not fetched" in err.value.message
    assert err.value.fix == "run `make jars` (or `lake setup jars`)"


def test_jars_are_fetched(settings) -> None:
    """`make test` runs `make jars` first: the cache must hold the declared artifacts."""
    names = {jar.name for jar in spark_jars(settings)}
    for coordinate in maven_coordinates(settings):
        _, artifact, version = coordinate.split(":")
        assert f"{artifact}-{version}.jar" in names
