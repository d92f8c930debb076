"""A bounded fuzz of the HTTP API over raw sockets, on each backend (issue 10).

A seeded random corpus (the same every run; CEE_FUZZ_SEED picks another) of requests a hostile
or broken client sends: the reproductions of issue 10 and 12 (giant decimals and integers,
5,000-digit listids, a raw `…` in the URL, `Content-Length: abc`, a request line over 64 KiB, a
key under another name), and shapes of its own: random methods, paths, parameters and values,
bodies that are not what their Content-Type says, broken multipart and chunked bodies, invalid
UTF-8, bytes past the Content-Length, deep JSON, huge arrays and headers.

Asserted for every answer: no 5xx; a JSON object with a requestid (in the body and in
X-Request-Id); answered within 2 s; and the server's resident memory stays bounded.
"""

from __future__ import annotations

import os
import random
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson
import pytest

from tests.conftest import BACKENDS, Database, Server, need_postgres
from tests.web.hostile import HEX32, parse_response
from tests.web.util import create_attribute, create_list

REQUESTS_PER_BACKEND = 1500
SLOWEST_SECONDS = 2.0
# Growth of the server's RSS over the run: what it caches (principals, email verdicts, the
# SQLite page cache) is bounded well below this; a leak or an expansion of input is not.
RSS_GROWTH_MAX = 150 * 1024 * 1024
SEED = int(os.environ.get("CEE_FUZZ_SEED", "20261201"))
THREADS = 4
BODY_LIMIT = 1024 * 1024


@pytest.fixture(scope="module", params=BACKENDS)
def fuzz_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    need_postgres(request.param)
    db = Database(str(request.param), tmp_path_factory.mktemp("fuzz"))
    # Short timeouts so that a shape the corpus did not mean to leave incomplete is cut off
    # quickly (and then still answered, 408); the connection cap at its default.
    # A 1 MiB body limit keeps the over-limit bodies of the corpus small.
    env = {
        "CEE_BODY_TIMEOUT_SECONDS": "1",
        "CEE_HEADER_TIMEOUT_SECONDS": "1",
        "CEE_MAX_BODY_BYTES": str(BODY_LIMIT),
    }
    srv = Server(db, extra_env=env)
    srv.init()
    srv.start()
    create_attribute(srv, "PRICE", "decimal")
    create_attribute(srv, "BORN", "date")
    create_attribute(srv, "SITE", "url")
    create_list(srv, "fuzz")
    yield srv
    srv.stop()
    db.drop()


# -- the corpus ------------------------------------------------------------------------------

ROUTES = [
    ("contact", "addsync"),
    ("contact", "add"),
    ("contact", "update"),
    ("contact", "updatesync"),
    ("contact", "delete"),
    ("contact", "view"),
    ("contact", "blacklist"),
    ("contact", "unblacklist"),
    ("lists", "create"),
    ("lists", "getalllist"),
    ("lists", "emptylist"),
    ("request", "status"),
    ("attributes", "getall"),
    ("attributes", "create"),
    ("export_data", "get_user_summary_data"),
    ("export_data", "get_user_activity_data"),
    ("Contact", "ADDSYNC"),
    ("nope", "addsync"),
    ("contact", "nope"),
    ("", ""),
]
NASTY_VALUES: list[Any] = [
    "1e999999999",
    "1e-999999999",
    "9" * 5000,
    "-" + "9" * 30,
    "1_000",
    "NaN",
    "Infinity",
    "0E-100",
    1e308,
    -(2**63),
    2**63,
    None,
    True,
    [],
    {},
    {"a": {"b": [1, 2, {"c": None}]}},
    "",
    " ",
    "\u0000",
    "\ud7ff\ue000",
    "…",
    "José",
    "a" * 300,
    "a" * 70_000,
    "mike@example.com",
    "not-an-email",
    "a" * 300 + "@example.com",
    "01-02-2020",
    "31-02-2020",
    "https://example.com/x",
    "javascript:alert(1)",
    "9999999999",
    "+919876543210",
    "'; DROP TABLE contacts; --",
    "<script>alert(1)</script>",
]
ATTRIBUTES = ["EMAIL", "MOBILE", "NAME", "AGE", "CITY", "PRICE", "BORN", "SITE", "UNKNOWN", "e"]


def _contact(rng: random.Random) -> Any:
    if rng.random() < 0.1:
        return rng.choice(NASTY_VALUES)
    contact: dict[str, Any] = {}
    if rng.random() < 0.8:
        contact["EMAIL"] = f"f{rng.randrange(200)}@example.com"  # a small pool: duplicates
    for _ in range(rng.randrange(4)):
        contact[
            rng.choice(ATTRIBUTES).lower() if rng.random() < 0.2 else rng.choice(ATTRIBUTES)
        ] = rng.choice(NASTY_VALUES) if rng.random() < 0.6 else str(rng.randrange(100))
    return contact


def _data(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.5:
        return orjson.dumps(_contact(rng)).decode()
    if roll < 0.75:
        return orjson.dumps([_contact(rng) for _ in range(rng.randrange(1, 30))]).decode()
    if roll < 0.8:
        return orjson.dumps([{"EMAIL": f"b{i}@example.com"} for i in range(1001)]).decode()
    if roll < 0.85:
        return "[" * 5000 + "]" * 5000  # deep nesting
    if roll < 0.9:
        return "{not json"
    return str(rng.choice(NASTY_VALUES))


def _params(rng: random.Random, key: str) -> dict[str, str]:
    kind, activity = rng.choice(ROUTES)
    params: dict[str, str] = {}
    if rng.random() < 0.85:
        params["apikey"] = key if rng.random() < 0.8 else rng.choice(["", "cee_x", "x" * 5000])
    if rng.random() < 0.1:
        params["APIKEY"] = key  # a key under another name: never journaled
    params["type"], params["activity"] = kind, activity
    if rng.random() < 0.9:
        params["data"] = _data(rng)
    if rng.random() < 0.3:
        params["listid"] = rng.choice(["1", "0", "-1", "abc", "7" * 5000, "1.5", "", "2" * 19])
    if rng.random() < 0.2:
        params["listname"] = rng.choice(["fuzz", "x" * 300, "", "…"])
    if rng.random() < 0.2:
        params["requestid"] = rng.choice(["0" * 32, "x" * 5000, ""])
    if rng.random() < 0.1:
        params["name"], params["datatype"] = rng.choice(["F1", "1BAD", "x" * 100]), "decimal"
    if rng.random() < 0.1:
        params["async"] = "1"
    return params


def _form(params: dict[str, str]) -> bytes:
    return "&".join(f"{quote(k)}={quote(v)}" for k, v in params.items()).encode()


def _multipart(params: dict[str, str], rng: random.Random) -> tuple[bytes, str]:
    boundary = "fuzz" + str(rng.randrange(10**6))
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in params.items()
    ]
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    if rng.random() < 0.3:
        body = body[: rng.randrange(len(body))]  # cut anywhere
    return body, f"multipart/form-data; boundary={boundary}"


def _chunked(body: bytes, rng: random.Random) -> bytes:
    out = b""
    step = max(len(body) // 3, 1)
    for i in range(0, len(body), step):
        piece = body[i : i + step]
        out += b"%x\r\n" % len(piece) + piece + b"\r\n"
    out += b"0\r\n\r\n"
    if rng.random() < 0.3:
        out = out.replace(b"\r\n", b"\r\nzz", 1)  # a broken chunk size line
    return out


def _path(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.8:
        return "/apiv2"
    if roll < 0.85:
        return "/apiv2/"
    if roll < 0.9:
        return rng.choice(["/v3/contact/batchadd", "/v3/contact/blacklist"])
    return "/zz-" + "".join(rng.choice("abc/._%-") for _ in range(rng.randrange(1, 40)))


def _request(rng: random.Random, key: str) -> bytes:
    """One complete request (never a body shorter than it declares: none waits on the client)."""
    roll = rng.random()
    if roll < 0.03:
        return b"GET /apiv2?type=contact&q=\xe2\x80\xa6 HTTP/1.1\r\nHost: cee\r\n\r\n"
    if roll < 0.05:
        return b"GET /apiv2?q=" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: cee\r\n\r\n"
    if roll < 0.07:
        return b"POST /apiv2 HTTP/1.1\r\nHost: cee\r\nContent-Length: abc\r\n\r\n"
    if roll < 0.09:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200))) + b"\r\n\r\n"
    if roll < 0.10:
        return b"GET /apiv2 HTTP/1.1\r\nHost: cee\r\nX-Big: " + b"a" * 150_000 + b"\r\n\r\n"
    params = _params(rng, key)
    method = rng.choice(["POST"] * 6 + ["GET"] * 3 + ["PUT", "DELETE", "PATCH", "OPTIONS"])
    path = _path(rng)
    headers = [b"Host: cee"]
    body = b""
    split = rng.random()
    if method == "GET" or split < 0.3:
        query = _form(params)
    else:
        query = _form({k: v for k, v in params.items() if k in ("apikey", "type", "activity")})
        rest = {k: v for k, v in params.items() if k not in ("apikey", "type", "activity")}
        kind = rng.random()
        if kind < 0.5:
            body, ctype = _form(rest), "application/x-www-form-urlencoded"
        elif kind < 0.7:
            body, ctype = orjson.dumps(rest), "application/json"
        elif kind < 0.85:
            body, ctype = _multipart(rest, rng)
        else:
            body = _form(rest).replace(b"%", b"\xff", 1)
            ctype = rng.choice(["text/plain", "application/json", ""])
        if ctype:
            headers.append(b"Content-Type: " + ctype.encode())
    if rng.random() < 0.02:
        body = b"data=" + b"x" * BODY_LIMIT  # over the limit: 413
    target = path.encode() + (b"?" + query if query else b"")
    if body and rng.random() < 0.1:
        headers.append(b"Transfer-Encoding: chunked")
        wire_body = _chunked(body, rng)
    else:
        if body or method == "POST":
            headers.append(b"Content-Length: %d" % len(body))
        wire_body = body
        if body and rng.random() < 0.05:
            wire_body += b"GARBAGE / HTTP/1.1\r\n\r\n"  # bytes past the Content-Length
    if rng.random() < 0.05:
        headers.append(b"Expect: 100-continue")
    if rng.random() < 0.3:
        headers.append(b"Connection: close")
    head = method.encode() + b" " + target + b" HTTP/1.1\r\n" + b"\r\n".join(headers)
    return head + b"\r\n\r\n" + wire_body


# -- sending and checking --------------------------------------------------------------------


def _responses(raw: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    """Every response in what one connection received (a 100 Continue is skipped)."""
    out = []
    while raw:
        status, headers, rest = parse_response(raw)
        length = int(headers.get("content-length", "0"))
        out.append((status, headers, rest[:length]))
        raw = rest[length:]
    return [r for r in out if r[0] != 100]


def _send(port: int, data: bytes) -> tuple[float, bytes]:
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        try:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)  # all sent: the server answers and closes
        except OSError:
            pass  # refused early (413, 400) and reset while writing: what was read counts
        out = b""
        sock.settimeout(10)
        try:
            while chunk := sock.recv(65536):
                out += chunk
        except (ConnectionResetError, TimeoutError):
            pass
    return time.perf_counter() - started, out


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def test_a_seeded_fuzz_gets_json_answers_quickly_and_memory_stays_bounded(
    fuzz_server: Server,
) -> None:
    assert fuzz_server.proc is not None
    pid = fuzz_server.proc.pid
    rng = random.Random(SEED)
    corpus = [_request(rng, fuzz_server.api_key) for _ in range(REQUESTS_PER_BACKEND)]
    rss_before = _rss(pid)
    peak = rss_before
    problems: list[str] = []
    answered = 0
    statuses: set[int] = set()

    def check(index: int, data: bytes) -> None:
        seconds, raw = _send(fuzz_server.port, data)
        shown = data[:120]
        if seconds > SLOWEST_SECONDS:
            problems.append(f"#{index} took {seconds:.2f} s: {shown!r}")
        if not raw:
            problems.append(f"#{index} got no answer: {shown!r}")
            return
        for status, headers, body in _responses(raw):
            statuses.add(status)
            if status >= 500:
                problems.append(f"#{index} answered {status}: {shown!r} -> {body[:200]!r}")
            try:
                parsed = orjson.loads(body)
            except orjson.JSONDecodeError:
                problems.append(f"#{index} answered no JSON: {shown!r} -> {body[:200]!r}")
                continue
            if not isinstance(parsed, dict) or not HEX32.fullmatch(str(parsed.get("requestid"))):
                problems.append(f"#{index} answered no requestid: {shown!r} -> {body[:200]!r}")
            elif headers.get("x-request-id") != parsed["requestid"]:
                problems.append(f"#{index}: X-Request-Id differs from the body's requestid")

    with ThreadPoolExecutor(THREADS) as pool:
        futures = [pool.submit(check, i, data) for i, data in enumerate(corpus)]
        for n, future in enumerate(futures):
            future.result()
            answered += 1
            if n % 100 == 0:
                peak = max(peak, _rss(pid))
    peak = max(peak, _rss(pid))
    assert answered == len(corpus)
    assert fuzz_server.proc.poll() is None, "the server died"
    assert not problems, "\n".join(problems[:20])
    # The corpus reached every kind of answer, not just one refusal.
    assert {200, 302, 400, 401, 404, 413, 422} <= statuses, sorted(statuses)
    assert peak - rss_before < RSS_GROWTH_MAX, (rss_before, peak)
