"""Every error row of CONTRACT.md section 3 that addsync, lists and attributes can produce.

Bad input must never be a 500 or show a stack trace: each case gets its contract code, the
contract's envelope, and a `details` that names the field at fault.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.conftest import Server, unique_email
from tests.web.util import (
    addsync,
    assert_error,
    assert_records,
    assert_success,
    dumps,
    server_log,
    stored_contact,
)

ADDSYNC = {"type": "contact", "activity": "addsync"}
MIB = 1024 * 1024


def _post(
    server: Server,
    *,
    query: dict[str, Any] | None = None,
    raw_query: str = "",
    **kwargs: Any,
) -> httpx.Response:
    """POST /apiv2 with the key in the query (unless given) and anything httpx takes."""
    if raw_query:
        # Escapes httpx would otherwise re-encode go into the URL exactly as written.
        return httpx.post(f"{server.base}/apiv2?{raw_query}", timeout=30, **kwargs)
    params = {"apikey": server.api_key, **(query or {})}
    return httpx.post(server.base + "/apiv2", params=params, timeout=30, **kwargs)


def _form(server: Server, body: bytes, ctype: str = "application/x-www-form-urlencoded") -> Any:
    return _post(server, query=ADDSYNC, content=body, headers={"Content-Type": ctype})


def _multipart(fields: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = "cee-test-boundary"
    parts = b"".join(
        b'--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n'
        % (boundary.encode(), name.encode(), value)
        for name, value in fields
    )
    return parts + b"--%s--\r\n" % boundary.encode(), f"multipart/form-data; boundary={boundary}"


Case = Callable[[Server], httpx.Response]

# (id, request, error_code, words the details must contain)
CASES: list[tuple[str, Case, int, tuple[str, ...]]] = [
    # -- 400: type and activity ----------------------------------------------------------
    ("type missing", lambda s: _post(s, query={"activity": "addsync"}), 400, ("type", "missing")),
    ("type empty", lambda s: _post(s, query={"type": " ", "activity": "x"}), 400, ("type",)),
    ("type unknown", lambda s: _post(s, query={"type": "contacts"}), 400, ("type", "contacts")),
    ("activity missing", lambda s: _post(s, query={"type": "contact"}), 400, ("activity",)),
    (
        "activity unknown",
        lambda s: _post(s, query={"type": "contact", "activity": "explode"}),
        400,
        ("activity", "explode"),
    ),
    (
        "activity of another type",
        lambda s: _post(s, query={"type": "lists", "activity": "addsync"}),
        400,
        ("activity", "addsync"),
    ),
    (
        "type as a JSON list",
        lambda s: _post(s, json={"type": ["contact"], "activity": "addsync"}),
        400,
        ("type", "text"),
    ),
    # -- 400: data -----------------------------------------------------------------------
    ("data missing", lambda s: _post(s, query=ADDSYNC), 400, ("data", "missing")),
    ("data empty", lambda s: _post(s, query=ADDSYNC, data={"data": ""}), 400, ("data",)),
    (
        "data malformed JSON",
        lambda s: _post(s, query=ADDSYNC, data={"data": '{"EMAIL": "a@b.com"'}),
        400,
        ("data", "JSON"),
    ),
    (
        "data not JSON at all",
        lambda s: _post(s, query=ADDSYNC, data={"data": "EMAIL=a@b.com"}),
        400,
        ("data", "JSON"),
    ),
    ("data a number", lambda s: _post(s, query=ADDSYNC, data={"data": "42"}), 400, ("data",)),
    (
        "data a JSON string",
        lambda s: _post(s, query=ADDSYNC, data={"data": '"a@b.com"'}),
        400,
        ("data", "string"),
    ),
    ("data null", lambda s: _post(s, query=ADDSYNC, data={"data": "null"}), 400, ("data",)),
    ("data true", lambda s: _post(s, query=ADDSYNC, data={"data": "true"}), 400, ("data",)),
    ("data an empty array", lambda s: _post(s, query=ADDSYNC, data={"data": "[]"}), 400, ("data",)),
    (
        "data number in JSON body",
        lambda s: _post(s, query=ADDSYNC, json={"data": 7}),
        400,
        ("data",),
    ),
    (
        "data too deeply nested",
        lambda s: _post(s, query=ADDSYNC, data={"data": "[" * 5000 + "]" * 5000}),
        400,
        ("data",),
    ),
    (
        "data with an infinite number",
        lambda s: _post(s, query=ADDSYNC, data={"data": '{"EMAIL": "a@b.com", "AGE": 1e999}'}),
        400,
        ("data",),
    ),
    # -- 400: listid ---------------------------------------------------------------------
    (
        "listid abc",
        lambda s: _post(
            s, query=ADDSYNC, data={"data": dumps({"EMAIL": unique_email()}), "listid": "abc"}
        ),
        400,
        ("listid", "integer"),
    ),
    (
        "listid a decimal",
        lambda s: _post(
            s, query=ADDSYNC, data={"data": dumps({"EMAIL": unique_email()}), "listid": "1.5"}
        ),
        400,
        ("listid",),
    ),
    (
        "listid a JSON list",
        lambda s: _post(s, query=ADDSYNC, json={"data": {"EMAIL": unique_email()}, "listid": [1]}),
        400,
        ("listid",),
    ),
    (
        "listid a JSON boolean",
        lambda s: _post(s, query=ADDSYNC, json={"data": {"EMAIL": unique_email()}, "listid": True}),
        400,
        ("listid",),
    ),
    # -- 400: bodies ---------------------------------------------------------------------
    (
        "JSON body malformed",
        lambda s: _form(s, b'{"data": ', "application/json"),
        400,
        ("body", "JSON"),
    ),
    ("JSON body an array", lambda s: _form(s, b"[1, 2]", "application/json"), 400, ("body",)),
    (
        "JSON-labelled body neither JSON nor a form",
        lambda s: _form(s, b"hello there", "application/json"),
        400,
        ("body", "JSON"),
    ),
    (
        "JSON-labelled body half a form",
        lambda s: _form(s, b"data=x&oops", "application/json"),
        400,
        ("body", "JSON"),
    ),
    (
        "multipart without boundary",
        lambda s: _form(s, b"data=x", "multipart/form-data"),
        400,
        ("body", "boundary"),
    ),
    (
        "multipart malformed",
        lambda s: _form(s, b"garbage", "multipart/form-data; boundary=zz"),
        400,
        ("body", "multipart"),
    ),
    ("method PUT", lambda s: s.api("PUT", query=ADDSYNC), 400, ("method", "PUT")),
    ("method DELETE", lambda s: s.api("DELETE", query=ADDSYNC), 400, ("method", "DELETE")),
    ("method PATCH", lambda s: s.api("PATCH", query=ADDSYNC), 400, ("method", "PATCH")),
    # -- 400: bytes that are not UTF-8, named by parameter ---------------------------------
    (
        "non-UTF-8 data in the query",
        lambda s: _post(s, raw_query=f"type=contact&activity=addsync&apikey={s.api_key}&data=%FF"),
        400,
        ("data", "UTF-8"),
    ),
    (
        "non-UTF-8 listid in the query",
        lambda s: _post(
            s, raw_query=f"type=contact&activity=addsync&apikey={s.api_key}&listid=%C3%28"
        ),
        400,
        ("listid", "UTF-8"),
    ),
    (
        "non-UTF-8 apikey in the query",
        lambda s: _post(s, raw_query="type=contact&activity=addsync&apikey=cee_%FF%FE"),
        400,
        ("apikey", "UTF-8"),
    ),
    (
        "non-UTF-8 type in the query",
        lambda s: _post(s, raw_query=f"type=con%E9tact&activity=addsync&apikey={s.api_key}"),
        400,
        ("type", "UTF-8"),
    ),
    (
        "non-UTF-8 parameter name",
        lambda s: _post(s, raw_query=f"type=contact&activity=addsync&apikey={s.api_key}&d%FF=1"),
        400,
        ("parameter name", "UTF-8"),
    ),
    (
        "non-UTF-8 percent-encoded in a url-encoded body",
        lambda s: _form(s, b"data=%7B%22EMAIL%22%3A%22%E9%40b.com%22%7D"),
        400,
        ("data", "UTF-8"),
    ),
    (
        "non-UTF-8 raw bytes in a url-encoded body",
        lambda s: _form(s, b'data={"EMAIL":"a@b.com","NAME":"Jos\xe9"}'),
        400,
        ("data", "UTF-8"),
    ),
    (
        "non-UTF-8 bytes in a body sent as text/plain",
        lambda s: _form(s, b'data={"NAME":"\xff"}', "text/plain"),
        400,
        ("data", "UTF-8"),
    ),
    (
        "non-UTF-8 bytes in a multipart field",
        lambda s: _form(s, *_multipart([("data", b'{"EMAIL":"\xff@b.com"}')])),
        400,
        ("data", "UTF-8"),
    ),
    (
        "non-UTF-8 bytes in a multipart listid",
        lambda s: _form(s, *_multipart([("data", b'{"EMAIL":"a@b.com"}'), ("listid", b"\xc3")])),
        400,
        ("listid", "UTF-8"),
    ),
    # -- 404 -----------------------------------------------------------------------------
    (
        "listid not a list",
        lambda s: _post(
            s, query=ADDSYNC, data={"data": dumps({"EMAIL": unique_email()}), "listid": "424242"}
        ),
        404,
        ("listid", "424242"),
    ),
    (
        "listid beyond 64 bits",
        lambda s: _post(
            s, query=ADDSYNC, data={"data": dumps({"EMAIL": unique_email()}), "listid": "9" * 30}
        ),
        404,
        ("listid",),
    ),
    # -- 413 -----------------------------------------------------------------------------
    (
        "a body over 10 MiB",
        lambda s: _form(s, b"data=" + b"x" * (10 * MIB)),
        413,
        ("body", str(10 * MIB)),
    ),
    (
        "a chunked body over 10 MiB",
        lambda s: _post(
            s,
            query=ADDSYNC,
            content=iter([b"data="] + [b"x" * MIB] * 11),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ),
        413,
        ("body", str(10 * MIB)),
    ),
    (
        "1,001 contacts",
        lambda s: _post(s, query=ADDSYNC, data={"data": dumps([{"EMAIL": unique_email()}] * 1001)}),
        413,
        ("data", "1001", "1000"),
    ),
    # -- 422 -----------------------------------------------------------------------------
    (
        "an unknown attribute",
        lambda s: addsync(s, {"EMAIL": unique_email(), "SHOE_SIZE": 44}),
        422,
        ("SHOE_SIZE", "not defined"),
    ),
    (
        "32years is not an integer",
        lambda s: addsync(s, {"EMAIL": unique_email(), "AGE": "32years"}),
        422,
        ("AGE", "integer"),
    ),
    (
        "a boolean is not an integer",
        lambda s: addsync(s, {"EMAIL": unique_email(), "AGE": True}),
        422,
        ("AGE", "integer"),
    ),
    (
        "a decimal is not an integer",
        lambda s: addsync(s, {"EMAIL": unique_email(), "AGE": 2.5}),
        422,
        ("AGE", "integer"),
    ),
    ("a bad email", lambda s: addsync(s, {"EMAIL": "mike@"}), 422, ("EMAIL", "email")),
    (
        "the primary key missing",
        lambda s: addsync(s, {"NAME": "Mike"}),
        422,
        ("EMAIL", "primary key"),
    ),
    ("the primary key empty", lambda s: addsync(s, {"EMAIL": ""}), 422, ("EMAIL",)),
    ("the primary key a number", lambda s: addsync(s, {"EMAIL": 5}), 422, ("EMAIL", "email")),
    (
        "an object for text",
        lambda s: addsync(s, {"EMAIL": unique_email(), "NAME": {"a": 1}}),
        422,
        ("NAME", "text"),
    ),
    (
        "an array for text",
        lambda s: addsync(s, {"EMAIL": unique_email(), "CITY": ["Pune"]}),
        422,
        ("CITY", "text"),
    ),
    # JSON null is not here: it clears the attribute (tests/web/test_apiv2_null_values.py).
    (
        "a NUL character in text",
        lambda s: addsync(s, {"EMAIL": unique_email(), "NAME": "a\u0000b"}),
        422,
        ("NAME", "NUL"),
    ),
    (
        "text over 255 characters",
        lambda s: addsync(s, {"EMAIL": unique_email(), "CITY": "x" * 256}),
        422,
        ("CITY", "255"),
    ),
    (
        "not a phone number",
        lambda s: addsync(s, {"EMAIL": unique_email(), "MOBILE": "call me"}),
        422,
        ("MOBILE", "phone"),
    ),
    (
        "a name given twice in two cases",
        lambda s: addsync(s, {"EMAIL": unique_email(), "NAME": "a", "name": "b"}),
        422,
        ("NAME",),
    ),
    # -- 302 -----------------------------------------------------------------------------
    (
        "a built-in attribute defined again",
        lambda s: _post(
            s,
            query={
                "type": "attributes",
                "activity": "create",
                "name": "age",
                "datatype": "integer",
            },
        ),
        302,
        ("AGE",),
    ),
]


@pytest.mark.parametrize(
    ("make", "code", "mentions"),
    [pytest.param(make, code, words, id=name) for name, make, code, words in CASES],
)
def test_bad_input_gets_its_contract_error(
    shared_server: Server, make: Case, code: int, mentions: tuple[str, ...]
) -> None:
    assert_error(make(shared_server), code, *mentions)


def test_no_bad_input_left_a_stack_trace_in_the_log(shared_server: Server) -> None:
    for _, make, code, _ in CASES:
        if code != 413:  # the big bodies were sent above; no need to send them twice
            assert make(shared_server).status_code == code
    assert "Traceback" not in server_log(shared_server)


@pytest.mark.parametrize("key", ["", "cee_wrong", "x" * 5000, "' OR 1=1 --"])
def test_an_invalid_key_is_the_documented_401(shared_server: Server, key: str) -> None:
    resp = addsync(shared_server, {"EMAIL": unique_email()}, key=key)
    body = assert_error(resp, 401)
    assert {k: v for k, v in body.items() if k != "requestid"} == {
        "status": "error",
        "error_code": 401,
        "result": "Invalid API key",
        "details": "Invalid API key",
    }


def test_no_key_at_all_is_401(shared_server: Server) -> None:
    resp = httpx.post(shared_server.base + "/apiv2", params=ADDSYNC, data={"data": "{}"})
    assert_error(resp, 401, "Invalid API key")


def test_an_invalid_key_is_refused_before_the_request_is_judged(shared_server: Server) -> None:
    # A stranger learns nothing about the parameters: 401 whatever else is wrong.
    resp = httpx.post(shared_server.base + "/apiv2", params={"type": "nope", "apikey": "bad"})
    assert_error(resp, 401)


def test_a_single_invalid_contact_stores_nothing(shared_server: Server) -> None:
    email = unique_email("half")
    assert_error(addsync(shared_server, {"EMAIL": email, "NAME": "ok", "AGE": "x"}), 422, "AGE")
    assert stored_contact(shared_server, email) is None
    assert_success(addsync(shared_server, {"EMAIL": email}))


def test_an_array_of_numbers_fails_every_record_by_index(shared_server: Server) -> None:
    resp = addsync(shared_server, [1, 2, "three"])
    records = assert_records(resp, "Failed", [422, 422, 422])
    for record in records:
        assert "data" in record["details"] and "object" in record["details"]


def test_another_path_is_a_json_404_with_a_requestid(shared_server: Server) -> None:
    assert_error(httpx.get(shared_server.base + "/apiv3"), 404, "/apiv3")


def test_a_wrong_method_elsewhere_is_a_json_405_with_a_requestid(shared_server: Server) -> None:
    resp = httpx.post(shared_server.base + "/health")
    assert_error(resp, 405, "method", "POST", "/health")
    assert set(resp.headers["allow"].split(", ")) == {"GET", "HEAD"}  # Starlette's, kept
