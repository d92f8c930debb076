"""A write whose answer is lost is retried with its Idempotency-Key and applied once.

Between the client and a real server sits a loopback proxy the test starts: it forwards each
request, and for the first one drops the connection instead of relaying the answer, as a
network failure after the server has done the work would. The client's retry carries the same
Idempotency-Key, so the server replays its first answer instead of writing again.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from cee_client import Client, Retries

from tests.conftest import Server, unique_email


def _read_message(sock: socket.socket) -> bytes:
    """One HTTP/1.1 message (headers and a Content-Length body) from the socket, or b""."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return b""
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


class LosingProxy:
    """Forwards requests to `upstream`; swallows the answer of the first `lose` of them."""

    def __init__(self, upstream_port: int, lose: int = 1) -> None:
        self.upstream_port = upstream_port
        self.lose = lose
        self.forwarded = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            while request := _read_message(conn):
                with socket.create_connection(("127.0.0.1", self.upstream_port)) as up:
                    up.sendall(request)
                    answer = _read_message(up)
                with self.lock:
                    self.forwarded += 1
                    lose = self.lose > 0
                    self.lose -= lose
                if lose:
                    return  # the server did the work; the client never hears of it
                conn.sendall(answer)

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def proxy(shared_server: Server) -> Iterator[LosingProxy]:
    found = LosingProxy(shared_server.port)
    yield found
    found.close()


def test_a_lost_addsync_answer_is_retried_without_a_302(
    proxy: LosingProxy, shared_server: Server
) -> None:
    email = unique_email("idem")
    with Client(
        shared_server.api_key, f"http://127.0.0.1:{proxy.port}", retries=Retries(backoff=0.01)
    ) as cee:
        # Without the key's replay, the retry would meet the contact the first attempt made
        # and answer 302 DuplicateContact.
        requestid = cee.addsync({"EMAIL": email, "CITY": "Pune"})
    assert proxy.forwarded == 2
    with Client(shared_server.api_key, shared_server.base) as direct:
        assert direct.view(email).attributes["CITY"] == "Pune"
        history = direct.user_summary(email, "01012000", "31122099").activity
    assert [h["activity"] for h in history] == ["addsync"]  # written once
    assert [h["requestid"] for h in history] == [requestid]  # the replayed first answer


def test_a_lost_add_answer_is_one_journaled_request(
    proxy: LosingProxy, shared_server: Server
) -> None:
    email = unique_email("idem-add")
    with Client(
        shared_server.api_key, f"http://127.0.0.1:{proxy.port}", retries=Retries(backoff=0.01)
    ) as cee:
        requestid = cee.add({"EMAIL": email})
        assert cee.wait(requestid, timeout=30).result == "Success"
    assert proxy.forwarded >= 2
    with Client(shared_server.api_key, shared_server.base) as direct:
        history = direct.user_summary(email, "01012000", "31122099").activity
    assert [h["requestid"] for h in history] == [requestid]
