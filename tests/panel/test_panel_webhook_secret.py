"""Admin → Account Configuration shows the webhook secret that signs bulkupload callbacks, once
one exists (the panel never makes one by looking)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import BACKENDS, Server
from tests.panel.conftest import Panel

pytestmark = pytest.mark.parametrize("panel_server", BACKENDS, indirect=True)


def test_the_webhook_secret_is_shown_when_it_exists(panel_server: Server, open_panel: Any) -> None:
    server = panel_server
    panel: Panel = open_panel(server)
    page = panel.page
    panel.log_in(server.creds["admin_user"], server.creds["admin_password"])
    page.goto("/admin/account-configuration")
    expect(page.get_by_text("No webhook secret yet")).to_be_visible()
    page.reload()
    expect(page.get_by_text("No webhook secret yet")).to_be_visible()  # looking made none

    secret = server.cli("account", "webhook-secret").stdout.strip()
    page.reload()
    expect(page.locator("#webhook-secret")).to_have_text(secret)
    panel.shot("webhook-secret")
