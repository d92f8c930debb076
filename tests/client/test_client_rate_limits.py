"""A key's own rate limit, seen through the client on a real server (each backend)."""

from __future__ import annotations

import json
import time
import uuid

import httpx
import pytest
from cee_client import Client, Retries, errors

from tests.conftest import Server


class Recording(httpx.HTTPTransport):
    """httpx's real transport, noting the status of every answer (retries included)."""

    def __init__(self) -> None:
        super().__init__()
        self.statuses: list[int] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        self.statuses.append(response.status_code)
        return response


def limited_key(server: Server, per_minute: int) -> str:
    """The key of a new user of the account, limited to `per_minute` requests a minute."""
    name = f"lim{uuid.uuid4().hex[:8]}"
    creds = json.loads(server.cli("user", "create", name, "--json").stdout)
    server.cli("key", "limit", name, "--per-minute", str(per_minute))
    return str(creds["api_key"])


def test_past_the_limit_a_rate_limited_carries_the_headers(shared_server: Server) -> None:
    key = limited_key(shared_server, 30)
    cee = Client(key, shared_server.base, retries=Retries(attempts=1))
    with cee, pytest.raises(errors.RateLimited) as caught:
        for _ in range(100):  # a burst of 30 is allowed, then the bucket is empty
            cee.lists()
    exc = caught.value
    assert exc.error_code == 429
    assert exc.limit == 30 and exc.remaining == 0
    assert exc.retry_after is not None and 0 < exc.retry_after <= 60
    assert exc.reset is not None


def test_the_client_waits_out_the_retry_after_and_succeeds(shared_server: Server) -> None:
    key = limited_key(shared_server, 60)  # a token a second once the burst of 60 is spent
    transport = Recording()
    started = time.monotonic()
    with Client(key, shared_server.base, transport=transport) as cee:
        for _ in range(63):
            cee.lists()  # never raises: each 429 is retried after its Retry-After
    assert 429 in transport.statuses
    assert transport.statuses.count(200) == 63
    assert time.monotonic() - started >= 1.0  # the waits were really waited
