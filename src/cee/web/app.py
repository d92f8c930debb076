"""The ASGI application: `/apiv2` on its lean path, everything else through Starlette."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from cee.domain.errors import CeeError, NotFound, Unsupported
from cee.engine import BackgroundJob, Engine
from cee.logs import log_format
from cee.metrics import REQUESTS
from cee.web import ops, v3
from cee.web.access import ACCESS
from cee.web.apiv2 import handler as apiv2
from cee.web.errors import error_body, error_code, internal_error_body
from cee.web.requestids import new_requestid
from cee.web.security import SecurityHeaders

log = logging.getLogger(__name__)


def error_response(exc: CeeError, headers: dict[str, str] | None = None) -> JSONResponse:
    """An answer outside /apiv2 in the same envelope, code and requestid as every /apiv2 one."""
    requestid = new_requestid()
    return JSONResponse(
        error_body(exc, requestid),
        status_code=error_code(exc),
        headers={**(headers or {}), "x-request-id": requestid},
    )


async def not_found(request: Request, exc: Exception) -> JSONResponse:
    return error_response(NotFound(f"path: {request.url.path} does not exist"))


async def method_not_allowed(request: Request, exc: Exception) -> JSONResponse:
    # Starlette's default is text/plain; its Allow header is kept.
    return error_response(
        Unsupported(f"method: {request.method} is not allowed on {request.url.path}"),
        getattr(exc, "headers", None),
    )


async def internal_error(request: Request, exc: Exception) -> JSONResponse:
    # Starlette's default is a text/plain "Internal Server Error"; the log keeps the trace.
    requestid = new_requestid()
    log.error("requestid %s: internal error on %s", requestid, request.url.path, exc_info=exc)
    return JSONResponse(
        internal_error_body(requestid), status_code=500, headers={"x-request-id": requestid}
    )


class CeeApp:
    def __init__(self, engine: Engine, background: list[BackgroundJob] | None = None) -> None:
        self.engine = engine
        ACCESS.configure(enabled=engine.settings.access_log, json=log_format() == "json")

        @contextlib.asynccontextmanager
        async def lifespan(app: Starlette) -> AsyncIterator[None]:
            await engine.start(background)
            try:
                yield
            finally:
                await engine.stop()
                ACCESS.flush()
                REQUESTS.flush()

        # Imported here, not at the top: the /apiv2 path never loads the panel's modules.
        from cee.web.panel.app import panel_routes

        self.starlette = Starlette(
            routes=[
                Route("/health", ops.healthz),
                Route("/healthz", ops.healthz),
                Route("/readyz", ops.readyz),
                Route("/metrics", ops.metrics_endpoint),
                Route("/openapi.json", ops.openapi_json),
                *v3.routes(engine),
                # Last: the panel's pages, at `/` and below.
                *panel_routes(),
            ],
            exception_handlers={404: not_found, 405: method_not_allowed, 500: internal_error},
            lifespan=lifespan,
        )
        self.starlette.state.engine = engine
        self.other = SecurityHeaders(self.starlette)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] in ("/apiv2", "/apiv2/"):
            await apiv2.handle(self.engine, scope, receive, send)
        else:
            await self.other(scope, receive, send)


async def ceiling(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The HTTP ceiling for `make bench`: read the body, answer a constant JSON. No work."""
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    payload = b'{"requestid":"00000000000000000000000000000000","result":"Success"}'
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                (b"x-request-id", b"00000000000000000000000000000000"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
