"""Running the ASGI app under uvicorn (uvloop + httptools: the fastest pure-pip stack here)."""

from __future__ import annotations

from typing import Any

import uvicorn

from cee.engine import BackgroundJob, Engine
from cee.settings import Settings
from cee.web.app import CeeApp, ceiling


def background_jobs(settings: Settings) -> list[BackgroundJob]:
    return []


def run_server(settings: Settings, *, ceiling: bool = False) -> None:
    app: Any = _ceiling_app() if ceiling else CeeApp(Engine(settings), background_jobs(settings))
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        lifespan="off" if ceiling else "on",
        access_log=False,
        log_level=settings.log_level,
        server_header=False,
        date_header=False,
    )
    uvicorn.Server(config).run()


def _ceiling_app() -> Any:
    return ceiling
