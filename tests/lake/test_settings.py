"""Settings: precedence, typing, and the errors a user sees."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lake.errors import ConfigError
from lake.settings import load_settings

TOML = """
[storage]
bucket = "from-file"
region = "eu-west-3"

[minio]
port = 9100

[spark]
shuffle_partitions = 8

[spark.conf]
"spark.sql.ansi.enabled" = "true"
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "lake.toml"
    path.write_text(TOML)
    return path


def test_file_values_and_defaults(config: Path) -> None:
    s = load_settings(config, env={})
    assert s.storage.bucket == "from-file"
    assert s.storage.backend == "s3"  # default from the dataclass
    assert s.minio.port == 9100
    assert s.spark.conf == {"spark.sql.ansi.enabled": "true"}
    assert s.root == config.parent
    # relative paths are resolved against the directory holding the file
    assert s.minio.data_dir == config.parent / "var/minio/data"
    assert s.endpoint == "http://127.0.0.1:9100"


def test_environment_beats_file_and_overrides_beat_environment(config: Path) -> None:
    env = {"LAKE__STORAGE__BUCKET": "from-env", "LAKE__MINIO__PORT": "9200"}
    s = load_settings(config, env=env)
    assert (s.storage.bucket, s.minio.port) == ("from-env", 9200)
    s = load_settings(config, env=env, overrides={"storage": {"bucket": "from-override"}})
    assert (s.storage.bucket, s.minio.port) == ("from-override", 9200)
    assert s.storage.region == "eu-west-3"  # untouched keys keep the file's value


def test_environment_typing_and_spark_conf(config: Path) -> None:
    env = {
        "LAKE__SPARK__UI_ENABLED": "yes",
        "LAKE__SPARK__CONF__spark.sql.shuffle.partitions": "3",
        "LAKE__MINIO__BINARY": "/opt/minio",
    }
    s = load_settings(config, env=env)
    assert s.spark.ui_enabled is True
    assert s.spark.conf == {"spark.sql.ansi.enabled": "true", "spark.sql.shuffle.partitions": "3"}
    assert s.minio.binary == Path("/opt/minio")


def test_config_file_from_environment(config: Path) -> None:
    s = load_settings(env={"LAKE_CONFIG": str(config)})
    assert s.storage.bucket == "from-file"


def test_wrong_type_names_the_variable_and_the_expected_type(config: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(config, env={"LAKE__MINIO__PORT": "nine"})
    assert err.value.message == "environment: minio.port is 'nine'; expected an integer."
    assert err.value.fix == "correct LAKE__MINIO__PORT in the environment"
    assert (err.value.path, err.value.key) == (None, "minio.port")


def test_invalid_choice_lists_the_valid_ones(config: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(config, env={"LAKE__STORAGE__BACKEND": "hdfs"})
    assert (
        err.value.message
        == "environment: storage.backend is 'hdfs'; expected one of 's3', 'local'."
    )


def test_unknown_key_in_file_names_file_key_and_valid_keys(tmp_path: Path) -> None:
    path = tmp_path / "lake.toml"
    path.write_text("[minio]\nprot = 9000\n")
    with pytest.raises(ConfigError) as err:
        load_settings(path, env={})
    message = str(err.value)
    assert message.startswith(f"{path}: unknown setting minio.prot.")
    assert "valid keys of [minio]: host, port," in message


def test_unknown_environment_variable_is_refused(config: Path) -> None:
    with pytest.raises(ConfigError, match="LAKE__STORGE__BUCKET does not name a setting"):
        load_settings(config, env={"LAKE__STORGE__BUCKET": "x"})


def test_credentials_are_refused_in_the_committed_file(tmp_path: Path) -> None:
    path = tmp_path / "lake.toml"
    path.write_text('[storage]\nsecret_key = "abc"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(path, env={})
    assert "storage.secret_key holds a credential" in str(err.value)
    assert "LAKE__STORAGE__SECRET_KEY" in str(err.value)


def test_invalid_toml_is_reported_with_its_path(tmp_path: Path) -> None:
    path = tmp_path / "lake.toml"
    path.write_text("[storage\n")
    with pytest.raises(ConfigError, match=f"Settings file {path} is not valid TOML"):
        load_settings(path, env={})


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml", env={})


def test_credentials_come_from_file_and_environment_wins(config: Path) -> None:
    creds = config.parent / "var/minio/credentials.json"
    creds.parent.mkdir(parents=True)
    creds.write_text(json.dumps({"access_key": "file-user", "secret_key": "file-secret"}))
    s = load_settings(config, env={})
    assert (s.storage.access_key, s.storage.secret_key) == ("file-user", "file-secret")
    assert "file-secret" not in repr(s)  # secrets stay out of logs and tracebacks
    env = {"LAKE__STORAGE__ACCESS_KEY": "env-user", "LAKE__STORAGE__SECRET_KEY": "env-secret"}
    s = load_settings(config, env=env)
    assert (s.storage.access_key, s.storage.secret_key) == ("env-user", "env-secret")


def test_endpoint_follows_the_running_local_server(config: Path) -> None:
    state = config.parent / "var/minio/server.json"
    state.parent.mkdir(parents=True)
    state.write_text(json.dumps({"endpoint": "http://127.0.0.1:45678"}))
    assert load_settings(config, env={}).endpoint == "http://127.0.0.1:45678"
    explicit = {"LAKE__STORAGE__ENDPOINT": "http://127.0.0.1:1234"}
    assert load_settings(config, env=explicit).endpoint == "http://127.0.0.1:1234"


def test_with_overrides_checks_sections_and_types(config: Path) -> None:
    s = load_settings(config, env={})
    assert s.with_overrides({"minio": {"port": "9300"}}).minio.port == 9300
    with pytest.raises(ConfigError, match="Unknown settings section 'minoi'"):
        s.with_overrides({"minoi": {"port": 1}})


def test_committed_lake_toml_loads() -> None:
    repo = Path(__file__).resolve().parents[2]
    s = load_settings(repo / "lake.toml", env={})
    assert s.storage.bucket == "lake"
    assert s.storage.backend == "s3"
    assert s.minio.host == "127.0.0.1"
