"""The pseudonymisation key is a secret every job is given, and the lake refuses another one.

On the real MinIO of the session: the first job records the key's fingerprint in the lake
(``meta/keys/pseudonymisation.json``, never the key); a job with another key, or with none at
all, stops with one error naming both fingerprints instead of giving everybody new pseudonyms.
"""

from __future__ import annotations

import json
import secrets

import pytest

from lake.errors import ConfigError, KeyMismatchError
from lake.keys import REGISTRY_KEY, fingerprint, pseudonymisation_key
from lake.objects import ObjectStore
from lake.storage import ensure_bucket

pytestmark = [pytest.mark.minio]


@pytest.fixture
def lake(lake_settings, tmp_path):
    settings = lake_settings.with_overrides(
        {
            "storage": {"bucket": "keys-" + secrets.token_hex(4)},
            "security": {"pseudonymisation_key_file": str(tmp_path / "a" / "key")},
        }
    )
    ensure_bucket(settings)
    return settings


def test_the_first_job_records_the_fingerprint_never_the_key(lake) -> None:
    key = pseudonymisation_key(lake)
    record = json.loads(ObjectStore(lake).get_bytes(REGISTRY_KEY))
    assert record["fingerprint"] == fingerprint(key)
    stored = ObjectStore(lake).get_bytes(REGISTRY_KEY).decode()
    assert key.hex() not in stored
    # the same key from the environment (a compose secret) is the same key
    env = lake.with_overrides({"security": {"pseudonymisation_key": key.hex()}})
    assert pseudonymisation_key(env) == key


def test_another_key_is_refused_with_both_fingerprints(lake, tmp_path) -> None:
    key = pseudonymisation_key(lake)
    other = secrets.token_hex(32)
    wrong = lake.with_overrides({"security": {"pseudonymisation_key": other}})
    with pytest.raises(KeyMismatchError) as refused:
        pseudonymisation_key(wrong)
    error = refused.value
    assert (error.expected, error.found) == (fingerprint(key), fingerprint(bytes.fromhex(other)))
    assert "LAKE__SECURITY__PSEUDONYMISATION_KEY" in str(error) and error.fix
    assert other not in str(error) and key.hex() not in str(error)
    assert isinstance(error, ConfigError)  # `lake` prints it as one line, exit code 1


def test_a_job_without_key_never_generates_one_for_a_lake_with_data(lake, tmp_path) -> None:
    pseudonymisation_key(lake)
    elsewhere = tmp_path / "other-container" / "key"
    bare = lake.with_overrides({"security": {"pseudonymisation_key_file": str(elsewhere)}})
    with pytest.raises(KeyMismatchError) as refused:
        pseudonymisation_key(bare)
    assert refused.value.found is None and str(elsewhere) in str(refused.value)
    assert not elsewhere.exists()  # no new key written


def test_a_new_lake_gets_a_generated_key_once(lake) -> None:
    first = pseudonymisation_key(lake)
    assert lake.security.pseudonymisation_key_file.stat().st_mode & 0o777 == 0o600
    assert pseudonymisation_key(lake) == first
