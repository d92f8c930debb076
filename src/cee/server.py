"""Running the ASGI app under uvicorn (uvloop + httptools: the fastest pure-pip stack here)."""

from __future__ import annotations

from typing import Any

import uvicorn

from cee.engine import BackgroundJob, Engine
from cee.settings import Settings
from cee.web.app import CeeApp, ceiling


def background_jobs(settings: Settings) -> list[BackgroundJob]:
    """What `cee serve` runs beside the API: the journal-depth watch, and the worker if on."""
    from cee.ingest.journal import watch_depth
    from cee.ingest.worker import worker_job

    jobs: list[BackgroundJob] = [watch_depth]
    if settings.worker:
        jobs.append(worker_job)
    return jobs


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
