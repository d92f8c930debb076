"""No server-side request forgery: what bulkupload refuses at once, and what it refuses later
(a redirect, an address that only the connection reveals)."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Iterator

import pytest

from cee.ingest.imports.fetch import Limits, open_url
from cee.ingest.imports.guard import AllowList, Refused, check_url, why_refused
from tests.conftest import Database, Server
from tests.ingest.bulkutil import start_server, upload, wait_for
from tests.ingest.fileserver import File, FileServer


@pytest.fixture
def files() -> Iterator[FileServer]:
    fs = FileServer()
    yield fs
    fs.close()


PUBLIC = "http://8.8.8.8/c.csv"
REFUSED_AT_ONCE = {
    "http://10.1.2.3/c.csv": "path: 10.1.2.3 is a private address",
    "http://192.168.0.10/c.csv": "path: 192.168.0.10 is a private address",
    "http://169.254.169.254/latest/meta-data/": "path: 169.254.169.254 is a cloud metadata address",
    "http://169.254.10.1/c.csv": "path: 169.254.10.1 is a link-local address",
    "http://[fe80::1]/c.csv": "path: fe80::1 is a link-local address",
    "http://[::ffff:127.0.0.1]/c.csv": "path: ::ffff:127.0.0.1 is a loopback address",
    "http://127.0.0.1:9/c.csv": "path: 127.0.0.1 is a loopback address",
    "http://localhost/c.csv": "path: localhost (",
    "http://224.0.0.1/c.csv": "path: 224.0.0.1 is a multicast address",
    "http://0.0.0.0/c.csv": "path: 0.0.0.0 is a",
    "http://240.0.0.1/c.csv": "path: 240.0.0.1 is a",
    "file:///etc/passwd": "path: only http and https URLs are fetched (the scheme is 'file:')",
    "gopher://127.0.0.1:70/_x": "path: only http and https URLs are fetched (the scheme is 'gopher",
    "ftp://files.example.com/c.csv": "path: only http and https URLs are fetched",
    "http:///c.csv": "path: the URL names no host",
    "http://exa mple.com/c.csv": "path: the URL contains spaces",
}


def test_private_link_local_and_other_schemes_are_refused_at_once(
    database: Database, files: FileServer
) -> None:
    # No CEE_BULK_ALLOW_HOSTS: even the loopback file server is out of reach.
    srv = Server(database)
    srv.init()
    srv.start()
    try:
        for url, details in REFUSED_AT_ONCE.items():
            answer = srv.api(query={"type": "contact", "activity": "bulkupload", "path": url})
            assert answer.status_code == 400, (url, answer.text)
            body = answer.json()
            assert body["error_code"] == 400 and body["details"].startswith(details), (url, body)
        # A public address as `path` (the sandbox has no DNS): never dialled, because each of
        # these requests is refused for another parameter and no job is made.
        answer = srv.api(
            query={
                "type": "contact",
                "activity": "bulkupload",
                "path": PUBLIC,
                "callback": "http://10.0.0.1/hook",
            }
        )
        assert answer.status_code == 400
        assert answer.json()["details"].startswith("callback: 10.0.0.1 is a private address")
        missing = srv.api(query={"type": "contact", "activity": "bulkupload"})
        assert missing.status_code == 400 and missing.json()["details"] == "path: missing"
        bad_list = srv.api(
            query={
                "type": "contact",
                "activity": "bulkupload",
                "path": PUBLIC,
                "listid": "999",
            }
        )
        assert bad_list.status_code == 404 and bad_list.json()["details"].startswith("listid:")
        bad_mail = srv.api(
            query={
                "type": "contact",
                "activity": "bulkupload",
                "path": PUBLIC,
                "notifyemail": "nobody",
            }
        )
        assert bad_mail.status_code == 400
        assert bad_mail.json()["details"].startswith("notifyemail:")
        assert files.gets == []  # nothing was fetched
    finally:
        srv.stop()


def test_a_redirect_to_a_disallowed_address_is_refused(
    database: Database, files: FileServer
) -> None:
    # Only 127.0.0.1 is allowed; 127.0.0.2 is loopback too, but not allowed.
    srv = start_server(database, CEE_BULK_ALLOW_HOSTS="127.0.0.1/32")
    try:
        files.files["/real.csv"] = File(b"EMAIL\nmoved@example.com\n")
        files.redirects["/moved.csv"] = "/real.csv"
        files.redirects["/evil.csv"] = files.url("/real.csv", host="127.0.0.2")
        files.redirects["/meta.csv"] = "http://169.254.169.254/latest/meta-data/"
        files.redirects["/gopher.csv"] = "gopher://127.0.0.1:70/_x"
        files.redirects["/loop.csv"] = "/loop.csv"
        files.redirects["/nowhere.csv"] = ""
        followed = wait_for(srv, upload(srv, files.url("/moved.csv")))
        assert followed["result"] == "Success" and followed["succeeded"] == 1
        expected = {
            "/evil.csv": "path: 127.0.0.2 is a loopback address",
            "/meta.csv": "path: 169.254.169.254 is a cloud metadata address",
            "/gopher.csv": "path: only http and https URLs are fetched (the scheme is 'gopher:')",
            "/loop.csv": "path: more than 5 redirects",
            "/nowhere.csv": f"path: {files.url('/nowhere.csv')} redirects without a Location",
        }
        for path, reason in expected.items():
            done = wait_for(srv, upload(srv, files.url(path)))
            assert done["result"] == "Failed" and done["reason"].startswith(reason), done
            assert done["succeeded"] == 0
        assert "/real.csv" in files.gets and files.gets.count("/real.csv") == 1
    finally:
        srv.stop()


def test_a_file_over_the_size_limit_fails_the_job(database: Database, files: FileServer) -> None:
    srv = start_server(database, CEE_BULK_MAX_BYTES="1000")
    try:
        files.files["/big.csv"] = File(
            ("EMAIL\n" + "".join(f"big{i}@example.com\n" for i in range(200))).encode()
        )
        done = wait_for(srv, upload(srv, files.url("/big.csv")))
        assert done["result"] == "Failed"
        assert "the limit is 1000 (CEE_BULK_MAX_BYTES)" in done["reason"]
    finally:
        srv.stop()


def test_every_address_of_a_host_is_checked_and_the_allow_list_reads_hosts_and_networks() -> None:
    allow = AllowList.parse(" files.internal , 10.20.0.0/16,[fd00::1]")
    assert allow.allows_host("FILES.internal.")
    assert why_refused(ipaddress.ip_address("10.20.3.4"), allow) is None
    assert why_refused(ipaddress.ip_address("fd00::1"), allow) is None
    assert why_refused(ipaddress.ip_address("10.21.0.1"), allow) == "a private address"
    assert why_refused(ipaddress.ip_address("100.64.0.1"), allow) == "a non-public address"
    assert why_refused(ipaddress.ip_address("8.8.8.8"), allow) is None
    # `localhost` resolves to loopback addresses only: refused whichever comes first.
    with pytest.raises(Refused, match=r"localhost .* is a loopback address"):
        asyncio.run(check_url("http://localhost:8080/x.csv", AllowList()))
    asyncio.run(check_url("http://localhost:8080/x.csv", AllowList.parse("localhost")))


def test_the_connection_itself_is_checked_whatever_was_checked_before(files: FileServer) -> None:
    # open_url is what the worker runs, long after the request-time check: the address it
    # dials is judged again (a DNS answer that changed in between is caught here).
    files.files["/c.csv"] = File(b"EMAIL\na@example.com\n")
    limits = Limits(max_bytes=1 << 20, seconds=10)

    async def fetch(allow: AllowList) -> bytes:
        async with open_url(files.url("/c.csv"), allow, limits) as body:
            return b"".join([piece async for piece in body.chunks()])

    with pytest.raises(Refused, match=r"127\.0\.0\.1 is a loopback address"):
        asyncio.run(fetch(AllowList()))
    assert files.gets == []  # refused before a byte was sent
    assert asyncio.run(fetch(AllowList.parse("127.0.0.0/8"))) == b"EMAIL\na@example.com\n"
