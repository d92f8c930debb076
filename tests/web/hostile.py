"""Helpers for the hostile-input tests: raw HTTP over sockets, and timing an ordinary request
while something hostile is going on."""

from __future__ import annotations

import re
import socket
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import orjson

from tests.conftest import Server, unique_email

HEX32 = re.compile(r"[0-9a-f]{32}")
# What "answered at the same time" must stay under (issue 10), measured as the median of a few
# ordinary addsyncs so one scheduling hiccup of a shared CI machine is not a failure; a blocked
# event loop delays every one of them.
ORDINARY_SECONDS = 0.1
ORDINARY_ROUNDS = 5


def raw_request(port: int, data: bytes, *, timeout: float = 10.0, shut: bool = False) -> bytes:
    """Send `data` on a fresh connection and read until the server closes it (or `timeout`)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        if shut:
            sock.shutdown(socket.SHUT_WR)
        return read_until_closed(sock, timeout)


def read_until_closed(sock: socket.socket, timeout: float) -> bytes:
    deadline = time.monotonic() + timeout
    out = b""
    while time.monotonic() < deadline:
        sock.settimeout(max(deadline - time.monotonic(), 0.01))
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        if not chunk:
            break
        out += chunk
        if _complete(out):
            break
    return out


def _complete(raw: bytes) -> bool:
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        return False
    match = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    return match is not None and len(body) >= int(match.group(1))


def parse_response(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """(status, headers lower-cased, body) of one HTTP/1.1 response."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body


def assert_envelope(raw: bytes, code: int, *mentions: str) -> dict[str, Any]:
    """A raw answer in the contract's error envelope, with its requestid in both places."""
    assert raw, "the server closed the connection without an answer"
    status, headers, body = parse_response(raw)
    assert status == code, raw[:500]
    assert headers["content-type"] == "application/json", headers
    parsed: dict[str, Any] = orjson.loads(body)
    assert parsed["status"] == "error" and parsed["error_code"] == code, parsed
    assert HEX32.fullmatch(parsed["requestid"]), parsed
    assert headers["x-request-id"] == parsed["requestid"]
    for word in mentions:
        assert word in parsed["details"], (word, parsed["details"])
    return parsed


class Ordinary:
    """Ordinary addsyncs on a warm keep-alive connection, each one timed."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.client = httpx.Client(timeout=30)
        self.latencies: list[float] = []
        self.send()  # warm: the connection is open before anything is timed

    def send(self) -> float:
        form = {"data": orjson.dumps({"EMAIL": unique_email("ordinary")}).decode()}
        params = {"apikey": self.server.api_key, "type": "contact", "activity": "addsync"}
        started = time.perf_counter()
        resp = self.client.post(self.server.base + "/apiv2", params=params, data=form)
        elapsed = time.perf_counter() - started
        assert resp.status_code == 200, resp.text
        return elapsed

    def close(self) -> None:
        self.client.close()


def alongside(server: Server, hostile: Callable[[], Any], *, repeat: int = 20) -> list[Any]:
    """Run `hostile` (up to `repeat` times, in a thread) while timing ordinary addsyncs.

    Asserts the ordinary ones were answered within ORDINARY_SECONDS (median) and none took a
    second; returns what each hostile call returned.
    """
    results: list[Any] = []
    errors: list[BaseException] = []
    started = threading.Event()
    stop = threading.Event()

    def run() -> None:
        try:
            for _ in range(repeat):
                started.set()
                results.append(hostile())
                if stop.is_set():
                    break
        except BaseException as exc:  # reported in the test's thread
            errors.append(exc)
        finally:
            started.set()

    ordinary = Ordinary(server)
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        started.wait(10)
        time.sleep(0.01)  # the hostile request is on the wire
        latencies = [ordinary.send() for _ in range(ORDINARY_ROUNDS)]
    finally:
        stop.set()
        thread.join(60)
        ordinary.close()
    assert not errors, errors
    assert not thread.is_alive(), "the hostile requests did not finish"
    assert statistics.median(latencies) < ORDINARY_SECONDS, latencies
    assert max(latencies) < 1.0, latencies
    return results
