"""`cee serve --processes 2`: two HTTP processes, a writer and a worker process, as users run it.

The contract tests run against this layout too (the `sqlite-processes` shared server); these are
about the layout itself: writes from both HTTP processes land exactly once, a writer or worker
process that dies is replaced without losing an acknowledged write or request, keys rotated
elsewhere are refused by every process, and stopping leaves no process behind.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.conftest import Database, Server, unique_email
from tests.ingest.util import accepted, add, view, wait_done
from tests.web.util import addsync, assert_error, assert_success


@pytest.fixture
def server2(database: Database) -> Iterator[Server]:
    srv = Server(database)
    srv.init()
    srv.start("--processes", "2")
    yield srv
    srv.stop()


@pytest.fixture
def sqlite_server2(tmp_path: Path) -> Iterator[Server]:
    """On SQLite only: the writer process exists there alone."""
    srv = Server(Database("sqlite", tmp_path))
    srv.init()
    srv.start("--processes", "2")
    yield srv
    srv.stop()


def started_pids(server: Server, name: str) -> list[int]:
    """The pids the supervisor logged for its `name` (writer, worker) process, in order."""
    found = re.findall(rf"{name} process \[(\d+)\] started", server.log.read_text())
    return [int(pid) for pid in found]


def wait_restarted(server: Server, name: str, count: int) -> None:
    deadline = time.monotonic() + 20
    while len(started_pids(server, name)) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(started_pids(server, name)) == count, server.log.read_text()[-3000:]


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_concurrent_writes_from_both_processes_land_exactly_once(server2: Server) -> None:
    emails = [unique_email("p") for _ in range(60)]
    # Every email sent three times, from many connections at once (spread over both processes).
    attempts = emails * 3
    with ThreadPoolExecutor(24) as pool:
        answers = list(pool.map(lambda e: (e, addsync(server2, {"EMAIL": e})), attempts))
    successes: dict[str, int] = {}
    for email, resp in answers:
        if resp.status_code == 200:
            assert_success(resp)
            successes[email] = successes.get(email, 0) + 1
        else:
            assert_error(resp, 302, f"Duplicate entry '{email}'")
    assert successes == {email: 1 for email in emails}
    for email in emails:
        assert view(server2, email).json()["result"]["primary_key"] == email


def test_add_is_applied_by_the_worker_process(server2: Server) -> None:
    email = unique_email("bg")
    requestid = accepted(add(server2, {"EMAIL": email, "FIRST_NAME": "Ann"}))
    assert wait_done(server2, requestid, timeout=10)["result"] == "Success"
    assert view(server2, email).json()["result"]["attributes"]["FIRST_NAME"] == "Ann"


def test_a_killed_writer_process_is_replaced_and_acknowledged_writes_stay(
    sqlite_server2: Server,
) -> None:
    server = sqlite_server2
    [first] = started_pids(server, "writer")
    answered: list[tuple[str, httpx.Response]] = []
    stop = threading.Event()

    def load() -> None:
        while not stop.is_set() and len(answered) < 5000:
            email = unique_email("k")
            answered.append((email, addsync(server, {"EMAIL": email})))

    thread = threading.Thread(target=load)
    thread.start()
    time.sleep(0.5)
    os.kill(first, signal.SIGKILL)
    wait_restarted(server, "writer", 2)
    time.sleep(0.5)
    stop.set()
    thread.join()
    # Writes in flight when it died fail cleanly (500, a requestid, no internals); every
    # write that was acknowledged is there, and writing works again.
    failed = [r for _, r in answered if r.status_code != 200]
    for resp in failed:
        assert_error(resp, 500, "writer process")
    acknowledged = [email for email, r in answered if r.status_code == 200]
    assert len(acknowledged) > len(failed)
    for email in acknowledged[:: max(len(acknowledged) // 50, 1)]:
        assert view(server, email).status_code == 200, email
    assert_success(addsync(server, {"EMAIL": unique_email("after")}))


def test_a_killed_worker_process_is_replaced_and_every_add_is_applied(server2: Server) -> None:
    [first] = started_pids(server2, "worker")
    emails = [unique_email("w") for _ in range(300)]
    requestids = []
    for n, email in enumerate(emails):
        requestids.append(accepted(add(server2, {"EMAIL": email, "FIRST_NAME": f"n{n}"})))
        if n == 100:
            os.kill(first, signal.SIGKILL)
    wait_restarted(server2, "worker", 2)
    for requestid in requestids:
        assert wait_done(server2, requestid)["result"] == "Success"
    for n, email in enumerate(emails[::30]):
        assert view(server2, email).json()["result"]["attributes"]["FIRST_NAME"] == f"n{n * 30}"


def test_a_rotated_key_is_refused_by_every_process(server2: Server) -> None:
    old = server2.api_key
    assert_success(addsync(server2, {"EMAIL": unique_email("r")}))
    server2.cli("key", "rotate", "admin")
    time.sleep(0.05)
    # New connections each time: the kernel hands them to either HTTP process.
    for _ in range(20):
        assert_error(addsync(server2, {"EMAIL": unique_email("r")}, key=old), 401)


def test_stopping_leaves_no_process_behind(server2: Server) -> None:
    assert server2.proc is not None
    spawned = children(server2.proc.pid)
    assert len(spawned) >= 4  # two HTTP processes, the writer and the worker
    server2.proc.send_signal(signal.SIGTERM)
    assert server2.proc.wait(timeout=30) == 0
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in spawned) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in spawned if alive(pid)]
