"""Shared fixtures: real `cee` server processes on free ports, real databases.

`backend` is parametrised over SQLite and PostgreSQL; PostgreSQL runs when a server answers at
CEE_TEST_PG (default postgresql://postgres@127.0.0.1:5432/test) and is reported as skipped, with
the reason, when none does. Each server gets a fresh database.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cee.storage import Store, open_store

CEE = str(Path(sys.executable).parent / "cee")
PG_ADMIN_URL = os.environ.get("CEE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite", "postgres"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_reachable() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return True
    except Exception:
        return False


PG_AVAILABLE = _pg_reachable()


def new_pg_database() -> str:
    """A fresh, empty PostgreSQL database; its URL."""
    import psycopg

    name = f"cee_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def drop_pg_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def need_postgres(backend: str = "postgres") -> None:
    """Skip a PostgreSQL run when no server answers (.ci/run starts one, so CI never skips)."""
    if backend == "postgres" and not PG_AVAILABLE:
        pytest.skip(f"no PostgreSQL reachable at {PG_ADMIN_URL}: PostgreSQL runs skipped")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    need_postgres(request.param)
    return str(request.param)


class Database:
    """Where a test's data lives: a SQLite data dir or a fresh PostgreSQL database."""

    def __init__(self, backend: str, tmp_path: Path) -> None:
        self.backend = backend
        self.data_dir = tmp_path / "data"
        self.url = new_pg_database() if backend == "postgres" else None

    def args(self) -> list[str]:
        out = ["--data-dir", str(self.data_dir)]
        if self.url:
            out += ["--database", self.url]
        return out

    def drop(self) -> None:
        if self.url:
            drop_pg_database(self.url)


def run_cli(db: Database, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run `cee ARGS...` against the database; CLI flags go after the subcommand path."""
    proc = subprocess.run([CEE, *args, *db.args()], capture_output=True, text=True, timeout=60)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"cee {' '.join(args)} failed (exit {proc.returncode}): {proc.stderr}{proc.stdout}"
        )
    return proc


class Server:
    """A real `cee serve` process and the credentials of its bootstrap account."""

    def __init__(self, db: Database, extra_env: dict[str, str] | None = None) -> None:
        self.db = db
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.env = {**os.environ, **(extra_env or {})}
        self.log = db.data_dir.parent / f"server-{self.port}.log"
        self.creds: dict[str, Any] = {}

    def init(self) -> dict[str, Any]:
        out = run_cli(self.db, "init", "--json")
        self.creds = json.loads(out.stdout)
        return self.creds

    @property
    def api_key(self) -> str:
        return str(self.creds["api_key"])

    def start(self, *extra: str) -> Server:
        self.db.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen(
                [CEE, "serve", *self.db.args(), "--port", str(self.port), *extra],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited: {self.log.read_text()}")
            try:
                if httpx.get(self.base + "/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.05)
        raise AssertionError(f"server did not start: {self.log.read_text()}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def api(
        self,
        method: str = "POST",
        *,
        query: dict[str, Any] | None = None,
        form: dict[str, Any] | None = None,
        key: str | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Call /apiv2; `query` goes in the URL (apikey added unless given), `form` in the body."""
        params = {"apikey": key if key is not None else self.api_key, **(query or {})}
        return httpx.request(
            method, self.base + "/apiv2", params=params, data=form, timeout=30, **kwargs
        )

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return run_cli(self.db, *args, check=check)


@pytest.fixture
def database(backend: str, tmp_path: Path) -> Iterator[Database]:
    db = Database(backend, tmp_path)
    yield db
    db.drop()


@pytest.fixture
def server(database: Database) -> Iterator[Server]:
    """A fresh initialised server for one test."""
    srv = Server(database)
    srv.init()
    srv.start()
    yield srv
    srv.stop()


# The shared server's flavours: each backend, and SQLite under `cee serve --processes 2` (HTTP
# processes sending every write to one writer process), so that every contract test also holds
# there.
SHARED_FLAVOURS = {
    "sqlite": ("sqlite", ()),
    "postgres": ("postgres", ()),
    "sqlite-processes": ("sqlite", ("--processes", "2")),
}


@pytest.fixture(scope="module", params=list(SHARED_FLAVOURS))
def shared_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """One server for a whole module, for tests that do not disturb each other."""
    backend, serve_args = SHARED_FLAVOURS[request.param]
    need_postgres(backend)
    db = Database(backend, tmp_path_factory.mktemp("shared"))
    srv = Server(db)
    srv.init()
    srv.start(*serve_args)
    yield srv
    srv.stop()
    db.drop()


def unique_email(tag: str = "c") -> str:
    return f"{tag}-{uuid.uuid4().hex[:12]}@example.com"


@pytest.fixture
def url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A fresh database of the backend, not yet migrated or bootstrapped."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'cee.db'}"
        return
    pg = new_pg_database()
    yield pg
    drop_pg_database(pg)


@contextlib.asynccontextmanager
async def opened(url: str) -> AsyncIterator[Store]:
    """The store of `url`, migrated and open, closed afterwards."""
    store = open_store(url)
    await store.open(migrate=True)
    try:
        yield store
    finally:
        await store.close()
