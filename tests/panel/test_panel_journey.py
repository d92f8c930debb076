"""The seed's journey in a real browser: log in, Admin → Account Configuration → Advance details
→ API Mode, then Sub Admin → Edit → Show: the key on the page is the one `cee init` printed."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import BACKENDS, Server, unique_email
from tests.panel.conftest import Panel

# And under `cee serve --processes 2`: the panel's changes reach every HTTP process at once.
pytestmark = pytest.mark.parametrize("panel_server", [*BACKENDS, "sqlite-processes"], indirect=True)


def addsync(server: Server, key: str) -> int:
    data = f'{{"EMAIL":"{unique_email("journey")}","FIRST_NAME":"Mike"}}'
    response = server.api(
        query={"type": "contact", "activity": "addsync"}, form={"data": data}, key=key
    )
    return response.status_code


def test_the_seed_journey(panel_server: Server, open_panel: Any) -> None:
    server = panel_server
    panel: Panel = open_panel(server)
    page = panel.page

    page.goto("/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    panel.shot("login")
    panel.log_in(server.creds["admin_user"], server.creds["admin_password"])
    expect(page.get_by_role("heading", name="Welcome, admin")).to_be_visible()
    panel.shot("home")
    # On a phone's width the menu wraps and stays usable.
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.get_by_role("banner").get_by_role("link", name="Sub Admin")).to_be_visible()
    panel.shot("home-phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    panel.menu("Admin")
    panel.shot("admin")
    page.get_by_role("link", name="Account Configuration").click()
    expect(page.get_by_role("heading", name="Advance details")).to_be_visible()
    api_mode = page.get_by_label("API Mode")
    expect(api_mode).to_be_checked()
    panel.shot("account-configuration")

    api_mode.uncheck()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Saved")
    expect(page.get_by_label("API Mode")).not_to_be_checked()
    assert addsync(server, server.api_key) == 403
    panel.shot("account-configuration-api-mode-off")

    page.get_by_label("API Mode").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_label("API Mode")).to_be_checked()
    assert addsync(server, server.api_key) == 200

    panel.menu("Sub Admin")
    expect(page.get_by_role("heading", name="Sub Admin")).to_be_visible()
    panel.shot("sub-admin")
    row = page.get_by_role("row").filter(has_text=server.creds["admin_user"])
    row.get_by_role("link", name="Edit").click()
    # Masked until asked: the page holds only the prefix.
    expect(page.locator("#api-key")).not_to_contain_text(server.api_key)
    assert server.api_key not in page.content()
    panel.shot("user")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#api-key")).to_have_text(server.api_key)
    panel.shot("user-key-shown")
    assert addsync(server, page.locator("#api-key").inner_text()) == 200
    # Shown where asked, and nowhere else: not in a URL the panel made, not in the server's log.
    assert server.api_key not in page.url
    assert server.api_key not in server.log.read_text()
