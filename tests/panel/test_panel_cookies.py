"""With CEE_PANEL_SECURE_COOKIES (CEE behind an https proxy) the panel's cookies are Secure, so
a browser never sends them over plain http."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import Database, Server


@pytest.fixture
def secure_server(database: Database) -> Iterator[Server]:
    srv = Server(database, extra_env={"CEE_PANEL_SECURE_COOKIES": "1"})
    srv.init()
    srv.start()
    yield srv
    srv.stop()


def test_cookies_are_secure_when_the_setting_says_so(secure_server: Server) -> None:
    with httpx.Client(base_url=secure_server.base) as client:
        form = client.get("/")
        assert "Secure" in form.headers["set-cookie"]
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token is not None
        # httpx keeps Secure cookies off plain http, as a browser would: send it by hand.
        answer = client.post(
            "/login",
            data={
                "csrf_token": token.group(1),
                "username": secure_server.creds["admin_user"],
                "password": secure_server.creds["admin_password"],
            },
            headers={"cookie": f"cee_login_csrf={token.group(1)}"},
        )
    assert answer.status_code == 303
    session = [h for h in answer.headers.get_list("set-cookie") if h.startswith("cee_session=")]
    assert len(session) == 1
    assert all(word in session[0] for word in ("HttpOnly", "Secure", "SameSite=lax"))
