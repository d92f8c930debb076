"""updatesync, delete, view, (un)blacklist, emptylist and the privacy activities over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from tests.conftest import Server, unique_email
from tests.ingest.util import call, history, view, wait_done
from tests.web.util import addsync, assert_error, assert_success, create_list, list_counts


def contact(server: Server, activity: str, data: Any = None, **extra: Any) -> Any:
    body: dict[str, Any] = dict(extra)
    if data is not None:
        body["data"] = data if isinstance(data, str) else orjson.dumps(data).decode()
    return call(server, {"type": "contact", "activity": activity}, body)


def new_contact(server: Server, listid: int | None = None, **attributes: Any) -> str:
    email = unique_email("act")
    assert_success(addsync(server, {"EMAIL": email, **attributes}, listid=listid))
    return email


# -- updatesync-----------------------------------------------------------------------------------


def test_updatesync_merges_into_an_existing_contact(shared_server: Server) -> None:
    email = new_contact(shared_server, NAME="Old", CITY="Pune")
    listid = create_list(shared_server, unique_email("upd"))
    assert_success(
        contact(shared_server, "updatesync", {"EMAIL": email, "NAME": "New"}, listid=listid)
    )
    result = view(shared_server, email).json()["result"]
    assert result["attributes"] == {"EMAIL": email, "NAME": "New", "CITY": "Pune"}
    assert result["lists"] == [listid]
    [created, updated] = history(shared_server, email)
    assert created["activity"] == "addsync"
    assert updated["activity"] == "updatesync"
    assert updated["changes"] == {"NAME": ["Old", "New"], "_list_joined": listid}


def test_updatesync_of_an_absent_contact_is_404_and_creates_nothing(shared_server: Server) -> None:
    email = unique_email("absent")
    assert_error(contact(shared_server, "updatesync", {"EMAIL": email, "NAME": "X"}), 404, email)
    assert view(shared_server, email).status_code == 404


def test_updatesync_array_reports_absent_contacts_per_record(shared_server: Server) -> None:
    there, absent = new_contact(shared_server), unique_email("absent")
    resp = contact(shared_server, "updatesync", [{"EMAIL": there, "AGE": 3}, {"EMAIL": absent}])
    body = resp.json()
    assert resp.status_code == 200 and body["result"] == "Partial"
    assert body["records"][0] == {"index": 0, "result": "Success"}
    assert body["records"][1]["error_code"] == 404


@pytest.mark.parametrize(
    ("data", "extra", "code", "word"),
    [
        (None, {}, 400, "data"),
        ("{nope", {}, 400, "data"),
        ({"EMAIL": "broken"}, {}, 422, "EMAIL"),
        ({"EMAIL": "x@example.com", "NOPE": 1}, {}, 422, "NOPE"),
        ({"EMAIL": "x@example.com"}, {"listid": "one"}, 400, "listid"),
        ({"EMAIL": "x@example.com"}, {"listid": "99999"}, 404, "listid"),
    ],
)
def test_updatesync_errors(
    shared_server: Server, data: Any, extra: dict[str, str], code: int, word: str
) -> None:
    assert_error(contact(shared_server, "updatesync", data, **extra), code, word)


# -- delete (remove from a list) -----------------------------------------------------------------


@pytest.mark.parametrize("shape", ["bare", "object"])
def test_delete_removes_from_the_list_and_keeps_the_contact(
    shared_server: Server, shape: str
) -> None:
    keep, drop = (
        create_list(shared_server, unique_email("k")),
        create_list(shared_server, unique_email("d")),
    )
    email = new_contact(shared_server, listid=keep)
    assert_success(contact(shared_server, "updatesync", {"EMAIL": email}, listid=drop))
    data: Any = email.upper() if shape == "bare" else {"email": email}
    assert_success(contact(shared_server, "delete", data, listid=drop))
    result = view(shared_server, email).json()["result"]
    assert result["lists"] == [keep]
    assert history(shared_server, email)[-1]["changes"] == {"_list_left": drop}


def test_delete_errors(shared_server: Server) -> None:
    listid = create_list(shared_server, unique_email("del"))
    email = new_contact(shared_server)
    assert_error(contact(shared_server, "delete", email), 400, "listid")
    assert_error(contact(shared_server, "delete", email, listid="x"), 400, "listid")
    assert_error(contact(shared_server, "delete", email, listid="99999"), 404, "listid")
    assert_error(contact(shared_server, "delete", email, listid=listid), 404, "not in list")
    absent = unique_email("absent")
    assert_error(contact(shared_server, "delete", absent, listid=listid), 404, absent)
    assert_error(contact(shared_server, "delete", None, listid=listid), 400, "data")
    assert_error(contact(shared_server, "delete", "not-an-email", listid=listid), 422, "EMAIL")
    assert_error(contact(shared_server, "delete", {"NAME": "x"}, listid=listid), 400, "EMAIL")


# -- view ----------------------------------------------------------------------------------------


def test_view_answers_the_contract_shape(shared_server: Server) -> None:
    listid = create_list(shared_server, unique_email("view"))
    email = new_contact(shared_server, listid=listid, NAME="Vi", AGE="30")
    for data in (email, f" {email.upper()} ", {"EMAIL": email}, orjson.dumps(email).decode()):
        resp = contact(shared_server, "view", data)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert set(body) == {"status", "result", "requestid"}
        result = body["result"]
        assert body["status"] == "success"
        assert set(result) == {
            "primary_key",
            "attributes",
            "lists",
            "blacklisted",
            "created_at",
            "updated_at",
        }
        assert result["primary_key"] == email
        assert result["attributes"] == {"EMAIL": email, "NAME": "Vi", "AGE": 30}
        assert result["lists"] == [listid]
        assert result["blacklisted"] == {"email": False}
        created = datetime.fromisoformat(result["created_at"])
        assert abs(datetime.now(UTC) - created) < timedelta(minutes=5)
        assert result["updated_at"] >= result["created_at"]


@pytest.mark.parametrize(
    ("data", "code", "word"),
    [
        (None, 400, "data"),
        ("{broken", 400, "data"),
        ({"NAME": "no key"}, 400, "EMAIL"),
        ("not-an-email", 422, "EMAIL"),
        ("nobody-here@example.com", 404, "nobody-here@example.com"),
    ],
)
def test_view_errors(shared_server: Server, data: Any, code: int, word: str) -> None:
    assert_error(contact(shared_server, "view", data), code, word)


# -- blacklist / unblacklist ---------------------------------------------------------------------


def test_blacklist_and_unblacklist(shared_server: Server) -> None:
    email = new_contact(shared_server, NAME="Bea")
    assert_success(contact(shared_server, "blacklist", email))
    assert view(shared_server, email).json()["result"]["blacklisted"] == {"email": True}
    assert_success(contact(shared_server, "blacklist", {"EMAIL": email}))  # again: no change
    assert_success(contact(shared_server, "unblacklist", email))
    result = view(shared_server, email).json()["result"]
    assert result["blacklisted"] == {"email": False}
    assert result["attributes"]["NAME"] == "Bea"
    changes = [h["changes"] for h in history(shared_server, email)[1:]]
    assert changes == [{"_blacklisted": [False, True]}, {"_blacklisted": [True, False]}]


def test_blacklisting_an_unknown_contact_creates_it(shared_server: Server) -> None:
    email = unique_email("bl")
    assert_success(contact(shared_server, "blacklist", email))
    result = view(shared_server, email).json()["result"]
    assert result["attributes"] == {"EMAIL": email}
    assert result["blacklisted"] == {"email": True}


@pytest.mark.parametrize("activity", ["blacklist", "unblacklist"])
def test_blacklist_errors(shared_server: Server, activity: str) -> None:
    assert_error(contact(shared_server, activity, None), 400, "data")
    assert_error(contact(shared_server, activity, "not-an-email"), 422, "EMAIL")
    if activity == "unblacklist":
        absent = unique_email("absent")
        assert_error(contact(shared_server, activity, absent), 404, absent)
        assert view(shared_server, absent).status_code == 404


# -- emptylist -----------------------------------------------------------------------------------


def emptylist(server: Server, **params: str) -> Any:
    return call(server, {"type": "lists", "activity": "emptylist", **params})


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_emptylist_removes_every_member(shared_server: Server, mode: str) -> None:
    name = unique_email("empty")
    listid = create_list(shared_server, name)
    emails = [new_contact(shared_server, listid=listid) for _ in range(3)]
    extra = {"async": "1"} if mode == "async" else {}
    resp = emptylist(shared_server, listname=name, **extra)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    # Async says accepted, not done (Netcore's wording for async work).
    said = "Your request was accepted successfully" if mode == "async" else None
    assert body == {
        "status": "success",
        "details": said or f"List name {name} emptied successfully",
        "requestid": body["requestid"],
    }
    if mode == "async":
        assert wait_done(shared_server, body["requestid"])["result"] == "Success"
    assert list_counts(shared_server)[name] == 0
    for email in emails:  # the contacts stay
        result = view(shared_server, email).json()["result"]
        assert result["lists"] == []
        assert history(shared_server, email)[-1]["changes"] == {"_list_left": listid}


def test_emptylist_errors(shared_server: Server) -> None:
    assert_error(emptylist(shared_server), 400, "listname")
    assert_error(emptylist(shared_server, listname="no such list"), 404, "no such list")
    assert_error(emptylist(shared_server, listname="no such list", **{"async": "1"}), 404)


# -- privacy: erasure and export -----------------------------------------------------------------


def erase(server: Server, primary_key: str | None) -> Any:
    query = {"type": "erasure_user_data", "activity": "request_erasure_data"}
    if primary_key is not None:
        query["primary_key"] = primary_key
    return call(server, query)


def export(server: Server, data: Any) -> Any:
    body = data if isinstance(data, str) else orjson.dumps(data).decode()
    return call(
        server, {"type": "export_data", "activity": "get_user_summary_data"}, {"data": body}
    )


def test_erasure_removes_the_contact_and_its_history(shared_server: Server) -> None:
    listid = create_list(shared_server, unique_email("er"))
    email = new_contact(shared_server, listid=listid, NAME="Gone")
    assert_success(erase(shared_server, email.upper()))
    assert view(shared_server, email).status_code == 404
    assert export(shared_server, {"primary_key": email}).status_code == 404
    assert_success(erase(shared_server, email))  # idempotent: a retry is not a failure
    # The same key later starts from nothing: no history survives the erasure.
    email_again = email
    assert_success(addsync(shared_server, {"EMAIL": email_again}))
    assert len(history(shared_server, email_again)) == 1


def test_erasure_errors(shared_server: Server) -> None:
    assert_error(erase(shared_server, None), 400, "primary_key")
    assert_error(erase(shared_server, "not-an-email"), 422, "EMAIL")


def test_export_gives_attributes_and_history_in_range(shared_server: Server) -> None:
    email = new_contact(shared_server, NAME="Ex")
    assert_success(contact(shared_server, "updatesync", {"EMAIL": email, "NAME": "Ex2"}))
    today = datetime.now(UTC)
    day = today.strftime("%d%m%Y")
    resp = export(shared_server, {"primary_key": email, "from_date": day, "to_date": day})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["status"] == "success"
    assert body["primary_key"] == email
    data = body["result"]["user_data"]
    assert data["attribute_data"] == {"EMAIL": email, "NAME": "Ex2"}
    activity = data["activity_data"]
    assert [a["activity"] for a in activity] == ["addsync", "updatesync"]
    assert activity[1]["changes"] == {"NAME": ["Ex", "Ex2"]}
    assert all(a["key_prefix"] and len(a["requestid"]) == 32 for a in activity)
    tomorrow = (today + timedelta(days=1)).strftime("%d%m%Y")
    later = export(shared_server, {"primary_key": email, "from_date": tomorrow})
    assert later.json()["result"]["user_data"]["activity_data"] == []


@pytest.mark.parametrize(
    ("data", "code", "word"),
    [
        ("{broken", 400, "data"),
        ("[1]", 400, "data"),
        ({"from_date": "01012024"}, 400, "primary_key"),
        ({"primary_key": "x@example.com", "from_date": "2024-01-01"}, 400, "from_date"),
        (
            {"primary_key": "x@example.com", "from_date": "02012024", "to_date": "01012024"},
            400,
            "to_date",
        ),
        ({"primary_key": "nobody-here@example.com"}, 404, "nobody-here@example.com"),
        ({"primary_key": "not-an-email"}, 422, "EMAIL"),
    ],
)
def test_export_errors(shared_server: Server, data: Any, code: int, word: str) -> None:
    assert_error(export(shared_server, data), code, word)


# -- every activity of this issue: keys and API Mode ---------------------------------------------

ACTIVITIES = [
    ("contact", "add"),
    ("contact", "update"),
    ("contact", "updatesync"),
    ("contact", "delete"),
    ("contact", "view"),
    ("contact", "blacklist"),
    ("contact", "unblacklist"),
    ("lists", "emptylist"),
    ("request", "status"),
    ("erasure_user_data", "request_erasure_data"),
    ("export_data", "get_user_summary_data"),
    ("export_data", "get_user_activity_data"),
    ("export_data", "get_user_channel_activity_data"),
]


def test_every_activity_refuses_bad_keys_and_api_mode_off(server: Server) -> None:
    for kind, activity in ACTIVITIES:
        query = {"type": kind, "activity": activity}
        assert_error(call(server, query, key="cee_wrong"), 401)
        assert_error(call(server, query, key=""), 401)
    server.cli("account", "api-mode", "off")
    for kind, activity in ACTIVITIES:
        assert_error(call(server, {"type": kind, "activity": activity}), 403, "API Mode")
