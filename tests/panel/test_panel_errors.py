"""A panel page refuses with the status of the one error table (web/errors.py), as /apiv2 does,
and with the admin rule's own words (the CLI prints the same ones)."""

from __future__ import annotations

import re

import httpx

from tests.conftest import Server, unique_email
from tests.web.util import addsync, assert_success


def csrf_of(page: httpx.Response) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text
    return match.group(1)


def log_in(client: httpx.Client, server: Server) -> None:
    form = {
        "username": server.creds["admin_user"],
        "password": server.creds["admin_password"],
        "csrf_token": csrf_of(client.get("/")),
    }
    assert client.post("/login", data=form).status_code == 303
    assert "cee_session" in client.cookies


def panel_client(server: Server) -> httpx.Client:
    return httpx.Client(base_url=server.base, follow_redirects=False, timeout=30)


def test_a_taken_list_name_is_a_409_page_not_a_302(server: Server) -> None:
    with panel_client(server) as client:
        log_in(client, server)
        token = csrf_of(client.get("/lists"))
        made = client.post("/lists", data={"name": "VIP", "csrf_token": token})
        assert made.status_code == 303  # to the new list's page
        again = client.post("/lists", data={"name": "VIP", "csrf_token": token})
        # The seed's duplicate is a 302 on /apiv2; a page answering 302 would send the browser
        # to a Location that is not there.
        assert again.status_code == 409
        assert "location" not in again.headers
        assert "VIP" in again.text and "Traceback" not in again.text


def test_the_primary_key_rule_refuses_with_409_and_the_cli_words(server: Server) -> None:
    assert_success(addsync(server, {"EMAIL": unique_email()}))
    with panel_client(server) as client:
        log_in(client, server)
        token = csrf_of(client.get("/admin/account-configuration"))
        form = {"api_mode": "on", "primary_key": "MOBILE", "csrf_token": token}
        refused = client.post("/admin/account-configuration", data=form)
        assert refused.status_code == 409
        assert "primary key: the account has contacts" in refused.text
    # The CLI says the same, from the same rule.
    cli = server.cli("account", "primary-key", "MOBILE", check=False)
    assert cli.returncode == 1
    assert "primary key: the account has contacts" in cli.stderr
    assert "primary key EMAIL" in server.cli("account", "list").stdout
