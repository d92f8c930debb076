"""The panel's routes: one declarative table, static files, and an HTML 404.

Built only by `cee.web.app` at start-up; nothing on the /apiv2 path imports this package.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from cee.engine import Engine
from cee.web.panel import account, activity, attributes, contacts, home, lists, login, users
from cee.web.panel.render import not_found

STATIC = Path(__file__).parent / "static"
GET, POST = ["GET"], ["POST"]

ROUTES = [
    Route("/", home.home, methods=GET),
    Route("/login", login.log_in, methods=POST),
    Route("/login", login.to_home, methods=GET),
    Route("/logout", login.log_out, methods=POST),
    Route("/password", login.password_form, methods=GET),
    Route("/password", login.change_password, methods=POST),
    Route("/admin", home.admin_menu, methods=GET),
    Route("/admin/account-configuration", account.show, methods=GET),
    Route("/admin/account-configuration", account.save, methods=POST),
    Route("/sub-admin", users.table, methods=GET),
    Route("/sub-admin", users.create, methods=POST),
    Route("/sub-admin/{user_id:int}", users.edit, methods=GET),
    Route("/sub-admin/{user_id:int}/status", users.set_status, methods=POST),
    Route("/sub-admin/{user_id:int}/role", users.set_role, methods=POST),
    Route("/sub-admin/{user_id:int}/password", users.reset_password, methods=POST),
    Route("/sub-admin/{user_id:int}/key/show", users.show_key, methods=POST),
    Route("/sub-admin/{user_id:int}/key/rotate", users.rotate_key, methods=POST),
    Route("/lists", lists.table, methods=GET),
    Route("/lists", lists.create, methods=POST),
    Route("/lists/{list_id:int}", lists.show, methods=GET),
    Route("/lists/{list_id:int}/empty", lists.empty, methods=POST),
    Route("/attributes", attributes.table, methods=GET),
    Route("/attributes", attributes.create, methods=POST),
    Route("/contacts", contacts.find, methods=GET),
    Route("/contacts/view", contacts.view, methods=GET),
    Route("/contacts/edit", contacts.edit, methods=POST),
    Route("/contacts/list-remove", contacts.leave_list, methods=POST),
    Route("/contacts/blacklist", contacts.blacklist, methods=POST),
    Route("/contacts/erase", contacts.erase, methods=POST),
    Route("/requests", activity.recent_requests, methods=GET),
    Route("/audit", activity.audit_trail, methods=GET),
    Mount("/static/panel", app=StaticFiles(directory=STATIC), name="static"),
]

# Where the operations work (issue 15) adds the panel's security headers and rate limits:
# Starlette middleware wrapped around every panel route, and only those.
MIDDLEWARE: list[Middleware] = []


def build_panel(engine: Engine, fallback_404: Any, fallback_405: Any) -> Starlette:
    """The panel app; what it does not know is answered as the API answers (JSON 404/405)."""

    async def missing(request: Request, exc: Exception) -> Response:
        # A browser asking for a page gets the panel's page; an API client keeps its JSON.
        if "text/html" in request.headers.get("accept", ""):
            return not_found(request, None)
        response: Response = await fallback_404(request, exc)
        return response

    app = Starlette(
        routes=ROUTES,
        middleware=MIDDLEWARE,
        exception_handlers={404: missing, 405: fallback_405},
    )
    app.state.engine = engine
    return app
