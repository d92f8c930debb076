"""When a bulk upload is done: the signed callback (retried, every attempt in the status) and
the notify email, received by a real SMTP server (aiosmtpd on loopback)."""

from __future__ import annotations

import email
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from email.message import Message
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from tests.conftest import Database, free_port
from tests.ingest.bulkutil import start_server, upload, wait_for
from tests.ingest.fileserver import File, FileServer

CSV = b"EMAIL,NAME\nn1@example.com,One\nbroken,Two\nn3@example.com,Three\n"


@pytest.fixture
def files() -> Iterator[FileServer]:
    fs = FileServer()
    fs.files["/n.csv"] = File(CSV)
    yield fs
    fs.close()


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def eventually(check: Any, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := check()):
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)
    return found


def test_the_callback_is_signed_retried_and_every_attempt_recorded(
    database: Database, files: FileServer
) -> None:
    srv = start_server(database)
    try:
        files.fail_posts = 1  # the receiver is down for the first attempt
        requestid = upload(srv, files.url("/n.csv"), callback=files.url("/hook?x=1"))
        eventually(lambda: len(files.posts) == 2)
        first, second = files.posts
        assert first.body == second.body and first.path == "/hook?x=1"
        summary = json.loads(second.body)
        assert summary == {
            "requestid": requestid,
            "result": "Partial",
            "total": 3,
            "succeeded": 2,
            "failed": 1,
        }
        secret = srv.cli("account", "webhook-secret").stdout.strip()
        expected = "sha256=" + hmac.new(secret.encode(), second.body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(second.headers["X-CEE-Signature"], expected)
        forged = "sha256=" + hmac.new(b"guess", second.body, hashlib.sha256).hexdigest()
        assert second.headers["X-CEE-Signature"] != forged

        def delivered() -> dict[str, Any] | None:
            found = wait_for(srv, requestid)
            return found if found["callback"].get("delivered") else None

        done = eventually(delivered)
        attempts = done["callback"]["attempts"]
        assert [a["attempt"] for a in attempts] == [1, 2]
        assert [a["status"] for a in attempts] == [500, 200]
        assert "mail" not in done  # no notifyemail asked for

        # A rotated secret signs the next callback; the old one no longer matches.
        rotated = srv.cli("account", "webhook-secret", "--rotate").stdout.strip()
        assert rotated != secret
        upload(srv, files.url("/n.csv"), callback=files.url("/hook2"))
        eventually(lambda: len(files.posts) == 3)
        third = files.posts[2]
        again = "sha256=" + hmac.new(rotated.encode(), third.body, hashlib.sha256).hexdigest()
        assert third.headers["X-CEE-Signature"] == again
    finally:
        srv.stop()


def test_a_callback_that_never_succeeds_is_given_up_after_the_attempts(
    database: Database, files: FileServer
) -> None:
    srv = start_server(database, CEE_BULK_CALLBACK_ATTEMPTS="3")
    try:
        files.fail_posts = 100
        requestid = upload(srv, files.url("/n.csv"), callback=files.url("/down"))

        def given_up() -> dict[str, Any] | None:
            found = wait_for(srv, requestid)
            return found if len(found["callback"]["attempts"]) == 3 else None

        done = eventually(given_up)
        assert done["callback"]["delivered"] is False
        assert [a["status"] for a in done["callback"]["attempts"]] == [500, 500, 500]
        time.sleep(0.5)
        assert len(files.posts) == 3
    finally:
        srv.stop()


def test_the_summary_is_mailed_when_smtp_is_set(
    database: Database, files: FileServer, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    srv = start_server(
        database, CEE_SMTP_URL=f"smtp://127.0.0.1:{port}", CEE_SMTP_FROM="imports@cee.test"
    )
    try:
        requestid = upload(srv, files.url("/n.csv"), notifyemail="ops@example.com")
        eventually(lambda: inbox.messages)
        [mail] = inbox.messages
        assert mail["To"] == "ops@example.com" and mail["From"] == "imports@cee.test"
        assert requestid in mail["Subject"] and "Partial" in mail["Subject"]
        text = mail.get_payload()
        assert "Imported: 2" in text and "Rejected: 1" in text
        done = eventually(lambda: (s := wait_for(srv, requestid))["mail"].get("sent") and s)
        assert done["mail"]["to"] == "ops@example.com"
    finally:
        srv.stop()


def test_without_smtp_the_job_says_no_mail_was_sent(database: Database, files: FileServer) -> None:
    srv = start_server(database)
    try:
        requestid = upload(srv, files.url("/n.csv"), notifyemail="ops@example.com")
        done = eventually(lambda: (s := wait_for(srv, requestid))["mail"].get("details") and s)
        assert done["mail"] == {
            "to": "ops@example.com",
            "sent": False,
            "details": "no mail was sent: CEE_SMTP_URL is not set",
        }
    finally:
        srv.stop()


def test_batchadd_sends_its_summary_to_callbackurl_and_notifyemail(
    database: Database, files: FileServer, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    srv = start_server(database, CEE_SMTP_URL=f"smtp://127.0.0.1:{port}")
    try:
        answer = httpx.post(
            srv.base + "/v3/contact/batchadd",
            headers={"api-key": srv.api_key},
            json={
                "callbackurl": files.url("/v3hook"),
                "notifyemail": "ops@example.com",
                "data": [{"EMAIL": "b1@example.com"}, {"EMAIL": "nope"}],
            },
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        requestid = answer.json()["requestid"]
        eventually(lambda: files.posts)
        [post] = files.posts
        assert json.loads(post.body) == {
            "requestid": requestid,
            "result": "Partial",
            "total": 2,
            "succeeded": 1,
            "failed": 1,
        }
        secret = srv.cli("account", "webhook-secret").stdout.strip()
        expected = "sha256=" + hmac.new(secret.encode(), post.body, hashlib.sha256).hexdigest()
        assert post.headers["X-CEE-Signature"] == expected
        eventually(lambda: inbox.messages)
        assert requestid in inbox.messages[0]["Subject"]
    finally:
        srv.stop()
