"""JSON `null` as an attribute value (PHP clients send it for empty fields): it clears, as "" does.

Never a 422 and never the text "null" in the database, on the sync and the async paths alike.
"""

from __future__ import annotations

import httpx

from tests.conftest import Server, unique_email
from tests.ingest.util import accepted, call, wait_done
from tests.web.util import addsync, assert_records, assert_success, stored_contact

# The bytes a PHP client's json_encode makes of an array with an empty (null) field.
PHP_DATA = '{{"EMAIL":"{email}","NAME":"Ann","CITY":null,"AGE":null}}'


def test_addsync_with_null_values_stores_neither_null_nor_text(shared_server: Server) -> None:
    email = unique_email("null-add")
    assert_success(addsync(shared_server, PHP_DATA.format(email=email)))
    assert stored_contact(shared_server, email) == (email, {"EMAIL": email, "NAME": "Ann"})


def test_a_null_clears_an_attribute_on_every_write_path(shared_server: Server) -> None:
    email = unique_email("null-clear")
    full = {"EMAIL": email, "NAME": "Ann", "CITY": "Pune", "AGE": 30, "LAST_NAME": "Roy"}
    assert_success(addsync(shared_server, full))
    body = {"data": f'{{"EMAIL": "{email}", "CITY": null}}'}
    assert_success(call(shared_server, {"type": "contact", "activity": "updatesync"}, body))
    assert "CITY" not in stored_contact(shared_server, email)[1]  # type: ignore[index]
    for activity, name in (("add", "AGE"), ("update", "NAME")):
        body = {"data": f'{{"EMAIL": "{email}", "{name}": null}}'}
        rid = accepted(call(shared_server, {"type": "contact", "activity": activity}, body))
        assert wait_done(shared_server, rid)["result"] == "Success"
    # A JSON body (ext) whose data is structured: the null arrives as Python's None.
    resp = httpx.post(
        shared_server.base + "/apiv2",
        params={"type": "contact", "activity": "updatesync", "apikey": shared_server.api_key},
        json={"data": {"EMAIL": email, "LAST_NAME": None}},
    )
    assert_success(resp)
    assert stored_contact(shared_server, email) == (email, {"EMAIL": email})


def test_null_in_an_array_is_a_clear_per_record(shared_server: Server) -> None:
    first, second = unique_email("null-a"), unique_email("null-b")
    data = f'[{{"EMAIL": "{first}", "NAME": null}}, {{"EMAIL": "{second}", "CITY": null}}]'
    assert_records(addsync(shared_server, data), "Success", [None, None])
    assert stored_contact(shared_server, first) == (first, {"EMAIL": first})
    assert stored_contact(shared_server, second) == (second, {"EMAIL": second})
