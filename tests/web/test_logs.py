"""Structured logs: CEE_LOG_FORMAT=json, the access log line per request, and no key in them.

Logging is the same code whatever the database, so these run on SQLite only.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Database, Server, unique_email


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Database:
    return Database("sqlite", tmp_path)


def start(database: Database, **env: str) -> Server:
    srv = Server(database, extra_env=env)
    srv.init()
    srv.start()
    return srv


@pytest.fixture
def json_server(sqlite_db: Database) -> Iterator[Server]:
    srv = start(sqlite_db, CEE_LOG_FORMAT="json")
    yield srv
    srv.stop()


def json_lines(server: Server) -> list[dict[str, Any]]:
    out = []
    for line in server.log.read_text().splitlines():
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


def wait_for_line(server: Server, requestid: str) -> dict[str, Any]:
    deadline = time.monotonic() + 15  # access lines are written in batches, 0.2 s apart
    while time.monotonic() < deadline:
        for line in json_lines(server):
            if line.get("requestid") == requestid:
                return line
        time.sleep(0.1)
    raise AssertionError(f"no log line with requestid {requestid}:\n{server.log.read_text()}")


def test_json_access_line_carries_the_request_and_never_the_key(json_server: Server) -> None:
    server = json_server
    resp = server.api(
        query={"type": "contact", "activity": "addsync"},
        form={"data": json.dumps({"EMAIL": unique_email("log")})},
    )
    assert resp.status_code == 200, resp.text
    line = wait_for_line(server, resp.json()["requestid"])
    assert line["level"] == "info" and line["logger"] == "cee.access"
    assert line["type"] == "contact" and line["activity"] == "addsync"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] > 0
    assert line["account_id"] == server.creds["account_id"]
    assert server.api_key.startswith(line["key_prefix"]) and line["key_prefix"] != server.api_key
    assert line["time"].endswith("Z") and line["time"][:2] == "20"
    # An error is logged too, with its status; and a wrong key is never written down either.
    wrong = "cee_" + "x" * 40
    refused = server.api(key=wrong, query={"type": "contact", "activity": "addsync"})
    assert wait_for_line(server, refused.json()["requestid"])["status"] == 401
    text = server.log.read_text()
    assert server.api_key not in text and wrong not in text
    # Every line the server wrote (uvicorn's start-up lines included) is one JSON object.
    for raw in text.splitlines():
        if raw.strip() and not raw.startswith(
            ("initialised", "CEE serving", "Try:", "  curl", "Panel:")
        ):
            assert raw.startswith("{"), raw


def test_the_access_log_can_be_turned_off(sqlite_db: Database) -> None:
    server = start(sqlite_db, CEE_LOG_FORMAT="json", CEE_ACCESS_LOG="0")
    try:
        resp = server.api(query={"type": "lists", "activity": "getalllist"})
        assert resp.status_code == 200, resp.text
        time.sleep(0.6)
        assert not [line for line in json_lines(server) if line.get("logger") == "cee.access"]
    finally:
        server.stop()


def test_text_access_line_by_default(sqlite_db: Database) -> None:
    server = start(sqlite_db)
    try:
        resp = server.api(query={"type": "lists", "activity": "getalllist"})
        requestid = resp.json()["requestid"]
        deadline = time.monotonic() + 15
        while f"requestid={requestid}" not in server.log.read_text():
            assert time.monotonic() < deadline, server.log.read_text()
            time.sleep(0.1)
        line = next(x for x in server.log.read_text().splitlines() if requestid in x)
        assert "type=lists activity=getalllist status=200" in line
        assert server.api_key not in server.log.read_text()
    finally:
        server.stop()
