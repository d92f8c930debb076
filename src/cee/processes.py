"""`cee serve --processes N`: N HTTP processes, a writer and a worker process, one supervisor.

One Python process spends most of a core on HTTP, parsing and validation, so `cee serve` can
run several behind one listening socket (uvicorn's supervisor). What must happen once gets a
process of its own:

- the **writer** (SQLite only): the one write connection, served to the other processes over a
  Unix socket (`cee.storage.sqlite.remote`), so that the writes of all of them share one group
  commit;
- the **worker** (with `--worker`): the async worker, alone so that requests for one contact
  keep their order, and at a lower CPU priority than the rest, so that under load accepting
  `add`s comes first and the journal absorbs the burst.

The supervisor restarts any of them that dies. The writer and worker ignore Ctrl-C: they stop
when told to, after the HTTP processes, so that requests being finished can still write; and
they stop by themselves if the supervisor disappears.
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
from multiprocessing.synchronize import Event as EventType
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

from cee import runtime
from cee.logs import configure_logging
from cee.metrics import MULTIPROC_ENV
from cee.settings import SETTINGS, Settings
from cee.storage import single_writer

log = logging.getLogger(__name__)

CHILD_READY_SECONDS = 60.0
CHILD_STOP_SECONDS = 30.0
WORKER_NICENESS = 10
PARENT_CHECK_SECONDS = 1.0

_spawn = multiprocessing.get_context("spawn")


def export_settings(settings: Settings) -> None:
    """Put every setting in the environment, where the spawned processes read them back."""
    for setting in SETTINGS:
        value = settings.values[setting.name]
        os.environ[setting.env] = str(int(value)) if setting.kind is bool else str(value)


# -- the writer and worker processes -----------------------------------------------------------


def writer_main(socket_path: str, ready: EventType) -> None:
    """Entry point of the SQLite writer process (spawned: settings come from the environment)."""
    _child_setup()
    asyncio.run(_writer(Settings.load(), socket_path, ready))


async def _writer(settings: Settings, socket_path: str, ready: EventType) -> None:
    async with runtime.writer(settings, socket_path):
        await _until_stopped(ready)


def worker_main(socket_path: str | None, ready: EventType) -> None:
    """Entry point of the async worker's process, which runs at a lower CPU priority."""
    _child_setup()
    # Below the HTTP processes and the writer: when the cores are busy, accepting requests
    # comes first and the journal absorbs the burst; the worker drains it with what is left.
    os.nice(WORKER_NICENESS)
    asyncio.run(_worker(Settings.load(), socket_path, ready))


async def _worker(settings: Settings, socket_path: str | None, ready: EventType) -> None:
    async with runtime.worker(settings, socket_path):
        await _until_stopped(ready)


def _child_setup() -> None:
    # Ctrl-C reaches the whole process group; these processes stop when the supervisor says,
    # after the HTTP processes, so that the requests being finished can still write.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    configure_logging(logging.INFO)


async def _until_stopped(ready: EventType) -> None:
    """Report ready, then wait for SIGTERM (or for the supervisor to disappear)."""
    ready.set()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    parent = os.getppid()
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), PARENT_CHECK_SECONDS)
        if os.getppid() != parent:
            log.error("the supervisor is gone; process %d stops", os.getpid())
            return


class Child:
    """A writer or worker process as the supervisor sees it: start, watch, restart, stop."""

    def __init__(self, name: str, target: Any, socket_path: str | None) -> None:
        self.name = name
        self.target = target
        self.socket_path = socket_path
        self.process: Any = None

    def start(self) -> None:
        ready = _spawn.Event()
        self.process = _spawn.Process(
            target=self.target, args=(self.socket_path, ready), name=f"cee-{self.name}"
        )
        self.process.start()
        waited = 0.0
        while not ready.wait(0.1):
            waited += 0.1
            if not self.process.is_alive() or waited > CHILD_READY_SECONDS:
                raise RuntimeError(f"the {self.name} process did not start: see the log above")
        log.info("%s process [%d] started", self.name, self.process.pid)

    def alive(self) -> bool:
        return bool(self.process is not None and self.process.is_alive())

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()  # SIGTERM: finish what was handed in, then close
        self.process.join(CHILD_STOP_SECONDS)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


class Supervisor(Multiprocess):
    """uvicorn's supervisor of the HTTP processes, which also keeps the others alive."""

    def __init__(self, config: uvicorn.Config, sockets: list[Any], children: list[Child]):
        super().__init__(config, sockets)
        self.children = children

    def keep_subprocess_alive(self) -> None:
        super().keep_subprocess_alive()
        for child in self.children:
            if self.should_exit.is_set() or child.alive():
                continue
            log.error("the %s process died; starting a new one", child.name)
            try:
                child.start()
            except RuntimeError:
                log.exception("could not restart the %s process", child.name)


def run_processes(settings: Settings, config_kwargs: dict[str, Any], *, ceiling: bool) -> None:
    """Serve with `settings.processes` HTTP processes, and the writer and worker processes."""
    export_settings(settings)
    if ceiling:
        config = uvicorn.Config("cee.web.app:ceiling", workers=settings.processes, **config_kwargs)
        Multiprocess(config, sockets=[config.bind_socket()]).run()
        return
    # A private folder (only this user can reach the writer's socket), and in it the one where
    # every process writes its metrics for /metrics to add up; set before any child starts.
    folder = tempfile.mkdtemp(prefix="cee-")
    metrics_dir = os.path.join(folder, "metrics")
    os.mkdir(metrics_dir)
    os.environ[MULTIPROC_ENV] = metrics_dir
    socket_path = None
    if single_writer(settings.database_url()):
        socket_path = os.path.join(folder, "writer.sock")
        os.environ[runtime.WRITER_SOCKET_ENV] = socket_path
    config = uvicorn.Config(
        "cee.runtime:http_child_app",
        factory=True,
        workers=settings.processes,
        **config_kwargs,
    )
    children = []
    if socket_path is not None:
        children.append(Child("writer", writer_main, socket_path))
    if settings.worker:
        children.append(Child("worker", worker_main, socket_path))
    started: list[Child] = []
    try:
        supervisor = Supervisor(config, [config.bind_socket()], children)
        for child in children:
            child.start()
            started.append(child)
        supervisor.run()
    finally:
        # The worker before the writer it sends its writes to.
        for child in reversed(started):
            child.stop()
        shutil.rmtree(folder, ignore_errors=True)
