"""Process-group kills and port waits used by the fault-injection tests and the bench."""

from __future__ import annotations

import socket
import subprocess
import time

from lake.processes import alive, group_members, kill_group, wait_port_closed


def test_kill_group_returns_once_every_process_of_the_group_is_gone():
    # a shell with two background children, like `lake submit` -> spark-submit -> python
    job = subprocess.Popen(["sh", "-c", "sleep 300 & sleep 300 & wait"], start_new_session=True)
    deadline = time.monotonic() + 10
    while len(group_members(job.pid)) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    members = group_members(job.pid)
    assert job.pid in members and len(members) == 3, members

    assert kill_group(job.pid, timeout_s=30)
    assert group_members(job.pid) == []
    assert not any(alive(pid) for pid in members)
    assert job.poll() is not None  # the leader was reaped, not left a zombie


def test_kill_group_of_a_group_that_is_gone_is_true():
    job = subprocess.Popen(["true"], start_new_session=True)
    job.wait()
    assert kill_group(job.pid, timeout_s=5)


def test_wait_port_closed_sees_a_listener_go_away():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    assert not wait_port_closed("127.0.0.1", port, timeout_s=0.5)
    listener.close()
    assert wait_port_closed("127.0.0.1", port, timeout_s=5)
