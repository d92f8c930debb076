"""Login throttling: after 5 failures for a user (or from an address) in 15 minutes, further
attempts get a 429 page, even with the right password, and the server logs them.

A server of its own: the throttle also holds the test's address (127.0.0.1), which would lock
every other test of a shared server out.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import Server
from tests.panel.conftest import Panel


@pytest.fixture
def lone_server(server: Server) -> Server:
    return server


def test_six_wrong_passwords_are_throttled(lone_server: Server, open_panel: Any) -> None:
    panel: Panel = open_panel(lone_server)
    page = panel.page
    user = lone_server.creds["admin_user"]

    def attempt(password: str) -> int:
        page.goto("/")
        page.get_by_label("Username").fill(user)
        page.get_by_label("Password").fill(password)
        with page.expect_response(lambda r: r.url.endswith("/login")) as answer:
            page.get_by_role("button", name="Log in").click()
        return int(answer.value.status)

    assert [attempt(f"wrong-{i}") for i in range(5)] == [401] * 5
    assert attempt("wrong-5") == 429
    expect(page.get_by_role("heading", name="Too many attempts")).to_be_visible()
    panel.shot("login-throttled")
    # The right password waits too: the throttle is checked before any password is.
    assert attempt(lone_server.creds["admin_password"]) == 429
    assert not [c for c in panel.context.cookies() if c["name"] == "cee_session"]
    log = lone_server.log.read_text()
    assert "panel login throttled" in log
    assert log.count("panel login failed") == 5
    assert lone_server.creds["admin_password"] not in log
