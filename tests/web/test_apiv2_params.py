"""Every client shape of CONTRACT.md section 1: where parameters come from, how encoded."""

from __future__ import annotations

from urllib.parse import quote, urlencode

import httpx

from tests.conftest import Server, unique_email
from tests.web.util import (
    FORM,
    addsync,
    assert_success,
    dumps,
    list_counts,
    new_list,
    stored_contact,
)

ADDSYNC = {"type": "contact", "activity": "addsync"}


def url(server: Server) -> str:
    return server.base + "/apiv2"


def test_post_urlencoded_with_everything_in_the_body(shared_server: Server) -> None:
    email = unique_email("body")
    form = {**ADDSYNC, "apikey": shared_server.api_key, "data": dumps({"EMAIL": email})}
    assert_success(httpx.post(url(shared_server), data=form))
    assert stored_contact(shared_server, email) is not None


def test_the_seeds_shape_data_and_listid_in_the_query_and_an_empty_body(
    shared_server: Server,
) -> None:
    name, listid = new_list(shared_server, "seed")
    email = unique_email("seedshape")
    data = {"FIRST_NAME": "Mike", "EMAIL": email, "MOBILE": 9999999999, "CUSTOMER_ID": "00000132"}
    query = urlencode(
        {**ADDSYNC, "apikey": shared_server.api_key, "data": dumps(data), "listid": listid},
        quote_via=quote,
    )
    resp = httpx.post(f"{url(shared_server)}?{query}", headers=FORM, content=b"")
    assert_success(resp)
    assert list_counts(shared_server)[name] == 1


def test_get_with_everything_in_the_query(shared_server: Server) -> None:
    name, listid = new_list(shared_server, "get")
    email = unique_email("get")
    assert_success(addsync(shared_server, {"EMAIL": email}, listid=listid, method="GET"))
    assert list_counts(shared_server)[name] == 1
    assert stored_contact(shared_server, email) is not None


def test_multipart_form_data(shared_server: Server) -> None:
    name, listid = new_list(shared_server, "mp")
    email = unique_email("mp")
    files = {
        "apikey": (None, shared_server.api_key),
        "data": (None, dumps({"EMAIL": email, "NAME": "Zoë"})),
        "listid": (None, str(listid)),
    }
    resp = httpx.post(url(shared_server), params=ADDSYNC, files=files)
    assert resp.request.headers["content-type"].startswith("multipart/form-data")
    assert_success(resp)
    stored = stored_contact(shared_server, email)
    assert stored is not None and stored[1]["NAME"] == "Zoë"
    assert list_counts(shared_server)[name] == 1


def test_a_json_body_with_data_as_a_string(shared_server: Server) -> None:
    email = unique_email("json-str")
    body = {"apikey": shared_server.api_key, "data": dumps({"EMAIL": email})}
    assert_success(httpx.post(url(shared_server), params=ADDSYNC, json=body))
    assert stored_contact(shared_server, email) is not None


def test_a_json_body_with_data_as_an_object_and_listid_a_number(shared_server: Server) -> None:
    name, listid = new_list(shared_server, "json")
    email = unique_email("json-obj")
    body = {
        **ADDSYNC,
        "apikey": shared_server.api_key,
        "data": {"EMAIL": email, "AGE": 41},
        "listid": listid,
    }
    assert_success(httpx.post(url(shared_server), json=body))
    stored = stored_contact(shared_server, email)
    assert stored is not None and stored[1]["AGE"] == 41
    assert list_counts(shared_server)[name] == 1


def test_a_json_body_with_data_as_an_array(shared_server: Server) -> None:
    emails = [unique_email("json-arr") for _ in range(2)]
    body = {"apikey": shared_server.api_key, "data": [{"EMAIL": e} for e in emails]}
    resp = httpx.post(url(shared_server), params=ADDSYNC, json=body)
    assert resp.status_code == 200 and resp.json()["result"] == "Success"
    for email in emails:
        assert stored_contact(shared_server, email) is not None


def _form_bytes(server: Server, email: str) -> bytes:
    return urlencode({"apikey": server.api_key, "data": dumps({"EMAIL": email})}).encode()


def test_a_form_body_without_a_content_type(shared_server: Server) -> None:
    email = unique_email("no-ctype")
    request = httpx.Request(
        "POST", url(shared_server), params=ADDSYNC, content=_form_bytes(shared_server, email)
    )
    assert "content-type" not in request.headers
    with httpx.Client() as client:
        assert_success(client.send(request))
    assert stored_contact(shared_server, email) is not None


def test_a_form_body_with_a_wrong_content_type(shared_server: Server) -> None:
    email = unique_email("text-plain")
    resp = httpx.post(
        url(shared_server),
        params=ADDSYNC,
        content=_form_bytes(shared_server, email),
        headers={"Content-Type": "text/plain; charset=utf-8"},
    )
    assert_success(resp)
    assert stored_contact(shared_server, email) is not None


def test_the_body_wins_over_the_query(shared_server: Server) -> None:
    name, listid = new_list(shared_server, "wins")
    email = unique_email("wins")
    query = {
        "type": "lists",
        "activity": "getalllist",
        "apikey": "cee_not-a-key",
        "data": "not json",
        "listid": "987654",
    }
    form = {
        **ADDSYNC,
        "apikey": shared_server.api_key,
        "data": dumps({"EMAIL": email}),
        "listid": str(listid),
    }
    assert_success(httpx.post(url(shared_server), params=query, data=form))
    assert list_counts(shared_server)[name] == 1


def test_apikey_in_query_and_data_in_the_body_mix(shared_server: Server) -> None:
    """The documentation's own split: type/activity/apikey in the query, data in the body."""
    email = unique_email("split")
    resp = shared_server.api(query=ADDSYNC, form={"data": dumps({"EMAIL": email})})
    assert_success(resp)


def test_type_and_activity_ignore_case(shared_server: Server) -> None:
    for kind, activity in (("contact", "Addsync"), ("CONTACT", "ADDSYNC"), ("Contact", "addSync")):
        resp = shared_server.api(
            query={"type": kind, "activity": activity},
            form={"data": dumps({"EMAIL": unique_email("case")})},
        )
        assert_success(resp)
    resp = shared_server.api(query={"type": "Lists", "activity": "GetAllList"})
    assert resp.status_code == 200 and resp.json()["status"] == "success"


def test_attribute_names_in_any_case_are_stored_upper_case(shared_server: Server) -> None:
    email = unique_email("names")
    data = {"email": email, "First_Name": "Mike", "city": "Pune", " age ": "7"}
    assert_success(addsync(shared_server, data))
    stored = stored_contact(shared_server, email)
    assert stored is not None
    assert stored[1] == {"EMAIL": email, "FIRST_NAME": "Mike", "CITY": "Pune", "AGE": 7}


def test_a_trailing_slash_on_the_path_is_the_same_endpoint(shared_server: Server) -> None:
    email = unique_email("slash")
    form = {**ADDSYNC, "apikey": shared_server.api_key, "data": dumps({"EMAIL": email})}
    assert_success(httpx.post(shared_server.base + "/apiv2/", data=form))


def test_every_answer_gets_a_fresh_requestid(shared_server: Server) -> None:
    seen = set()
    for _ in range(3):
        ok = addsync(shared_server, {"EMAIL": unique_email("rid")})
        bad = addsync(shared_server, {"EMAIL": "bad"})
        unauthorised = addsync(shared_server, {"EMAIL": unique_email()}, key="nope")
        for resp in (ok, bad, unauthorised):
            assert resp.headers["content-type"] == "application/json"
            rid = resp.json()["requestid"]
            assert resp.headers["x-request-id"] == rid
            seen.add(rid)
    assert len(seen) == 9


def test_a_form_body_labelled_application_json(shared_server: Server) -> None:
    """A Python client's `requests.post(url, data={...}, headers=JSON)`: a url-encoded form."""
    email = unique_email("form-as-json")
    resp = httpx.post(
        url(shared_server),
        params=ADDSYNC,
        content=_form_bytes(shared_server, email),
        headers={"Content-Type": "application/json"},
    )
    assert_success(resp)
    assert stored_contact(shared_server, email) is not None


def test_a_raw_form_labelled_application_json_as_netcores_curl_sends(
    shared_server: Server,
) -> None:
    """Netcore's curl example: `--header 'Content-Type: application/json' --data 'data={...}'`,
    the JSON left unescaped in the form value."""
    name, listid = new_list(shared_server, "raw-form")
    email = unique_email("raw-form")
    body = f'data={{"EMAIL": "{email}", "NAME": "Raw"}}&listid={listid}'.encode()
    resp = httpx.post(
        url(shared_server),
        params={**ADDSYNC, "apikey": shared_server.api_key},
        content=body,
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert_success(resp)
    assert stored_contact(shared_server, email) == (email, {"EMAIL": email, "NAME": "Raw"})
    assert list_counts(shared_server)[name] == 1
