"""Every method of `cee_client.Client` against a real `cee serve` (each backend)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from cee_client import Client, errors

from tests.conftest import Server, unique_email
from tests.web.util import HEX32, stored_contact


def name(tag: str) -> str:
    return f"{tag}-{uuid.uuid4().hex[:8]}"


def test_base_url_is_the_servers(cee: Client, shared_server: Server) -> None:
    assert cee.base_url == shared_server.base


def test_addsync_creates_and_view_reads_it_back(cee: Client, shared_server: Server) -> None:
    listid = cee.create_list(name("people"))
    email = unique_email("mike")
    requestid = cee.addsync({"EMAIL": email, "FIRST_NAME": "Mike", "CITY": "Pune"}, listid)
    assert HEX32.fullmatch(requestid)
    contact = cee.view(email)
    assert contact.primary_key == email
    assert contact.attributes["FIRST_NAME"] == "Mike"
    assert contact.attributes["CITY"] == "Pune"
    assert contact.lists == [listid]
    assert contact.blacklisted == {"email": False}
    assert contact.created_at and contact.updated_at
    assert stored_contact(shared_server, email) is not None


def test_add_is_applied_in_the_background_and_wait_sees_it_done(cee: Client) -> None:
    email = unique_email("async")
    requestid = cee.add({"EMAIL": email, "NAME": "Asha"})
    status = cee.wait(requestid, timeout=30)
    assert status.done and status.state == "done"
    assert status.requestid == requestid
    assert status.result == "Success"
    assert status.records is not None and [r.ok for r in status.records] == [True]
    assert cee.view(email).attributes["NAME"] == "Asha"


def test_request_status_of_an_async_request(cee: Client) -> None:
    requestid = cee.add({"EMAIL": unique_email("st")})
    status = cee.request_status(requestid)
    assert status.requestid == requestid
    assert status.state in {"queued", "running", "done"}


def test_wait_reports_each_failed_record_of_an_async_request(cee: Client) -> None:
    good = unique_email("g")
    report = cee.add_many([{"EMAIL": good}, {"EMAIL": "not-an-email"}], mode="async")
    [requestid] = report.requestids
    status = cee.wait(requestid, timeout=30)
    assert status.result == "Partial"
    assert status.records is not None
    first, second = status.records
    assert first.ok and first.index == 0
    assert not second.ok and second.index == 1 and second.error_code == 422
    assert second.details and "EMAIL" in second.details


def test_update_merges_attributes_in_the_background(cee: Client) -> None:
    email = unique_email("upd")
    cee.addsync({"EMAIL": email, "FIRST_NAME": "Ann", "CITY": "Goa"})
    requestid = cee.update({"EMAIL": email, "CITY": "Delhi"})
    status = cee.wait(requestid, timeout=30)
    assert status.result == "Success"
    attributes = cee.view(email).attributes
    assert attributes["CITY"] == "Delhi" and attributes["FIRST_NAME"] == "Ann"


def test_update_of_an_absent_contact_is_a_404_record(cee: Client) -> None:
    status = cee.wait(cee.update({"EMAIL": unique_email("absent")}), timeout=30)
    assert status.result == "Failed"
    assert status.records is not None and status.records[0].error_code == 404


def test_updatesync_merges_now(cee: Client) -> None:
    email = unique_email("upds")
    cee.addsync({"EMAIL": email, "CITY": "Goa"})
    cee.updatesync({"EMAIL": email, "CITY": "Agra"})
    assert cee.view(email).attributes["CITY"] == "Agra"
    with pytest.raises(errors.NotFound):
        cee.updatesync({"EMAIL": unique_email("nobody")})


def test_delete_removes_from_the_list_only(cee: Client) -> None:
    listname = name("leavers")
    listid = cee.create_list(listname)
    email = unique_email("del")
    cee.addsync({"EMAIL": email}, listid=listid)
    cee.delete(email, listid)
    assert cee.view(email).lists == []
    assert {i.listname: i.count for i in cee.lists()}[listname] == 0


def test_blacklist_and_unblacklist(cee: Client) -> None:
    email = unique_email("bl")
    cee.blacklist(email)  # an unknown contact is created blacklisted
    assert cee.view(email).blacklisted == {"email": True}
    cee.unblacklist(email)
    assert cee.view(email).blacklisted == {"email": False}


def test_lists_and_empty_list(cee: Client) -> None:
    listname = name("weekly")
    listid = cee.create_list(listname)
    for _ in range(3):
        cee.addsync({"EMAIL": unique_email("m")}, listid=listid)
    [info] = [i for i in cee.lists() if i.listid == listid]
    assert (info.listname, info.count) == (listname, 3)
    cee.empty_list(listname)
    assert {i.listid: i.count for i in cee.lists()}[listid] == 0


def test_empty_list_in_the_background(cee: Client) -> None:
    listname = name("bg")
    listid = cee.create_list(listname)
    cee.addsync({"EMAIL": unique_email("m")}, listid=listid)
    cee.empty_list(listname, background=True)
    for _ in range(200):  # the background emptying takes the worker's next turn
        if {i.listid: i.count for i in cee.lists()}[listid] == 0:
            break
        time.sleep(0.05)
    assert {i.listid: i.count for i in cee.lists()}[listid] == 0


def test_create_attribute_and_attributes(cee: Client) -> None:
    attr = f"PLAN_{uuid.uuid4().hex[:6].upper()}"
    created = cee.create_attribute(attr.lower(), "textline")
    assert (created.name, created.datatype) == (attr, "textline")
    everything = {a.name: a for a in cee.attributes()}
    assert everything[attr].datatype == "textline" and not everything[attr].builtin
    assert everything["EMAIL"].builtin
    email = unique_email("attr")
    cee.addsync({"EMAIL": email, attr: "gold"})
    assert cee.view(email).attributes[attr] == "gold"


def test_erase_forgets_the_contact(cee: Client) -> None:
    email = unique_email("gone")
    cee.addsync({"EMAIL": email})
    assert HEX32.fullmatch(cee.erase(email))
    with pytest.raises(errors.NotFound):
        cee.view(email)


def test_user_summary_has_attributes_and_activity(cee: Client) -> None:
    email = unique_email("sum")
    cee.addsync({"EMAIL": email, "CITY": "Agra"})
    today = datetime.now(UTC).date()
    summary = cee.user_summary(email, today - timedelta(days=1), today + timedelta(days=1))
    assert summary.primary_key == email
    assert summary.attributes["CITY"] == "Agra"
    assert summary.activity and summary.activity[0]["activity"] == "addsync"
    # DDMMYYYY text, as Netcore documents it, works as well as a date.
    again = cee.user_summary(email, today.strftime("%d%m%Y"), today.strftime("%d%m%Y"))
    assert again.attributes == summary.attributes
