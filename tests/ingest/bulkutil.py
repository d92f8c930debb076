"""Helpers of the bulkupload tests: a server allowed to fetch from loopback, waiting on jobs."""

from __future__ import annotations

import time
from typing import Any

from tests.conftest import Database, Server

# The loopback file server is the only host these servers may fetch from.
ALLOW_LOOPBACK = {"CEE_BULK_ALLOW_HOSTS": "127.0.0.1", "CEE_BULK_CALLBACK_BACKOFF": "0.1"}


def start_server(database: Database, serve_args: tuple[str, ...] = (), **env: str) -> Server:
    srv = Server(database, {**ALLOW_LOOPBACK, **env})
    srv.init()
    srv.start(*serve_args)
    return srv


def upload(server: Server, path: str, **params: Any) -> str:
    answer = server.api(query={"type": "contact", "activity": "bulkupload", "path": path, **params})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["result"] == "Success"
    return str(body["requestid"])


def status(server: Server, requestid: str, **params: Any) -> dict[str, Any]:
    answer = server.api(
        query={"type": "request", "activity": "status", "requestid": requestid, **params}
    )
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()["result"]
    return result


def wait_for(server: Server, requestid: str, state: str = "done", timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        found = status(server, requestid)
        if found["state"] == state:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"job {requestid} not {state} after {timeout}s: {found}")
        time.sleep(0.05)


def view(server: Server, key: str) -> dict[str, Any] | None:
    answer = server.api(query={"type": "contact", "activity": "view", "data": key})
    if answer.status_code == 404:
        return None
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()["result"]
    return result
