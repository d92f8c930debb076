"""A `cee_client.Client` on the module's real server, one per backend.

`shared_server` is narrowed here to SQLite and PostgreSQL: the client sees only HTTP, and the
`--processes` flavour of tests/conftest.py exercises the server's internals, which the contract
tests already cover there.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cee_client import Client

from tests.conftest import Database, Server, need_postgres


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def shared_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """One server for a whole module, for tests that do not disturb each other."""
    need_postgres(request.param)
    db = Database(request.param, tmp_path_factory.mktemp("client"))
    srv = Server(db)
    srv.init()
    srv.start()
    yield srv
    srv.stop()
    db.drop()


@pytest.fixture
def cee(shared_server: Server) -> Iterator[Client]:
    with Client(api_key=shared_server.api_key, base_url=shared_server.base) as client:
        yield client
