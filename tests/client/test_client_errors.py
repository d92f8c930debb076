"""Every typed error of `cee_client.errors`, provoked on a real server (or a real socket)."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import httpx
import pytest
from cee_client import Client, Retries, errors

from tests.conftest import Database, Server, free_port, unique_email

ONE_TRY = Retries(attempts=1)


def test_duplicate_contact(cee: Client) -> None:
    email = unique_email("dup")
    cee.addsync({"EMAIL": email})
    with pytest.raises(errors.DuplicateContact) as caught:
        cee.addsync({"EMAIL": email})
    exc = caught.value
    assert exc.error_code == 302
    assert exc.details == f"Duplicate entry '{email}' for key 'uniqid'"
    assert exc.requestid and len(exc.requestid) == 32
    assert isinstance(exc, errors.CeeError)


def test_a_duplicate_list_name_is_a_duplicate_too(cee: Client) -> None:
    listname = f"twice-{uuid.uuid4().hex[:8]}"
    cee.create_list(listname)
    with pytest.raises(errors.DuplicateContact):
        cee.create_list(listname)


def test_bad_request_names_the_parameter(cee: Client) -> None:
    with pytest.raises(errors.BadRequest) as caught:
        cee.create_attribute("SIZE", "colour")
    assert caught.value.error_code == 400
    assert "datatype" in caught.value.details


def test_invalid_api_key(shared_server: Server) -> None:
    with (
        Client(api_key="cee_wrong", base_url=shared_server.base) as cee,
        pytest.raises(errors.InvalidApiKey) as caught,
    ):
        cee.lists()
    assert caught.value.error_code == 401
    assert caught.value.details == "Invalid API key"


def test_api_mode_off_is_a_forbidden(shared_server: Server) -> None:
    account = f"off-{uuid.uuid4().hex[:8]}"
    creds = json.loads(shared_server.cli("account", "create", account, "--json").stdout)
    shared_server.cli("account", "api-mode", "off", "--account", account)
    with (
        Client(api_key=creds["api_key"], base_url=shared_server.base) as cee,
        pytest.raises(errors.ApiModeOff) as caught,
    ):
        cee.addsync({"EMAIL": unique_email()})
    assert isinstance(caught.value, errors.Forbidden)
    assert caught.value.error_code == 403
    assert "API Mode" in caught.value.details


def test_not_found(cee: Client) -> None:
    missing = unique_email("nobody")
    with pytest.raises(errors.NotFound) as caught:
        cee.view(missing)
    assert caught.value.error_code == 404 and missing in caught.value.details
    with pytest.raises(errors.NotFound) as caught:
        cee.addsync({"EMAIL": unique_email()}, listid=987654)
    assert "987654" in caught.value.details


def test_too_large(cee: Client) -> None:
    with pytest.raises(errors.TooLarge) as caught:
        cee.addsync({"EMAIL": unique_email(), "NAME": "x" * (11 * 1024 * 1024)})
    assert caught.value.error_code == 413
    assert "limit" in caught.value.details


def test_invalid_contact_names_the_attribute(cee: Client) -> None:
    with pytest.raises(errors.InvalidContact) as caught:
        cee.addsync({"EMAIL": "not-an-email"})
    assert caught.value.error_code == 422
    assert caught.value.attribute == "EMAIL"
    with pytest.raises(errors.InvalidContact) as caught:
        cee.addsync({"EMAIL": unique_email(), "NO_SUCH_THING": "x"})
    assert caught.value.attribute == "NO_SUCH_THING"


@pytest.fixture
def shallow_journal(database: Database) -> Iterator[Server]:
    """A server whose journal takes one request and has no worker to drain it."""
    srv = Server(database, {"CEE_JOURNAL_MAX_DEPTH": "1"})
    srv.init()
    srv.start("--no-worker")
    yield srv
    srv.stop()


def test_wait_timeout_then_rate_limited(shallow_journal: Server) -> None:
    # One server for both (each start costs seconds): its journal holds the first add, which no
    # worker applies, so waiting on it times out, and the journal is then full.
    with Client(shallow_journal.api_key, shallow_journal.base, retries=ONE_TRY) as cee:
        requestid = cee.add({"EMAIL": unique_email()})
        started = time.monotonic()
        with pytest.raises(errors.WaitTimeout) as waited:
            cee.wait(requestid, timeout=0.5, poll=0.05)
        assert time.monotonic() - started >= 0.5
        assert waited.value.status.state == "queued" and not waited.value.status.done
        assert waited.value.requestid == requestid

        with pytest.raises(errors.RateLimited) as limited:
            cee.add({"EMAIL": unique_email()})
    assert limited.value.error_code == 429
    assert limited.value.retry_after is not None and limited.value.retry_after > 0


def test_connect_error_when_nothing_listens() -> None:
    port = free_port()  # bound and released: nothing listens there now
    fast = Retries(attempts=2, backoff=0.01)
    with (
        Client("k", f"http://127.0.0.1:{port}", retries=fast) as cee,
        pytest.raises(errors.ConnectError) as caught,
    ):
        cee.lists()
    assert isinstance(caught.value, errors.TransportError)
    assert str(port) in caught.value.details


def test_timeout_when_the_server_never_answers() -> None:
    # A real loopback socket that accepts and then says nothing.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted: list[socket.socket] = []
    thread = threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True)
    thread.start()
    port = listener.getsockname()[1]
    try:
        with (
            Client("k", f"http://127.0.0.1:{port}", timeout=httpx.Timeout(0.5)) as cee,
            pytest.raises(errors.Timeout),
        ):
            cee.lists()
    finally:
        for conn in accepted:
            conn.close()
        listener.close()


class Scripted(BaseHTTPRequestHandler):
    """A loopback HTTP server answering each request from the class's `answers` list."""

    answers: ClassVar[list[tuple[int, bytes]]] = []
    seen = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        status, body = type(self).answers.pop(0)
        type(self).seen += 1
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def scripted() -> Iterator[tuple[str, type[Scripted]]]:
    handler = type("Handler", (Scripted,), {"answers": [], "seen": 0})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", handler
    httpd.shutdown()
    httpd.server_close()


def test_server_error_is_raised_without_a_retry(scripted: tuple[str, type[Scripted]]) -> None:
    base, handler = scripted
    fault = {"status": "error", "error_code": 500, "details": "internal error; quote requestid"}
    handler.answers = [(500, json.dumps(fault).encode()), (200, b"{}")]
    with (
        Client("k", base, retries=Retries(backoff=0.01)) as cee,
        pytest.raises(errors.ServerError) as caught,
    ):
        cee.addsync({"EMAIL": unique_email()})
    assert caught.value.error_code == 500
    assert handler.seen == 1  # a 500 may have applied the request: never repeated


def test_a_503_then_success_is_retried(scripted: tuple[str, type[Scripted]]) -> None:
    base, handler = scripted
    ok = {"requestid": "c" * 32, "result": "Success"}
    handler.answers = [(503, b"unavailable"), (200, json.dumps(ok).encode())]
    with Client("k", base, retries=Retries(backoff=0.01)) as cee:
        assert cee.addsync({"EMAIL": unique_email()}) == "c" * 32
    assert handler.seen == 2


def test_a_wrong_path_is_reported_not_misread(shared_server: Server) -> None:
    with (
        Client(shared_server.api_key, shared_server.base + "/nowhere") as cee,
        pytest.raises(errors.NotFound) as caught,
    ):
        cee.lists()
    assert caught.value.error_code == 404


def test_a_status_outside_the_contract_is_an_unexpected_answer(
    scripted: tuple[str, type[Scripted]],
) -> None:
    base, handler = scripted
    handler.answers = [(407, b"proxy authentication required")]
    with Client("k", base) as cee, pytest.raises(errors.UnexpectedAnswer) as caught:
        cee.lists()
    assert caught.value.error_code == 407
    assert "proxy authentication" in caught.value.details
