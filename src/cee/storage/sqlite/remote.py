"""The SQLite writer as a service: one process owns the write connection, the others send it jobs.

With `cee serve --processes N` the HTTP processes parse, authenticate and validate in parallel,
but a SQLite file has one writer at a time. Two processes each committing their own batches
measured worse than one (each waits for the other's fsync, and every switch empties the page
cache), so the writes go to a single writer process instead, which group-commits the jobs of
every HTTP process together: one fsync for all of them.

The wire is a Unix socket that only this user can open (the socket's folder is private, and
the writer checks each peer's uid with SO_PEERCRED). Frames carry data, never code (`wire.py`):
a call is `[call id, job name, arguments]`, the name one of the closed job table (`jobs.py`),
and an answer is `[call id, true, result]` or `[call id, false, [error name, details]]`. A
frame that is not JSON drops its connection; a well-formed frame naming an unknown job, or
with arguments of the wrong shape, is answered with an error and runs nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import struct
from collections.abc import Callable
from typing import Any

from cee.domain.errors import CeeError, Internal
from cee.storage.sqlite.jobs import JOBS, Job, is_journal_append
from cee.storage.sqlite.wire import BadFrame, error_in, error_out, frame, read_frame
from cee.storage.sqlite.writer import Writer

log = logging.getLogger(__name__)

# Frames from the writer with this call id are notices, not answers.
NOTICE_ID = 0
# The notice that journal entries were appended (and committed).
JOURNAL_NOTICE = "journal"
CONNECT_TIMEOUT_SECONDS = 10.0
_PEERCRED = struct.Struct("3i")  # struct ucred: pid, uid, gid


class _Outbox:
    """Frames written once per loop turn: one system call for many answers, not one each."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer
        self._frames: list[bytes] = []
        self._notices: set[str] = set()

    def put(self, data: bytes) -> None:
        if not self._frames:
            asyncio.get_running_loop().call_soon(self._flush)
        self._frames.append(data)

    def notice(self, what: str) -> None:
        """A notice, sent once per loop turn however often it is raised in that turn."""
        if what not in self._notices:
            self._notices.add(what)
            self.put(frame([NOTICE_ID, True, what]))

    def _flush(self) -> None:
        self._notices.clear()
        frames, self._frames = self._frames, []
        if not self._writer.is_closing():
            self._writer.write(b"".join(frames))


# -- the writer process's side ------------------------------------------------------------------


class WriterService:
    """Serves one local `Writer` to the HTTP processes over a Unix socket."""

    def __init__(
        self,
        writer: Writer,
        path: str,
        journal_append: Callable[[str], bool] = is_journal_append,
    ) -> None:
        """`journal_append(name)`: whether a job appends to the async journal; once it is
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
        if not _same_user(writer):
            writer.close()
            return
        outbox = _Outbox(writer)
        self._outboxes.add(outbox)
        try:
            while True:
                call_id, name, args, weight = _call(await read_frame(reader))
                task = asyncio.create_task(self._one(outbox, call_id, name, args, weight))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the HTTP process went away; its jobs still finish
        except BadFrame as exc:
            # Not one of our frames: what follows it cannot be trusted to be framed either, so
            # that connection goes; the writer keeps serving the others.
            log.warning("the writer dropped a connection that sent a bad frame: %s", exc)
        finally:
            self._outboxes.discard(outbox)
            writer.close()

    async def _one(self, outbox: _Outbox, call_id: int, name: str, raw: Any, weight: int) -> None:
        job = JOBS.get(name)
        try:
            if job is None:
                raise Internal(f"the writer has no job {name!r}")
            try:
                args = job.args.into(raw)
            except Exception as exc:
                raise Internal(f"write job {name}: malformed arguments ({exc})") from None
            if job.many:
                value = await self.writer.run_many_raw(job.fn, args, weight)
                if isinstance(value, Exception):  # that item's own failure
                    raise value
            elif job.background:
                value = await self.writer.run_in_steps(job.fn, *args)
            else:
                value = await self.writer.run(job.fn, *args, weight=weight, quiet=job.quiet)
            data = frame([call_id, True, job.result.out(value)])
        except Exception as exc:
            if not isinstance(exc, CeeError):
                log.error("write job %s failed: %r", name, exc)
            data = frame([call_id, False, error_out(exc)])
        outbox.put(data)
        if job is not None and self._journal_append(job.name):
            for each in self._outboxes:
                each.notice(JOURNAL_NOTICE)


def _call(value: Any) -> tuple[int, str, Any, int]:
    """A call frame's (call id, job name, arguments, weight), or BadFrame."""
    if not isinstance(value, list) or len(value) != 4:
        raise BadFrame("a call is [call id, job name, arguments, weight]")
    call_id, name, args, weight = value
    if type(call_id) is not int or call_id <= NOTICE_ID or not isinstance(name, str):
        raise BadFrame("a call's id must be a positive integer and its job a name")
    if type(weight) is not int or weight < 0:
        raise BadFrame("a call's weight must be a whole number")
    return call_id, name, args, weight


def _same_user(writer: asyncio.StreamWriter) -> bool:
    """Whether the connecting process runs as this user (the kernel's word, SO_PEERCRED).

    The socket's folder is private already; this holds even if its mode were loosened.
    """
    sock = writer.get_extra_info("socket")
    pid, uid, _ = _PEERCRED.unpack(
        sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _PEERCRED.size)
    )
    if uid != os.geteuid():
        log.warning("the writer refused a connection from pid %d of uid %d", pid, uid)
        return False
    return True


# -- the HTTP process's side --------------------------------------------------------------------


class RemoteWriter:
    """The `Writer` interface, carried out by the writer process."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._outbox: _Outbox | None = None
        self._stream: asyncio.StreamWriter | None = None
        self._receiver: asyncio.Task[None] | None = None
        self._waiting: dict[int, tuple[asyncio.Future[Any], Job]] = {}
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
                call_id, ok, value = await read_frame(reader)
                if call_id == NOTICE_ID:
                    if self.on_notice is not None:
                        self.on_notice(value)
                    continue
                future, job = self._waiting.pop(call_id, (None, None))
                if future is None or job is None or future.done():
                    continue
                if ok:
                    future.set_result(job.result.into(value))
                else:
                    future.set_exception(error_in(value))
        except (asyncio.IncompleteReadError, ConnectionError, ValueError, TypeError) as exc:
            log.error("lost the connection to the writer process: %s", exc)
        finally:
            self._outbox = None
            self._fail_all("the writer process stopped before answering")

    def _fail_all(self, why: str) -> None:
        waiting, self._waiting = self._waiting, {}
        for future, _ in waiting.values():
            if not future.done():
                # Whether the write landed is unknown: the client is told so, and the web layer
                # logs the requestid of every Internal for the operator.
                future.set_exception(Internal(f"{why}; the write may or may not have been made"))

    async def call(self, job: Job, args: tuple[Any, ...], weight: int = 1) -> Any:
        """Run `job` in the writer process: `args` its arguments (a `many` job's: its item)."""
        if self._outbox is None:
            assert self._connecting is not None, "the remote writer is not started"
            async with self._connecting:
                if self._outbox is None:
                    await self._connect()
        assert self._outbox is not None
        payload = job.args.out(args[0] if job.many else args)
        self._next_id += 1
        call_id = self._next_id
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[call_id] = (future, job)
        self._outbox.put(frame([call_id, job.name, payload, weight]))
        return await future
