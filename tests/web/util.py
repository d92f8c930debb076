"""Helpers the /apiv2 tests share: the contract's answer shapes and reading stored contacts."""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from typing import Any

import httpx
import orjson

from tests.conftest import Server

HEX32 = re.compile(r"[0-9a-f]{32}")
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _common(resp: httpx.Response) -> dict[str, Any]:
    """What every /apiv2 answer has: JSON, and a requestid in the body and the header."""
    assert resp.headers["content-type"] == "application/json", resp.headers
    assert "Traceback" not in resp.text
    body: dict[str, Any] = resp.json()
    assert HEX32.fullmatch(body["requestid"]), body
    assert resp.headers["x-request-id"] == body["requestid"]
    return body


def assert_success(resp: httpx.Response) -> dict[str, Any]:
    """The seed's Response 1, exactly: 200 and {requestid, result: Success}."""
    assert resp.status_code == 200, resp.text
    body = _common(resp)
    assert body == {"requestid": body["requestid"], "result": "Success"}
    return body


def assert_error(resp: httpx.Response, code: int, *mentions: str) -> dict[str, Any]:
    """The contract's error envelope: HTTP status == error_code, details naming the field."""
    assert resp.status_code == code, resp.text
    body = _common(resp)
    keys = {"status", "error_code", "details", "requestid"}
    if code == 401:
        keys.add("result")
        assert body["result"] == "Invalid API key"
    assert set(body) == keys, body
    assert body["status"] == "error"
    assert body["error_code"] == code
    assert isinstance(body["details"], str) and body["details"]
    for word in mentions:
        assert word in body["details"], (word, body["details"])
    if code == 302:
        assert "location" not in resp.headers
    return body


def assert_records(resp: httpx.Response, result: str, codes: list[int | None]) -> list[Any]:
    """A multi-contact answer: 200, the result word, one entry per record in input order."""
    assert resp.status_code == 200, resp.text
    body = _common(resp)
    assert set(body) == {"requestid", "result", "records"}, body
    assert body["result"] == result
    records: list[dict[str, Any]] = body["records"]
    assert [r["index"] for r in records] == list(range(len(codes)))
    for record, code in zip(records, codes, strict=True):
        if code is None:
            assert record == {"index": record["index"], "result": "Success"}
        else:
            assert set(record) == {"index", "status", "error_code", "details"}, record
            assert record["status"] == "error"
            assert record["error_code"] == code, record
    return records


def dumps(data: Any) -> str:
    return orjson.dumps(data).decode()


def addsync(
    server: Server,
    data: Any,
    *,
    listid: Any = None,
    key: str | None = None,
    method: str = "POST",
) -> httpx.Response:
    """addsync with `data` (JSON-encoded unless already a string) in the url-encoded body."""
    form: dict[str, Any] = {"data": data if isinstance(data, str) else dumps(data)}
    if listid is not None:
        form["listid"] = str(listid)
    query = {"type": "contact", "activity": "addsync"}
    if method == "GET":
        return server.api("GET", query={**query, **form}, key=key)
    return server.api(method, query=query, form=form, key=key)


def create_list(server: Server, name: str, key: str | None = None) -> int:
    resp = server.api(query={"type": "lists", "activity": "create", "listname": name}, key=key)
    assert resp.status_code == 200, resp.text
    return int(resp.json()["result"]["listid"])


def new_list(server: Server, tag: str) -> tuple[str, int]:
    """A list with a unique name made for one test: (its name, its listid)."""
    name = f"{tag}-{uuid.uuid4().hex[:8]}"
    return name, create_list(server, name)


def list_counts(server: Server, key: str | None = None) -> dict[str, int]:
    """{list name: member count} as getalllist reports it."""
    resp = server.api(query={"type": "lists", "activity": "getalllist"}, key=key)
    assert resp.status_code == 200, resp.text
    return {row["listname"]: row["count"] for row in resp.json()["result"]}


def create_attribute(server: Server, name: str, datatype: str) -> None:
    resp = server.api(
        query={"type": "attributes", "activity": "create", "name": name, "datatype": datatype}
    )
    assert resp.status_code == 200, resp.text


def stored_contact(
    server: Server, match_key: str, account_id: int = 1
) -> tuple[str, dict[str, Any]] | None:
    """(value as first given, attributes) of a contact straight from the database, or None."""
    sql = "SELECT key_display, attributes FROM contacts WHERE account_id = {p} AND match_key = {p}"
    if server.db.url:  # PostgreSQL
        import psycopg

        with psycopg.connect(server.db.url) as conn:
            row = conn.execute(sql.format(p="%s"), (account_id, match_key)).fetchone()
    else:
        path = server.db.data_dir / "cee.db"
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = conn.execute(sql.format(p="?"), (account_id, match_key)).fetchone()
        finally:
            conn.close()
    if row is None:
        return None
    attributes = row[1] if isinstance(row[1], dict) else json.loads(row[1])
    return str(row[0]), attributes


def server_log(server: Server) -> str:
    return server.log.read_text(errors="replace") if server.log.exists() else ""
