"""What an orchestrator and a monitoring system ask: `/healthz`, `/readyz`, `/metrics`, and
the API's description, `/openapi.json`.

`/healthz` says the process answers (no I/O: a stuck database must not get a healthy process
restarted); `/readyz` says it can serve (the database answers and its schema is this version's),
so a load balancer stops sending it traffic otherwise; `/health` is the older spelling of
`/healthz`, kept for existing checks.
"""

from __future__ import annotations

import asyncio

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from cee import __version__, metrics
from cee.engine import Engine
from cee.storage.migrate import shipped_migrations
from cee.web import openapi

# A probe answers within this even when the database hangs (a probe's own timeout is ~1 s+).
READY_TIMEOUT_SECONDS = 2.0


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok", "version": __version__})


async def readyz(request: Request) -> JSONResponse:
    reason = await not_ready_reason(request.app.state.engine)
    if reason is None:
        return JSONResponse({"status": "ok", "version": __version__})
    return JSONResponse({"status": "error", "error_code": 503, "details": reason}, status_code=503)


async def not_ready_reason(engine: Engine) -> str | None:
    """None when the store answers and every shipped migration is applied; else why not."""
    store = engine.store
    try:
        applied = await asyncio.wait_for(store.applied_migrations(), READY_TIMEOUT_SECONDS)
    except TimeoutError:
        return f"database: no answer within {READY_TIMEOUT_SECONDS:g} s"
    except Exception as exc:  # whatever the driver raises, the probe reports it
        return f"database: {type(exc).__name__}: {exc}".strip()
    pending = sorted(shipped_migrations(store.dialect) - applied)
    if pending:
        names = ", ".join(pending)
        return f"migrations: not applied: {names} (`cee serve` applies them as it starts)"
    return None


_OPENAPI: bytes | None = None


async def openapi_json(request: Request) -> Response:
    global _OPENAPI
    if _OPENAPI is None:  # the tables it is built from do not change while the process runs
        _OPENAPI = orjson.dumps(openapi.document())
    return Response(_OPENAPI, media_type="application/json")


async def metrics_endpoint(request: Request) -> Response:
    metrics.REQUESTS.flush()  # this process's counts are exact; the others' a second old
    body = await asyncio.to_thread(metrics.render)  # reads every process's files under N
    return Response(body, media_type=metrics.CONTENT_TYPE)
