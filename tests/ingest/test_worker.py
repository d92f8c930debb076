"""The async path survives crashes: no acknowledged `add` is lost, none is applied twice.

Real processes over HTTP: `cee serve` killed with SIGKILL right after the last answer, and a
`cee worker` killed with SIGKILL while it applies a batch.
"""

from __future__ import annotations

import random
import time

import pytest

from tests.conftest import Database, Server, unique_email
from tests.ingest.util import (
    WorkerProcess,
    accepted,
    form,
    history,
    send_all,
    status,
    view,
    wait_all_done,
)
from tests.web.util import create_list

# Short leases so that work claimed by a killed process is re-delivered within the test.
FAST_LEASE = {"CEE_CLAIM_SECONDS": "2"}


@pytest.mark.parametrize("worker", ["in-process", "none"])
def test_no_acknowledged_add_is_lost_when_the_server_is_killed(
    database: Database, worker: str
) -> None:
    srv = Server(database, FAST_LEASE)
    srv.init()
    srv.start(*(["--no-worker"] if worker == "none" else []))
    try:
        listid = create_list(srv, "crash")
        n = 300
        emails = [unique_email(f"k{i}") for i in range(n)]
        forms = [
            form({"EMAIL": e, "NAME": f"name {i}", "AGE": i}, listid if i % 2 else None)
            for i, e in enumerate(emails)
        ]
        rids = [accepted(r) for r in send_all(srv, forms, concurrency=32)]
        srv.kill()  # right after the last answer: nothing flushed on the way out
        srv.start()  # with its worker, which takes over the dead process's claims
        wait_all_done(srv, rids)
        for i, email in enumerate(emails):
            contact = view(srv, email).json()["result"]
            assert contact["attributes"] == {"EMAIL": email, "NAME": f"name {i}", "AGE": i}
            assert contact["lists"] == ([listid] if i % 2 else [])
    finally:
        srv.stop()


def test_a_worker_killed_mid_batch_loses_nothing_and_repeats_nothing(database: Database) -> None:
    srv = Server(database, FAST_LEASE)
    srv.init()
    srv.start("--no-worker")
    first = None
    try:
        listid = create_list(srv, "batch")
        per_request, requests = 50, 200
        emails = [unique_email(f"w{i}") for i in range(per_request * requests)]
        chunks = [emails[i : i + per_request] for i in range(0, len(emails), per_request)]
        # Two requests per contact: a re-applied one would show twice in the history.
        early = [form([{"EMAIL": e, "NAME": "first"} for e in c]) for c in chunks]
        late = [form([{"EMAIL": e, "NAME": "second"} for e in c], listid) for c in chunks]
        early_ids = [accepted(r) for r in send_all(srv, early)]
        late_ids = [accepted(r) for r in send_all(srv, late)]
        rids = early_ids + late_ids

        first = WorkerProcess(srv, FAST_LEASE)
        middle, last = rids[len(rids) // 4], rids[-1]
        deadline = time.monotonic() + 60
        while status(srv, middle).json()["result"]["state"] != "done":
            assert time.monotonic() < deadline, "the first worker made no progress"
            time.sleep(0.01)
        first.kill()
        assert status(srv, last).json()["result"]["state"] != "done", "killed too late"

        second = WorkerProcess(srv, FAST_LEASE)
        try:
            wait_all_done(srv, rids, timeout=120)
        finally:
            second.stop()
        for rid in rids:
            result = status(srv, rid).json()["result"]
            assert result["result"] == "Success", result
        lists = srv.api(query={"type": "lists", "activity": "getalllist"}).json()["result"]
        assert lists[0]["count"] == len(emails)
        for i in random.Random(7).sample(range(len(emails)), 150):
            email = emails[i]
            contact = view(srv, email).json()["result"]
            assert contact["lists"] == [listid]
            steps = history(srv, email)
            chunk = i // per_request
            # Each request applied exactly once, in order of arrival: the second worker puts
            # the dead one's claims back in the queue at once instead of waiting out the lease,
            # so they run before the newer entries.
            assert [s["requestid"] for s in steps] == [early_ids[chunk], late_ids[chunk]]
            assert steps[0]["changes"]["EMAIL"] == [None, email]
            assert contact["attributes"] == {"EMAIL": email, "NAME": "second"}
    finally:
        if first is not None:
            first.kill()
        srv.stop()
