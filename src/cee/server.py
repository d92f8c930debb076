"""Running the ASGI app under uvicorn (uvloop + httptools: the fastest pure-pip stack here)."""

from __future__ import annotations

import logging
import os
from typing import Any

import uvicorn

from cee.engine import BackgroundJob, Engine
from cee.settings import Settings
from cee.web import stack
from cee.web.app import CeeApp, ceiling


def background_jobs(settings: Settings, *, worker: bool) -> list[BackgroundJob]:
    """What runs beside the API: the journal-depth watch, and the async worker if `worker`."""
    from cee.ingest.journal import watch_depth
    from cee.ingest.worker import worker_job

    jobs: list[BackgroundJob] = [watch_depth]
    if worker:
        jobs.append(worker_job)
    return jobs


def app_from_environment() -> CeeApp:
    """The app of one HTTP process under `--processes` (spawned: settings from the environment).

    The async worker runs in the worker process, not here; on SQLite every write goes to the
    writer process.
    """
    from cee.logs import configure_logging
    from cee.processes import WRITER_SOCKET_ENV

    configure_logging(logging.INFO)
    settings = Settings.load()
    stack.configure(settings)
    store = None
    writer_socket = os.environ.get(WRITER_SOCKET_ENV)
    if writer_socket:
        from cee.storage.sqlite.store import SqliteStore

        store = SqliteStore(settings.database_url().removeprefix("sqlite:///"), writer_socket)
    return CeeApp(Engine(settings, store), background_jobs(settings, worker=False))


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
    app: Any = (
        _ceiling_app()
        if ceiling
        else CeeApp(Engine(settings), background_jobs(settings, worker=settings.worker))
    )
    uvicorn.Server(uvicorn.Config(app, **config_kwargs)).run()


def _ceiling_app() -> Any:
    return ceiling
