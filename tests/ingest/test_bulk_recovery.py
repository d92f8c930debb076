"""Bulk jobs survive their worker: SIGKILLed mid-import, the job finishes after the restart with
every row applied exactly once; and two imports run side by side."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Database, Server, need_postgres
from tests.ingest.bulkutil import ALLOW_LOOPBACK, start_server, status, upload, wait_for
from tests.ingest.fileserver import File, FileServer

ROWS = 1000


@pytest.fixture
def files() -> Iterator[FileServer]:
    fs = FileServer()
    yield fs
    fs.close()


def slow_file(tag: str, rows: int = ROWS, pieces: int = 10, pause: float = 0.3) -> File:
    text = "EMAIL,NAME\n" + "".join(f"{tag}{i}@example.com,Row {i}\n" for i in range(rows))
    return File(text.encode(), pieces=pieces, pause=pause)


def history_of(database: Database, requestid: str) -> tuple[int, int]:
    """(history entries, distinct contacts) written under the requestid, read from the database."""
    sql = "SELECT count(*), count(DISTINCT match_key) FROM contact_history WHERE requestid = "
    if database.url is None:
        # SQLite keeps a creation entry on the contact's row until its first change.
        kept = (
            "SELECT count(*), count(DISTINCT match_key) FROM ("
            "SELECT match_key FROM contact_history WHERE requestid = ?1 UNION ALL "
            "SELECT match_key FROM contacts WHERE created_requestid = ?1)"
        )
        with sqlite3.connect(database.data_dir / "cee.db") as conn:
            row = conn.execute(kept, (requestid,)).fetchone()
    else:
        import psycopg

        with psycopg.connect(database.url) as conn:
            row = conn.execute(sql + "%s", (requestid,)).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def test_a_job_killed_mid_import_finishes_after_restart_with_every_row_once(
    database: Database, files: FileServer
) -> None:
    files.files["/big.csv"] = slow_file("k")
    srv = start_server(database)
    requestid = upload(srv, files.url("/big.csv"))
    try:
        while (found := status(srv, requestid))["rows_done"] < 200:
            assert found["state"] != "done", "the import ended before it could be interrupted"
            time.sleep(0.02)
        assert found["rows_done"] < ROWS
    finally:
        srv.kill()
    committed = found["rows_done"]
    srv.start()
    try:
        done = wait_for(srv, requestid)
        assert done["result"] == "Success"
        assert (done["total"], done["succeeded"], done["failed"]) == (ROWS, ROWS, 0)
        assert done["rows_done"] == ROWS and done["rows_done"] >= committed
        assert files.gets.count("/big.csv") == 2  # fetched again from the start
        # Exactly once: one history entry per row, none repeated by the resumed attempt.
        assert history_of(database, requestid) == (ROWS, ROWS)
        seen = srv.api(query={"type": "contact", "activity": "view", "data": "k999@example.com"})
        assert seen.json()["result"]["attributes"]["NAME"] == "Row 999"
    finally:
        srv.stop()


def test_two_imports_run_at_once(database: Database, files: FileServer) -> None:
    files.files["/one.csv"] = slow_file("one", rows=400, pieces=8, pause=0.3)
    files.files["/two.csv"] = slow_file("two", rows=400, pieces=8, pause=0.3)
    srv = start_server(database)
    try:
        one = upload(srv, files.url("/one.csv"))
        two = upload(srv, files.url("/two.csv"))
        together = False
        while True:
            a, b = status(srv, one), status(srv, two)
            if a["state"] == b["state"] == "running" and a["rows_done"] and b["rows_done"]:
                together = True
            if a["state"] == b["state"] == "done":
                break
            time.sleep(0.05)
        assert together, "the two imports never ran side by side"
        for found in (a, b):
            assert found["result"] == "Success" and found["succeeded"] == 400
    finally:
        srv.stop()


def test_an_import_under_several_processes(database: Database, files: FileServer) -> None:
    # `cee serve --processes 2`: the worker runs in a process of its own and, on SQLite, sends
    # its chunks to the one writer process.
    files.files["/p.csv"] = File(
        b"EMAIL,AGE\np1@example.com,1\np2@example.com,x\np3@example.com,3\n"
    )
    srv = start_server(database, serve_args=("--processes", "2"))
    try:
        done = wait_for(srv, upload(srv, files.url("/p.csv")))
        assert (done["result"], done["succeeded"], done["failed"]) == ("Partial", 2, 1)
        assert done["records"][0]["index"] == 1 and done["records"][0]["details"].startswith("AGE:")
    finally:
        srv.stop()


def test_every_node_of_a_postgres_cluster_takes_jobs(tmp_path: Path, files: FileServer) -> None:
    need_postgres()
    database = Database("postgres", tmp_path)
    # Two nodes on one database, each running one import at a time: two imports running at
    # once means both nodes took one.
    first = start_server(database, CEE_BULK_CONCURRENCY="1")
    second = Server(database, {**ALLOW_LOOPBACK, "CEE_BULK_CONCURRENCY": "1"})
    second.creds = first.creds
    try:
        second.start()
        files.files["/a.csv"] = slow_file("na", rows=400, pieces=8, pause=0.3)
        files.files["/b.csv"] = slow_file("nb", rows=400, pieces=8, pause=0.3)
        jobs = [upload(first, files.url("/a.csv")), upload(second, files.url("/b.csv"))]
        together = False
        while True:
            found = [status(first, job) for job in jobs]
            if all(f["state"] == "running" and f["rows_done"] for f in found):
                together = True
            if all(f["state"] == "done" for f in found):
                break
            time.sleep(0.05)
        assert together, "the two nodes never ran an import each at the same time"
        assert [f["succeeded"] for f in found] == [400, 400]
    finally:
        second.stop()
        first.stop()
        database.drop()
