"""One bulk import, from the claimed job to its outcome.

The file is fetched through the guard and read as it arrives; rows are judged as `add` judges
them and go to the store a chunk at a time: `bulk_chunk_rows` rows, or whatever arrived in the last
`FLUSH_SECONDS` of a slow download. One chunk is written while the next is parsed. A resumed job
(its worker died) reads the file again from the start and skips the rows its committed chunks
already hold, so no row is applied twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from cee.domain.contacts import ContactRecord, Schema
from cee.domain.errors import CeeError
from cee.ingest.imports.csvstream import CsvStream, NotCsv, Row
from cee.ingest.imports.fetch import FetchFailed, Limits, open_url
from cee.ingest.imports.guard import AllowList, Refused
from cee.ingest.imports.rows import Columns, judge
from cee.storage.base import Store
from cee.storage.bulk import BulkJob, Chunk, Reject

log = logging.getLogger(__name__)

FLUSH_SECONDS = 1.0
# Rows judged between two yields to the event loop: the API shares it and must keep answering.
ROWS_PER_YIELD = 500


class ClaimLost(Exception):
    """Another worker took the job over (this one was presumed dead): stop, change nothing."""


@dataclass(slots=True)
class Importer:
    store: Store
    job: BulkJob
    worker_id: str
    schema: Schema
    lease_seconds: float
    chunk_rows: int = 2000

    async def run(self, allow: AllowList, limits: Limits) -> tuple[str, str | None]:
        """Import every row not yet committed; the (result, reason) to finish the job with."""
        try:
            await self._import(allow, limits)
        except Refused as exc:
            return "Failed", f"path: {exc}"
        except FetchFailed as exc:
            return "Failed", f"path: {exc}"
        except NotCsv as exc:
            return "Failed", f"not a CSV file: {exc}"
        except CeeError as exc:  # the list was deleted while the job ran
            return "Failed", exc.details
        fresh = await self.store.bulk_job(self.job.account_id, self.job.requestid)
        assert fresh is not None
        if fresh.failed == 0:
            return "Success", None
        return ("Failed" if fresh.succeeded == 0 else "Partial"), None

    async def _import(self, allow: AllowList, limits: Limits) -> None:
        stream = CsvStream()
        batch = _Batch(self.job.rows_done, self.chunk_rows)
        writing: asyncio.Task[None] | None = None
        try:
            async with open_url(self.job.path, allow, limits) as body:
                columns: Columns | None = None
                async for piece in body.chunks():
                    rows = stream.feed(piece)
                    if columns is None and stream.header is not None:
                        columns = Columns.of(stream.header, self.schema)
                    if columns is not None:
                        await batch.judge(rows, columns)
                    if batch.due():
                        writing = await self._send(writing, batch.take(stream, body.length))
                rows = stream.close()
                if columns is None:
                    assert stream.header is not None
                    columns = Columns.of(stream.header, self.schema)
                await batch.judge(rows, columns)
                writing = await self._send(writing, batch.take(stream, body.length))
                await writing
        finally:
            # A failure while a chunk is being written: let that write end before the job is
            # finished, so the outcome counts it (its own error, if any, is then moot).
            if writing is not None and not writing.done():
                await asyncio.wait([writing])
            if writing is not None and not writing.cancelled():
                writing.exception()

    async def _send(self, previous: asyncio.Task[None] | None, chunk: Chunk) -> asyncio.Task[None]:
        """Start writing `chunk` once the previous chunk is in (chunks commit in order)."""
        if previous is not None:
            await previous
        return asyncio.create_task(self._write(chunk))

    async def _write(self, chunk: Chunk) -> None:
        if not await self.store.bulk_chunk(self.job, self.worker_id, chunk, self.lease_seconds):
            raise ClaimLost(self.job.requestid)


class _Batch:
    """The rows judged since the last chunk was sent."""

    def __init__(self, skip_below: int, chunk_rows: int) -> None:
        self.skip_below = skip_below  # rows already committed by an earlier attempt
        self.chunk_rows = chunk_rows
        self.records: list[ContactRecord] = []
        self.rejects: list[Reject] = []
        self.rows_done = skip_below
        self.since = time.monotonic()

    async def judge(self, rows: list[Row], columns: Columns) -> None:
        for start in range(0, len(rows), ROWS_PER_YIELD):
            for row in rows[start : start + ROWS_PER_YIELD]:
                if row.index < self.skip_below:
                    continue
                judged = judge(row, columns)
                if isinstance(judged, ContactRecord):
                    self.records.append(judged)
                else:
                    self.rejects.append(judged)
                self.rows_done = row.index + 1
            await asyncio.sleep(0)

    def due(self) -> bool:
        pending = len(self.records) + len(self.rejects)
        if pending >= self.chunk_rows:
            return True
        return pending > 0 and time.monotonic() - self.since >= FLUSH_SECONDS

    def take(self, stream: CsvStream, length: int | None) -> Chunk:
        chunk = Chunk(self.records, self.rejects, self.rows_done, stream.bytes_read, length)
        self.records, self.rejects = [], []
        self.since = time.monotonic()
        return chunk
