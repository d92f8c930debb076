"""The HTTP stack under hostile clients (cee.web.stack), against a real server on each backend.

Slow and idle clients are cut off by the header, body and keep-alive timeouts; the connection
cap evicts slow clients before it refuses anyone; and what the stack answers itself is the
contract's JSON envelope with a requestid.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import BACKENDS, Database, Server, need_postgres
from tests.web.hostile import (
    Ordinary,
    alongside,
    assert_envelope,
    parse_response,
    raw_request,
    read_until_closed,
)

HEADER_TIMEOUT = 1.0
BODY_TIMEOUT = 2.0
KEEPALIVE = 1.0


def _server(
    request: pytest.FixtureRequest, factory: pytest.TempPathFactory, env: dict[str, str]
) -> Iterator[Server]:
    need_postgres(request.param)
    db = Database(str(request.param), factory.mktemp("stack"))
    srv = Server(db, extra_env=env)
    srv.init()
    srv.start()
    yield srv
    srv.stop()
    db.drop()


@pytest.fixture(scope="module", params=BACKENDS)
def stack_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """Short timeouts, so that the tests see them fire."""
    env = {
        "CEE_HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT),
        "CEE_BODY_TIMEOUT_SECONDS": str(BODY_TIMEOUT),
        "CEE_KEEPALIVE_SECONDS": str(KEEPALIVE),
    }
    yield from _server(request, tmp_path_factory, env)


CAP = 40


@pytest.fixture(scope="module", params=BACKENDS)
def capped_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A small connection cap and timeouts long enough that only the cap acts."""
    env = {
        "CEE_MAX_CONNECTIONS": str(CAP),
        "CEE_HEADER_TIMEOUT_SECONDS": "30",
        "CEE_BODY_TIMEOUT_SECONDS": "30",
    }
    yield from _server(request, tmp_path_factory, env)


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.setblocking(False)
    return sock


def _trickle(socks: list[socket.socket], data: bytes) -> None:
    for sock in socks:
        with contextlib.suppress(OSError):  # closed by the server: what the test waits for
            sock.send(data)


def _answer_or_close(sock: socket.socket, timeout: float) -> bytes | None:
    """What the server sent before closing; None if it is still open after `timeout`."""
    sock.setblocking(True)
    sock.settimeout(timeout)
    out = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return out
            out += chunk
    except TimeoutError:
        return None
    except ConnectionResetError:
        return out


def test_slowloris_and_idle_connections_are_closed_while_others_are_served(
    stack_server: Server,
) -> None:
    # Issue 10: 100 clients sending headers at 1 byte/s and 500 idle ones were all still open
    # after 20 s. Here: 200 slowloris, 300 idle.
    slow = [_connect(stack_server.port) for _ in range(200)]
    idle = [_connect(stack_server.port) for _ in range(300)]
    try:
        _trickle(slow, b"POST /apiv2?type=contact&activity=addsync HTTP/1.1\r\n")
        started = time.perf_counter()
        assert httpx.get(stack_server.base + "/health", timeout=5).status_code == 200
        assert time.perf_counter() - started < 1.0
        # And while they are held, ordinary addsyncs are answered within 100 ms.
        alongside(stack_server, lambda: _trickle(slow, b"X"), repeat=3)
        deadline = time.monotonic() + HEADER_TIMEOUT + 3
        while time.monotonic() < deadline:
            _trickle(slow, b"X")  # one byte at a time, never a whole header line
            time.sleep(0.2)
        for sock in slow:
            answer = _answer_or_close(sock, 2)
            assert answer is not None, "a slowloris connection is still open"
            if answer:  # a reset may drop the 408 once the client wrote after it
                assert_envelope(answer, 408, "head")
        for sock in idle:
            assert _answer_or_close(sock, 2) == b"", "an idle connection is still open"
    finally:
        for sock in slow + idle:
            sock.close()


def test_a_body_sent_too_slowly_is_a_408(stack_server: Server) -> None:
    head = (
        b"POST /apiv2?type=contact&activity=addsync HTTP/1.1\r\nHost: cee\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n"
    )
    sock = _connect(stack_server.port)
    try:
        sock.setblocking(True)
        sock.sendall(head + b"data=")
        started = time.monotonic()
        answer = _answer_or_close(sock, BODY_TIMEOUT + 3)
        assert answer is not None
        assert time.monotonic() - started >= BODY_TIMEOUT - 0.5
        assert_envelope(answer, 408, "body")
    finally:
        sock.close()


def test_an_idle_keep_alive_connection_is_closed(stack_server: Server) -> None:
    sock = _connect(stack_server.port)
    try:
        sock.setblocking(True)
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: cee\r\n\r\n")
        status, _, _ = parse_response(read_until_closed(sock, 5))
        assert status == 200
        assert _answer_or_close(sock, KEEPALIVE + 3) == b""
    finally:
        sock.close()


def test_at_the_cap_the_slowest_client_makes_room(capped_server: Server) -> None:
    slow = [_connect(capped_server.port) for _ in range(CAP * 2)]
    try:
        _trickle(slow, b"POST /apiv2 HTTP/1.1\r\nHost: cee\r\n")
        time.sleep(0.5)
        # Twice the cap of slow clients: a new client is still answered at once, each time.
        for _ in range(5):
            started = time.perf_counter()
            assert httpx.get(capped_server.base + "/health", timeout=5).status_code == 200
            assert time.perf_counter() - started < 1.0
        time.sleep(0.5)  # the evicted ones' answers and closes have arrived
        open_ = 0
        for sock in slow:
            try:
                answer = sock.recv(65536)  # non-blocking: an open one has nothing to read
            except BlockingIOError:
                open_ += 1
                continue
            except ConnectionResetError:
                continue
            if answer:
                assert_envelope(answer, 503, "limit")
        assert open_ <= CAP, open_
    finally:
        for sock in slow:
            sock.close()


def test_at_the_cap_slow_bodies_make_room_too(capped_server: Server) -> None:
    # Each sent its head and waits to send its body: it waits on its client, not the server.
    slow = [_connect(capped_server.port) for _ in range(CAP)]
    head = b"POST /apiv2 HTTP/1.1\r\nHost: cee\r\nContent-Length: 100\r\n\r\nd"
    try:
        _trickle(slow, head)
        time.sleep(0.5)
        started = time.perf_counter()
        assert httpx.get(capped_server.base + "/healthz", timeout=5).status_code == 200
        assert time.perf_counter() - started < 1.0
        time.sleep(0.3)
        answers = []
        for sock in slow:
            try:
                answers.append(sock.recv(65536))
            except (BlockingIOError, ConnectionResetError):
                continue
        assert answers, "no slow body was evicted"
        for answer in answers:
            if answer:
                assert_envelope(answer, 503, "limit")
    finally:
        for sock in slow:
            sock.close()


REQUEST = b"GET /apiv2?type=contact&activity=view HTTP/1.1\r\nHost: cee\r\n\r\n"


@pytest.mark.parametrize(
    ("data", "mention"),
    [
        # Issue 12: a raw … (UTF-8, not percent-encoded) in the query.
        (b"GET /apiv2?type=contact&q=\xe2\x80\xa6 HTTP/1.1\r\nHost: cee\r\n\r\n", "url"),
        # Issue 10: a request line over 64 KiB.
        (b"GET /apiv2?q=" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: cee\r\n\r\n", "URL over"),
        (b"POST /apiv2 HTTP/1.1\r\nHost: cee\r\nContent-Length: abc\r\n\r\n", "Content-Length"),
        (b"POST /apiv2 HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", "request"),
        (b"NOT HTTP AT ALL\r\n\r\n", "request"),
        (b"GET /apiv2 HTTP/1.1\r\nBad Header\r\n\r\n", "request"),
        (b"GET /health HTTP/1.1\r\n" + b"X-Big: " + b"a" * 200_000, "head"),
    ],
    ids=["raw ellipsis", "long request line", "Content-Length abc", "two lengths", "garbage",
         "bad header", "endless head"],
)  # fmt: skip
def test_what_the_stack_refuses_is_a_json_400_with_a_requestid(
    stack_server: Server, data: bytes, mention: str
) -> None:
    def send() -> bytes:
        return raw_request(stack_server.port, data)

    for answer in alongside(stack_server, send, repeat=3):
        assert_envelope(answer, 400, mention)


def test_unknown_paths_and_methods_answer_the_envelope(stack_server: Server) -> None:
    resp = httpx.get(stack_server.base + "/no/such/path")
    assert resp.status_code == 404
    body = resp.json()
    assert body["error_code"] == 404 and "/no/such/path" in body["details"]
    assert resp.headers["x-request-id"] == body["requestid"]
    # A method a route does not take (404 or 405 as the router decides): the envelope too.
    resp = httpx.post(stack_server.base + "/healthz")
    assert resp.status_code in (404, 405) and resp.json()["error_code"] == resp.status_code
    assert resp.headers["x-request-id"] == resp.json()["requestid"]


@pytest.mark.parametrize("close", [b"", b"Connection: close\r\n"], ids=["keep-alive", "close"])
def test_an_early_413_reaches_a_client_that_writes_its_whole_body_first(
    stack_server: Server, close: bytes
) -> None:
    # Once a reset: the 413 was sent before the body was read, then the connection closed
    # with the body unread.
    body = b"data=" + b"x" * (11 * 1024 * 1024)
    head = (
        b"POST /apiv2?type=contact&activity=addsync HTTP/1.1\r\nHost: cee\r\n"
        + close
        + b"Content-Type: application/x-www-form-urlencoded\r\n"
        + b"Content-Length: %d\r\n\r\n" % len(body)
    )

    def send() -> bytes:
        return raw_request(stack_server.port, head + body)

    for answer in alongside(stack_server, send, repeat=3):
        parsed = assert_envelope(answer, 413, "limit")
        assert parse_response(answer)[1]["connection"] == "close", parsed


def test_a_normal_request_is_served_alongside_slow_bodies(stack_server: Server) -> None:
    socks = [_connect(stack_server.port) for _ in range(50)]
    try:
        _trickle(socks, b"POST /apiv2 HTTP/1.1\r\nHost: cee\r\nContent-Length: 50\r\n\r\nd")
        ordinary = Ordinary(stack_server)
        try:
            assert max(ordinary.send() for _ in range(5)) < 1.0
        finally:
            ordinary.close()
    finally:
        for sock in socks:
            sock.close()


def test_a_client_that_half_closes_after_its_request_gets_the_answer(
    stack_server: Server,
) -> None:
    # uvicorn closed at the client's EOF, so `nc -N`-style clients never got their answer.
    query = f"type=lists&activity=getalllist&apikey={stack_server.api_key}".encode()
    request = b"GET /apiv2?" + query + b" HTTP/1.1\r\nHost: cee\r\n\r\n"
    status, _, body = parse_response(raw_request(stack_server.port, request, shut=True))
    assert status == 200 and b'"status":"success"' in body
    # Half a head, then EOF: the request can never be complete, and is answered so.
    partial = b"POST /apiv2 HTTP/1.1\r\nHost: c"
    assert_envelope(raw_request(stack_server.port, partial, shut=True), 400, "head")
    head = b"POST /apiv2 HTTP/1.1\r\nHost: cee\r\nContent-Length: 100\r\n\r\ndata="
    assert_envelope(raw_request(stack_server.port, head, shut=True), 400, "body")
