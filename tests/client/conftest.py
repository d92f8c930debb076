"""A `cee_client.Client` on the module's real server (tests/conftest.py's shared_server)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cee_client import Client

from tests.conftest import Server


@pytest.fixture
def cee(shared_server: Server) -> Iterator[Client]:
    with Client(api_key=shared_server.api_key, base_url=shared_server.base) as client:
        yield client
