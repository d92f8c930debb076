"""Helpers for the async path's tests: send `add`s, wait for them, read outcomes and history."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from typing import Any

import httpx
import orjson

from tests.conftest import CEE, Server


def add(server: Server, data: Any, *, listid: Any = None, key: str | None = None) -> httpx.Response:
    """activity=add with `data` (JSON-encoded unless already a string) in the body."""
    form: dict[str, Any] = {"data": data if isinstance(data, str) else orjson.dumps(data).decode()}
    if listid is not None:
        form["listid"] = str(listid)
    return call(server, {"type": "contact", "activity": "add"}, form, key)


def accepted(resp: httpx.Response) -> str:
    """The requestid of an accepted async request (the seed's Response 1 shape)."""
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body == {"requestid": body["requestid"], "result": "Success"}, body
    assert resp.headers["x-request-id"] == body["requestid"]
    return str(body["requestid"])


# One pooled client: a fresh httpx client per call costs tens of milliseconds (TLS setup),
# which polling hundreds of request statuses cannot afford.
_client = httpx.Client(timeout=30)


def call(
    server: Server,
    query: dict[str, Any],
    form: dict[str, Any] | None = None,
    key: str | None = None,
) -> httpx.Response:
    """POST /apiv2 on a pooled connection; `query` in the URL, `form` in the body."""
    params = {"apikey": key if key is not None else server.api_key, **query}
    return _client.post(server.base + "/apiv2", params=params, data=form)


def status(server: Server, requestid: str, key: str | None = None) -> httpx.Response:
    return call(server, {"type": "request", "activity": "status", "requestid": requestid}, key=key)


def wait_done(server: Server, requestid: str, timeout: float = 30.0) -> dict[str, Any]:
    """Poll request status until the request is done; its `result` object."""
    deadline = time.monotonic() + timeout
    while True:
        resp = status(server, requestid)
        assert resp.status_code == 200, resp.text
        result: dict[str, Any] = resp.json()["result"]
        if result["state"] == "done":
            return result
        assert time.monotonic() < deadline, f"request {requestid} not done: {result}"
        time.sleep(0.05)


def wait_all_done(server: Server, requestids: list[str], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    for rid in requestids:
        wait_done(server, rid, max(deadline - time.monotonic(), 0.1))


def view(server: Server, primary_key: str, key: str | None = None) -> httpx.Response:
    return call(server, {"type": "contact", "activity": "view"}, {"data": primary_key}, key)


def history(server: Server, primary_key: str) -> list[dict[str, Any]]:
    """The contact's change history, oldest first, through the privacy export."""
    resp = call(
        server,
        {"type": "export_data", "activity": "get_user_summary_data"},
        {"data": orjson.dumps({"primary_key": primary_key}).decode()},
    )
    assert resp.status_code == 200, resp.text
    activity: list[dict[str, Any]] = resp.json()["result"]["user_data"]["activity_data"]
    return activity


async def _send_all(
    server: Server, forms: list[dict[str, str]], activity: str, concurrency: int
) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=concurrency)
    gate = asyncio.Semaphore(concurrency)
    params = {"apikey": server.api_key, "type": "contact", "activity": activity}
    async with httpx.AsyncClient(base_url=server.base, limits=limits, timeout=60) as client:

        async def one(form: dict[str, str]) -> httpx.Response:
            async with gate:
                return await client.post("/apiv2", params=params, data=form)

        return await asyncio.gather(*(one(f) for f in forms))


def send_all(
    server: Server, forms: list[dict[str, str]], activity: str = "add", concurrency: int = 32
) -> list[httpx.Response]:
    """POST every form concurrently; the answers in the same order."""
    return asyncio.run(_send_all(server, forms, activity, concurrency))


def form(data: Any, listid: int | None = None) -> dict[str, str]:
    out = {"data": orjson.dumps(data).decode()}
    if listid is not None:
        out["listid"] = str(listid)
    return out


class WorkerProcess:
    """A `cee worker` process against the server's database."""

    def __init__(self, server: Server, env: dict[str, str] | None = None) -> None:
        self.log = server.db.data_dir.parent / f"worker-{time.monotonic_ns()}.log"
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [CEE, "worker", *server.db.args()],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **server.env, **(env or {})},
            )

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
