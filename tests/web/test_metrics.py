"""`/metrics`: every named metric is there and moves, on each backend and under --processes."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import Database, Server, unique_email

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(server: Server) -> Samples:
    resp = httpx.get(server.base + "/metrics", timeout=10)
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/plain")
    out: Samples = {}
    for family in text_string_to_metric_families(resp.text):
        for sample in family.samples:
            out[sample.name, frozenset(sample.labels.items())] = sample.value
    return out


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def addsync(server: Server, email: str) -> httpx.Response:
    return server.api(
        query={"type": "contact", "activity": "addsync"},
        form={"data": json.dumps({"EMAIL": email})},
    )


def test_request_and_writer_metrics_count_what_was_answered(server: Server) -> None:
    before = scrape(server)
    email = unique_email("m")
    assert addsync(server, email).status_code == 200
    assert addsync(server, unique_email("m")).status_code == 200
    assert addsync(server, email).status_code == 302
    assert server.api(key="cee_wrong", query={"type": "contact"}).status_code == 401
    after = scrape(server)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    ok = {"type": "contact", "activity": "addsync"}
    assert moved("cee_http_requests_total", **ok, code="200") == 2
    assert moved("cee_http_requests_total", **ok, code="302") == 1
    # A refused key is counted before its route is read: under one fixed label, not the junk.
    assert moved("cee_http_requests_total", type="-", activity="-", code="401") == 1
    assert moved("cee_http_request_duration_seconds_count", **ok) == 3
    assert moved("cee_http_request_duration_seconds_sum", **ok) > 0
    # Every request answered within 5 s, so all three fall in the 5 s bucket.
    assert moved("cee_http_request_duration_seconds_bucket", **ok, le="5.0") == 3
    assert moved("cee_writer_batch_size_count") >= 1
    assert moved("cee_writer_commit_seconds_count") >= 1
    assert moved("cee_writer_commit_seconds_sum") > 0
    # Present from the start, so that dashboards work before the first 429.
    assert ("cee_rate_limited_total", frozenset({("reason", "key")})) in after
    assert ("cee_rate_limited_total", frozenset({("reason", "journal")})) in after


@pytest.fixture
def no_worker_server(database: Database) -> Iterator[Server]:
    srv = Server(database)
    srv.init()
    srv.start("--no-worker")
    yield srv
    srv.stop()


def test_journal_gauges_show_the_waiting_requests(no_worker_server: Server) -> None:
    server = no_worker_server
    assert value(scrape(server), "cee_journal_depth") == 0
    for _ in range(3):
        resp = server.api(
            query={"type": "contact", "activity": "add"},
            form={"data": json.dumps({"EMAIL": unique_email("j")})},
        )
        assert resp.status_code == 200, resp.text
    deadline = time.monotonic() + 10  # the depth is re-read twice a second
    samples = scrape(server)
    while value(samples, "cee_journal_depth") < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
        samples = scrape(server)
    assert value(samples, "cee_journal_depth") == 3
    time.sleep(1.1)
    assert value(scrape(server), "cee_journal_oldest_age_seconds") >= 1.0


@pytest.fixture
def processes_server(tmp_path: Path) -> Iterator[Server]:
    db = Database("sqlite", tmp_path)
    srv = Server(db)
    srv.init()
    srv.start("--processes", "2")
    yield srv
    srv.stop()


def test_metrics_add_up_over_the_processes(processes_server: Server) -> None:
    server = processes_server
    before = scrape(server)
    with httpx.Client(timeout=30) as client:  # fresh connections land on either process
        for _ in range(20):
            resp = client.post(
                server.base + "/apiv2",
                params={"apikey": server.api_key, "type": "contact", "activity": "addsync"},
                data={"data": json.dumps({"EMAIL": unique_email("p")})},
                headers={"Connection": "close"},
            )
            assert resp.status_code == 200, resp.text
    ok = {"type": "contact", "activity": "addsync", "code": "200"}

    def counted(samples: Samples) -> float:
        return value(samples, "cee_http_requests_total", **ok) - value(
            before, "cee_http_requests_total", **ok
        )

    # Each process hands its counts over once a second: the sum is whole within a few.
    deadline = time.monotonic() + 10
    after = scrape(server)
    while counted(after) < 20 and time.monotonic() < deadline:
        time.sleep(0.2)
        after = scrape(server)
    assert counted(after) == 20
    # The group commits happen in the writer process: its samples are in the sum too.
    assert (
        value(after, "cee_writer_batch_size_sum") - value(before, "cee_writer_batch_size_sum") >= 20
    )


def test_bulk_jobs_gauge_appears_once_a_job_exists(database: Database) -> None:
    from tests.ingest.bulkutil import start_server, upload, wait_for
    from tests.ingest.fileserver import File, FileServer

    files = FileServer()
    server = start_server(database)
    try:
        assert not [k for k in scrape(server) if k[0] == "cee_bulk_jobs"]  # none before a job
        email = unique_email("bulk")
        files.files["/one.csv"] = File(f"EMAIL\n{email}\n".encode())
        wait_for(server, upload(server, files.url("/one.csv")))
        deadline = time.monotonic() + 15  # counted every 5 s
        while value(scrape(server), "cee_bulk_jobs", state="done") < 1:
            assert time.monotonic() < deadline, "cee_bulk_jobs{state=done} never reached 1"
            time.sleep(0.5)
        assert value(scrape(server), "cee_bulk_jobs", state="queued") == 0
    finally:
        server.stop()
        files.close()
