"""Browser fixtures: Debian's Chromium driven by Playwright, against a real `cee serve`.

No browser is ever downloaded: Playwright launches /usr/bin/chromium (the `chromium` package,
installed here with apt-get when missing). Every page a test visits can be saved under
test-artifacts/panel/ with `shot`, to be looked at.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.conftest import Database, Server, need_postgres

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts" / "panel"


def ensure_chromium() -> None:
    """Install Debian's chromium when it is missing (a fresh machine, CI): tests need it."""
    if os.path.exists(CHROMIUM):
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.fail(f"{CHROMIUM} is missing: install Debian's `chromium` package (apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env, timeout=600)
    subprocess.run(
        ["apt-get", "install", "-y", "-q", "chromium"], check=True, env=env, timeout=1200
    )


# One browser per module, not per session: Playwright's sync API keeps an event loop running
# in the test thread while it is open, and the suite's later modules (asyncio.run, ast) must
# not run inside it.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    ensure_chromium()
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Panel:
    """A browser context (one person's cookies) on a server's panel, with screenshots."""

    def __init__(self, browser: Browser, server: Server, label: str) -> None:
        self.server = server
        self.label = label
        self.context: BrowserContext = browser.new_context(
            base_url=server.base, viewport={"width": 1280, "height": 900}
        )
        self.context.set_default_timeout(20_000)
        self.page: Page = self.context.new_page()
        self.dialogs: list[str] = []
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))

    def shot(self, name: str) -> Path:
        """Save the whole page as test-artifacts/panel/<backend>-<name>.png."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        flavour = getattr(self.server, "flavour", self.server.db.backend)
        path = ARTIFACTS / f"{flavour}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def log_in(self, username: str, password: str) -> None:
        self.page.goto("/")
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Log in").click()
        expect(self.page.get_by_role("button", name="Log out")).to_be_visible()

    def menu(self, name: str) -> None:
        """Follow a link of the top menu (the seed's words: Admin, Sub Admin, ...)."""
        self.page.get_by_role("banner").get_by_role("link", name=name, exact=True).click()

    def csrf(self) -> str:
        """The session's CSRF token, as the current page's forms carry it."""
        return str(self.page.locator("input[name=csrf_token]").first.get_attribute("value"))

    def post(self, path: str, form: dict[str, Any]) -> Any:
        """A form POST with this browser's cookies (as a hand-made or forged form would be)."""
        return self.context.request.post(path, form=form, max_redirects=0)

    def get(self, path: str) -> Any:
        return self.context.request.get(path, max_redirects=0)

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def open_panel(browser: Browser) -> Iterator[Any]:
    made: list[Panel] = []

    def make(server: Server, label: str = "user") -> Panel:
        panel = Panel(browser, server, label)
        made.append(panel)
        return panel

    yield make
    for panel in made:
        panel.close()


@pytest.fixture(scope="module")
def panel_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """One server per flavour for a module whose tests do not disturb each other."""
    from tests.conftest import SHARED_FLAVOURS

    flavour = request.param
    backend, serve_args = SHARED_FLAVOURS[flavour]
    need_postgres(backend)
    db = Database(backend, tmp_path_factory.mktemp(f"panel-{flavour}"))
    srv = Server(db)
    srv.init()
    srv.start(*serve_args)
    srv.flavour = flavour  # type: ignore[attr-defined]  # names its screenshots
    yield srv
    srv.stop()
    db.drop()


def age_sessions(db: Database, column: str, minutes: float) -> None:
    """Make every panel session look `minutes` older in `column` (logged_in_at or seen_at).

    The tests' stand-in for waiting ten or thirty minutes: the server reads these times from
    the database on every request, exactly as it would after a real wait.
    """
    assert column in ("logged_in_at", "seen_at")
    if db.url:
        import psycopg

        with psycopg.connect(db.url, autocommit=True) as conn:
            conn.execute(
                f"UPDATE panel_sessions SET {column} = {column} - make_interval(mins => %s)",
                (minutes,),
            )
        return
    from datetime import UTC, datetime, timedelta

    moment = (datetime.now(UTC) - timedelta(minutes=minutes)).isoformat(timespec="microseconds")
    with sqlite3.connect(db.data_dir / "cee.db") as conn:
        conn.execute(f"UPDATE panel_sessions SET {column} = ?", (moment,))


def text_of(page: Page) -> str:
    return re.sub(r"\s+", " ", page.inner_text("body"))
