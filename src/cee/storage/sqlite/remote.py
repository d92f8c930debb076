"""The SQLite writer as a service: one process owns the write connection, the others send it jobs.

With `cee serve --processes N` the HTTP processes parse, authenticate and validate in parallel,
but a SQLite file has one writer at a time. Two processes each committing their own batches
measured worse than one (each waits for the other's fsync, and every switch empties the page
cache), so the writes go to a single writer process instead, which group-commits the jobs of
every HTTP process together: one fsync for all of them.

The wire is a Unix socket that only this user can open (the socket's folder is private), each
frame a 4-byte length and a pickle. A job is a module-level function of the store and its
arguments, so pickle sends the function by name: no code crosses the socket, only data.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pickle
import struct
from collections.abc import Callable
from typing import Any

from cee.domain.errors import Internal
from cee.storage.sqlite.writer import Many, Writer

log = logging.getLogger(__name__)

_LENGTH = struct.Struct("!I")
# Frames from the writer with this call id are notices, not answers.
NOTICE_ID = 0
# The notice that journal entries were appended (and committed).
JOURNAL_NOTICE = "journal"
# A frame can carry a 1,000-contact array and its outcomes; far below this.
MAX_FRAME_BYTES = 256 * 1024 * 1024
CONNECT_TIMEOUT_SECONDS = 10.0


def _frame(obj: Any) -> bytes:
    payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return _LENGTH.pack(len(payload)) + payload


async def _read_frame(reader: asyncio.StreamReader) -> Any:
    (size,) = _LENGTH.unpack(await reader.readexactly(_LENGTH.size))
    if size > MAX_FRAME_BYTES:
        raise ValueError(f"frame of {size} bytes")
    return pickle.loads(await reader.readexactly(size))


class _Outbox:
    """Frames written once per loop turn: one system call for many answers, not one each."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer
        self._frames: list[bytes] = []
        self._notices: set[str] = set()

    def put(self, frame: bytes) -> None:
        if not self._frames:
            asyncio.get_running_loop().call_soon(self._flush)
        self._frames.append(frame)

    def notice(self, what: str) -> None:
        """A notice, sent once per loop turn however often it is raised in that turn."""
        if what not in self._notices:
            self._notices.add(what)
            self.put(_frame((NOTICE_ID, True, what)))

    def _flush(self) -> None:
        self._notices.clear()
        frames, self._frames = self._frames, []
        if not self._writer.is_closing():
            self._writer.write(b"".join(frames))


def _portable(exc: BaseException) -> BaseException:
    """The exception itself if it survives pickling (the domain errors do), else an Internal."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return Internal(f"the writer failed: {type(exc).__name__}")
    return exc


# -- the writer process's side ------------------------------------------------------------------


class WriterService:
    """Serves one local `Writer` to the HTTP processes over a Unix socket."""

    def __init__(self, writer: Writer, path: str, journal_append: Callable[[Any], bool]):
        """`journal_append(fn)`: whether a job appends to the async journal; once it is
        committed, every connected process gets a JOURNAL_NOTICE (the worker wakes on it)."""
        self.writer = writer
        self.path = path
        self._journal_append = journal_append
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._outboxes: set[_Outbox] = set()

    async def start(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        self._server = await asyncio.start_unix_server(self._serve, self.path)
        os.chmod(self.path, 0o600)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        # Jobs already handed in are finished (and durable) before the writer closes.
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        outbox = _Outbox(writer)
        self._outboxes.add(outbox)
        try:
            while True:
                call_id, fn, payload, weight, many = await _read_frame(reader)
                task = asyncio.create_task(self._one(outbox, call_id, fn, payload, weight, many))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the HTTP process went away; its jobs still finish
        except Exception:
            # A frame that is not ours (oversized, not a job): drop that connection, keep serving.
            log.exception("the writer dropped a connection that sent a bad frame")
        finally:
            self._outboxes.discard(outbox)
            writer.close()

    async def _one(
        self, outbox: _Outbox, call_id: int, fn: Any, payload: Any, weight: int, many: bool
    ) -> None:
        try:
            if many:
                value = await self.writer.run_many_raw(fn, payload, weight)
            else:
                value = await self.writer.run(fn, *payload, weight=weight)
            reply = (call_id, True, value)
        except Exception as exc:
            reply = (call_id, False, _portable(exc))
        try:
            frame = _frame(reply)
        except Exception as exc:  # a result that cannot travel: the caller still gets an answer
            frame = _frame((call_id, False, _portable(exc)))
        outbox.put(frame)
        if reply[1] and self._journal_append(fn):
            for each in self._outboxes:
                each.notice(JOURNAL_NOTICE)


# -- the HTTP process's side --------------------------------------------------------------------


class RemoteWriter:
    """The `Writer` interface, carried out by the writer process."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._outbox: _Outbox | None = None
        self._stream: asyncio.StreamWriter | None = None
        self._receiver: asyncio.Task[None] | None = None
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self._next_id = NOTICE_ID
        self._connecting: asyncio.Lock | None = None
        # Called with each notice the writer process sends (see JOURNAL_NOTICE).
        self.on_notice: Callable[[str], None] | None = None

    async def start(self) -> None:
        self._connecting = asyncio.Lock()
        await self._connect()

    async def _connect(self) -> None:
        deadline = asyncio.get_running_loop().time() + CONNECT_TIMEOUT_SECONDS
        while True:
            try:
                reader, stream = await asyncio.open_unix_connection(self.path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                # The writer process is (re)starting: wait for it, within reason.
                if asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(0.05)
        self._stream = stream
        self._outbox = _Outbox(stream)
        self._receiver = asyncio.create_task(self._receive(reader), name="cee-writer-replies")

    async def stop(self) -> None:
        if self._receiver is not None:
            self._receiver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._receiver
            self._receiver = None
        if self._stream is not None:
            self._stream.close()
            self._stream = None
        self._fail_all("the store is closing")

    async def _receive(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                call_id, ok, value = await _read_frame(reader)
                if call_id == NOTICE_ID:
                    if self.on_notice is not None:
                        self.on_notice(value)
                    continue
                future = self._waiting.pop(call_id, None)
                if future is None or future.done():
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)
        except (asyncio.IncompleteReadError, ConnectionError, ValueError) as exc:
            log.error("lost the connection to the writer process: %s", exc)
        finally:
            self._outbox = None
            self._fail_all("the writer process stopped before answering")

    def _fail_all(self, why: str) -> None:
        waiting, self._waiting = self._waiting, {}
        for future in waiting.values():
            if not future.done():
                # Whether the write landed is unknown: the client is told so, and the web layer
                # logs the requestid of every Internal for the operator.
                future.set_exception(Internal(f"{why}; the write may or may not have been made"))

    async def _send(self, fn: Any, payload: Any, weight: int, many: bool) -> Any:
        if self._outbox is None:
            assert self._connecting is not None, "the remote writer is not started"
            async with self._connecting:
                if self._outbox is None:
                    await self._connect()
        assert self._outbox is not None
        self._next_id += 1
        call_id = self._next_id
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[call_id] = future
        self._outbox.put(_frame((call_id, fn, payload, weight, many)))
        return await future

    async def run(self, fn: Callable[..., Any], *args: Any, weight: int = 1) -> Any:
        return await self._send(fn, args, weight, False)

    async def run_many(self, many: Many[Any], item: Any, weight: int = 1) -> Any:
        result = await self._send(many, item, weight, True)
        if isinstance(result, Exception):
            raise result
        return result
