"""Graceful shutdown: SIGTERM under addsync load stops accepting, finishes the requests in flight
(bounded by CEE_SHUTDOWN_SECONDS) and loses no acknowledged write."""

from __future__ import annotations

import contextlib
import signal
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import httpx

from tests.conftest import Database, Server, unique_email
from tests.web.util import dumps

THREADS = 6
SHUTDOWN_SECONDS = 3
LOAD_SECONDS_MAX = 60.0


def stored_emails(db: Database) -> set[str]:
    if db.url:
        import psycopg

        with psycopg.connect(db.url) as conn:
            return {r[0] for r in conn.execute("SELECT match_key FROM contacts")}
    conn = sqlite3.connect(f"file:{db.data_dir / 'cee.db'}?mode=ro", uri=True)
    try:
        return {r[0] for r in conn.execute("SELECT match_key FROM contacts")}
    finally:
        conn.close()


def slow_body(email: str, halfway: threading.Event) -> Iterator[bytes]:
    """A form body sent in two pieces: the second only after SIGTERM was sent."""
    body = f"data={quote(dumps({'EMAIL': email}))}".encode()
    yield body[:8]
    halfway.wait(30)
    time.sleep(0.5)
    yield body[8:]


def test_sigterm_under_load_finishes_in_flight_and_loses_nothing(database: Database) -> None:
    sigterm_under_load(database, ())


def test_sigterm_under_processes_loses_nothing(tmp_path: Path) -> None:
    # The writer process must outlive the HTTP processes' last requests (SQLite only: there
    # the writes of every HTTP process go through it).
    sigterm_under_load(Database("sqlite", tmp_path), ("--processes", "2"))


def sigterm_under_load(database: Database, serve_args: tuple[str, ...]) -> None:
    server = Server(database, extra_env={"CEE_SHUTDOWN_SECONDS": str(SHUTDOWN_SECONDS)})
    server.init()
    server.start(*serve_args)
    acked: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    sigterm_sent = threading.Event()

    def load() -> None:
        deadline = time.monotonic() + LOAD_SECONDS_MAX
        with httpx.Client(timeout=30) as client:
            while not stop.is_set() and time.monotonic() < deadline:
                email = unique_email("term")
                try:
                    resp = client.post(
                        server.base + "/apiv2",
                        params={"apikey": server.api_key, "type": "contact"},
                        data={"activity": "addsync", "data": dumps({"EMAIL": email})},
                        headers={"Connection": "close"},
                    )
                except httpx.ConnectError:
                    return  # the server stopped accepting: the load is over
                except httpx.TransportError:
                    continue  # dropped before any answer: not acknowledged, nothing promised
                assert resp.status_code == 200, resp.text
                with lock:
                    acked.append(email)

    in_flight_email = unique_email("inflight")
    in_flight: list[httpx.Response] = []

    def one_slow_request() -> None:
        in_flight.append(
            httpx.post(
                server.base + "/apiv2",
                params={"apikey": server.api_key, "type": "contact", "activity": "addsync"},
                content=slow_body(in_flight_email, sigterm_sent),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                timeout=30,
            )
        )

    threads = [threading.Thread(target=load) for _ in range(THREADS)]
    slow = threading.Thread(target=one_slow_request)
    try:
        for t in threads:
            t.start()
        slow.start()
        while len(acked) < 150:
            time.sleep(0.05)
        assert server.proc is not None
        server.proc.send_signal(signal.SIGTERM)
        sent_at = time.monotonic()
        sigterm_sent.set()
        code = server.proc.wait(timeout=SHUTDOWN_SECONDS + 20)
        stopped_after = time.monotonic() - sent_at
    finally:
        stop.set()
        sigterm_sent.set()
        for t in threads:
            t.join()
        slow.join()
        server.stop()
    # uvicorn re-raises the signal once it has shut down cleanly: the exit status says SIGTERM.
    assert code in (0, -signal.SIGTERM), server.log.read_text()[-3000:]
    assert "Application shutdown complete" in server.log.read_text()
    assert stopped_after < SHUTDOWN_SECONDS + 10, stopped_after
    # The request whose body was still arriving at SIGTERM was finished, not cut.
    assert in_flight and in_flight[0].status_code == 200, in_flight
    stored = stored_emails(database)
    missing = set(acked) - stored
    assert not missing, f"{len(missing)} of {len(acked)} acknowledged contacts lost"
    assert in_flight_email in stored


def test_a_request_that_never_ends_is_cut_after_shutdown_seconds(database: Database) -> None:
    server = Server(database, extra_env={"CEE_SHUTDOWN_SECONDS": "1"})
    server.init()
    server.start()
    release = threading.Event()
    never = threading.Thread(
        target=lambda: _swallow(
            lambda: httpx.post(
                server.base + "/apiv2",
                params={"apikey": server.api_key, "type": "contact", "activity": "addsync"},
                content=slow_body(unique_email("never"), release),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                timeout=30,
            )
        )
    )
    try:
        never.start()
        time.sleep(0.5)  # its head is in, its body never completes
        assert server.proc is not None
        server.proc.send_signal(signal.SIGTERM)
        sent_at = time.monotonic()
        server.proc.wait(timeout=20)
        stopped_after = time.monotonic() - sent_at
    finally:
        release.set()
        never.join()
        server.stop()
    assert stopped_after < 1 + 5, stopped_after  # bounded, not the 60 s body timeout


def _swallow(call: Callable[[], object]) -> None:
    with contextlib.suppress(httpx.HTTPError):  # the server cuts it: that is the point
        call()
