"""`/openapi.json` describes what the server routes, and schemathesis fuzzes a live server with it.

The fuzzing (schemathesis's own command, pinned in pyproject.toml) is bounded: MAX_EXAMPLES
cases per operation and MAX_SECONDS in all. Every answer must be documented (status and content
type) and match its schema, and no case may get a 500.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cee.web.apiv2.routes import READS, ROUTES
from cee.web.openapi import document
from tests.conftest import Database, Server

ST = str(Path(sys.executable).parent / "st")
MAX_EXAMPLES = 25
MAX_SECONDS = 25
# No 500, no status or content type the document does not list, bodies matching their schemas.
CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_schema_conformance"
)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(Database("sqlite", tmp_path_factory.mktemp("openapi")))
    srv.init()
    srv.start()
    yield srv
    srv.stop()


def test_the_document_is_served_and_holds_every_route(live: Server) -> None:
    resp = httpx.get(live.base + "/openapi.json", timeout=10)
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/json"
    served: dict[str, Any] = resp.json()
    assert served["openapi"] == "3.1.0"
    assert served == document()
    body = served["paths"]["/apiv2"]["post"]["requestBody"]["content"]
    alternatives = body["application/x-www-form-urlencoded"]["schema"]["oneOf"]
    routes = {
        (a["properties"]["type"]["const"], a["properties"]["activity"]["const"])
        for a in alternatives
    }
    assert routes == set(ROUTES)  # one operation per (type, activity), none invented
    for alternative in alternatives:
        route = (
            alternative["properties"]["type"]["const"],
            alternative["properties"]["activity"]["const"],
        )
        assert alternative["x-cee-write"] == (route not in READS)
        assert alternative["description"], route  # its handler's docstring
    for path in (
        "/v3/contact/batchadd",
        "/v3/contact/blacklist",
        "/healthz",
        "/readyz",
        "/metrics",
    ):
        assert path in served["paths"]


SCHEMATHESIS_CONFIG = """
[parameters]
"query.apikey" = "${CEE_TEST_API_KEY}"
"header.api-key" = "${CEE_TEST_API_KEY}"

[generation]
codec = "utf-8"
"""


def test_schemathesis_finds_nothing_undocumented(live: Server, tmp_path: Path) -> None:
    # A valid key on every case, so that the fuzzing reaches the activities rather than stop
    # at the 401 (the key's own cases, missing and wrong, are in test_auth.py).
    config = tmp_path / "schemathesis.toml"
    config.write_text(SCHEMATHESIS_CONFIG)
    proc = subprocess.run(
        [
            ST,
            "--config-file",
            str(config),
            "run",
            live.base + "/openapi.json",
            "--checks",
            CHECKS,
            "--max-examples",
            str(MAX_EXAMPLES),
            "--max-time",
            str(MAX_SECONDS),
            "--seed",
            "1",
            "--workers",
            "2",
            "--phases",
            "examples,coverage,fuzzing",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=MAX_SECONDS + 60,
        env={**os.environ, "CEE_TEST_API_KEY": live.api_key},
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout[-20000:] + proc.stderr[-5000:]
    assert "No issues found" in proc.stdout or "passed" in proc.stdout, proc.stdout[-5000:]
    # The server survived it and still serves.
    assert httpx.get(live.base + "/readyz", timeout=10).status_code == 200
