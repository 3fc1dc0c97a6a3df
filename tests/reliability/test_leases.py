"""Table leases against the real test MinIO: acquire, conflict, expiry takeover, renewal, release,
a lost lease refusing writes, a dead holder on this host, all-or-nothing sets, waiting."""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import socket
import subprocess
import threading
import time

import pytest

from lake.leases import (
    LeaseError,
    LeaseLostError,
    LeaseRecord,
    LeaseSet,
    TableBusyError,
    acquire,
    check_write,
    lease_key,
    list_leases,
    store_for,
)
from lake.leases.holders import boot_id
from lake.storage import ensure_bucket, table_uri

pytestmark = [pytest.mark.minio, pytest.mark.reliability]

BUSY = re.compile(
    r"^table (?P<table>\S+) busy: held by run (?P<run>\S+) \(job (?P<job>[^,]+), "
    r"user (?P<user>\S+) on host (?P<host>\S+), pid (?P<pid>\d+)\) since (?P<since>\S+), "
    r"expires at (?P<exp>\S+)\."
)


@pytest.fixture(scope="module")
def settings(lake_settings):
    s = lake_settings.with_overrides({"storage": {"bucket": "lake-leases"}})
    ensure_bucket(s)
    return s


@pytest.fixture
def table():
    return f"silver/t_{secrets.token_hex(4)}"


def foreign(table: str, *, ttl_s: float, host: str = "elsewhere", pid: int = 4242) -> LeaseRecord:
    """A lease as another job (by default on another host) would write it."""
    now = dt.datetime.now(dt.UTC)
    return LeaseRecord(
        table=table,
        run_id="R-other",
        job="silver",
        user="alice",
        host=host,
        pid=pid,
        acquired_at=now.isoformat(timespec="seconds"),
        renewed_at=now.isoformat(timespec="seconds"),
        expires_at=(now + dt.timedelta(seconds=ttl_s)).isoformat(timespec="seconds"),
        ttl_s=ttl_s,
        boot_id=boot_id(),
    )


def test_acquire_writes_the_holder_and_a_second_job_is_told_who_holds_it(settings, table):
    store = store_for(settings)
    lease = acquire(store, table, run_id="R1", job="silver", ttl_s=60)
    stored = store.read(lease_key(table))
    assert stored is not None and stored.etag == lease.etag
    record = stored.record
    assert (record.run_id, record.job, record.pid, record.host) == (
        "R1",
        "silver",
        os.getpid(),
        socket.gethostname(),
    )
    assert stored.state == "held"
    with pytest.raises(TableBusyError) as busy:
        acquire(store, table, run_id="R2", job="bronze", ttl_s=60)
    match = BUSY.match(str(busy.value))
    assert match, str(busy.value)
    assert match["table"] == table and match["run"] == "R1" and match["job"] == "silver"
    assert match["pid"] == str(os.getpid()) and match["since"] == record.acquired_at
    assert match["exp"] == record.expires_at
    assert "--wait SECONDS" in str(busy.value)
    assert lease.release()
    assert store.read(lease_key(table)).state == "released"  # a tombstone, not a delete
    again = acquire(store, table, run_id="R2", job="bronze", ttl_s=60)
    assert again.record.run_id == "R2"
    again.release()


def test_only_one_of_many_concurrent_takers_wins(settings, table):
    store = store_for(settings)
    winners: list[str] = []
    losers: list[str] = []

    def take(i: int) -> None:
        try:
            acquire(store_for(settings), table, run_id=f"R{i}", job="bronze", ttl_s=60)
            winners.append(f"R{i}")
        except TableBusyError as exc:
            losers.append(exc.holder.run_id)

    threads = [threading.Thread(target=take, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1, winners
    assert set(losers) == set(winners) and len(losers) == 7
    assert store.read(lease_key(table)).record.run_id == winners[0]


def test_an_expired_lease_is_taken_over_with_if_match(settings, table):
    store = store_for(settings)
    assert store.create(lease_key(table), foreign(table, ttl_s=2).to_json())
    with pytest.raises(TableBusyError, match="held by run R-other"):
        acquire(store, table, run_id="R1", job="silver", ttl_s=60)
    time.sleep(3.1)  # the store's clock has one-second resolution
    assert store.read(lease_key(table)).state == "expired"
    lease = acquire(store, table, run_id="R1", job="silver", ttl_s=60)
    assert store.read(lease_key(table)).record.run_id == "R1"
    lease.release()


def test_renewal_moves_the_expiry_and_changes_the_etag(settings, table):
    store = store_for(settings)
    lease = acquire(store, table, run_id="R1", job="gold", ttl_s=60)
    first_etag, first_expiry = lease.etag, lease.record.expires_at
    time.sleep(1.1)
    lease.renew()
    stored = store.read(lease_key(table))
    assert stored.etag == lease.etag != first_etag
    assert stored.record.expires_at > first_expiry
    assert stored.record.acquired_at == lease.record.acquired_at
    lease.release()


def test_a_lost_lease_is_detected_and_refuses_writes(settings, table):
    store = store_for(settings)
    mine = acquire(store, table, run_id="R1", job="silver", ttl_s=2)
    time.sleep(3.1)  # not renewed (a paused job): it expires...
    with pytest.raises(LeaseLostError, match="was not renewed"):
        mine.check()
    theirs = acquire(store, table, run_id="R2", job="silver", ttl_s=60)  # ...and is taken over
    with pytest.raises(LeaseLostError, match="now held by run R2"):
        mine.renew()
    with pytest.raises(LeaseLostError, match=f"Lease of table {table} lost by run R1"):
        mine.check()
    assert not mine.release()  # never touches the new holder's lease
    assert store.read(lease_key(table)).record.run_id == "R2"
    theirs.release()


def test_the_lease_of_a_dead_process_on_this_host_is_taken_at_once(settings, table):
    store = store_for(settings)
    gone = subprocess.Popen(["true"])
    gone.wait()
    record = foreign(table, ttl_s=600, host=socket.gethostname(), pid=gone.pid)
    assert store.create(lease_key(table), record.to_json())
    assert store.read(lease_key(table)).state == "dead"
    lease = acquire(store, table, run_id="R1", job="bronze", ttl_s=60)
    assert lease.record.run_id == "R1"
    lease.release()
    # the same pid on another host proves nothing: that lease waits for its expiry
    other = f"{table}_b"
    assert store.create(lease_key(other), foreign(other, ttl_s=600, pid=gone.pid).to_json())
    with pytest.raises(TableBusyError):
        acquire(store, other, run_id="R1", job="bronze", ttl_s=60)


def test_a_lease_set_is_all_or_nothing_and_guards_the_writes(settings):
    prefix = f"t_{secrets.token_hex(3)}"
    tables = [f"bronze/{prefix}", f"quarantine/{prefix}", f"silver/{prefix}"]
    store = store_for(settings)
    held = acquire(store, tables[2], run_id="R-other", job="silver", ttl_s=60)
    with pytest.raises(TableBusyError, match=f"table {tables[2]} busy"):
        LeaseSet(settings, tables, run_id="R1", job="bronze-silver").__enter__()
    # the two taken before the busy one were given back
    for t in tables[:2]:
        assert store.read(lease_key(t)).state == "released"
    held.release()

    check_write(table_uri(settings, "silver", prefix))  # no job run active: nothing checked
    with LeaseSet(settings, tables, run_id="R1", job="bronze-silver") as leased:
        assert [store.read(lease_key(t)).record.run_id for t in tables] == ["R1"] * 3
        check_write(table_uri(settings, "silver", prefix))
        with pytest.raises(LeaseError, match=f"writes table gold/{prefix} without holding"):
            check_write(table_uri(settings, "gold", prefix))
        leased.leases[tables[2]].lost = "taken over in a test"
        with pytest.raises(LeaseLostError, match="taken over in a test"):
            check_write(table_uri(settings, "silver", prefix))
    assert store.read(lease_key(tables[0])).state == "released"
    assert {t for t, _ in list_leases(settings)} >= set(tables)


def test_a_waiting_job_gets_the_table_when_the_holder_releases_it(settings, table):
    store = store_for(settings)
    holder = acquire(store, table, run_id="R-first", job="bronze", ttl_s=60)
    threading.Timer(1.5, holder.release).start()
    said: list[str] = []
    started = time.monotonic()
    with LeaseSet(
        settings, [table], run_id="R-second", job="bronze", wait_s=20, progress=said.append
    ):
        waited = time.monotonic() - started
        assert store.read(lease_key(table)).record.run_id == "R-second"
    assert 1.0 < waited < 10, waited
    assert any("busy (run R-first" in line for line in said), said
    with pytest.raises(TableBusyError, match=r"\(waited 1 s\)"):
        holder2 = acquire(store, table, run_id="R-third", job="bronze", ttl_s=60)
        try:
            LeaseSet(settings, [table], run_id="R-fourth", job="bronze", wait_s=1).__enter__()
        finally:
            holder2.release()


def test_the_heartbeat_renews_while_the_job_runs(settings, table):
    fast = settings.with_overrides({"locks": {"lease_ttl_s": 3, "renew_every_s": 0.5}})
    store = store_for(settings)
    with LeaseSet(fast, [table], run_id="R1", job="silver") as leased:
        first = store.read(lease_key(table)).etag
        time.sleep(4)  # longer than the TTL: only renewals keep it
        now = store.read(lease_key(table))
        assert now.etag != first and now.state == "held"
        leased.check(table)
    assert store.read(lease_key(table)).state == "released"


def test_local_backend_runs_the_same_protocol(tmp_path, settings, table):
    local = settings.with_overrides(
        {"storage": {"backend": "local", "local_root": str(tmp_path / "lake")}}
    )
    store = store_for(local)
    lease = acquire(store, table, run_id="R1", job="silver", ttl_s=60)
    assert (tmp_path / "lake" / lease_key(table)).is_file()
    with pytest.raises(TableBusyError, match="held by run R1"):
        acquire(store, table, run_id="R2", job="silver", ttl_s=60)
    assert store.replace(lease_key(table), b"{}", "not-the-etag") is None
    assert lease.release()
    acquire(store, table, run_id="R2", job="silver", ttl_s=60).release()
