"""`add_many`'s shared rules: cutting any iterable into chunks, reading each chunk's answer.

A chunk is one request carrying up to 1,000 contacts as a JSON array; the server answers one
entry per record (`records`, in input order), so a record's position in the whole input is
the chunk's start plus its index in the chunk.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterable, Iterator
from typing import Any, Literal

from cee_client import _core, errors
from cee_client._models import BatchReport, ChunkResult, Failure, RecordResult, Status

Mode = Literal["sync", "async"]
MAX_CHUNK = 1000  # the server's limit of contacts in one request
ACTIVITY: dict[str, str] = {"sync": "addsync", "async": "add"}

# A whole chunk refused for one of these cannot go better for the next chunk: raise at once
# rather than report every record of the input as failed.
FATAL = (errors.InvalidApiKey, errors.Forbidden, errors.TransportError, errors.ServerError)


def check(mode: str, chunk_size: int, concurrency: int) -> None:
    if mode not in ACTIVITY:
        raise ValueError(f"mode: {mode!r} is not 'sync' or 'async'")
    if not 1 <= chunk_size <= MAX_CHUNK:
        raise ValueError(f"chunk_size: {chunk_size} is not between 1 and {MAX_CHUNK}")
    if concurrency < 1:
        raise ValueError(f"concurrency: {concurrency} is below 1")


def chunks(records: Iterable[Any], size: int) -> Iterator[tuple[int, list[Any]]]:
    """(start position, records) of consecutive chunks, reading the input only as needed."""
    it = iter(records)
    start = 0
    while chunk := list(itertools.islice(it, size)):
        yield start, chunk
        start += len(chunk)


def call(
    mode: str, records: list[Any], listid: int | None, key: str | None = None
) -> _core.Call[dict[str, Any]]:
    # One record goes as a bare object, the form Netcore's own /apiv2 takes (arrays there are
    # a CEE extension), so `chunk_size=1` works against Netcore's hosts too.
    data: Any = records[0] if len(records) == 1 else records
    # One key per chunk, kept across that chunk's retries: a retried chunk is one write. A
    # caller that may send the same chunk again later (a resumed import) gives its own key.
    return _core.records_call(ACTIVITY[mode], data, listid, key or uuid.uuid4().hex)


def answered(mode: str, start: int, count: int, body: dict[str, Any]) -> ChunkResult:
    """The chunk's outcome from the server's 200 answer."""
    if mode == "async":
        return ChunkResult(start, count, [], requestid=str(body["requestid"]))
    failures = [
        Failure(start + r.index, r.error_code, r.details or "")
        for r in (RecordResult.from_wire(entry) for entry in body.get("records") or [])
        if not r.ok
    ]
    return ChunkResult(start, count, failures)


def outcome(chunk: ChunkResult, status: Status) -> ChunkResult:
    """An async chunk with the failures its request status reports, once done."""
    failures = [
        Failure(chunk.start + r.index, r.error_code, r.details or "")
        for r in status.records or []
        if not r.ok
    ]
    return ChunkResult(chunk.start, chunk.count, failures, chunk.requestid, settled=True)


def refused(start: int, count: int, exc: errors.CeeError) -> ChunkResult:
    """A chunk the server refused as a whole (a 404 list, a 413): each of its records failed."""
    if isinstance(exc, FATAL):
        raise exc
    failures = [Failure(start + i, exc.error_code, exc.details) for i in range(count)]
    return ChunkResult(start, count, failures)


def settle(report: BatchReport, statuses: list[Status]) -> BatchReport:
    """The async report with each request's final per-record outcomes merged in."""
    out = BatchReport(total=report.total, requests=list(report.requests))
    out.failures = list(report.failures)
    for request, status in zip(report.requests, statuses, strict=True):
        chunk = ChunkResult(request.start, request.count, [], request.requestid)
        out.failures.extend(outcome(chunk, status).failures)
    out.succeeded = out.total - len(out.failures)
    out.sort()
    return out
