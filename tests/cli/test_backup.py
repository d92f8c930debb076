"""`cee backup` under live addsync load, and `cee restore` onto the stopped server."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import Database, Server, run_cli, unique_email
from tests.web.util import dumps

LOAD_THREADS = 4
LOAD_SECONDS_MAX = 30.0


class AddsyncLoad:
    """Threads sending addsync until told to stop; each acknowledged email with when it was."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.acked: list[tuple[float, str]] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run) for _ in range(LOAD_THREADS)]

    def _run(self) -> None:
        deadline = time.monotonic() + LOAD_SECONDS_MAX
        with httpx.Client(timeout=30) as client:
            while not self.stop.is_set() and time.monotonic() < deadline:
                email = unique_email("bk")
                resp = client.post(
                    self.server.base + "/apiv2",
                    params={"apikey": self.server.api_key, "type": "contact"},
                    data={"activity": "addsync", "data": dumps({"EMAIL": email})},
                )
                assert resp.status_code == 200, resp.text
                with self.lock:
                    self.acked.append((time.monotonic(), email))

    def __enter__(self) -> AddsyncLoad:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join()

    def acknowledged_before(self, moment: float) -> set[str]:
        with self.lock:
            return {email for at, email in self.acked if at < moment}


def emails_in(path: Path) -> set[str]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {r[0] for r in conn.execute("SELECT match_key FROM contacts")}
    finally:
        conn.close()


@pytest.fixture
def sqlite_server(tmp_path: Path) -> Server:
    srv = Server(Database("sqlite", tmp_path))
    srv.init()
    return srv.start()


def test_backup_under_load_then_restore_keeps_every_acknowledged_contact(
    sqlite_server: Server, tmp_path: Path
) -> None:
    server = sqlite_server
    out = tmp_path / "backups" / "cee-backup.db"
    try:
        with AddsyncLoad(server) as load:
            while len(load.acknowledged_before(time.monotonic())) < 200:
                time.sleep(0.05)
            began = time.monotonic()
            done = run_cli(server.db, "backup", str(out))
            assert "backed up" in done.stdout
            while (
                len(load.acknowledged_before(time.monotonic()))
                < len(load.acknowledged_before(began)) + 100
            ):
                time.sleep(0.05)  # writes go on after the copy
        before = load.acknowledged_before(began)
        everything = load.acknowledged_before(time.monotonic())
        in_backup = emails_in(out)
        assert before <= in_backup, f"{len(before - in_backup)} acknowledged contacts missing"
        # Refused while the server runs: it would keep writing to the file being replaced.
        refused = run_cli(server.db, "restore", str(out), check=False)
        assert refused.returncode == 1 and "in use" in refused.stderr, refused.stderr
        assert emails_in(server.db.data_dir / "cee.db") >= everything
    finally:
        server.stop()
    run_cli(server.db, "restore", str(out))
    server.start()
    try:
        restored = emails_in(server.db.data_dir / "cee.db")
        assert restored == in_backup
        # The restored server serves them: a contact from before the backup is a duplicate.
        sample = sorted(before)[0]
        resp = server.api(
            query={"type": "contact", "activity": "addsync"},
            form={"data": dumps({"EMAIL": sample})},
        )
        assert resp.status_code == 302, resp.text
    finally:
        server.stop()


def test_backup_refuses_an_existing_file_and_postgres(
    sqlite_server: Server, tmp_path: Path
) -> None:
    server = sqlite_server
    try:
        taken = tmp_path / "taken.db"
        taken.write_text("keep me")
        proc = run_cli(server.db, "backup", str(taken), check=False)
        assert proc.returncode == 1 and "exists already" in proc.stderr
        assert taken.read_text() == "keep me"
        not_cee = tmp_path / "other.db"
        sqlite3.connect(not_cee).execute("CREATE TABLE t (x)").connection.close()
        server.stop()
        proc = run_cli(server.db, "restore", str(not_cee), check=False)
        assert proc.returncode == 1 and "not a CEE database" in proc.stderr
    finally:
        server.stop()
    pg = Database("sqlite", tmp_path / "pg")
    pg.url = "postgresql://postgres@127.0.0.1:5432/whatever"
    proc = run_cli(pg, "backup", str(tmp_path / "x.db"), check=False)
    assert proc.returncode == 1 and "pg_dump" in proc.stderr
