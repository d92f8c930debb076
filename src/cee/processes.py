"""`cee serve --processes N`: N HTTP processes beside one background process, under a supervisor.

One Python process spends most of a core on HTTP, parsing and validation, so `cee serve` can
run several behind one listening socket (uvicorn's supervisor). What must happen once runs in
the **background process** instead: the async worker (so requests for one contact keep their
order) and, on SQLite, the one write connection, served to the HTTP processes over a Unix
socket (`cee.storage.sqlite.remote`) so that every process's writes share one group commit.

The supervisor restarts an HTTP process or the background process that dies. The background
process ignores Ctrl-C: it stops when told to, after the HTTP processes, so that the requests
they were finishing can still write; and it stops by itself if the supervisor disappears.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import shutil
import signal
import tempfile
import threading
from multiprocessing.synchronize import Event as EventType
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

from cee.logs import configure_logging
from cee.settings import SETTINGS, Settings

log = logging.getLogger(__name__)

# Set in the HTTP processes' environment: where the writer process listens.
WRITER_SOCKET_ENV = "CEE_WRITER_SOCKET"
BACKGROUND_READY_SECONDS = 60.0
BACKGROUND_STOP_SECONDS = 30.0
PARENT_CHECK_SECONDS = 1.0

_spawn = multiprocessing.get_context("spawn")


def export_settings(settings: Settings) -> None:
    """Put every setting in the environment, where the spawned processes read them back."""
    for setting in SETTINGS:
        value = settings.values[setting.name]
        os.environ[setting.env] = str(int(value)) if setting.kind is bool else str(value)


def is_sqlite(settings: Settings) -> bool:
    return settings.database_url().startswith("sqlite:///")


# -- the background process ---------------------------------------------------------------------


def background_main(socket_path: str | None, ready: EventType) -> None:
    """Entry point of the background process (spawned: settings come from the environment)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    configure_logging(logging.INFO)
    settings = Settings.load()
    asyncio.run(_background(settings, socket_path, ready))


async def _background(settings: Settings, socket_path: str | None, ready: EventType) -> None:
    from cee.engine import Engine
    from cee.ingest.worker import worker_job
    from cee.storage.sqlite.remote import WriterService
    from cee.storage.sqlite.store import SqliteStore, is_journal_append

    engine = Engine(settings)
    await engine.start([worker_job] if settings.worker else [])
    service = None
    if socket_path is not None:
        assert isinstance(engine.store, SqliteStore)

        def wake_worker(fn: Any) -> None:
            if is_journal_append(fn):
                engine.journal.arrived.set()

        engine.store.local_writer.commit_on_loop = True
        service = WriterService(engine.store.local_writer, socket_path, wake_worker)
        await service.start()
    ready.set()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    parent = os.getppid()
    try:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), PARENT_CHECK_SECONDS)
            if os.getppid() != parent:
                log.error("the supervisor is gone; the background process stops")
                break
    finally:
        if service is not None:
            await service.stop()
        await engine.stop()


class Background:
    """The background process as the supervisor sees it: start, watch, restart, stop."""

    def __init__(self, socket_path: str | None) -> None:
        self.socket_path = socket_path
        self.process: Any = None

    def start(self) -> None:
        ready = _spawn.Event()
        self.process = _spawn.Process(
            target=background_main, args=(self.socket_path, ready), name="cee-background"
        )
        self.process.start()
        waited = 0.0
        while not ready.wait(0.1):
            waited += 0.1
            if not self.process.is_alive() or waited > BACKGROUND_READY_SECONDS:
                raise RuntimeError("the background process did not start: see the log above")
        log.info("background process [%d] started", self.process.pid)

    def alive(self) -> bool:
        return bool(self.process is not None and self.process.is_alive())

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()  # SIGTERM: finish what was handed in, then close
        self.process.join(BACKGROUND_STOP_SECONDS)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


class Supervisor(Multiprocess):
    """uvicorn's supervisor of the HTTP processes, which also keeps the background one alive."""

    def __init__(self, config: uvicorn.Config, sockets: list[Any], background: Background):
        super().__init__(config, sockets)
        self.background = background
        self._restart_lock = threading.Lock()

    def keep_subprocess_alive(self) -> None:
        super().keep_subprocess_alive()
        if self.should_exit.is_set() or self.background.alive():
            return
        with self._restart_lock:
            log.error("the background process died; starting a new one")
            try:
                self.background.start()
            except RuntimeError:
                log.exception("could not restart the background process")


def run_processes(settings: Settings, config_kwargs: dict[str, Any], *, ceiling: bool) -> None:
    """Serve with `settings.processes` HTTP processes (and the background one)."""
    export_settings(settings)
    if ceiling:
        config = uvicorn.Config("cee.web.app:ceiling", workers=settings.processes, **config_kwargs)
        Multiprocess(config, sockets=[config.bind_socket()]).run()
        return
    folder = None
    socket_path = None
    if is_sqlite(settings):
        # A private folder: only this user can reach the writer's socket.
        folder = tempfile.mkdtemp(prefix="cee-")
        socket_path = os.path.join(folder, "writer.sock")
        os.environ[WRITER_SOCKET_ENV] = socket_path
    config = uvicorn.Config(
        "cee.server:app_from_environment",
        factory=True,
        workers=settings.processes,
        **config_kwargs,
    )
    background = Background(socket_path)
    try:
        supervisor = Supervisor(config, [config.bind_socket()], background)
        background.start()
        supervisor.run()
    finally:
        background.stop()
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
