"""Running the ASGI app under uvicorn (uvloop + httptools: the fastest pure-pip stack here)."""

from __future__ import annotations

from typing import Any

import uvicorn

from cee import runtime
from cee.settings import Settings
from cee.web import stack
from cee.web.app import ceiling as ceiling_app


def run_server(settings: Settings, *, ceiling: bool = False) -> None:
    config_kwargs: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "loop": "uvloop",
        # uvicorn's httptools protocol with timeouts, a connection cap and JSON answers of its
        # own (cee.web.stack); a string, so that processes spawned by --processes import it.
        "http": "cee.web.stack:CeeHttpProtocol",
        "ws": "none",
        "timeout_keep_alive": settings.keepalive_seconds,
        # SIGTERM: stop accepting, let the requests in flight finish (their writes are awaited
        # before they answer, so nothing acknowledged is lost), cancel what is left after this
        # long, then the lifespan shutdown drains the writer and closes the store.
        "timeout_graceful_shutdown": settings.shutdown_seconds,
        "lifespan": "off" if ceiling else "on",
        "access_log": False,
        "log_level": settings.log_level,
        "server_header": False,
        "date_header": False,
    }
    if settings.log_format == "json":
        # uvicorn's own lines (start-up, errors) go through the root logger's JSON handler
        # instead of the text handlers uvicorn installs by default.
        config_kwargs["log_config"] = None
    stack.configure(settings)
    if settings.processes > 1:
        from cee.processes import run_processes

        run_processes(settings, config_kwargs, ceiling=ceiling)
        return
    app: Any = ceiling_app if ceiling else runtime.serve_app(settings)
    uvicorn.Server(uvicorn.Config(app, **config_kwargs)).run()
