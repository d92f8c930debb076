"""type=attributes (ext): create and getall, and what a defined attribute then accepts."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from tests.conftest import Server, unique_email
from tests.web.util import addsync, assert_error, assert_success, stored_contact

BUILTINS = {
    "EMAIL": "email",
    "MOBILE": "mobile",
    "NAME": "textline",
    "FIRST_NAME": "textline",
    "LAST_NAME": "textline",
    "CUSTOMER_ID": "textline",
    "AGE": "integer",
    "CITY": "textline",
}


def create(server: Server, name: Any, datatype: Any) -> httpx.Response:
    return server.api(
        query={"type": "attributes", "activity": "create", "name": name, "datatype": datatype}
    )


def getall(server: Server) -> dict[str, dict[str, Any]]:
    resp = server.api(query={"type": "attributes", "activity": "getall"})
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "success"
    assert resp.headers["x-request-id"] == body["requestid"]
    return {row["name"]: row for row in body["result"]}


def fresh_name(prefix: str = "ATTR") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}".upper()


def test_getall_lists_the_builtins(shared_server: Server) -> None:
    rows = getall(shared_server)
    for name, datatype in BUILTINS.items():
        assert rows[name]["datatype"] == datatype
        assert rows[name]["builtin"] is True


def test_create_upper_cases_the_name_and_answers_it(shared_server: Server) -> None:
    name = fresh_name("plan")
    resp = create(shared_server, name.lower(), "TextLine")
    assert resp.status_code == 200
    body = resp.json()
    assert body == {
        "status": "success",
        "details": f"Attribute {name} created",
        "result": {"name": name, "datatype": "textline"},
        "requestid": body["requestid"],
    }
    assert getall(shared_server)[name] == {"name": name, "datatype": "textline", "builtin": False}


def test_an_existing_name_in_any_case_is_302(shared_server: Server) -> None:
    name = fresh_name()
    assert create(shared_server, name, "integer").status_code == 200
    body = assert_error(create(shared_server, name.lower(), "decimal"), 302)
    assert body["details"] == f"Duplicate entry '{name}' for key 'attribute'"
    assert getall(shared_server)[name]["datatype"] == "integer"


def test_an_unknown_datatype_is_400_listing_the_choices(shared_server: Server) -> None:
    body = assert_error(create(shared_server, fresh_name(), "blob"), 400, "datatype", "blob")
    for choice in ("textline", "longtext", "integer", "decimal", "date", "url", "email", "mobile"):
        assert choice in body["details"]


@pytest.mark.parametrize("name", ["1ST", "has space", "dash-ed", "x" * 65, "Ünïcode"])
def test_a_name_that_is_no_identifier_is_400(shared_server: Server, name: str) -> None:
    assert_error(create(shared_server, name, "textline"), 400, "name")


def test_missing_name_or_datatype_is_400(shared_server: Server) -> None:
    resp = shared_server.api(query={"type": "attributes", "activity": "create", "name": "X"})
    assert_error(resp, 400, "datatype", "missing")
    resp = shared_server.api(
        query={"type": "attributes", "activity": "create", "datatype": "integer"}
    )
    assert_error(resp, 400, "name", "missing")


@pytest.mark.parametrize(
    ("datatype", "good", "stored", "bad"),
    [
        ("integer", "-42", -42, "32years"),
        ("decimal", "3.50", "3.50", "three"),
        ("date", "23-01-2013", "2013-01-23", "23/01/2013"),
        ("date", "2013-01-23", "2013-01-23", "23rd Jan 2013"),
        ("url", "https://example.com/a?b=c", "https://example.com/a?b=c", "ftp://example.com"),
        ("longtext", "x" * 1000, "x" * 1000, {"not": "text"}),
        ("email", "Other@Example.com", "Other@Example.com", "other@"),
        ("mobile", "+919999999999", "+919999999999", "12"),
    ],
)
def test_a_defined_attribute_checks_its_type(
    shared_server: Server, datatype: str, good: Any, stored: Any, bad: Any
) -> None:
    name = fresh_name(datatype)
    assert create(shared_server, name, datatype).status_code == 200
    email = unique_email(datatype)
    assert_error(addsync(shared_server, {"EMAIL": email, name: bad}), 422, name, datatype)
    assert stored_contact(shared_server, email) is None
    assert_success(addsync(shared_server, {"EMAIL": email, name: good}))
    contact = stored_contact(shared_server, email)
    assert contact is not None and contact[1][name] == stored


def test_attributes_are_per_account(server: Server) -> None:
    name = fresh_name("mine")
    assert create(server, name, "integer").status_code == 200
    other = server.cli("account", "create", "other-account", "--json")
    other_key = json.loads(other.stdout)["api_key"]
    resp = server.api(query={"type": "attributes", "activity": "getall"}, key=other_key)
    assert name not in {row["name"] for row in resp.json()["result"]}
    assert_error(addsync(server, {"EMAIL": unique_email(), name: 1}, key=other_key), 422, name)
    # And the other account may define the same name with another type.
    resp = server.api(
        query={"type": "attributes", "activity": "create", "name": name, "datatype": "date"},
        key=other_key,
    )
    assert resp.status_code == 200
    assert getall(server)[name]["datatype"] == "integer"
