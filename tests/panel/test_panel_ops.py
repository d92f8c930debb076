"""The panel's security headers in a real browser (the policy breaks nothing on its pages), and
Sub Admin → Edit → Rate limit setting the key's limit that the API then enforces."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.conftest import BACKENDS, Server
from tests.panel.conftest import Panel

pytestmark = pytest.mark.parametrize("panel_server", BACKENDS, indirect=True)


def getalllist(server: Server, key: str) -> int:
    resp = httpx.get(
        server.base + "/apiv2",
        params={"apikey": key, "type": "lists", "activity": "getalllist"},
        timeout=30,
    )
    return resp.status_code


def test_panel_pages_carry_the_policy_and_it_breaks_nothing(
    panel_server: Server, open_panel: Any
) -> None:
    server = panel_server
    panel: Panel = open_panel(server)
    page = panel.page
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    response = page.goto("/")
    assert response is not None
    headers = response.headers
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp  # no inline script or style is allowed to run
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    panel.log_in(server.creds["admin_user"], server.creds["admin_password"])
    for name in ("Admin", "Sub Admin", "Lists", "Attributes"):
        panel.menu(name)
        page.wait_for_load_state("load")
    # Pico's stylesheet came through: the page is styled (the policy allows 'self' styles).
    loaded = page.evaluate("[...document.styleSheets].filter(s => s.cssRules.length).length")
    assert loaded >= 1, "no stylesheet loaded"
    font = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert "Times" not in font, font  # the browser's default: no stylesheet applied
    assert refused == [], refused


def test_an_admin_sets_a_key_limit_in_the_panel(panel_server: Server, open_panel: Any) -> None:
    server = panel_server
    name = f"metered-{uuid.uuid4().hex[:6]}"
    key = json.loads(server.cli("user", "create", name, "--json").stdout)["api_key"]
    panel: Panel = open_panel(server)
    page = panel.page
    panel.log_in(server.creds["admin_user"], server.creds["admin_password"])
    panel.menu("Sub Admin")
    page.get_by_role("row").filter(has_text=name).get_by_role("link", name="Edit").click()
    expect(page.locator("#rate-limit")).to_have_text("none")
    page.get_by_label("Requests a minute").fill("3")
    page.get_by_role("button", name="Save limit").click()
    expect(page.locator("#rate-limit")).to_have_text("3 requests a minute")
    panel.shot("user-rate-limit")
    assert [getalllist(server, key) for _ in range(5)][:4] == [200, 200, 200, 429]
    page.get_by_label("Requests a minute").fill("0")
    page.get_by_role("button", name="Save limit").click()
    expect(page.locator("#rate-limit")).to_have_text("none")
    assert getalllist(server, key) == 200
