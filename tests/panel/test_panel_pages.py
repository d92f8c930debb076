"""Every panel page in a real browser, and every change it makes seen at once on /apiv2: lists,
attributes, contacts, requests, users (create, role, rotate, old keys), passwords, paging."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from playwright.sync_api import expect

from cee.domain.keys import hash_key, key_prefix, new_api_key
from tests.conftest import BACKENDS, Server, opened, unique_email
from tests.panel.conftest import Panel

pytestmark = pytest.mark.parametrize("panel_server", BACKENDS, indirect=True)


def admin_panel(server: Server, open_panel: Any) -> Panel:
    panel: Panel = open_panel(server)
    panel.log_in(server.creds["admin_user"], server.creds["admin_password"])
    return panel


def api(server: Server, type_: str, activity: str, key: str | None = None, **form: Any) -> Any:
    return server.api(query={"type": type_, "activity": activity}, form=form, key=key)


def view(server: Server, email: str) -> Any:
    return api(server, "contact", "view", data=email)


def test_lists_create_count_and_empty(panel_server: Server, open_panel: Any) -> None:
    panel = admin_panel(panel_server, open_panel)
    page = panel.page
    name = f"newsletter-{unique_email('l')[2:10]}"
    panel.menu("Lists")
    page.get_by_label("List name").fill(name)
    page.get_by_role("button", name="Create list").click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    listid = page.url.rsplit("/", 1)[-1].split("?")[0]
    # The API knows the list at once, and a contact joins it there.
    email = unique_email("member")
    added = panel_server.api(
        query={"type": "contact", "activity": "addsync", "listid": listid},
        form={"data": json.dumps({"EMAIL": email})},
    )
    assert added.status_code == 200
    panel.menu("Lists")
    expect(page.get_by_role("row").filter(has_text=name)).to_contain_text("1")
    panel.shot("lists")
    page.get_by_role("link", name=name).click()
    page.get_by_label("Remove every member").check()
    page.get_by_role("button", name="Empty list").click()
    expect(page.get_by_role("status")).to_contain_text("List emptied")
    panel.shot("list")
    assert view(panel_server, email).json()["result"]["lists"] == []


def test_attributes_defined_in_the_panel_work_on_the_api(
    panel_server: Server, open_panel: Any
) -> None:
    panel = admin_panel(panel_server, open_panel)
    page = panel.page
    name = f"PLAN_{unique_email('a')[2:8].upper()}"
    panel.menu("Attributes")
    expect(page.get_by_role("row").filter(has_text="EMAIL")).to_contain_text("built-in")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Type").select_option("integer")
    page.get_by_role("button", name="Define attribute").click()
    expect(page.get_by_role("row").filter(has_text=name)).to_contain_text("integer")
    panel.shot("attributes")
    email = unique_email("attr")
    ok = api(panel_server, "contact", "addsync", data=json.dumps({"EMAIL": email, name: 3}))
    assert ok.status_code == 200
    # The same rule as the CLI: defining it twice is refused, with the API's words.
    page.get_by_label("Name").fill(name)
    page.get_by_role("button", name="Define attribute").click()
    expect(page.get_by_role("alert")).to_contain_text("Duplicate entry")


def test_a_contact_found_edited_blacklisted_and_erased(
    panel_server: Server, open_panel: Any
) -> None:
    server = panel_server
    email = unique_email("contact")
    listid = server.cli("list", "create", f"vip-{email[8:16]}").stdout.strip()
    added = server.api(
        query={"type": "contact", "activity": "addsync", "listid": listid},
        form={"data": json.dumps({"EMAIL": email, "FIRST_NAME": "Mike"})},
    )
    assert added.status_code == 200
    panel = admin_panel(server, open_panel)
    page = panel.page
    panel.menu("Contacts")
    panel.shot("contacts")
    page.get_by_label("Primary key value").fill(email.upper())  # emails match in any case
    page.get_by_role("button", name="Find").click()
    expect(page.get_by_role("heading", name=email)).to_be_visible()
    expect(page.get_by_label("FIRST_NAME")).to_have_value("Mike")

    # An edit the API would refuse is refused with the API's words, and nothing is stored.
    page.get_by_label("AGE").fill("forty")
    page.get_by_role("button", name="Save attributes").click()
    expect(page.get_by_role("alert")).to_contain_text("AGE")
    assert page.get_by_role("alert").inner_text() != ""
    assert "AGE" not in view(server, email).json()["result"]["attributes"]
    page.go_back()
    page.reload()
    page.get_by_label("AGE").fill("42")
    page.get_by_label("FIRST_NAME").fill("Michael")
    page.get_by_role("button", name="Save attributes").click()
    expect(page.get_by_role("status")).to_contain_text("Saved")
    attributes = view(server, email).json()["result"]["attributes"]
    assert attributes["AGE"] == 42
    assert attributes["FIRST_NAME"] == "Michael"
    expect(page.locator("table")).to_contain_text("Mike → Michael")

    page.get_by_role("button", name="Remove from list").click()
    expect(page.get_by_role("status")).to_contain_text("Removed from the list")
    assert view(server, email).json()["result"]["lists"] == []

    page.get_by_role("button", name="Blacklist").click()
    expect(page.get_by_role("status")).to_contain_text("Blacklisted")
    assert view(server, email).json()["result"]["blacklisted"]["email"] is True
    panel.shot("contact")
    page.get_by_role("button", name="Unblacklist").click()
    expect(page.get_by_role("status")).to_contain_text("Unblacklisted")
    assert view(server, email).json()["result"]["blacklisted"]["email"] is False

    page.get_by_label("Delete the contact").check()
    page.get_by_role("button", name="Erase contact").click()
    expect(page.get_by_role("status")).to_contain_text("erased")
    assert view(server, email).status_code == 404
    page.goto(f"/contacts/view?key={email}")
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()


def test_requests_show_state_result_and_record_errors(
    panel_server: Server, open_panel: Any
) -> None:
    server = panel_server
    good, bad = unique_email("async"), "not-an-email"
    answer = api(server, "contact", "add", data=json.dumps([{"EMAIL": good}, {"EMAIL": bad}]))
    assert answer.status_code == 200
    requestid = answer.json()["requestid"]
    panel = admin_panel(server, open_panel)
    panel.menu("Requests")
    row = panel.page.get_by_role("row").filter(has_text=requestid)
    for _ in range(50):  # the worker applies it within moments
        if "done" in row.inner_text():
            break
        panel.page.wait_for_timeout(200)
        panel.page.reload()
    expect(row).to_contain_text("done")
    expect(row).to_contain_text("Partial")
    expect(row).to_contain_text("record 1")
    panel.shot("requests")


def test_users_created_promoted_and_their_keys_rotated(
    panel_server: Server, open_panel: Any
) -> None:
    server = panel_server
    panel = admin_panel(server, open_panel)
    page = panel.page
    name = f"grace-{unique_email('u')[2:10]}"
    panel.menu("Sub Admin")
    page.get_by_label("Username").fill(name)
    page.get_by_role("button", name="Create user").click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    password = page.locator("#new-password").inner_text()
    first_key = page.locator("#api-key").inner_text()
    panel.shot("user-created")
    assert api(server, "lists", "getalllist", key=first_key).status_code == 200

    page.get_by_label("Role").select_option("admin")
    page.get_by_role("button", name="Save role").click()
    expect(page.get_by_role("status")).to_contain_text("Saved")
    page.get_by_role("button", name="Rotate").click()
    new_key = page.locator("#api-key").inner_text()
    assert new_key != first_key
    assert api(server, "lists", "getalllist", key=first_key).status_code == 401
    assert api(server, "lists", "getalllist", key=new_key).status_code == 200

    # Grace logs in with the shown password, as an admin now.
    graces: Panel = open_panel(server)
    graces.log_in(name, password)
    expect(
        graces.page.get_by_role("banner").get_by_role("link", name="Admin", exact=True)
    ).to_be_visible()


def test_a_key_from_before_sealing_says_rotate_to_view(
    panel_server: Server, open_panel: Any
) -> None:
    server = panel_server
    made = json.loads(
        server.cli("user", "create", f"old-{unique_email('u')[2:10]}", "--json").stdout
    )
    old_key = new_api_key()

    async def store_unsealed_key() -> None:
        # What a key made by an earlier CEE looks like: its hash and prefix, no sealed copy.
        url = server.db.url or f"sqlite:///{server.db.data_dir / 'cee.db'}"
        async with opened(url) as store:
            secret = await store.secret()
            await store.replace_key(made["user_id"], hash_key(secret, old_key), key_prefix(old_key))

    # In a thread of its own: Playwright's sync API keeps an event loop running in this one.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, store_unsealed_key()).result()
    assert api(server, "lists", "getalllist", key=old_key).status_code == 200
    panel = admin_panel(server, open_panel)
    panel.page.goto(f"/sub-admin/{made['user_id']}")
    expect(panel.page.get_by_text("rotate to view")).to_be_visible()
    expect(panel.page.get_by_role("button", name="Show")).to_have_count(0)
    panel.shot("user-old-key")
    # Asking anyway (a hand-made form) is refused with the same words.
    answer = panel.post(f"/sub-admin/{made['user_id']}/key/show", {"csrf_token": panel.csrf()})
    assert answer.status == 404
    assert old_key not in answer.text()
    panel.page.get_by_role("button", name="Rotate").click()
    rotated = panel.page.locator("#api-key").inner_text()
    assert api(server, "lists", "getalllist", key=old_key).status_code == 401
    assert api(server, "lists", "getalllist", key=rotated).status_code == 200


def test_change_own_password_and_the_cli_reset(panel_server: Server, open_panel: Any) -> None:
    server = panel_server
    made = json.loads(
        server.cli("user", "create", f"hal-{unique_email('u')[2:10]}", "--json").stdout
    )
    panel: Panel = open_panel(server)
    panel.log_in(made["user"], made["password"])
    panel.page.get_by_role("link", name=made["user"]).click()
    panel.page.get_by_label("Current password").fill(made["password"])
    panel.page.get_by_label("New password", exact=True).fill("a new long password")
    panel.page.get_by_label("Repeat new password").fill("a new long password")
    panel.shot("password")
    panel.page.get_by_role("button", name="Change password").click()
    expect(panel.page.get_by_role("status")).to_contain_text("Password changed")

    other: Panel = open_panel(server)
    other.page.goto("/")
    other.page.get_by_label("Username").fill(made["user"])
    other.page.get_by_label("Password").fill(made["password"])
    other.page.get_by_role("button", name="Log in").click()
    expect(other.page.get_by_role("alert")).to_contain_text("wrong")
    other.log_in(made["user"], "a new long password")

    reset = json.loads(server.cli("user", "password", made["user"], "--json").stdout)
    # The reset ends every session of the user at once.
    panel.page.goto("/sub-admin")
    expect(panel.page.get_by_role("button", name="Log in")).to_be_visible()
    panel.log_in(made["user"], reset["password"])


def test_long_tables_are_paged(panel_server: Server, open_panel: Any) -> None:
    server = panel_server
    tag = unique_email("p")[2:8]
    for i in range(30):
        assert api(server, "lists", "create", listname=f"page-{tag}-{i:02}").status_code == 200
    panel = admin_panel(server, open_panel)
    panel.menu("Lists")
    expect(panel.page.get_by_role("row")).to_have_count(26)  # the header and 25 lists
    panel.page.get_by_role("link", name="Next page").click()
    expect(panel.page.get_by_text("Page 2")).to_be_visible()
    expect(panel.page.get_by_role("link", name="Previous page")).to_be_visible()
    panel.shot("lists-page-2")


def test_the_phone_region_reads_the_accounts_mobile_numbers(
    panel_server: Server, open_panel: Any
) -> None:
    server = panel_server
    tag = unique_email("r")[2:10]
    made = server.cli("account", "create", f"uk-{tag}", "--primary-key", "MOBILE", "--json")
    uk = json.loads(made.stdout)
    panel: Panel = open_panel(server)
    panel.log_in(uk["admin_user"], uk["admin_password"])
    panel.page.goto("/admin/account-configuration")
    region = panel.page.get_by_label("Default phone region")
    region.fill("ZZ")
    panel.page.get_by_role("button", name="Save").click()
    expect(panel.page.get_by_role("alert")).to_contain_text("'ZZ' is not an ISO 3166 region code")
    panel.page.goto("/admin/account-configuration")
    panel.page.get_by_label("Default phone region").fill("gb")
    panel.page.get_by_role("button", name="Save").click()
    expect(panel.page.get_by_label("Default phone region")).to_have_value("GB")

    def addsync(mobile: str) -> int:
        data = json.dumps({"MOBILE": mobile})
        return int(api(server, "contact", "addsync", key=uk["api_key"], data=data).status_code)

    # Under GB, a national number is the same contact as its international form, at once.
    assert addsync("+447911123456") == 200
    assert addsync("07911 123456") == 302
    # Back to the deployment's default (IN): the same digits are another (Indian) number.
    panel.page.get_by_label("Default phone region").fill("")
    panel.page.get_by_role("button", name="Save").click()
    expect(panel.page.get_by_role("status")).to_contain_text("Saved")
    assert addsync("07911 123456") == 200
