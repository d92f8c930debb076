"""The probes and the security headers, against a real server on each backend."""

from __future__ import annotations

import sqlite3
import time

import httpx
import psycopg

from tests.conftest import Server, drop_pg_database, unique_email


def get(server: Server, path: str) -> httpx.Response:
    return httpx.get(server.base + path, timeout=10)


def test_healthz_and_readyz_answer_ok_and_health_stays(shared_server: Server) -> None:
    server = shared_server
    for path in ("/healthz", "/readyz", "/health"):
        resp = get(server, path)
        assert resp.status_code == 200, (path, resp.text)
        assert resp.headers["content-type"] == "application/json"
        assert resp.json()["status"] == "ok"


def _forget_migration(server: Server, migration: str) -> None:
    """Make the database look one migration behind this version, as a half-done upgrade does."""
    if server.db.url:
        with psycopg.connect(server.db.url, autocommit=True) as conn:
            conn.execute("DELETE FROM _yoyo_migration WHERE migration_id = %s", (migration,))
    else:
        with sqlite3.connect(server.db.data_dir / "cee.db") as conn:
            conn.execute("DELETE FROM _yoyo_migration WHERE migration_id = ?", (migration,))


def test_readyz_is_503_naming_a_migration_not_applied(server: Server) -> None:
    _forget_migration(server, "0002_history_by_contact_id")
    resp = get(server, "/readyz")
    assert resp.status_code == 503, resp.text
    body = resp.json()
    assert body["status"] == "error" and body["error_code"] == 503
    assert "0002_history_by_contact_id" in body["details"]
    # The process itself is fine: an orchestrator must not restart it for this.
    assert get(server, "/healthz").status_code == 200


def test_readyz_is_503_once_the_database_is_gone(server: Server) -> None:
    assert get(server, "/readyz").status_code == 200
    if server.db.url:
        drop_pg_database(server.db.url)  # terminates the server's connections too
    else:
        (server.db.data_dir / "cee.db").rename(server.db.data_dir / "moved-away.db")
    deadline = time.monotonic() + 10
    resp = get(server, "/readyz")
    while resp.status_code == 200 and time.monotonic() < deadline:
        time.sleep(0.1)
        resp = get(server, "/readyz")
    assert resp.status_code == 503, resp.text
    assert resp.json()["details"].startswith("database: "), resp.text
    assert get(server, "/healthz").status_code == 200


def test_every_answer_carries_the_security_headers(shared_server: Server) -> None:
    server = shared_server
    answers = [
        get(server, "/healthz"),
        get(server, "/no-such-page"),
        server.api(query={"type": "contact", "activity": "addsync"}, form={"data": "{}"}),
        server.api(
            query={"type": "contact", "activity": "addsync"},
            form={"data": f'{{"EMAIL": "{unique_email()}"}}'},
        ),
    ]
    for resp in answers:
        assert resp.headers["x-content-type-options"] == "nosniff", resp.url
        assert resp.headers["referrer-policy"] == "no-referrer", resp.url
        csp = resp.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp, resp.url
