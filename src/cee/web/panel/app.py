"""The panel's routes: one declarative table, and its static files.

Built only by `cee.web.app` at start-up; nothing on the /apiv2 path imports this package.
"""

from __future__ import annotations

from pathlib import Path

from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from cee.web.panel import account, activity, attributes, contacts, home, lists, login, users

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
    Route("/sub-admin/{user_id:int}/key/limit", users.set_rate_limit, methods=POST),
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

# Where the operations work (issue 15) adds the panel's own middleware (rate limits, ...):
# Starlette middleware wrapped around each panel route, and only those.
MIDDLEWARE: list[Middleware] = []


def panel_routes() -> list[BaseRoute]:
    """The panel's routes, for the app's one router (after the API's own routes).

    Routes of the one router rather than a catch-all mount: a mount at `/` would take every
    path and turn another route's 405 into the panel's 404. Handlers find the engine in
    `request.app.state.engine`.
    """
    if not MIDDLEWARE:
        return list(ROUTES)
    return [
        route
        if isinstance(route, Mount)
        else Route(route.path, route.endpoint, methods=route.methods, middleware=MIDDLEWARE)
        for route in ROUTES
        if isinstance(route, Route | Mount)
    ]
