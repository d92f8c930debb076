"""What the panel must never do, shown in a real browser against a real server: log in with a
wrong password, let a throttled address keep guessing, take a form without its CSRF token, hand
its cookie to scripts, show one user's key to another, let one account see another's data, run
a contact's `<script>`, or keep a session alive after logout, idleness or a disabled user."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.conftest import BACKENDS, Server, unique_email
from tests.panel.conftest import Panel, age_sessions

pytestmark = pytest.mark.parametrize("panel_server", BACKENDS, indirect=True)


def new_user(server: Server, name: str, *extra: str) -> dict[str, Any]:
    out = server.cli("user", "create", name, "--json", *extra)
    return dict(json.loads(out.stdout))


def admin_panel(server: Server, open_panel: Any) -> Panel:
    panel: Panel = open_panel(server)
    panel.log_in(server.creds["admin_user"], server.creds["admin_password"])
    return panel


def test_a_wrong_password_does_not_log_in(panel_server: Server, open_panel: Any) -> None:
    panel: Panel = open_panel(panel_server)
    page = panel.page
    page.goto("/")
    page.get_by_label("Username").fill(panel_server.creds["admin_user"])
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("Username or password: wrong")
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)
    assert not [c for c in panel.context.cookies() if c["name"] == "cee_session"]
    panel.shot("login-wrong-password")
    # And the pages behind the login stay behind it.
    page.goto("/sub-admin")
    expect(page.get_by_role("button", name="Log in")).to_be_visible()


def test_the_session_cookie_is_http_only_and_same_site(
    panel_server: Server, open_panel: Any
) -> None:
    panel = admin_panel(panel_server, open_panel)
    [cookie] = [c for c in panel.context.cookies() if c["name"] == "cee_session"]
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    assert cookie["secure"] is False  # plain http on loopback, CEE_PANEL_SECURE_COOKIES unset
    # Scripts in the page cannot read it.
    assert "cee_session" not in panel.page.evaluate("document.cookie")


def test_a_form_without_its_csrf_token_is_refused(panel_server: Server, open_panel: Any) -> None:
    panel = admin_panel(panel_server, open_panel)
    # The browser's own cookies, but a form made elsewhere: no token, then a wrong one.
    for form in ({"api_mode": ""}, {"api_mode": "", "csrf_token": "forged"}):
        answer = panel.post("/admin/account-configuration", form)
        assert answer.status == 403
        assert "did not come from this panel" in answer.text()
    answer = panel.post("/sub-admin", {"username": "mallory", "is_admin": "on"})
    assert answer.status == 403
    # Nothing changed: API Mode is still on, and no user was made.
    key = panel_server.api_key
    listed = panel_server.api(query={"type": "lists", "activity": "getalllist"}, key=key)
    assert listed.status_code == 200
    assert "mallory" not in panel_server.cli("user", "list").stdout
    # The same form with the page's token goes through.
    panel.page.goto("/admin/account-configuration")
    token = panel.csrf()
    answer = panel.post("/admin/account-configuration", {"api_mode": "on", "csrf_token": token})
    assert answer.status == 303


def test_the_login_form_needs_its_csrf_token_too(panel_server: Server) -> None:
    answer = httpx.post(
        panel_server.base + "/login",
        data={"username": "admin", "password": panel_server.creds["admin_password"]},
    )
    assert answer.status_code == 403
    assert "cee_session" not in answer.cookies


def test_a_sub_admin_sees_only_their_own_user_and_key(
    panel_server: Server, open_panel: Any
) -> None:
    bob = new_user(panel_server, f"bob-{unique_email('u')[2:10]}")
    panel: Panel = open_panel(panel_server)
    panel.log_in(bob["user"], bob["password"])
    page = panel.page
    # No Admin menu, and Sub Admin lists only Bob.
    expect(page.get_by_role("banner").get_by_role("link", name="Admin", exact=True)).to_have_count(
        0
    )
    panel.menu("Sub Admin")
    rows = page.get_by_role("row")
    expect(rows).to_have_count(2)  # the header and Bob
    expect(rows.nth(1)).to_contain_text(bob["user"])
    panel.shot("sub-admin-as-sub-admin")
    rows.nth(1).get_by_role("link", name="Edit").click()
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#api-key")).to_have_text(bob["api_key"])

    # The admin's page and key: a 404 by URL and by form, and never the key.
    admin_id = 1
    token = panel.csrf()
    for answer in (
        panel.get(f"/sub-admin/{admin_id}"),
        panel.post(f"/sub-admin/{admin_id}/key/show", {"csrf_token": token}),
        panel.post(f"/sub-admin/{admin_id}/key/rotate", {"csrf_token": token}),
    ):
        assert answer.status == 404
        assert panel_server.api_key not in answer.text()
    assert panel_server.api(query={"type": "lists", "activity": "getalllist"}).status_code == 200
    # Admin pages are not for sub-admins.
    assert panel.get("/admin/account-configuration").status == 403
    assert panel.get("/audit").status == 403


def test_another_accounts_admin_gets_404_for_this_accounts_urls(
    panel_server: Server, open_panel: Any
) -> None:
    server = panel_server
    # Account A (the bootstrap one): a list, a contact, a user.
    email = unique_email("a-only")
    listid = server.cli("list", "create", f"a-list-{email[:14]}").stdout.strip()
    added = server.api(
        query={"type": "contact", "activity": "addsync"},
        form={"data": json.dumps({"EMAIL": email})},
    )
    assert added.status_code == 200
    carol = new_user(server, f"carol-{email[7:15]}")
    # Account B and its admin.
    b = json.loads(server.cli("account", "create", f"b-{email[7:15]}", "--json").stdout)
    panel: Panel = open_panel(server)
    panel.log_in(b["admin_user"], b["admin_password"])
    ghost = unique_email("never")
    for path, same_as_missing in (
        (f"/lists/{listid}", "/lists/999999999"),
        (f"/contacts/view?key={email}", f"/contacts/view?key={ghost}"),
        (f"/sub-admin/{carol['user_id']}", "/sub-admin/999999999"),
        ("/sub-admin/1", "/sub-admin/999999998"),
    ):
        answer, missing = panel.get(path), panel.get(same_as_missing)
        assert answer.status == missing.status == 404, path
        # Word for word the page of something that never existed: nothing confirms it.
        assert answer.text().replace(email, "?") == missing.text().replace(ghost, "?").replace(
            same_as_missing.rsplit("/", 1)[-1], path.rsplit("/", 1)[-1]
        )
        assert carol["user"] not in answer.text()
    panel.page.goto(f"/lists/{listid}")
    expect(panel.page.get_by_role("heading", name="Not found")).to_be_visible()
    panel.shot("other-account-list-404")
    token = panel.csrf()
    for path, form in (
        (f"/lists/{listid}/empty", {}),
        ("/contacts/erase", {"key": email}),
        ("/contacts/blacklist", {"key": email, "blacklisted": "on"}),
        ("/sub-admin/1/key/show", {}),
    ):
        answer = panel.post(path, {**form, "csrf_token": token})
        assert answer.status == 404, path
    # A's contact is untouched.
    viewed = server.api(query={"type": "contact", "activity": "view"}, form={"data": email})
    assert viewed.status_code == 200
    assert viewed.json()["result"]["blacklisted"]["email"] is False


def test_an_attribute_value_is_shown_escaped(panel_server: Server, open_panel: Any) -> None:
    server = panel_server
    script = "<script>alert(1)</script>"
    server.cli("attribute", "create", "NOTE", "textline", check=False)
    email = unique_email("xss")
    added = server.api(
        query={"type": "contact", "activity": "addsync"},
        form={"data": json.dumps({"EMAIL": email, "NOTE": script, "FIRST_NAME": script})},
    )
    assert added.status_code == 200
    panel = admin_panel(server, open_panel)
    panel.menu("Contacts")
    panel.page.get_by_label("Primary key value").fill(email)
    panel.page.get_by_role("button", name="Find").click()
    expect(panel.page.get_by_label("NOTE")).to_have_value(script)
    # The history shows the value as text, and no script ran.
    expect(panel.page.locator("table").get_by_text(script).first).to_be_visible()
    assert panel.dialogs == []
    assert script not in panel.page.content()  # only its escaped form is in the HTML
    assert "&lt;script&gt;" in panel.page.content()
    panel.shot("contact-escaped-script")


def test_logout_ends_the_session_everywhere(panel_server: Server, open_panel: Any) -> None:
    panel = admin_panel(panel_server, open_panel)
    [cookie] = [c for c in panel.context.cookies() if c["name"] == "cee_session"]
    panel.page.get_by_role("button", name="Log out").click()
    expect(panel.page.get_by_role("button", name="Log in")).to_be_visible()
    # The old cookie, replayed from elsewhere, opens nothing: the session is gone server-side.
    replay = httpx.get(panel_server.base + "/sub-admin", cookies={"cee_session": cookie["value"]})
    assert "Log in" in replay.text
    assert "Sub Admin</h1>" not in replay.text


def test_an_idle_session_ends(panel_server: Server, open_panel: Any) -> None:
    dave = new_user(panel_server, f"dave-{unique_email('u')[2:10]}")
    panel: Panel = open_panel(panel_server)
    panel.log_in(dave["user"], dave["password"])
    age_sessions(panel_server.db, "seen_at", 31)  # past CEE_PANEL_IDLE_MINUTES (30)
    panel.page.goto("/sub-admin")
    expect(panel.page.get_by_role("button", name="Log in")).to_be_visible()


def test_disabling_a_user_ends_their_session_and_key(panel_server: Server, open_panel: Any) -> None:
    erin = new_user(panel_server, f"erin-{unique_email('u')[2:10]}")
    erins: Panel = open_panel(panel_server)
    erins.log_in(erin["user"], erin["password"])
    admin = admin_panel(panel_server, open_panel)
    admin.menu("Sub Admin")
    admin.page.get_by_role("row").filter(has_text=erin["user"]).get_by_role(
        "link", name="Edit"
    ).click()
    admin.page.get_by_label("Status").select_option("disabled")
    admin.page.get_by_role("button", name="Save status").click()
    expect(admin.page.get_by_role("status")).to_contain_text("Saved")
    answer = panel_server.api(
        query={"type": "lists", "activity": "getalllist"}, key=erin["api_key"]
    )
    assert answer.status_code == 401
    erins.page.goto("/sub-admin")
    expect(erins.page.get_by_role("button", name="Log in")).to_be_visible()


def test_show_asks_for_the_password_again_after_ten_minutes(
    panel_server: Server, open_panel: Any
) -> None:
    frank = new_user(panel_server, f"frank-{unique_email('u')[2:10]}")
    panel: Panel = open_panel(panel_server)
    panel.log_in(frank["user"], frank["password"])
    panel.menu("Sub Admin")
    panel.page.get_by_role("link", name="Edit").click()
    age_sessions(panel_server.db, "logged_in_at", 11)
    panel.page.get_by_role("button", name="Show").click()
    expect(panel.page.get_by_role("heading", name="Confirm your password")).to_be_visible()
    assert frank["api_key"] not in panel.page.content()
    panel.shot("confirm-password")
    panel.page.get_by_label("Password").fill("wrong password")
    panel.page.get_by_role("button", name="Show").click()
    expect(panel.page.get_by_role("alert")).to_contain_text("Password: wrong")
    assert frank["api_key"] not in panel.page.content()
    panel.page.get_by_label("Password").fill(frank["password"])
    panel.page.get_by_role("button", name="Show").click()
    expect(panel.page.locator("#api-key")).to_have_text(frank["api_key"])
    # The audit trail says who saw whose key, and from where.
    admin = admin_panel(panel_server, open_panel)
    admin.menu("Audit")
    row = admin.page.get_by_role("row").filter(has_text="key.show").filter(has_text=frank["user"])
    expect(row.first).to_contain_text("127.0.0.1")
    admin.shot("audit")
