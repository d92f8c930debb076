"""API keys, users, API Mode and accounts, changed with the CLI while the server runs."""

from __future__ import annotations

import json

from tests.conftest import Server, unique_email
from tests.web.util import (
    addsync,
    assert_error,
    assert_success,
    create_list,
    list_counts,
    server_log,
    stored_contact,
)


def test_a_rotated_key_is_refused_at_once_and_the_new_one_works(server: Server) -> None:
    old = server.api_key
    assert_success(addsync(server, {"EMAIL": unique_email()}, key=old))
    out = server.cli("key", "rotate", server.creds["admin_user"], "--json")
    new = json.loads(out.stdout)["api_key"]
    assert new != old and new.startswith("cee_")
    assert_error(addsync(server, {"EMAIL": unique_email()}, key=old), 401, "Invalid API key")
    assert_success(addsync(server, {"EMAIL": unique_email()}, key=new))


def test_a_disabled_user_is_refused_at_once(server: Server) -> None:
    out = server.cli("user", "create", "sam", "--json")
    sam_key = json.loads(out.stdout)["api_key"]
    assert_success(addsync(server, {"EMAIL": unique_email()}, key=sam_key))
    server.cli("user", "disable", "sam")
    assert_error(addsync(server, {"EMAIL": unique_email()}, key=sam_key), 401)
    # Other users of the account are unaffected; enabling sam restores the same key.
    assert_success(addsync(server, {"EMAIL": unique_email()}))
    server.cli("user", "enable", "sam")
    assert_success(addsync(server, {"EMAIL": unique_email()}, key=sam_key))


def test_api_mode_off_is_403_for_every_activity(server: Server) -> None:
    server.cli("account", "api-mode", "off")
    email = unique_email("off")
    assert_error(addsync(server, {"EMAIL": email}), 403, "API Mode")
    assert_error(server.api(query={"type": "lists", "activity": "getalllist"}), 403, "API Mode")
    resp = server.api(query={"type": "attributes", "activity": "getall"})
    assert_error(resp, 403, "API Mode")
    assert stored_contact(server, email) is None
    # A wrong key is still a 401: API Mode says nothing to strangers.
    assert_error(addsync(server, {"EMAIL": unique_email()}, key="cee_guess"), 401)
    server.cli("account", "api-mode", "on")
    assert_success(addsync(server, {"EMAIL": email}))


def test_two_accounts_cannot_see_or_touch_each_others_data(server: Server) -> None:
    out = server.cli("account", "create", "beta", "--json")
    beta = json.loads(out.stdout)
    beta_key = beta["api_key"]
    assert beta["account_id"] != server.creds["account_id"]

    alpha_list = create_list(server, "alpha-only")
    email = unique_email("shared")
    assert_success(addsync(server, {"EMAIL": email, "NAME": "Alpha"}, listid=alpha_list))

    # Beta sees none of alpha's lists and cannot add to them.
    assert list_counts(server, key=beta_key) == {}
    resp = addsync(server, {"EMAIL": unique_email()}, listid=alpha_list, key=beta_key)
    assert_error(resp, 404, "listid", str(alpha_list))

    # The same email is a new contact in beta: uniqueness is per account.
    assert_success(addsync(server, {"EMAIL": email, "NAME": "Beta"}, key=beta_key))
    alpha_contact = stored_contact(server, email, account_id=server.creds["account_id"])
    beta_contact = stored_contact(server, email, account_id=beta["account_id"])
    assert alpha_contact is not None and alpha_contact[1]["NAME"] == "Alpha"
    assert beta_contact is not None and beta_contact[1]["NAME"] == "Beta"

    # A list of the same name is fine in the other account, and its id is no use to alpha.
    beta_list = create_list(server, "alpha-only", key=beta_key)
    assert beta_list != alpha_list
    assert_error(addsync(server, {"EMAIL": unique_email()}, listid=beta_list), 404, "listid")
    assert list_counts(server) == {"alpha-only": 1}
    assert list_counts(server, key=beta_key) == {"alpha-only": 0}


def test_keys_are_never_written_to_the_log(shared_server: Server) -> None:
    server = shared_server
    assert_success(addsync(server, {"EMAIL": unique_email()}))
    assert_error(addsync(server, {"EMAIL": unique_email()}, key="cee_wrongkey123"), 401)
    log = server_log(server)
    assert server.api_key not in log
    assert "cee_wrongkey123" not in log
