"""Scale-out on one PostgreSQL: two API nodes, two workers, one of them killed mid-run.

The load mixes `addsync` and `add`, single contacts and arrays, spread over both nodes, with a
set of "hot" emails that every kind of request writes at the same time. Afterwards the database
must hold every acknowledged contact exactly once, every async request must be done, and the
history must hold exactly one entry per acknowledged write: nothing lost, nothing applied twice.
Then a key rotated through one node's database is refused by the other node within the bound.
"""

from __future__ import annotations

import asyncio
import json
import random
import signal
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg
import pytest

from tests.conftest import CEE, PG_AVAILABLE, Database, Server
from tests.ingest.util import WorkerProcess

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.timeout(300),
    pytest.mark.skipif(
        not PG_AVAILABLE,
        reason="no PostgreSQL reachable: the scale-out test (PostgreSQL only) skipped",
    ),
]

HOT = [f"hot-{i}@example.com" for i in range(24)]
CONCURRENCY = 16
# A killed worker's claims are re-delivered once this lease runs out.
LEASE = "3"
# The documented bound on a key change reaching another node is config_poll_seconds (1 s) plus
# a request; the test allows three times that on a shared machine.
KEY_BOUND_SECONDS = 3.0


@dataclass
class Sent:
    """One request of the load and what came back."""

    node: int
    activity: str
    emails: list[str]
    tag: str
    status: int = 0
    body: dict[str, Any] = field(default_factory=dict)

    def created_by_addsync(self) -> list[str]:
        if self.activity != "addsync" or self.status != 200:
            return []
        if "records" not in self.body:
            return self.emails
        return [
            email
            for email, rec in zip(self.emails, self.body["records"], strict=True)
            if rec.get("result") == "Success"
        ]


def plan(rng: random.Random) -> list[Sent]:
    """About 560 requests: each kind, each node, hot and fresh emails, singles and arrays."""
    load: list[Sent] = []

    def fresh() -> str:
        return f"c-{uuid.uuid4().hex[:12]}@example.com"

    for i in range(560):
        activity = "addsync" if i % 2 == 0 else "add"
        size = 1 if i % 7 else 10  # one request in seven is an array of ten
        emails: list[str] = []
        while len(emails) < size:
            email = rng.choice(HOT) if rng.random() < 0.4 else fresh()
            if email not in emails:
                emails.append(email)
        load.append(Sent(i % 2, activity, emails, uuid.uuid4().hex[:8]))
    rng.shuffle(load)
    return load


def payload(sent: Sent) -> str:
    # Every add sets a CITY value of its own, so each application is a visible change.
    contacts = [{"EMAIL": e, "CITY": f"{sent.tag}-{n}"} for n, e in enumerate(sent.emails)]
    return orjson.dumps(contacts[0] if len(contacts) == 1 else contacts).decode()


async def send(nodes: list[Server], load: list[Sent], halfway: asyncio.Event) -> None:
    gate = asyncio.Semaphore(CONCURRENCY)
    done = 0
    async with httpx.AsyncClient(timeout=60) as client:

        async def one(sent: Sent) -> None:
            nonlocal done
            node = nodes[sent.node]
            async with gate:
                resp = await client.post(
                    node.base + "/apiv2",
                    params={"type": "contact", "activity": sent.activity},
                    data={"apikey": node.api_key, "data": payload(sent)},
                )
            sent.status, sent.body = resp.status_code, resp.json()
            done += 1
            if done == len(load) // 2:
                halfway.set()

        await asyncio.gather(*(one(s) for s in load))


async def run_load(nodes: list[Server], load: list[Sent], victim: WorkerProcess, url: str) -> int:
    """Send the load; from halfway, SIGKILL the victim while it holds claims (or at the end).

    Returns how many claimed requests it held when it died.
    """
    halfway = asyncio.Event()
    sender = asyncio.create_task(send(nodes, load, halfway))
    await asyncio.wait_for(halfway.wait(), timeout=120)
    held = 0
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not sender.done():
            cur = await conn.execute(
                "SELECT count(*) FROM journal WHERE state = 'running' AND claimed_by LIKE %s",
                (f"%:{victim.proc.pid}:%",),
            )
            row = await cur.fetchone()
            held = int(row[0]) if row else 0
            if held:
                break
            await asyncio.sleep(0.005)
    victim.proc.send_signal(signal.SIGKILL)
    await asyncio.wait_for(sender, timeout=180)
    return held


def wait_done(nodes: list[Server], requestids: list[str], timeout: float) -> dict[str, Any]:
    """Every requestid's final status (asked of alternate nodes); fails past the deadline."""
    deadline = time.monotonic() + timeout
    results: dict[str, Any] = {}
    with httpx.Client(timeout=30) as client:
        for n, rid in enumerate(requestids):
            node = nodes[n % 2]
            while True:
                resp = client.get(
                    node.base + "/apiv2",
                    params={
                        "apikey": node.api_key,
                        "type": "request",
                        "activity": "status",
                        "requestid": rid,
                    },
                )
                assert resp.status_code == 200, resp.text
                result = resp.json()["result"]
                if result["state"] == "done":
                    results[rid] = result
                    break
                assert time.monotonic() < deadline, f"request {rid} never done: {result}"
                time.sleep(0.1)
    return results


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[Database, list[Server], list[WorkerProcess]]]:
    db = Database("postgres", tmp_path)
    nodes: list[Server] = []
    workers: list[WorkerProcess] = []
    try:
        first = Server(db)
        first.init()
        nodes.append(first.start("--no-worker"))
        second = Server(db)
        second.creds = first.creds
        nodes.append(second.start("--no-worker"))
        workers = [WorkerProcess(first, {"CEE_CLAIM_SECONDS": LEASE}) for _ in range(2)]
        yield db, nodes, workers
    finally:
        for worker in workers:
            worker.stop()
        for node in nodes:
            node.stop()
        db.drop()


def test_two_nodes_two_workers_one_killed(
    cluster: tuple[Database, list[Server], list[WorkerProcess]],
) -> None:
    db, nodes, workers = cluster
    assert db.url is not None
    load = plan(random.Random(4))
    held = asyncio.run(run_load(nodes, load, workers[0], db.url))
    print(f"the killed worker held {held} claimed requests")
    assert workers[0].proc.wait(timeout=10) == -signal.SIGKILL

    unexpected = [s for s in load if s.status not in (200, 302)]
    assert not unexpected, [(s.activity, s.status, s.body) for s in unexpected[:5]]
    asyncs = [s for s in load if s.activity == "add"]
    statuses = wait_done(nodes, [s.body["requestid"] for s in asyncs], timeout=120)
    assert workers[1].proc.poll() is None, "the surviving worker died"

    # What the clients were told was written: one history entry each, no more.
    acknowledged: Counter[tuple[str, str]] = Counter()
    for sent in load:
        for email in sent.created_by_addsync():
            acknowledged[(sent.body["requestid"], email)] += 1
    for sent in asyncs:
        status = statuses[sent.body["requestid"]]
        assert status["result"] == "Success", status
        for email in sent.emails:
            acknowledged[(sent.body["requestid"], email)] += 1
    hot_creates = Counter(e for s in load for e in s.created_by_addsync() if e in HOT)
    assert all(n == 1 for n in hot_creates.values()), hot_creates

    with psycopg.connect(db.url) as conn:
        keys = [r[0] for r in conn.execute("SELECT match_key FROM contacts")]
        history = list(
            conn.execute("SELECT requestid, match_key, changes::text FROM contact_history")
        )
        pending = conn.execute("SELECT count(*) FROM journal WHERE state <> 'done'").fetchone()
    assert len(keys) == len(set(keys)), "an email is in the table twice"
    assert {email for _, email in acknowledged} == set(keys)
    logged = Counter((rid, key) for rid, key, _ in history)
    missing = set(acknowledged) - set(logged)
    assert not missing, f"{len(missing)} acknowledged writes have no history"
    twice = [k for k, n in logged.items() if n > 1 or k not in acknowledged]
    assert not twice, f"applied twice or never acknowledged: {twice[:5]}"
    creations = Counter(key for _, key, changes in history if '"EMAIL":[null,' in changes)
    assert creations == Counter(keys), "a contact lacks its creation entry or has two"
    assert pending == (0,)

    # A key rotated through node A's database is refused by node B within the bound.
    old_key = nodes[0].api_key
    rotated = json.loads(nodes[0].cli("key", "rotate", "admin", "--json").stdout)["api_key"]
    started = time.monotonic()
    probe = {"type": "lists", "activity": "getalllist"}
    while nodes[1].api(query=probe, key=old_key).status_code != 401:
        assert time.monotonic() - started < KEY_BOUND_SECONDS, "node B still takes the old key"
        time.sleep(0.05)
    refused_after = time.monotonic() - started
    assert nodes[1].api(query=probe, key=rotated).status_code == 200
    assert nodes[0].api(query=probe, key=old_key).status_code == 401
    print(f"old key refused by node B {refused_after:.3f}s after the rotation committed")


def test_serve_on_an_initialised_database_creates_nothing(tmp_path: Path) -> None:
    db = Database("postgres", tmp_path)
    try:
        first = Server(db)
        first.init()
        elsewhere = tmp_path / "not-here"
        db.data_dir = elsewhere  # `cee serve --data-dir` naming a folder that does not exist
        node = Server(db)
        node.creds = first.creds
        with open(node.log, "ab") as log:  # Server.start would make the folder itself
            node.proc = subprocess.Popen(
                [CEE, "serve", *db.args(), "--port", str(node.port), "--no-worker"],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            deadline = time.monotonic() + 30
            while True:
                assert node.proc.poll() is None, node.log.read_text()
                try:
                    if httpx.get(node.base + "/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, node.log.read_text()
                time.sleep(0.1)
            probe = {"type": "lists", "activity": "getalllist"}
            assert node.api(query=probe).status_code == 200
        finally:
            node.stop()
        assert not elsewhere.exists()
        assert "initialised" not in node.log.read_text()
        assert db.url is not None
        with psycopg.connect(db.url) as conn:
            assert conn.execute("SELECT count(*) FROM accounts").fetchone() == (1,)
            assert conn.execute("SELECT count(*) FROM api_keys").fetchone() == (1,)
    finally:
        db.drop()
