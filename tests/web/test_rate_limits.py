"""Per-key rate limits: `cee key limit USER --per-minute N`, 429 with the headers, and one bound
shared by processes and nodes."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import Database, Server, need_postgres, run_cli
from tests.web.test_metrics import scrape, value
from tests.web.util import assert_error

LIMIT = 20
# 20 a minute refills one token every 3 s: a run slower than that may earn one or two more.
REFILL_SECONDS = 60 / LIMIT


def getalllist(server: Server, client: httpx.Client, key: str | None = None) -> httpx.Response:
    return client.post(
        server.base + "/apiv2",
        params={"apikey": key or server.api_key, "type": "lists", "activity": "getalllist"},
        headers={"Connection": "close"},  # fresh connections: spread over processes
    )


def admitted_bound(started: float) -> int:
    return LIMIT + int((time.monotonic() - started) / REFILL_SECONDS) + 1


def new_user(server: Server) -> tuple[str, str]:
    name = f"limited-{uuid.uuid4().hex[:8]}"
    return name, json.loads(server.cli("user", "create", name, "--json").stdout)["api_key"]


def test_a_limit_of_20_a_minute_answers_429_with_the_headers(shared_server: Server) -> None:
    server = shared_server  # on SQLite under --processes too: one bucket for both processes
    user, key = new_user(server)
    out = server.cli("key", "limit", user, "--per-minute", str(LIMIT))
    assert f"{LIMIT} requests a minute" in out.stdout
    assert f"limit {LIMIT}/min" in server.cli("user", "list").stdout
    before = value(scrape(server), "cee_rate_limited_total", reason="key")
    started = time.monotonic()
    with httpx.Client(timeout=30) as client:
        answers = [getalllist(server, client, key) for _ in range(LIMIT + 6)]
        # Another key has no limit: the first key's 429s are not its problem.
        assert getalllist(server, client).status_code == 200
    codes = [r.status_code for r in answers]
    assert codes[:LIMIT] == [200] * LIMIT, codes  # a burst of N is admitted
    assert codes.count(200) <= admitted_bound(started), codes
    refused = [r for r in answers if r.status_code == 429]
    assert refused and len(refused) + codes.count(200) == len(codes), codes
    first = refused[0]
    body = assert_error(first, 429, "rate limit", str(LIMIT))
    assert first.headers["x-request-id"] == body["requestid"]
    retry_after = int(first.headers["retry-after"])
    assert 1 <= retry_after <= REFILL_SECONDS + 1
    assert first.headers["ratelimit-limit"] == str(LIMIT)
    assert first.headers["ratelimit-remaining"] == "0"
    assert 1 <= int(first.headers["ratelimit-reset"]) <= REFILL_SECONDS + 1
    after = value(scrape(server), "cee_rate_limited_total", reason="key")
    assert after - before == len(refused)

    # Waiting Retry-After seconds earns a token back.
    time.sleep(retry_after + 0.2)
    with httpx.Client(timeout=30) as client:
        assert getalllist(server, client, key).status_code == 200
        # 0 lifts the limit (the server notices the change at its next request).
        server.cli("key", "limit", user, "--per-minute", "0")
        deadline = time.monotonic() + 5
        while getalllist(server, client, key).status_code == 429:
            assert time.monotonic() < deadline, "the limit was not lifted"
            time.sleep(0.1)
        assert all(getalllist(server, client, key).status_code == 200 for _ in range(LIMIT + 5))


def test_key_limit_refuses_a_negative_limit_and_an_unknown_user(database: Database) -> None:
    admin = json.loads(run_cli(database, "init", "--json").stdout)["admin_user"]
    bad = run_cli(database, "key", "limit", admin, "--per-minute", "-1", check=False)
    assert bad.returncode == 2 and "per-minute" in bad.stderr
    missing = run_cli(database, "key", "limit", "nobody", "--per-minute", "5", check=False)
    assert missing.returncode == 1 and "nobody" in missing.stderr


def _count_admitted(nodes: list[Server], requests: int) -> tuple[int, float]:
    started = time.monotonic()
    ok = 0
    with httpx.Client(timeout=30) as client:
        for i in range(requests):
            resp = getalllist(nodes[i % len(nodes)], client, nodes[0].api_key)
            assert resp.status_code in (200, 429), resp.text
            ok += resp.status_code == 200
    return ok, started


@pytest.fixture
def two_nodes(tmp_path: Path) -> Iterator[list[Server]]:
    need_postgres()
    db = Database("postgres", tmp_path)
    nodes: list[Server] = []
    try:
        first = Server(db)
        first.init()
        nodes.append(first.start())
        second = Server(db)
        second.creds = first.creds
        nodes.append(second.start("--no-worker"))
        yield nodes
    finally:
        for node in nodes:
            node.stop()
        db.drop()


def test_the_bound_holds_across_nodes_on_postgres(two_nodes: list[Server]) -> None:
    first = two_nodes[0]
    first.cli("key", "limit", first.creds["admin_user"], "--per-minute", str(LIMIT))
    time.sleep(1.5)  # both nodes' catalogs learn the limit (NOTIFY, or the 1 s poll)
    ok, started = _count_admitted(two_nodes, LIMIT * 2)
    assert LIMIT <= ok <= admitted_bound(started), ok
