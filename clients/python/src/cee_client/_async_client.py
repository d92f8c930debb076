"""`AsyncClient`: the asyncio client, the same methods as `Client` over the same core."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable
from datetime import date
from types import TracebackType
from typing import Any, TypeVar

import httpx

from cee_client import _batch, _core, errors
from cee_client._models import (
    Attribute,
    BatchReport,
    ChunkResult,
    Contact,
    ListInfo,
    Status,
    UserSummary,
)

T = TypeVar("T")
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)


class AsyncClient:
    """An asyncio client of CEE or of Netcore's own hosts; see `Client` for the arguments.

    One client may serve many tasks at once: its connection pool is shared.
    """

    def __init__(
        self,
        api_key: str,
        base_url: str | None = None,
        *,
        region: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        retries: _core.Retries | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        url = _core.base_url_for(base_url, region)
        self._core = _core.Core(api_key, url, retries or _core.Retries())
        # Never follow redirects: a 302 is Netcore's duplicate answer, not a redirect.
        self._http = httpx.AsyncClient(timeout=timeout, transport=transport, follow_redirects=False)

    @property
    def base_url(self) -> str:
        return self._core.base_url

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def send(self, call: _core.Call[T]) -> T:
        """Send one call, retrying where that is safe; its model or its typed error."""
        request = self._core.build(self._http, call)
        retry = 0
        while True:
            try:
                response = await self._http.send(request)
            except httpx.TransportError as exc:
                wait = self._core.retry_after_error(exc, retry)
                if wait is None:
                    raise self._core.transport_error(exc) from exc
            else:
                wait = self._core.retry_after_answer(response, retry)
                if wait is None:
                    return self._core.read(call, response)
                await response.aclose()
            await asyncio.sleep(wait)
            retry += 1

    # -- type=contact ----------------------------------------------------------------------

    async def addsync(self, contact: dict[str, Any], listid: int | None = None) -> str:
        """Create a contact now; its requestid. DuplicateContact if the key exists."""
        return await self.send(_core.contact_call("addsync", contact, listid))

    async def add(self, contact: dict[str, Any], listid: int | None = None) -> str:
        """Create or merge a contact in the background; the requestid to `wait` on."""
        return await self.send(_core.contact_call("add", contact, listid))

    async def update(self, contact: dict[str, Any]) -> str:
        """Merge attributes into an existing contact, in the background; the requestid.

        Applied in arrival order with the account's other async work; `wait` tells the outcome
        (a contact absent by then is a per-record 404).
        """
        return await self.send(_core.contact_call("update", contact))

    async def updatesync(self, contact: dict[str, Any]) -> str:
        """(CEE ext) Merge now; NotFound if no contact has that primary key."""
        return await self.send(_core.contact_call("updatesync", contact))

    async def delete(self, primary_key: str | int, listid: int) -> str:
        """Remove the contact from the list (the contact itself stays)."""
        return await self.send(_core.delete(primary_key, listid))

    async def view(self, primary_key: str | int) -> Contact:
        return await self.send(_core.view(primary_key))

    async def blacklist(self, primary_key: str | int) -> str:
        """Block the contact's email channel (creating the contact if it is unknown)."""
        return await self.send(_core.blacklist(primary_key, True))

    async def unblacklist(self, primary_key: str | int) -> str:
        return await self.send(_core.blacklist(primary_key, False))

    async def bulkupload(
        self,
        path: str,
        listid: int | None = None,
        callback: str | None = None,
        notifyemail: str | None = None,
    ) -> str:
        """Have the server fetch a CSV from the URL `path` and upsert its rows; the requestid."""
        return await self.send(_core.bulkupload(path, listid, callback, notifyemail))

    # -- the JSON v3 endpoints -------------------------------------------------------------

    async def batchadd(
        self,
        records: list[dict[str, Any]],
        listid: int | None = None,
        primarykey: str | None = None,
        notifyemail: str | None = None,
        callback: str | None = None,
    ) -> str:
        """`POST /v3/contact/batchadd` (up to 1,000 contacts, async); the requestid."""
        return await self.send(_core.batchadd(records, listid, primarykey, notifyemail, callback))

    async def blacklist_many(
        self, values: list[str], primarykey: str | None = None, channel: str = "email"
    ) -> BatchReport:
        """`POST /v3/contact/blacklist`: block the channel of every contact named (creating
        unknown ones); a report by position in `values`."""
        return await self.send(_core.blacklist_many(values, primarykey, channel))

    # -- lists and attributes ---------------------------------------------------------------

    async def create_list(self, name: str) -> int:
        """A new list; its listid."""
        return await self.send(_core.create_list(name))

    async def lists(self) -> list[ListInfo]:
        return await self.send(_core.lists())

    async def empty_list(self, name: str, *, background: bool = False) -> None:
        """Remove every member of the list (`background`: answer at once, work later)."""
        await self.send(_core.empty_list(name, background))

    async def create_attribute(self, name: str, datatype: str) -> Attribute:
        return await self.send(_core.create_attribute(name, datatype))

    async def attributes(self) -> list[Attribute]:
        return await self.send(_core.attributes())

    # -- requests, privacy ------------------------------------------------------------------

    async def request_status(self, requestid: str) -> Status:
        return await self.send(_core.request_status(requestid))

    async def wait(self, requestid: str, timeout: float = 60.0, poll: float = 0.1) -> Status:
        """Poll until the async request is done, backing off; WaitTimeout after `timeout` s."""
        deadline = time.monotonic() + timeout
        delay = poll
        while True:
            status = await self.request_status(requestid)
            if status.done:
                return status
            left = deadline - time.monotonic()
            if left <= 0:
                raise errors.WaitTimeout(
                    f"request {requestid} still {status.state} after {timeout}s",
                    status=status,
                    requestid=requestid,
                )
            await asyncio.sleep(min(delay, left))
            delay = min(delay * 2, 2.0)

    async def erase(self, primary_key: str | int) -> str:
        """Erase the contact and everything kept about it; the requestid."""
        return await self.send(_core.erase(primary_key))

    async def user_summary(
        self, primary_key: str | int, from_date: date | str, to_date: date | str
    ) -> UserSummary:
        return await self.send(_core.user_summary(primary_key, from_date, to_date))

    # -- batches ----------------------------------------------------------------------------

    async def add_many(
        self,
        records: Iterable[dict[str, Any]] | AsyncIterable[dict[str, Any]],
        listid: int | None = None,
        mode: _batch.Mode = "sync",
        chunk_size: int = 1000,
        on_progress: Callable[[ChunkResult], None] | None = None,
        *,
        concurrency: int = 4,
        wait: bool = False,
        wait_timeout: float = 300.0,
        chunk_key: Callable[[int, int], str] | None = None,
    ) -> BatchReport:
        """Send any iterable (or async iterable) in chunks, `concurrency` requests at once.

        As `Client.add_many`: the input is read only as chunks are sent, the report is
        indexed by position in the input, and `wait` settles each async chunk before it counts.
        """
        _batch.check(mode, chunk_size, concurrency)
        report = BatchReport()

        def key(start: int, count: int) -> str | None:
            return chunk_key(start, count) if chunk_key is not None else None

        async def one(start: int, chunk: list[Any]) -> ChunkResult:
            try:
                body = await self.send(_batch.call(mode, chunk, listid, key(start, len(chunk))))
            except errors.CeeError as exc:
                return _batch.refused(start, len(chunk), exc)
            result = _batch.answered(mode, start, len(chunk), body)
            if wait and result.requestid is not None:
                status = await self.wait(result.requestid, timeout=wait_timeout)
                result = _batch.outcome(result, status)
            return result

        def finish(done: set[asyncio.Task[ChunkResult]]) -> None:
            """Merge each finished chunk; then raise the first fatal error among them."""
            failed: BaseException | None = None
            for task in done:
                if task.cancelled() or task.exception() is not None:
                    failed = failed or task.exception() or asyncio.CancelledError()
                    continue
                report.merge(task.result())
                if on_progress is not None:
                    on_progress(task.result())
            if failed is not None:
                raise failed

        pending: set[asyncio.Task[ChunkResult]] = set()
        try:
            async for start, chunk in _chunks(records, chunk_size):
                if len(pending) >= concurrency:
                    done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                    finish(done)
                pending.add(asyncio.create_task(one(start, chunk)))
            if pending:
                done, pending = await asyncio.wait(pending)
                finish(done)
        except errors.CeeError:
            # A fatal answer (a refused key, no connection): the chunks already sent still
            # finish and are reported, so a caller recording progress (cee import) knows
            # exactly what reached the server before it stops.
            if pending:
                done, pending = await asyncio.wait(pending)
                with contextlib.suppress(errors.CeeError):
                    finish(done)
            raise
        except BaseException:
            for task in pending:
                task.cancel()
            raise
        report.sort()
        return report

    async def settle(self, report: BatchReport, timeout: float = 300.0) -> BatchReport:
        """An async add_many's report with every record's final outcome (waits for each)."""
        deadline = time.monotonic() + timeout
        statuses = [
            await self.wait(r.requestid, timeout=max(deadline - time.monotonic(), 0.0))
            for r in report.requests
        ]
        return _batch.settle(report, statuses)


async def _chunks(
    records: Iterable[Any] | AsyncIterable[Any], size: int
) -> AsyncIterator[tuple[int, list[Any]]]:
    if not isinstance(records, AsyncIterable):
        for item in _batch.chunks(records, size):
            yield item
        return
    start, chunk = 0, []
    async for record in records:
        chunk.append(record)
        if len(chunk) == size:
            yield start, chunk
            start, chunk = start + size, []
    if chunk:
        yield start, chunk
