"""type=lists: create (ext) and getalllist, against a real server."""

from __future__ import annotations

import uuid

import httpx

from tests.conftest import Server, unique_email
from tests.web.util import HEX32, addsync, assert_error, assert_success, list_counts


def create(server: Server, name: str) -> httpx.Response:
    return server.api(query={"type": "lists", "activity": "create", "listname": name})


def getalllist(server: Server) -> list[dict[str, object]]:
    resp = server.api(query={"type": "lists", "activity": "getalllist"})
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "success"
    assert HEX32.fullmatch(body["requestid"])
    assert resp.headers["x-request-id"] == body["requestid"]
    result: list[dict[str, object]] = body["result"]
    return result


def test_create_answers_the_new_listid_and_name(shared_server: Server) -> None:
    name = f"Newsletter {uuid.uuid4().hex[:8]}"
    resp = shared_server.api(query={"type": "lists", "activity": "create", "listname": name})
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/json"
    body = resp.json()
    listid = body["result"]["listid"]
    assert isinstance(listid, int) and listid > 0
    assert body == {
        "status": "success",
        "details": f"List {name} created",
        "result": {"listid": listid, "listname": name},
        "requestid": body["requestid"],
    }
    assert {"listid": listid, "listname": name, "count": 0} in getalllist(shared_server)


def test_a_second_list_of_the_same_name_is_302(shared_server: Server) -> None:
    name = f"twice-{uuid.uuid4().hex[:8]}"
    assert create(shared_server, name).status_code == 200
    resp = shared_server.api(query={"type": "lists", "activity": "create", "listname": name})
    body = assert_error(resp, 302)
    assert body["details"] == f"Duplicate entry '{name}' for key 'listname'"
    assert [r["listname"] for r in getalllist(shared_server)].count(name) == 1


def test_list_names_are_trimmed(shared_server: Server) -> None:
    name = f"trim-{uuid.uuid4().hex[:8]}"
    resp = shared_server.api(
        query={"type": "lists", "activity": "create", "listname": f"  {name} "}
    )
    assert resp.json()["result"]["listname"] == name
    resp = shared_server.api(query={"type": "lists", "activity": "create", "listname": name})
    assert_error(resp, 302, name)


def test_create_without_a_name_is_400(shared_server: Server) -> None:
    for query in ({}, {"listname": ""}, {"listname": "   "}):
        resp = shared_server.api(query={"type": "lists", "activity": "create", **query})
        assert_error(resp, 400, "listname", "missing")


def test_a_name_over_255_characters_is_400(shared_server: Server) -> None:
    resp = shared_server.api(query={"type": "lists", "activity": "create", "listname": "x" * 256})
    assert_error(resp, 400, "listname", "255")


def test_a_name_that_is_not_text_is_400(shared_server: Server) -> None:
    resp = shared_server.api(
        json={"type": "lists", "activity": "create", "listname": ["a", "b"]},
    )
    assert_error(resp, 400, "listname", "text")


def test_sql_looking_names_are_kept_verbatim(shared_server: Server) -> None:
    name = f"x'); DROP TABLE lists;-- {uuid.uuid4().hex[:6]}"
    resp = shared_server.api(query={"type": "lists", "activity": "create", "listname": name})
    assert resp.status_code == 200
    assert name in list_counts(shared_server)


def test_getalllist_counts_members(shared_server: Server) -> None:
    name = f"count-{uuid.uuid4().hex[:8]}"
    listid = create(shared_server, name).json()["result"]["listid"]
    emails = [unique_email("member") for _ in range(3)]
    for email in emails:
        assert_success(addsync(shared_server, {"EMAIL": email}, listid=listid))
    # A duplicate does not count twice.
    assert_error(addsync(shared_server, {"EMAIL": emails[0]}, listid=listid), 302)
    rows = {r["listid"]: r for r in getalllist(shared_server)}
    assert rows[listid] == {"listid": listid, "listname": name, "count": 3}


def test_getalllist_on_a_new_account_is_empty(server: Server) -> None:
    resp = server.api(query={"type": "lists", "activity": "getalllist"})
    body = resp.json()
    assert resp.status_code == 200
    assert body["status"] == "success" and body["result"] == []
