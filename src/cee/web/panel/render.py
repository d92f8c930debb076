"""Pages from Jinja2 templates, with what every page needs (the user, the CSRF token, the menu).

Autoescaping is on for every template: a contact attribute like `<script>` is shown as text.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from cee import __version__
from cee.storage.panel import SessionRow

TEMPLATES = Path(__file__).parent / "templates"

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.globals["version"] = __version__


def page_link(request: Request, number: int) -> str:
    """This page's path and query with `page` set: other parameters (a contact's key) stay."""
    url = request.url.include_query_params(page=number)
    return f"{url.path}?{url.query}"


_env.globals["page_link"] = page_link


def change(value: Any) -> str:
    """A history change as a person reads it: `before → after` (— for nothing)."""
    if isinstance(value, list) and len(value) == 2:
        before, after = ("—" if v is None else str(v) for v in value)
        return f"{before} → {after}"
    return str(value)


_env.filters["change"] = change


def when(moment: str | None) -> str:
    """An ISO-8601 UTC time as a person reads it, to the second."""
    if not moment:
        return "-"
    try:
        parsed = datetime.fromisoformat(moment)
    except ValueError:
        return moment
    return parsed.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


_env.filters["when"] = when

# Nothing a panel page holds may be kept by the browser's or a proxy's cache: a page may show
# an API key, and every page shows account data.
NO_STORE = {"Cache-Control": "no-store"}


# What `?notice=` may say after a change: fixed words, so a link cannot make a page say anything.
NOTICES = {
    "saved": "Saved. The change applies to the API at once.",
    "password": "Password changed. Your other sessions have ended.",
    "created": "Created.",
    "emptied": "List emptied.",
    "removed": "Removed from the list.",
    "blacklisted": "Blacklisted: email to this contact is blocked.",
    "unblacklisted": "Unblacklisted.",
    "erased": "Contact erased, with its memberships and history.",
}


def page(
    request: Request,
    template: str,
    *,
    status: int = 200,
    session: SessionRow | None = None,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    if not context.get("notice"):
        context["notice"] = NOTICES.get(request.query_params.get("notice", ""))
    html = _env.get_template(template).render(
        request=request,
        session=session,
        csrf_token=session.csrf_token if session else getattr(request.state, "login_csrf", ""),
        section=context.pop("section", ""),
        **context,
    )
    return HTMLResponse(html, status_code=status, headers={**NO_STORE, **(headers or {})})


def not_found(request: Request, session: SessionRow | None, what: str = "page") -> HTMLResponse:
    """The one answer for anything outside the session's account: it never confirms existence."""
    return page(
        request,
        "message.html",
        status=404,
        session=session,
        title="Not found",
        message=f"No such {what} in this account.",
    )
