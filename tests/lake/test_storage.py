"""Storage layout and the translation of storage failures (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lake.errors import LakeError, StorageError
from lake.settings import load_settings
from lake.storage import explain_storage_failure, openlineage_dataset, table_uri

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def settings():
    return load_settings(REPO / "lake.toml", env={"LAKE__STORAGE__ENDPOINT": "http://127.0.0.1:9"})


def test_table_uri_per_backend(settings, tmp_path: Path) -> None:
    assert table_uri(settings, "silver", "adoptions") == "s3a://lake/silver/adoptions"
    local = settings.with_overrides({"storage": {"backend": "local", "local_root": str(tmp_path)}})
    assert table_uri(local, "gold", "visas_pvt") == f"{tmp_path.as_uri()}/gold/visas_pvt"


@pytest.mark.parametrize("name", ["", "Adoptions", "../etc", "a/b", "a b"])
def test_table_uri_refuses_unsafe_names(settings, name: str) -> None:
    with pytest.raises(ValueError, match="table name must be lower-case"):
        table_uri(settings, "bronze", name)


def test_table_uri_refuses_unknown_layer(settings) -> None:
    with pytest.raises(ValueError, match="layer must be one of landing, bronze"):
        table_uri(settings, "platinum", "x")  # type: ignore[arg-type]


def test_openlineage_naming_matches_the_spark_listener() -> None:
    assert openlineage_dataset("s3a://lake/silver/adoptions") == ("s3://lake", "silver/adoptions")
    assert openlineage_dataset("file:///data/lake/gold/x") == ("file", "/data/lake/gold/x")


class FakeS3Error(Exception):
    """Stands for minio.error.S3Error: only its `code` attribute matters here."""

    def __init__(self, code: str) -> None:
        super().__init__(f"S3 operation failed; code: {code}")
        self.code = code


def test_wrong_credentials_are_named_with_the_fix(settings) -> None:
    error = explain_storage_failure(FakeS3Error("InvalidAccessKeyId"), settings)
    assert isinstance(error, StorageError) and isinstance(error, LakeError)
    assert error.endpoint == "http://127.0.0.1:9"
    assert error.message == (
        "The object store at http://127.0.0.1:9 refused the lake's credentials "
        "(InvalidAccessKeyId)."
    )
    assert "LAKE__STORAGE__ACCESS_KEY" in (error.fix or "")


def test_unreachable_server_is_named_with_the_fix(settings) -> None:
    error = explain_storage_failure(
        ConnectionRefusedError("[Errno 111] Connection refused"), settings
    )
    assert "is not reachable" in error.message
    assert error.fix is not None and "lake up" in error.fix
    assert str(error).endswith("Fix: " + error.fix)


def test_a_policy_refusal_is_not_called_a_bad_key(settings) -> None:
    error = explain_storage_failure(FakeS3Error("AccessDenied"), settings)
    assert error.message == (
        "The object store at http://127.0.0.1:9 denied access (the credentials are valid, "
        "their policy does not allow this)."
    )
    assert "LAKE__STORAGE__ROLE" in (error.fix or "")


def test_a_full_store_says_so_and_how_to_resume(settings) -> None:
    error = explain_storage_failure(FakeS3Error("XMinioStorageFull"), settings)
    assert error.message == (
        "The object store at http://127.0.0.1:9 is out of space (MinIO: XMinioStorageFull)."
    )
    assert "rerun" in (error.fix or "")
