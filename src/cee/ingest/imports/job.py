"""One bulk import, from the claimed job to its outcome.

The file is fetched, read and judged by the import's reader (`reading.py`, a process of its
own), which sends it a chunk at a time: `bulk_chunk_rows` rows, or whatever arrived in the last
second of a slow download. Each chunk goes to the store as it arrives, one being written while
the reader prepares the next. A resumed job (its worker died) reads the file again from the
start and skips the rows its committed chunks already hold, so no row is applied twice.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from cee.domain.contacts import Schema
from cee.domain.errors import CeeError
from cee.ingest.imports.csvstream import NotCsv
from cee.ingest.imports.fetch import FetchFailed, Limits
from cee.ingest.imports.guard import Refused
from cee.ingest.imports.reading import Reader, Spec
from cee.storage.base import Store
from cee.storage.bulk import BulkJob, Chunk

log = logging.getLogger(__name__)


class ClaimLost(Exception):
    """Another worker took the job over (this one was presumed dead): stop, change nothing."""


@dataclass(slots=True)
class Importer:
    store: Store
    job: BulkJob
    worker_id: str
    schema: Schema
    lease_seconds: float
    chunk_rows: int

    async def run(self, allow: str, limits: Limits) -> tuple[str, str | None]:
        """Import every row not yet committed; the (result, reason) to finish the job with.
        `allow`: the bulk_allow_hosts setting."""
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

    async def _import(self, allow: str, limits: Limits) -> None:
        spec = Spec(
            self.job.path,
            allow,
            limits.max_bytes,
            limits.seconds,
            self.schema,
            self.job.rows_done,
            self.chunk_rows,
        )
        writing: asyncio.Task[None] | None = None
        try:
            async with Reader(spec) as reader:
                async for chunk in reader.chunks():
                    writing = await self._send(writing, chunk)
                if writing is not None:
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
