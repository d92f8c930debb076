"""add_many stopping on a fatal answer still reports every chunk that reached the server.

httpx's MockTransport stands in for the server (a real one cannot refuse one chunk's key on
cue); the chunks sent alongside the refused one must all be merged and passed to on_progress,
which is what lets `cee import --resume` skip exactly what was sent.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import httpx
import pytest
from cee_client import AsyncClient, ChunkResult, Client, Retries, errors

REFUSED = {"status": "error", "error_code": 401, "details": "Invalid API key"}


class Server:
    """Answers each chunk Success per record, after a pause; 401 for the chunk holding 'stop'."""

    def __init__(self) -> None:
        self.chunks_seen = 0
        self.lock = threading.Lock()

    def _answer(self, request: httpx.Request) -> tuple[bool, httpx.Response]:
        data = json.loads(httpx.QueryParams(request.content.decode())["data"])
        with self.lock:
            self.chunks_seen += 1
        if any(r["EMAIL"] == "stop" for r in data):
            return False, httpx.Response(401, json={**REFUSED, "result": "Invalid API key"})
        records = [{"index": i, "result": "Success"} for i in range(len(data))]
        body = {"requestid": "a" * 32, "result": "Success", "records": records}
        return True, httpx.Response(200, json=body)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        slow, response = self._answer(request)
        if slow:
            time.sleep(0.05)  # the other chunks in flight are still being answered
        return response

    async def handle_async(self, request: httpx.Request) -> httpx.Response:
        slow, response = self._answer(request)
        if slow:
            await asyncio.sleep(0.05)
        return response


def rows() -> list[dict[str, Any]]:
    return [{"EMAIL": "stop" if i == 25 else f"u{i}@example.com"} for i in range(100)]


def test_the_blocking_client_reports_the_chunks_in_flight() -> None:
    server = Server()
    seen: list[ChunkResult] = []
    transport = httpx.MockTransport(server)
    cee = Client("k", "http://cee.test", transport=transport, retries=Retries(attempts=1))
    with cee, pytest.raises(errors.InvalidApiKey):
        cee.add_many(rows(), chunk_size=10, concurrency=4, on_progress=seen.append)
    # Every chunk the server saw, but the refused one, came back through on_progress.
    assert len(seen) == server.chunks_seen - 1
    assert 20 not in [c.start for c in seen]
    assert len(seen) >= 2


def test_the_async_client_reports_the_chunks_in_flight() -> None:
    server = Server()
    seen: list[ChunkResult] = []

    async def main() -> None:
        transport = httpx.MockTransport(server.handle_async)
        async with AsyncClient(
            "k", "http://cee.test", transport=transport, retries=Retries(attempts=1)
        ) as cee:
            with pytest.raises(errors.InvalidApiKey):
                await cee.add_many(rows(), chunk_size=10, concurrency=4, on_progress=seen.append)

    asyncio.run(main())
    assert len(seen) == server.chunks_seen - 1
    assert 20 not in [c.start for c in seen]
