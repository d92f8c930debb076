"""type=contact&activity=update: journaled like `add`, applied in arrival order, over real HTTP.

What a PHP client does (send `add`, then at once `update` for the same contact) must not lose the
update; a contact absent when the update is applied is a per-record 404 in the request status.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import orjson

from tests.conftest import Database, Server, unique_email
from tests.ingest.util import (
    WorkerProcess,
    accepted,
    add,
    call,
    history,
    view,
    wait_all_done,
    wait_done,
)
from tests.web.util import addsync, assert_error, assert_success, new_list


def update(server: Server, data: Any, **extra: str) -> Any:
    body = {"data": data if isinstance(data, str) else orjson.dumps(data).decode(), **extra}
    return call(server, {"type": "contact", "activity": "update"}, body)


def test_update_answers_at_once_then_merges(shared_server: Server) -> None:
    email = unique_email("upd")
    assert_success(addsync(shared_server, {"EMAIL": email, "NAME": "Old", "CITY": "Pune"}))
    _, listid = new_list(shared_server, "upd")
    rid = accepted(update(shared_server, {"EMAIL": email, "NAME": "New"}, listid=str(listid)))
    assert wait_done(shared_server, rid) == {
        "requestid": rid,
        "state": "done",
        "result": "Success",
        "records": [{"index": 0, "result": "Success"}],
    }
    result = view(shared_server, email).json()["result"]
    assert result["attributes"] == {"EMAIL": email, "NAME": "New", "CITY": "Pune"}
    assert result["lists"] == [listid]
    last = history(shared_server, email)[-1]
    assert last["activity"] == "update" and last["requestid"] == rid
    assert last["changes"] == {"NAME": ["Old", "New"], "_list_joined": listid}


def test_update_of_an_absent_contact_is_a_404_record_and_creates_nothing(
    shared_server: Server,
) -> None:
    email = unique_email("upd-absent")
    rid = accepted(update(shared_server, {"EMAIL": email, "NAME": "X"}))
    done = wait_done(shared_server, rid)
    assert done["result"] == "Failed"
    [record] = done["records"]
    assert record["error_code"] == 404 and email in record["details"], record
    assert view(shared_server, email).status_code == 404


def test_update_array_reports_each_record(shared_server: Server) -> None:
    there, absent = unique_email("upd-there"), unique_email("upd-absent")
    assert_success(addsync(shared_server, {"EMAIL": there}))
    rid = accepted(update(shared_server, [{"EMAIL": there, "AGE": 3}, {"EMAIL": absent}]))
    done = wait_done(shared_server, rid)
    assert done["result"] == "Partial"
    assert done["records"][0] == {"index": 0, "result": "Success"}
    assert done["records"][1]["error_code"] == 404
    assert view(shared_server, there).json()["result"]["attributes"]["AGE"] == 3


def test_update_judges_only_key_and_api_mode_before_answering(shared_server: Server) -> None:
    """As `add`: a bad `data` is accepted and reported under the requestid, never dropped."""
    rid = accepted(update(shared_server, "{nope"))
    [record] = wait_done(shared_server, rid)["records"]
    assert record["error_code"] == 400 and "data" in record["details"]
    rid = accepted(update(shared_server, {"EMAIL": "broken"}))
    [record] = wait_done(shared_server, rid)["records"]
    assert record["error_code"] == 422 and "EMAIL" in record["details"]
    assert_error(
        call(shared_server, {"type": "contact", "activity": "update"}, key="cee_wrong"), 401
    )


def test_add_then_update_back_to_back_50_times(shared_server: Server) -> None:
    """Each `update` follows its `add` at once, before the worker can have applied the `add`:
    every update is applied (none is a 404), each after its add, and in the order sent."""
    emails = [unique_email(f"pair{i}") for i in range(50)]
    running = unique_email("running")
    sent: list[tuple[str, str, str]] = []  # (email, add's requestid, update's requestid)
    updates_of_running: list[str] = []
    for i, email in enumerate(emails):
        added = accepted(add(shared_server, {"EMAIL": email, "NAME": f"add-{i}", "CITY": "Pune"}))
        updated = accepted(update(shared_server, {"EMAIL": email, "NAME": f"upd-{i}", "AGE": i}))
        sent.append((email, added, updated))
        # One contact updated 50 times, the first in the same breath as its add.
        if i == 0:
            accepted(add(shared_server, {"EMAIL": running}))
        updates_of_running.append(accepted(update(shared_server, {"EMAIL": running, "AGE": i})))
    wait_all_done(shared_server, [rid for _, a, u in sent for rid in (a, u)], timeout=120)
    wait_all_done(shared_server, updates_of_running, timeout=120)
    for i, (email, added, updated) in enumerate(sent):
        assert wait_done(shared_server, updated)["result"] == "Success", (i, email)
        attributes = view(shared_server, email).json()["result"]["attributes"]
        assert attributes == {"EMAIL": email, "NAME": f"upd-{i}", "CITY": "Pune", "AGE": i}
        assert [(h["activity"], h["requestid"]) for h in history(shared_server, email)] == [
            ("add", added),
            ("update", updated),
        ]
    for rid in updates_of_running:
        assert wait_done(shared_server, rid)["result"] == "Success"
    assert view(shared_server, running).json()["result"]["attributes"]["AGE"] == 49
    ages = [
        h["changes"]["AGE"][1] for h in history(shared_server, running) if "AGE" in h["changes"]
    ]
    assert ages == list(range(50))


def _send_pairs(server: Server, pairs: list[tuple[str, int]], lanes: int) -> list[str]:
    """Each pair's `add` then its `update`, back to back; `lanes` pairs in flight at once."""

    async def run() -> list[str]:
        params = {"apikey": server.api_key, "type": "contact"}
        gate = asyncio.Semaphore(lanes)
        async with httpx.AsyncClient(base_url=server.base, timeout=60) as client:

            async def pair(email: str, i: int) -> str:
                async with gate:
                    added = await client.post(
                        "/apiv2",
                        params={**params, "activity": "add"},
                        data={"data": orjson.dumps({"EMAIL": email}).decode()},
                    )
                    accepted(added)
                    updated = await client.post(
                        "/apiv2",
                        params={**params, "activity": "update"},
                        data={"data": orjson.dumps({"EMAIL": email, "AGE": i}).decode()},
                    )
                    return accepted(updated)

            return await asyncio.gather(*(pair(e, i) for e, i in pairs))

    return asyncio.run(run())


def test_updates_keep_arrival_order_with_two_workers(database: Database) -> None:
    """Two `cee worker`s draining one journal claim batches side by side: an `update` claimed
    by one while the other still applies the batch holding its contact's `add` waits for it
    instead of failing with a 404."""
    srv = Server(database)
    srv.init()
    srv.start("--no-worker")
    workers: list[WorkerProcess] = []
    try:
        pairs = [(unique_email(f"two{i}"), i) for i in range(500)]
        updates = _send_pairs(srv, pairs, lanes=8)
        workers = [WorkerProcess(srv), WorkerProcess(srv)]
        wait_all_done(srv, updates, timeout=180)
        failed = [
            (email, done["records"])
            for (email, _), rid in zip(pairs, updates, strict=True)
            if (done := wait_done(srv, rid))["result"] != "Success"
        ]
        assert not failed, f"{len(failed)} updates not applied: {failed[:3]}"
        for email, i in pairs[:: len(pairs) // 10]:
            assert view(srv, email).json()["result"]["attributes"]["AGE"] == i
    finally:
        for worker in workers:
            worker.stop()
        srv.stop()
