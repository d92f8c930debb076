"""`add_many` and the AsyncClient under concurrency, against a real server (each backend)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

from cee_client import AsyncClient, ChunkResult, Client

from tests.conftest import Server

BAD_AT = [0, 999, 1000, 1777, 2499]  # chunk edges included: first, last of a chunk, first of next


def records(tag: str, count: int, bad_at: list[int]) -> Iterator[dict[str, Any]]:
    for i in range(count):
        email = "not-an-email" if i in bad_at else f"{tag}-{i}@example.com"
        yield {"EMAIL": email, "NAME": f"n{i}"}


def test_add_many_reports_exactly_the_bad_records_by_input_position(
    cee: Client, shared_server: Server
) -> None:
    tag = uuid.uuid4().hex[:10]
    listid = cee.create_list(f"many-{tag}")
    seen: list[ChunkResult] = []
    report = cee.add_many(records(tag, 2500, BAD_AT), listid=listid, on_progress=seen.append)
    assert (report.total, report.succeeded, report.failed) == (2500, 2495, 5)
    assert [f.index for f in report.failures] == BAD_AT
    assert {f.error_code for f in report.failures} == {422}
    assert all("EMAIL" in f.details for f in report.failures)
    # Chunks of at most 1,000, covering the input once.
    assert sorted((c.start, c.count) for c in seen) == [(0, 1000), (1000, 1000), (2000, 500)]
    # What the report calls a success is stored: the list holds exactly the good records.
    assert {i.listid: i.count for i in cee.lists()}[listid] == 2495
    assert cee.view(f"{tag}-1@example.com").attributes["NAME"] == "n1"


def test_add_many_reads_its_input_only_as_it_sends(cee: Client) -> None:
    tag = uuid.uuid4().hex[:10]
    pulled = 0
    furthest_ahead = 0
    answered = 0

    def rows() -> Iterator[dict[str, Any]]:
        nonlocal pulled
        for i in range(3000):
            pulled += 1
            yield {"EMAIL": f"{tag}-{i}@example.com"}

    def progress(chunk: ChunkResult) -> None:
        nonlocal answered, furthest_ahead
        answered += chunk.count
        furthest_ahead = max(furthest_ahead, pulled - answered)

    report = cee.add_many(rows(), chunk_size=100, on_progress=progress, concurrency=2)
    assert report.succeeded == 3000
    # Never more than the chunks in flight plus the one being cut: a bounded window.
    assert furthest_ahead <= 100 * 3


def test_add_many_async_mode_then_settle(cee: Client) -> None:
    tag = uuid.uuid4().hex[:10]
    report = cee.add_many(records(tag, 1500, [3, 1200]), mode="async", chunk_size=500)
    assert report.total == 1500 and report.failed == 0
    assert [(r.start, r.count) for r in report.requests] == [(0, 500), (500, 500), (1000, 500)]
    settled = cee.settle(report, timeout=60)
    assert [f.index for f in settled.failures] == [3, 1200]
    assert settled.succeeded == 1498
    assert cee.view(f"{tag}-1499@example.com").attributes["NAME"] == "n1499"


def test_a_chunk_refused_whole_fails_each_of_its_records(cee: Client) -> None:
    tag = uuid.uuid4().hex[:10]
    report = cee.add_many(records(tag, 30, []), listid=987654, chunk_size=10)
    assert report.failed == 30 and report.succeeded == 0
    assert [f.index for f in report.failures] == list(range(30))
    assert {f.error_code for f in report.failures} == {404}


def test_a_concurrent_async_client_run(shared_server: Server) -> None:
    tag = uuid.uuid4().hex[:10]
    emails = [f"{tag}-{i}@example.com" for i in range(200)]

    async def main() -> None:
        async with AsyncClient(shared_server.api_key, shared_server.base) as cee:
            listid = await cee.create_list(f"async-{tag}")
            # 200 addsyncs in flight at once on one client, then 200 views.
            ids = await asyncio.gather(*(cee.addsync({"EMAIL": e}, listid) for e in emails))
            assert len(set(ids)) == 200
            viewed = await asyncio.gather(*(cee.view(e) for e in emails))
            assert [c.primary_key for c in viewed] == emails
            assert all(c.lists == [listid] for c in viewed)
            # add_many from an async generator, with a bad record, answered concurrently.
            report = await cee.add_many(
                agen(tag, 1200, bad_at=[600]), mode="async", chunk_size=300, concurrency=4
            )
            settled = await cee.settle(report, timeout=60)
            assert [f.index for f in settled.failures] == [600]
            status = await cee.wait(report.requestids[0], timeout=30)
            assert status.done
            assert {i.listid: i.count for i in await cee.lists()}[listid] == 200

    asyncio.run(main())


async def agen(tag: str, count: int, bad_at: list[int]) -> Any:
    for record in records(f"{tag}-a", count, bad_at):
        yield record


def test_chunks_of_one_go_as_a_bare_object(cee: Client) -> None:
    # chunk_size=1 is the Netcore-compatible form: one contact, no array, per request.
    tag = uuid.uuid4().hex[:10]
    report = cee.add_many(records(tag, 6, [4]), chunk_size=1)
    assert (report.succeeded, [f.index for f in report.failures]) == (5, [4])
    assert report.failures[0].error_code == 422
    again = cee.add_many(records(tag, 2, []), chunk_size=1)
    assert [(f.index, f.error_code) for f in again.failures] == [(0, 302), (1, 302)]


def test_async_mode_with_wait_reports_final_outcomes_per_chunk(cee: Client) -> None:
    tag = uuid.uuid4().hex[:10]
    seen: list[ChunkResult] = []
    report = cee.add_many(
        records(tag, 900, [450]), mode="async", chunk_size=300, wait=True, on_progress=seen.append
    )
    assert all(c.settled and c.requestid for c in seen)
    assert [f.index for f in report.failures] == [450]
    assert report.succeeded == 899
