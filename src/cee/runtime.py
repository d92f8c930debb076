"""How each CEE process is built: the one place a store is opened for a process role.

The roles, and what each runs:

- **admin**: a CLI command (`store_for`): a store, no engine.
- **serve**: `cee serve` as one process (`serve_app`): the API, the journal-depth watch, and
  the async worker when the `worker` setting is on; it writes itself.
- **HTTP child**: one of the `--processes` HTTP processes (`http_child_app`): the API and the
  depth watch; on SQLite its writes go to the writer process.
- **writer**: SQLite under `--processes` (`writer`): the one write connection, served to the
  others over a Unix socket so that all their writes share one group commit.
- **worker**: the async worker (`worker_engine` for `cee worker`, `worker` for the worker
  process of `--processes`, which the writer process wakes at each journal append).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from cee import metrics
from cee.engine import BackgroundJob, Engine
from cee.ingest.journal import watch_depth
from cee.settings import Settings
from cee.storage import Store, open_sqlite_store, open_store, single_writer

if TYPE_CHECKING:
    from cee.web.app import CeeApp

log = logging.getLogger(__name__)

# Set in the HTTP processes' environment by the supervisor: where the writer process listens.
WRITER_SOCKET_ENV = "CEE_WRITER_SOCKET"


def store_for(settings: Settings, writer_socket: str | None = None) -> Store:
    """The store of the settings' database; with `writer_socket`, one that sends every write
    to the SQLite writer process listening there."""
    url = settings.database_url()
    if writer_socket is not None:
        return open_sqlite_store(url, writer_socket)
    return open_store(url, settings)


def engine_for(settings: Settings, writer_socket: str | None = None) -> Engine:
    return Engine(settings, store_for(settings, writer_socket))


async def watch_bulk_jobs(engine: Engine) -> None:
    """Background job: the bulk upload jobs by state, for /metrics, until cancelled.

    Here rather than in cee.metrics: the stores record metrics, so metrics must not need a store.
    """
    while True:
        try:
            metrics.record_bulk_jobs(await engine.store.bulk_job_counts())
        except Exception:
            log.exception("could not count the bulk jobs")
        await asyncio.sleep(metrics.BULK_REFRESH_SECONDS)


async def flush_request_metrics(engine: Engine) -> None:
    """Background job: hand the request counts to prometheus_client once a second."""
    await metrics.flush_often()


async def watch_journal_depth(engine: Engine) -> None:
    """Background job: keep the engine's journal-depth estimate in step with the store."""
    await watch_depth(engine.store, engine.journal)


def serving_jobs(*, worker: bool) -> list[BackgroundJob]:
    """What runs beside the API: the journal-depth and bulk-job watches, the metrics' flush,
    the hourly purge of old Idempotency-Key answers, and the async worker if `worker`."""
    from cee.ingest.worker import worker_job
    from cee.web.idempotency import purge_kept_answers

    jobs: list[BackgroundJob] = [
        watch_journal_depth,
        watch_bulk_jobs,
        flush_request_metrics,
        purge_kept_answers,
    ]
    return [*jobs, worker_job] if worker else jobs


def serve_app(settings: Settings) -> CeeApp:
    """`cee serve` in one process."""
    # Imported here, not above: CLI commands build stores through this module and should not
    # pay for loading the web stack.
    from cee.web.app import CeeApp

    # The one process on a database only it writes (SQLite): nothing else takes from the keys'
    # rate limits, so their buckets stay in memory. On PostgreSQL other nodes may serve them.
    alone = single_writer(settings.database_url())
    engine = Engine(settings, store_for(settings), shared_limits=not alone)
    return CeeApp(engine, serving_jobs(worker=settings.worker))


def http_child_app() -> CeeApp:
    """The app of one HTTP process under `--processes` (uvicorn's factory: the process is
    spawned, so its settings and the writer's socket come from the environment).

    The async worker runs in the worker process, not here.
    """
    from cee.logs import configure_logging
    from cee.web import stack
    from cee.web.app import CeeApp

    configure_logging(logging.INFO)
    settings = Settings.load()
    # The HTTP protocol's limits (timeouts, connection cap) are read per process.
    stack.configure(settings)
    engine = engine_for(settings, os.environ.get(WRITER_SOCKET_ENV) or None)
    return CeeApp(engine, serving_jobs(worker=False))


@contextlib.asynccontextmanager
async def writer(settings: Settings, socket_path: str) -> AsyncIterator[None]:
    """The SQLite writer process's work, served on `socket_path` while the block runs."""
    from cee.storage.sqlite.remote import WriterService
    from cee.storage.sqlite.store import is_journal_append

    store = open_sqlite_store(settings.database_url())
    await store.open()
    store.local_writer.commit_on_loop = True  # this loop serves no HTTP meanwhile
    service = WriterService(store.local_writer, socket_path, is_journal_append)
    await service.start()
    try:
        yield
    finally:
        await service.stop()
        await store.close()


def worker_engine(settings: Settings) -> Engine:
    """`cee worker`: an engine on its own store; it finds new journal entries by polling."""
    return engine_for(settings)


@contextlib.asynccontextmanager
async def worker(settings: Settings, writer_socket: str | None) -> AsyncIterator[Engine]:
    """The worker process of `--processes`, applying the journal while the block runs."""
    from cee.ingest.worker import worker_job

    if writer_socket is None:  # PostgreSQL: it writes itself and polls
        engine = engine_for(settings)
        await engine.start([worker_job])
    else:
        store = open_sqlite_store(settings.database_url(), writer_socket)
        engine = Engine(settings, store)
        await engine.start([worker_job])
        # Woken by the writer process at each commit that appended to the journal.
        store.on_journal_append(engine.journal.arrived.set)
    try:
        yield engine
    finally:
        await engine.stop()
