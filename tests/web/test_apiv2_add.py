"""type=contact&activity=add (async upsert) and type=request&activity=status, over real HTTP."""

from __future__ import annotations

import json
import time

import pytest

from tests.conftest import Database, Server, run_cli, unique_email
from tests.ingest.util import (
    WorkerProcess,
    accepted,
    add,
    form,
    history,
    send_all,
    status,
    view,
    wait_all_done,
    wait_done,
)
from tests.web.util import addsync, assert_error, assert_success, create_list


def test_add_is_applied_and_joins_the_list(shared_server: Server) -> None:
    listid = create_list(shared_server, f"add-{unique_email('l')}")
    email = unique_email("add")
    rid = accepted(add(shared_server, {"EMAIL": email, "NAME": "Ann"}, listid=listid))
    done = wait_done(shared_server, rid)
    assert done == {
        "requestid": rid,
        "state": "done",
        "result": "Success",
        "records": [{"index": 0, "result": "Success"}],
    }
    contact = view(shared_server, email).json()["result"]
    assert contact["attributes"] == {"EMAIL": email, "NAME": "Ann"}
    assert contact["lists"] == [listid]


def test_add_merges_into_an_existing_contact(shared_server: Server) -> None:
    email = unique_email("merge")
    assert_success(addsync(shared_server, {"EMAIL": email, "NAME": "Old", "CITY": "Pune"}))
    rid = accepted(add(shared_server, {"email": email.upper(), "NAME": "New", "AGE": "41"}))
    assert wait_done(shared_server, rid)["result"] == "Success"
    contact = view(shared_server, email).json()["result"]
    # Given attributes replace, the others stay; the key keeps its first spelling.
    assert contact["primary_key"] == email
    attributes = contact["attributes"]
    assert attributes == {"EMAIL": email.upper(), "NAME": "New", "CITY": "Pune", "AGE": 41}
    # "" clears an attribute.
    rid = accepted(add(shared_server, {"EMAIL": email, "CITY": ""}))
    wait_done(shared_server, rid)
    assert "CITY" not in view(shared_server, email).json()["result"]["attributes"]


def test_status_reports_a_bad_record_of_a_mixed_array_by_index(shared_server: Server) -> None:
    good, other = unique_email("g"), unique_email("o")
    data = [
        {"EMAIL": good, "NAME": "Good"},
        {"EMAIL": "not-an-email", "NAME": "Bad"},
        {"EMAIL": other, "UNDEFINED_ATTR": "x"},
        {"NAME": "no key"},
        {"EMAIL": other, "AGE": "forty"},
    ]
    rid = accepted(add(shared_server, data))
    done = wait_done(shared_server, rid)
    assert done["result"] == "Partial"
    records = done["records"]
    assert [r["index"] for r in records] == [0, 1, 2, 3, 4]
    assert records[0] == {"index": 0, "result": "Success"}
    for record, word in zip(records[1:], ["EMAIL", "UNDEFINED_ATTR", "EMAIL", "AGE"], strict=True):
        assert record["status"] == "error"
        assert record["error_code"] == 422
        assert word in record["details"]
    assert view(shared_server, good).status_code == 200
    assert view(shared_server, other).status_code == 404  # failed records leave no trace


@pytest.mark.parametrize(
    ("data", "code", "word"),
    [
        ("{not json", 400, "not valid JSON"),
        ('"just a string"', 400, "expected a JSON object"),
        ("[]", 400, "empty array"),
        (None, 400, "missing"),
    ],
)
def test_a_request_level_problem_fails_the_request(
    shared_server: Server, data: str | None, code: int, word: str
) -> None:
    params = {} if data is None else {"data": data}
    resp = shared_server.api(query={"type": "contact", "activity": "add"}, form=params)
    done = wait_done(shared_server, accepted(resp))
    assert done["result"] == "Failed"
    assert len(done["records"]) == 1
    assert done["records"][0]["error_code"] == code
    assert word in done["records"][0]["details"]


def test_a_bad_listid_fails_every_record(shared_server: Server) -> None:
    emails = [unique_email("lid") for _ in range(2)]
    data = [{"EMAIL": e} for e in emails]
    for listid, code in (("abc", 400), ("987654", 404)):
        done = wait_done(shared_server, accepted(add(shared_server, data, listid=listid)))
        assert done["result"] == "Failed"
        assert [r["error_code"] for r in done["records"]] == [code, code]
        assert all("listid" in r["details"] for r in done["records"])
    assert all(view(shared_server, e).status_code == 404 for e in emails)


def test_too_many_records_fail_with_413(shared_server: Server) -> None:
    data = [{"EMAIL": f"n{i}-{unique_email()}"} for i in range(1001)]
    done = wait_done(shared_server, accepted(add(shared_server, data)))
    assert done["result"] == "Failed"
    assert done["records"][0]["error_code"] == 413


def test_add_is_case_insensitive_and_takes_json_bodies(shared_server: Server) -> None:
    email = unique_email("json")
    resp = shared_server.api(
        query={"type": "Contact", "activity": "Add"},
        json={"data": {"EMAIL": email, "NAME": "Jay"}},
    )
    wait_done(shared_server, accepted(resp))
    assert view(shared_server, email).json()["result"]["attributes"]["NAME"] == "Jay"


def test_add_refuses_bad_keys(shared_server: Server) -> None:
    data = {"EMAIL": unique_email()}
    assert_error(add(shared_server, data, key="cee_not-a-key"), 401)
    assert_error(add(shared_server, data, key=""), 401)


def test_add_with_api_mode_off_is_403(server: Server) -> None:
    server.cli("account", "api-mode", "off")
    assert_error(add(server, {"EMAIL": unique_email()}), 403, "API Mode")


def test_add_body_over_the_limit_is_413(database: Database) -> None:
    srv = Server(database, {"CEE_MAX_BODY_BYTES": "2000"})
    srv.init()
    srv.start()
    try:
        big = {"EMAIL": unique_email(), "NAME": "x" * 3000}
        assert_error(add(srv, big), 413)
    finally:
        srv.stop()


def test_status_goes_from_queued_to_done(database: Database) -> None:
    srv = Server(database)
    srv.init()
    srv.start("--no-worker")
    try:
        email = unique_email("q")
        rid = accepted(add(srv, {"EMAIL": email}))
        time.sleep(0.3)
        queued = status(srv, rid).json()["result"]
        assert queued == {"requestid": rid, "state": "queued", "result": None, "records": None}
        out = json.loads(srv.cli("status", "--json").stdout)
        assert out["journal_depth"] == 1
        assert out["oldest_age_seconds"] > 0
        worker = WorkerProcess(srv)
        try:
            assert wait_done(srv, rid)["result"] == "Success"
        finally:
            worker.stop()
        assert worker.proc.returncode == 0
        assert view(srv, email).status_code == 200
        assert json.loads(srv.cli("status", "--json").stdout)["journal_depth"] == 0
    finally:
        srv.stop()


def test_status_errors(server: Server) -> None:
    rid = accepted(add(server, {"EMAIL": unique_email()}))
    wait_done(server, rid)
    assert_error(status(server, "0" * 32), 404, "requestid")
    assert_error(server.api(query={"type": "request", "activity": "status"}), 400, "requestid")
    assert_error(status(server, rid, key="cee_wrong"), 401)
    # Another account's key cannot see this account's request.
    other = json.loads(run_cli(server.db, "account", "create", "other", "--json").stdout)
    assert_error(status(server, rid, key=other["api_key"]), 404)


def test_back_pressure_answers_429_with_retry_after(database: Database) -> None:
    srv = Server(database, {"CEE_JOURNAL_MAX_DEPTH": "3"})
    srv.init()
    srv.start("--no-worker")
    try:
        for _ in range(3):
            accepted(add(srv, {"EMAIL": unique_email()}))
        resp = add(srv, {"EMAIL": unique_email()})
        assert_error(resp, 429, "journal")
        assert int(resp.headers["retry-after"]) >= 1
        # Sync writes are not held back by the async journal.
        assert_success(addsync(srv, {"EMAIL": unique_email()}))
    finally:
        srv.stop()


def test_parallel_adds_for_the_same_emails_end_as_one_contact_each(server: Server) -> None:
    listid = create_list(server, "same")
    emails = [unique_email(f"same{i}") for i in range(3)]
    forms = [form({"EMAIL": emails[i % 3], "NAME": f"v{i}"}, listid) for i in range(90)]
    rids = [accepted(r) for r in send_all(server, forms, concurrency=32)]
    wait_all_done(server, rids)
    lists = server.api(query={"type": "lists", "activity": "getalllist"}).json()["result"]
    assert lists == [{"listid": listid, "listname": "same", "count": 3}]
    for n, email in enumerate(emails):
        mine = {rid for i, rid in enumerate(rids) if i % 3 == n}
        steps = history(server, email)
        # Every request changed NAME, so every one is in the history, exactly once.
        assert sorted(s["requestid"] for s in steps) == sorted(mine)
        names = [s["changes"]["NAME"] for s in steps]
        assert names[0][0] is None
        assert all(names[i][0] == names[i - 1][1] for i in range(1, len(names)))
        assert view(server, email).json()["result"]["attributes"]["NAME"] == names[-1][1]
        assert all(s["activity"] == "add" for s in steps)
