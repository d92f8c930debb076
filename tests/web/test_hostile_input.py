"""Issue 10's reproductions of hostile input over /apiv2, against a real server on each backend.

Each asserts the contract's answer and that an ordinary addsync sent meanwhile is answered
within 100 ms (`tests.web.hostile.alongside`): none of these may stall the event loop.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from tests.conftest import (
    BACKENDS,
    Database,
    Server,
    need_postgres,
    unique_email,
)
from tests.ingest.util import accepted, add, wait_done
from tests.web.hostile import alongside, assert_envelope, raw_request
from tests.web.util import addsync, assert_error, assert_records, create_attribute, new_list


@pytest.fixture(scope="module", params=BACKENDS)
def hostile_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    need_postgres(request.param)
    db = Database(str(request.param), tmp_path_factory.mktemp("hostile"))
    srv = Server(db)
    srv.init()
    srv.start()
    create_attribute(srv, "PRICE", "decimal")
    yield srv
    srv.stop()
    db.drop()


GIANT_DECIMALS = ["1e999999999", "1e99999999", "1e-999999999", "-1E+4000", "9" * 5000]


@pytest.mark.parametrize("value", GIANT_DECIMALS)
def test_a_giant_decimal_is_a_422_naming_the_attribute(hostile_server: Server, value: str) -> None:
    # `1e999999999` once made format(Decimal(v), "f") build a billion digits: 12-19 s of a
    # blocked loop, 1-2 GB, and a 500; `1e99999999` was stored as 100 MB.
    def send() -> httpx.Response:
        return addsync(hostile_server, {"EMAIL": unique_email("dec"), "PRICE": value})

    for resp in alongside(hostile_server, send):
        assert_error(resp, 422, "PRICE", "decimal")
    # In an array, a per-record 422; the other record is written.
    good = unique_email("dec-ok")
    data = [{"EMAIL": unique_email("dec"), "PRICE": value}, {"EMAIL": good, "PRICE": "12.50"}]
    assert_records(addsync(hostile_server, data), "Partial", [422, None])


def test_a_giant_decimal_on_add_is_a_per_record_422_at_once(hostile_server: Server) -> None:
    emails = [unique_email("dec-add") for _ in range(2)]
    data = [{"EMAIL": emails[0], "PRICE": "1e999999999"}, {"EMAIL": emails[1], "PRICE": "1.5"}]
    rids = alongside(hostile_server, lambda: accepted(add(hostile_server, data)), repeat=3)
    for rid in rids:
        # Judged once, at the first attempt: no 5 attempts of a blocked loop, no 500.
        done = wait_done(hostile_server, rid, timeout=10)
        assert done["result"] == "Partial", done
        bad, ok = done["records"]
        assert (bad["error_code"], ok) == (422, {"index": 1, "result": "Success"})
        assert "PRICE" in bad["details"]


def test_a_listid_of_5000_digits_is_the_contracts_404(hostile_server: Server) -> None:
    # Past Python's 4,300-digit int() limit: once a 500 on addsync and delete.
    giant = "7" * 5000
    email = unique_email("listid")

    def both() -> tuple[httpx.Response, httpx.Response]:
        sync = addsync(hostile_server, {"EMAIL": email}, listid=giant)
        query = {"type": "contact", "activity": "delete", "data": email, "listid": giant}
        return sync, hostile_server.api(query=query)

    for sync, delete in alongside(hostile_server, both):
        assert_error(sync, 404, "listid")
        assert_error(delete, 404, "listid")
        assert len(sync.json()["details"]) < 200  # the number is not echoed in full
    assert_error(addsync(hostile_server, {"EMAIL": email}, listid="12x"), 400, "listid")


def test_other_integer_parameters_are_bounded_by_length(hostile_server: Server) -> None:
    today = time.strftime("%d%m%Y")
    for name in ("batchsize", "batch_number"):
        data = {"primary_key": "a@example.com", "from_date": today, "to_date": today}
        query = {"type": "export_data", "activity": "get_user_activity_data"}
        form = {"data": orjson.dumps({**data, name: "9" * 5000}).decode()}
        assert_error(hostile_server.api(query=query, form=form), 400, name)


def test_a_listid_of_5000_digits_on_add_ends_failed_at_once(hostile_server: Server) -> None:
    # It was acknowledged, failed 5 attempts, then failed again while giving up: `running`
    # for ever, retried every 30 s, counting toward journal_max_depth.
    data = [{"EMAIL": unique_email("poison")}, {"EMAIL": unique_email("poison")}]
    rids = alongside(
        hostile_server, lambda: accepted(add(hostile_server, data, listid="9" * 5000)), repeat=3
    )
    started = time.monotonic()
    for rid in rids:
        done = wait_done(hostile_server, rid, timeout=10)
        assert done["result"] == "Failed"
        assert [(r["index"], r["error_code"]) for r in done["records"]] == [(0, 404), (1, 404)]
    assert time.monotonic() - started < 10
    # An ordinary add after it is applied: the poison holds nothing up.
    email = unique_email("after")
    assert wait_done(hostile_server, accepted(add(hostile_server, {"EMAIL": email})))["result"] == (
        "Success"
    )


def _journal_payloads(server: Server) -> list[dict[str, Any]]:
    sql = "SELECT payload FROM journal"
    if server.db.url:
        import psycopg

        with psycopg.connect(server.db.url) as conn:
            rows = conn.execute(sql).fetchall()
    else:
        conn = sqlite3.connect(f"file:{server.db.data_dir / 'cee.db'}?mode=ro", uri=True)
        try:
            rows = conn.execute(sql).fetchall()
        finally:
            conn.close()
    return [r[0] if isinstance(r[0], dict) else orjson.loads(r[0]) for r in rows]


def test_only_the_parameters_the_worker_reads_are_journaled(hostile_server: Server) -> None:
    key = hostile_server.api_key
    _, listid = new_list(hostile_server, "journaled")
    form = {
        "data": orjson.dumps({"EMAIL": unique_email("secret")}).decode(),
        "listid": str(listid),
        # A key under other spellings, and other secret-looking parameters.
        "APIKEY": key,
        "ApiKey": key,
        "api_key": key,
        "password": "hunter2-" + key,
        "token": "t-" + key,
    }
    query = {"type": "contact", "activity": "add"}
    rid = accepted(hostile_server.api(query=query, form=form))
    assert wait_done(hostile_server, rid)["result"] == "Success"
    payloads = _journal_payloads(hostile_server)
    assert payloads and all(set(p) <= {"data", "listid"} for p in payloads), payloads
    assert all(key not in orjson.dumps(p).decode() for p in payloads)
    if not hostile_server.db.url:
        # Nowhere in the SQLite files either: the database and its write-ahead log.
        folder = hostile_server.db.data_dir
        for path in [folder / "cee.db", folder / "cee.db-wal"]:
            if path.exists():
                assert key.encode() not in path.read_bytes(), path


BAD_KEY = "cee_not-a-valid-key"


def _with_bad_key(server: Server, method: str, body: bytes, content_type: str) -> httpx.Response:
    return httpx.request(
        method,
        server.base + "/apiv2",
        params={"apikey": BAD_KEY, "type": "contact", "activity": "addsync"},
        content=body,
        headers={"Content-Type": content_type},
        timeout=30,
    )


@pytest.mark.parametrize(
    ("method", "body", "content_type"),
    [
        ("POST", b"data={not json", "application/x-www-form-urlencoded"),
        ("POST", b"{not json", "application/json"),
        ("POST", b'data={"NAME":"\xff"}', "application/x-www-form-urlencoded"),
        ("PUT", b"data=%7B%7D", "application/x-www-form-urlencoded"),
        ("DELETE", b"", "application/x-www-form-urlencoded"),
        ("POST", b"--x\r\nbroken", "multipart/form-data; boundary=x"),
    ],
    ids=["bad form", "bad JSON", "not UTF-8", "PUT", "DELETE", "bad multipart"],
)
def test_a_bad_key_in_the_query_is_a_401_whatever_else_is_wrong(
    hostile_server: Server, method: str, body: bytes, content_type: str
) -> None:
    assert_error(_with_bad_key(hostile_server, method, body, content_type), 401)


def test_a_bad_key_in_the_query_is_a_401_before_an_oversized_body_is_read(
    hostile_server: Server,
) -> None:
    # The client writes its whole body before reading (httpx does): it still gets the answer.
    body = b"data=" + b"x" * (11 * 1024 * 1024)
    resp = _with_bad_key(hostile_server, "POST", body, "application/x-www-form-urlencoded")
    assert_error(resp, 401)
    assert resp.headers["connection"] == "close"


def test_a_key_in_the_body_can_only_be_read_with_the_body(hostile_server: Server) -> None:
    # Over the limit, the body is refused unread: the 413 comes first, the key is never seen.
    body = b"apikey=" + BAD_KEY.encode() + b"&data=" + b"x" * (11 * 1024 * 1024)
    head = (
        b"POST /apiv2?type=contact&activity=addsync HTTP/1.1\r\nHost: cee\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body)
    )
    assert_envelope(raw_request(hostile_server.port, head + body), 413, "limit")
    # A body that cannot be parsed cannot give a key: the 400 names it.
    resp = httpx.post(
        hostile_server.base + "/apiv2",
        content=b'apikey=x&data={"NAME":"\xff"}',
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_error(resp, 400, "data", "UTF-8")
