"""Idempotency-Key (ext) on write activities, against a real server on each backend (and
SQLite under --processes, where the claim goes through the writer process)."""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any

import httpx

from tests.conftest import Server, unique_email
from tests.web.util import assert_error, assert_success, dumps, stored_contact


def new_key() -> str:
    return f"retry-{uuid.uuid4().hex}"


def addsync(server: Server, email: str, key: str | None, **extra: str) -> httpx.Response:
    headers = {"Idempotency-Key": key} if key else {}
    return server.api(
        query={"type": "contact", "activity": "addsync"},
        form={"data": dumps({"EMAIL": email}), **extra},
        headers=headers,
    )


def history_count(server: Server, email: str) -> int:
    resp = server.api(
        query={"type": "export_data", "activity": "get_user_summary_data"},
        form={"data": dumps({"primary_key": email})},
    )
    assert resp.status_code == 200, resp.text
    return len(resp.json()["result"]["user_data"]["activity_data"])


def test_a_retried_addsync_replays_the_first_answer_never_a_302(shared_server: Server) -> None:
    server = shared_server
    email, key = unique_email("idem"), new_key()
    first = addsync(server, email, key)
    body = assert_success(first)
    assert "idempotent-replayed" not in first.headers
    again = addsync(server, email, key)
    assert again.status_code == 200, again.text  # not the 302 a second create would get
    assert again.json() == body
    assert again.headers["x-request-id"] == body["requestid"]
    assert again.headers["idempotent-replayed"] == "true"
    assert history_count(server, email) == 1
    # Without the header nothing changes for a Netcore client: the duplicate is a 302.
    assert_error(addsync(server, email, None), 302, email)


def test_the_same_key_with_another_request_is_422_naming_the_header(shared_server: Server) -> None:
    server = shared_server
    key = new_key()
    assert_success(addsync(server, unique_email("a"), key))
    other = unique_email("b")
    assert_error(addsync(server, other, key), 422, "Idempotency-Key")
    assert stored_contact(server, other) is None  # refused, not applied
    view = server.api(
        query={"type": "lists", "activity": "create", "listname": f"l-{uuid.uuid4().hex[:6]}"},
        headers={"Idempotency-Key": key},
    )
    assert_error(view, 422, "Idempotency-Key")


def test_an_error_answer_is_replayed_too(shared_server: Server) -> None:
    server = shared_server
    key = new_key()
    first = addsync(server, "not-an-email", key)
    body = assert_error(first, 422)
    again = addsync(server, "not-an-email", key)
    assert again.status_code == 422 and again.json() == body
    assert again.headers["idempotent-replayed"] == "true"


def test_concurrent_requests_with_one_key_apply_once(shared_server: Server) -> None:
    server = shared_server
    email, key = unique_email("race"), new_key()
    answers: list[httpx.Response] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def send() -> None:
        start.wait()
        resp = addsync(server, email, key)
        with lock:
            answers.append(resp)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status_code for r in answers] == [200] * 8, [r.text for r in answers]
    assert len({r.json()["requestid"] for r in answers}) == 1
    assert sum("idempotent-replayed" not in r.headers for r in answers) == 1
    assert history_count(server, email) == 1


def test_keys_belong_to_one_account(shared_server: Server) -> None:
    server = shared_server
    other: dict[str, Any] = json.loads(
        server.cli("account", "create", f"acct-{uuid.uuid4().hex[:6]}", "--json").stdout
    )
    key, email = new_key(), unique_email("acct")
    mine = assert_success(addsync(server, email, key))
    theirs = server.api(
        key=other["api_key"],
        query={"type": "contact", "activity": "addsync"},
        form={"data": dumps({"EMAIL": email})},
        headers={"Idempotency-Key": key},
    )
    assert_success(theirs)
    assert theirs.json()["requestid"] != mine["requestid"]
    assert "idempotent-replayed" not in theirs.headers


def test_add_is_journaled_once_and_reads_ignore_the_header(shared_server: Server) -> None:
    server = shared_server
    key, email = new_key(), unique_email("add")
    form = {"data": dumps({"EMAIL": email})}
    query = {"type": "contact", "activity": "add"}
    first = server.api(query=query, form=form, headers={"Idempotency-Key": key})
    again = server.api(query=query, form=form, headers={"Idempotency-Key": key})
    assert first.json() == again.json() and again.headers["idempotent-replayed"] == "true"
    view_query = {"type": "lists", "activity": "getalllist"}
    read = server.api(query=view_query, headers={"Idempotency-Key": key})
    assert read.status_code == 200 and "idempotent-replayed" not in read.headers


def test_v3_batchadd_replays_with_the_same_requestid(shared_server: Server) -> None:
    server = shared_server
    key = new_key()
    payload = {"data": [{"EMAIL": unique_email("v3")}]}
    headers = {"api-key": server.api_key, "Idempotency-Key": key}
    url = server.base + "/v3/contact/batchadd"
    first = httpx.post(url, json=payload, headers=headers, timeout=30)
    assert first.status_code == 200, first.text
    again = httpx.post(url, json=payload, headers=headers, timeout=30)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["x-request-id"] == first.json()["requestid"]
    changed = httpx.post(url, json={"data": [{"EMAIL": unique_email("v3")}]}, headers=headers)
    assert_error(changed, 422, "Idempotency-Key")


def test_a_malformed_key_is_400_naming_the_header(shared_server: Server) -> None:
    server = shared_server
    resp = addsync(server, unique_email("bad"), "x" * 300)
    assert_error(resp, 400, "Idempotency-Key")
