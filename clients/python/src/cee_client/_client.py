"""`Client`: the blocking client, one method per activity over the shared core."""

from __future__ import annotations

import concurrent.futures
import contextlib
import time
from collections.abc import Callable, Iterable
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


class Client:
    """A blocking client of CEE or of Netcore's own hosts.

    `Client(api_key=..., base_url="http://127.0.0.1:8080")` for a CEE, or
    `Client(api_key=..., region="us" | "in" | "eu")` for Netcore's hosts. Thread-safe: one
    client may be shared by threads (add_many does so itself).
    """

    def __init__(
        self,
        api_key: str,
        base_url: str | None = None,
        *,
        region: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        retries: _core.Retries | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        url = _core.base_url_for(base_url, region)
        self._core = _core.Core(api_key, url, retries or _core.Retries())
        # Never follow redirects: a 302 is Netcore's duplicate answer, not a redirect.
        self._http = httpx.Client(timeout=timeout, transport=transport, follow_redirects=False)

    @property
    def base_url(self) -> str:
        return self._core.base_url

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def send(self, call: _core.Call[T]) -> T:
        """Send one call, retrying where that is safe; its model or its typed error."""
        request = self._core.build(self._http, call)
        retry = 0
        while True:
            try:
                response = self._http.send(request)
            except httpx.TransportError as exc:
                wait = self._core.retry_after_error(exc, retry)
                if wait is None:
                    raise self._core.transport_error(exc) from exc
            else:
                wait = self._core.retry_after_answer(response, retry)
                if wait is None:
                    return self._core.read(call, response)
                response.close()
            time.sleep(wait)
            retry += 1

    # -- type=contact ----------------------------------------------------------------------

    def addsync(self, contact: dict[str, Any], listid: int | None = None) -> str:
        """Create a contact now; its requestid. DuplicateContact if the key exists."""
        return self.send(_core.contact_call("addsync", contact, listid))

    def add(self, contact: dict[str, Any], listid: int | None = None) -> str:
        """Create or merge a contact in the background; the requestid to `wait` on."""
        return self.send(_core.contact_call("add", contact, listid))

    def update(self, contact: dict[str, Any]) -> str:
        """Merge attributes into an existing contact, in the background; the requestid.

        Applied in arrival order with the account's other async work; `wait` tells the outcome
        (a contact absent by then is a per-record 404).
        """
        return self.send(_core.contact_call("update", contact))

    def updatesync(self, contact: dict[str, Any]) -> str:
        """(CEE ext) Merge now; NotFound if no contact has that primary key."""
        return self.send(_core.contact_call("updatesync", contact))

    def delete(self, primary_key: str | int, listid: int) -> str:
        """Remove the contact from the list (the contact itself stays)."""
        return self.send(_core.delete(primary_key, listid))

    def view(self, primary_key: str | int) -> Contact:
        return self.send(_core.view(primary_key))

    def blacklist(self, primary_key: str | int) -> str:
        """Block the contact's email channel (creating the contact if it is unknown)."""
        return self.send(_core.blacklist(primary_key, True))

    def unblacklist(self, primary_key: str | int) -> str:
        return self.send(_core.blacklist(primary_key, False))

    def bulkupload(
        self,
        path: str,
        listid: int | None = None,
        callback: str | None = None,
        notifyemail: str | None = None,
    ) -> str:
        """Have the server fetch a CSV from the URL `path` and upsert its rows; the requestid."""
        return self.send(_core.bulkupload(path, listid, callback, notifyemail))

    # -- the JSON v3 endpoints -------------------------------------------------------------

    def batchadd(
        self,
        records: list[dict[str, Any]],
        listid: int | None = None,
        primarykey: str | None = None,
        notifyemail: str | None = None,
        callback: str | None = None,
    ) -> str:
        """`POST /v3/contact/batchadd` (up to 1,000 contacts, async); the requestid."""
        return self.send(_core.batchadd(records, listid, primarykey, notifyemail, callback))

    def blacklist_many(
        self, values: list[str], primarykey: str | None = None, channel: str = "email"
    ) -> BatchReport:
        """`POST /v3/contact/blacklist`: block the channel of every contact named (creating
        unknown ones); a report by position in `values`."""
        return self.send(_core.blacklist_many(values, primarykey, channel))

    # -- lists and attributes ---------------------------------------------------------------

    def create_list(self, name: str) -> int:
        """A new list; its listid."""
        return self.send(_core.create_list(name))

    def lists(self) -> list[ListInfo]:
        return self.send(_core.lists())

    def empty_list(self, name: str, *, background: bool = False) -> None:
        """Remove every member of the list (`background`: answer at once, work later)."""
        self.send(_core.empty_list(name, background))

    def create_attribute(self, name: str, datatype: str) -> Attribute:
        return self.send(_core.create_attribute(name, datatype))

    def attributes(self) -> list[Attribute]:
        return self.send(_core.attributes())

    # -- requests, privacy ------------------------------------------------------------------

    def request_status(self, requestid: str) -> Status:
        return self.send(_core.request_status(requestid))

    def wait(self, requestid: str, timeout: float = 60.0, poll: float = 0.1) -> Status:
        """Poll until the async request is done, backing off; WaitTimeout after `timeout` s."""
        deadline = time.monotonic() + timeout
        delay = poll
        while True:
            status = self.request_status(requestid)
            if status.done:
                return status
            left = deadline - time.monotonic()
            if left <= 0:
                raise errors.WaitTimeout(
                    f"request {requestid} still {status.state} after {timeout}s",
                    status=status,
                    requestid=requestid,
                )
            time.sleep(min(delay, left))
            delay = min(delay * 2, 2.0)

    def erase(self, primary_key: str | int) -> str:
        """Erase the contact and everything kept about it; the requestid."""
        return self.send(_core.erase(primary_key))

    def user_summary(
        self, primary_key: str | int, from_date: date | str, to_date: date | str
    ) -> UserSummary:
        return self.send(_core.user_summary(primary_key, from_date, to_date))

    # -- batches ----------------------------------------------------------------------------

    def add_many(
        self,
        records: Iterable[dict[str, Any]],
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
        """Send any iterable in chunks, `concurrency` at once; the report by input position.

        The input is read only as chunks are sent, so a generator of a million rows is never
        held in memory. `on_progress` is called (in this thread) as each chunk's answer arrives.
        In async mode, `wait=True` makes each chunk wait for its request's outcome, so the
        report (and each chunk `on_progress` sees) holds the records' final failures.
        `chunk_key(start, count)` names a chunk's Idempotency-Key (default: a random one), for
        a caller that may send the same chunk again in a later run.
        """
        _batch.check(mode, chunk_size, concurrency)
        report = BatchReport()

        def key(start: int, count: int) -> str | None:
            return chunk_key(start, count) if chunk_key is not None else None

        def one(start: int, chunk: list[Any]) -> ChunkResult:
            try:
                body = self.send(_batch.call(mode, chunk, listid, key(start, len(chunk))))
            except errors.CeeError as exc:
                return _batch.refused(start, len(chunk), exc)
            result = _batch.answered(mode, start, len(chunk), body)
            if wait and result.requestid is not None:
                status = self.wait(result.requestid, timeout=wait_timeout)
                result = _batch.outcome(result, status)
            return result

        def finish(done: set[concurrent.futures.Future[ChunkResult]]) -> None:
            """Merge each finished chunk; then raise the first fatal error among them."""
            failed: BaseException | None = None
            for future in done:
                if future.exception() is not None:
                    failed = failed or future.exception()
                    continue
                report.merge(future.result())
                if on_progress is not None:
                    on_progress(future.result())
            if failed is not None:
                raise failed

        with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
            pending: set[concurrent.futures.Future[ChunkResult]] = set()
            try:
                for start, chunk in _batch.chunks(records, chunk_size):
                    if len(pending) >= concurrency:
                        done, pending = concurrent.futures.wait(
                            pending, return_when=concurrent.futures.FIRST_COMPLETED
                        )
                        finish(done)
                    pending.add(pool.submit(one, start, chunk))
                done, pending = concurrent.futures.wait(pending)
                finish(done)
            except errors.CeeError:
                # A fatal answer: the chunks already sent still finish and are reported, so a
                # caller recording progress knows exactly what reached the server.
                with contextlib.suppress(errors.CeeError):
                    finish(concurrent.futures.wait(pending).done)
                raise
            except BaseException:
                for future in pending:
                    future.cancel()
                raise
        report.sort()
        return report

    def settle(self, report: BatchReport, timeout: float = 300.0) -> BatchReport:
        """An async add_many's report with every record's final outcome (waits for each)."""
        deadline = time.monotonic() + timeout
        statuses = [
            self.wait(r.requestid, timeout=max(deadline - time.monotonic(), 0.0))
            for r in report.requests
        ]
        return _batch.settle(report, statuses)
