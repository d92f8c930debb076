"""The HTTP protocol under uvicorn: timeouts, a connection cap, and JSON for the stack's answers.

uvicorn's httptools protocol (the fastest here) waits for ever for a request head or a body,
keeps every connection it is offered, and answers what it cannot parse itself in `text/plain`
without a requestid. This subclass keeps its request path untouched and adds, per connection:

- a **phase** (nothing yet, reading the head, reading the body, in the app, idle between
  requests, lingering) and a **deadline** for the phases a client controls: the head must
  arrive within `header_timeout_seconds` of the connection (or of its first byte after an
  idle keep-alive), the body within `body_timeout_seconds` of the head. One sweep per process
  (every fraction of a second) closes what is past its deadline, so a request pays for two
  float stores, not for timers;
- a **cap** (`max_connections` per process): at the cap, a new connection evicts one that waits
  on its client (lingering, then still sending its head, then idle, then still sending its
  body; the oldest first), so slow clients cannot lock others out; only when the app is working
  on a request of every connection is the new one refused;
- **answers in the contract's envelope** (`{"status": "error", "error_code", "details",
  "requestid"}`, `X-Request-Id`) for what the stack answers itself: a request that is not
  HTTP (400), a head too large (400), a timeout (408), the cap (503);
- a **lingering close**: when a connection that is not idle is closed (after an answer with
  `Connection: close`, an early 400 or 413), the write side is shut and what arrives is
  discarded until the client closes or `LINGER_SECONDS` pass, so that a client still writing
  (its whole body before reading, bytes past its Content-Length) gets the answer instead of a
  reset.
"""

from __future__ import annotations

import asyncio
import http
import logging
from dataclasses import dataclass
from typing import Any

import httptools
import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from cee.settings import Settings
from cee.web.requestids import new_requestid
from cee.web.security import API_HEADERS

log = logging.getLogger(__name__)

# A head (request line and headers) still incomplete after this many bytes is refused. uvicorn
# cannot parse a request line over 65,535 bytes anyway (httptools' URL parser); the rest is room
# for headers.
MAX_HEAD_BYTES = 96 * 1024
# httptools' URL parser keeps offsets in 16 bits: a longer URL is refused by name first.
MAX_URL_BYTES = 65_535
# How long a closed connection keeps discarding what the client still sends.
LINGER_SECONDS = 2.0
RETRY_AFTER_SECONDS = 1

# Phases of a connection, in the order they occur; DISCARD and above ignore incoming bytes.
NEW, HEAD, BODY, APP, IDLE, DISCARD, LINGER = range(7)


@dataclass(frozen=True, slots=True)
class StackLimits:
    header_timeout: float
    body_timeout: float
    max_connections: int

    @classmethod
    def from_settings(cls, settings: Settings) -> StackLimits:
        return cls(
            float(settings.header_timeout_seconds),
            float(settings.body_timeout_seconds),
            int(settings.max_connections),
        )

    def sweep_interval(self) -> float:
        """How often deadlines are checked: a quarter of the shortest, within 50 ms..1 s."""
        shortest = min(self.header_timeout, self.body_timeout, LINGER_SECONDS)
        return min(max(shortest / 4, 0.05), 1.0)


_limits: StackLimits | None = None


def configure(settings: Settings) -> None:
    """Set the limits of this process's connections (before the server starts)."""
    global _limits
    _limits = StackLimits.from_settings(settings)


def current_limits() -> StackLimits:
    # A process spawned by `--processes` may not have called configure(): its settings are in
    # the environment.
    global _limits
    if _limits is None:
        _limits = StackLimits.from_settings(Settings.load())
    return _limits


def stack_answer(status: int, details: str, extra: bytes = b"") -> tuple[bytes, str]:
    """A whole HTTP response in the contract's error envelope, closing the connection."""
    requestid = new_requestid()
    body = orjson.dumps(
        {"status": "error", "error_code": status, "details": details, "requestid": requestid}
    )
    phrase = http.HTTPStatus(status).phrase
    head = (
        f"HTTP/1.1 {status} {phrase}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nx-request-id: {requestid}\r\nconnection: close\r\n"
    )
    return head.encode() + _SECURITY + extra + b"\r\n" + body, requestid


# The headers every JSON answer carries (cee.web.security), as they go on the wire.
_SECURITY = b"".join(name + b": " + value + b"\r\n" for name, value in API_HEADERS)


class _Transport:
    """The connection's transport as uvicorn sees it: close() may linger instead."""

    __slots__ = (
        "abort",
        "get_extra_info",
        "pause_reading",
        "protocol",
        "real",
        "resume_reading",
        "set_protocol",
        "write",
    )

    def __init__(self, real: asyncio.Transport, protocol: CeeHttpProtocol) -> None:
        self.real = real
        self.protocol = protocol
        # Bound once: these are on the per-request path and must cost what the real ones do.
        self.write = real.write
        self.get_extra_info = real.get_extra_info
        self.pause_reading = real.pause_reading
        self.resume_reading = real.resume_reading
        self.set_protocol = real.set_protocol
        self.abort = real.abort

    def is_closing(self) -> bool:
        return self.protocol.phase >= LINGER or self.real.is_closing()

    def close(self) -> None:
        self.protocol.close_connection()


class CeeHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with deadlines, a connection cap and JSON stack answers."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = current_limits()
        self.phase = NEW
        self.deadline = 0.0
        self.head_bytes = 0
        self.real_transport: asyncio.Transport | None = None
        self.eof = False  # the client has shut its sending side
        # Why a parser callback stopped the parser, for the 400 (httptools only says it did).
        self.refusal = ""

    # -- connection ------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self.real_transport = transport
        if len(self.connections) >= self.limits.max_connections and not _evict(self.connections):
            self.transport = transport  # connection_lost closes it
            self.phase = LINGER
            wire, requestid = stack_answer(
                503,
                f"server: at its limit of {self.limits.max_connections} connections, all "
                f"running requests; retry after {RETRY_AFTER_SECONDS}s",
                b"retry-after: %d\r\n" % RETRY_AFTER_SECONDS,
            )
            log.warning("requestid %s: connection refused at the connection cap", requestid)
            transport.write(wire)
            transport.close()
            return
        super().connection_made(_Transport(transport, self))  # type: ignore[arg-type]
        self.deadline = self.loop.time() + self.limits.header_timeout
        _Sweeper.ensure(self.loop, self.connections, self.limits)

    def data_received(self, data: bytes) -> None:
        if self.phase >= DISCARD:
            return
        self._unset_keepalive_if_required()
        if self.phase != BODY and self.phase != APP:
            # A head is due or under way: all of this chunk may be head (reset once one is
            # complete; a chunk that starts in a body is not counted, so the bound is per read).
            self.head_bytes += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            # No protocol upgrades here (CONNECT, `Upgrade:`): the request is answered as it
            # stands, with no body, and nothing after it is read.
            self.phase = DISCARD
            self.deadline = 0.0
            cycle = self.cycle
            if cycle is None or cycle.response_complete:
                self.close_connection()
                return
            cycle.keep_alive = False
            cycle.more_body = False
            cycle.message_event.set()
            return
        except httptools.HttpParserError as exc:
            self.refuse(400, self.refusal or f"request: not valid HTTP ({exc})")
            return
        if self.phase == HEAD and self.head_bytes > MAX_HEAD_BYTES:
            self.refuse(
                400, f"request: head (request line and headers) over {MAX_HEAD_BYTES} bytes"
            )

    def eof_received(self) -> bool | None:  # type: ignore[override]
        """The client shut its sending side: answer what it sent, then close.

        uvicorn closes at once, so a client that half-closes after its request (`nc -N`,
        some HTTP/1.0 clients) never got its answer.
        """
        self.eof = True
        if self.phase == LINGER:  # answered already: the client has read it and is done
            self._close_now()
        elif self.phase == BODY and self.running():
            self.refuse(400, "body: the client closed its side before the body was complete")
        elif self.running():  # the request is complete: answer it, then close
            self.cycle.keep_alive = False
            return True  # keeps the transport open for the answer
        elif self.phase == HEAD:
            self.refuse(400, "request: the client closed its side before the head was complete")
        else:
            self._close_now()
        return None

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.phase = HEAD
        if not self.deadline:  # a new connection's deadline runs from its start
            self.deadline = self.loop.time() + self.limits.header_timeout

    def on_headers_complete(self) -> None:
        if len(self.url) > MAX_URL_BYTES:
            self.refusal = f"request: URL over {MAX_URL_BYTES} bytes"
            raise ValueError(self.refusal)  # stops the parser; data_received answers
        try:
            super().on_headers_complete()
        except httptools.HttpParserInvalidURLError as exc:
            self.refusal = f"request: URL not valid ({exc})"
            raise
        self.head_bytes = 0
        self.phase = BODY
        self.deadline = self.loop.time() + self.limits.body_timeout

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self.deadline = 0.0
        if self.cycle.response_complete and not self.pipeline:
            # Answered before its body was read (a 401, an early 413 on keep-alive): the rest
            # of the body was drained meanwhile, which stopped uvicorn's keep-alive timer.
            self.phase = IDLE
            self._unset_keepalive_if_required()
            self.timeout_keep_alive_task = self.loop.call_later(
                self.timeout_keep_alive, self.timeout_keep_alive_handler
            )
        else:
            self.phase = APP

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.phase == APP and self.cycle.response_complete:
            self.phase = IDLE  # uvicorn's keep-alive timer runs from here

    def send_400_response(self, msg: str) -> None:
        self.refuse(400, f"request: {msg}")

    # -- answers and closing ---------------------------------------------------------------

    def running(self) -> bool:
        """True while the app is working on a request of this connection."""
        return self.cycle is not None and not self.cycle.response_complete

    def refuse(self, status: int, details: str, extra: bytes = b"") -> None:
        """Answer `status` in the error envelope (if nothing was answered yet) and close."""
        cycle = self.cycle
        if self.phase == BODY and cycle is not None and cycle.response_complete:
            self._close_now()  # answered early; the rest of its body was being drained
            return
        if cycle is not None and not cycle.response_complete:
            if cycle.response_started:  # half an answer out: nothing valid can follow
                self._close_now()
                return
            # The app is waiting for a body that will not come: end its wait; its own
            # answer, if any, goes nowhere.
            cycle.disconnected = True
            cycle.message_event.set()
        wire, requestid = stack_answer(status, details, extra)
        log.warning("requestid %s: %d %s", requestid, status, details)
        assert self.real_transport is not None
        self.real_transport.write(wire)
        self.close_connection(linger=status == 400)

    def close_connection(self, *, linger: bool | None = None) -> None:
        """Close; linger first if the client may still be sending (or if told to)."""
        if self.phase == LINGER:
            return
        transport = self.real_transport
        assert transport is not None
        if self.eof:  # the client sends nothing more: nothing to wait for
            linger = False
        elif linger is None:
            # Unless idle, bytes the client sent may be unread (a body not read, more than its
            # Content-Length, a pipelined request): closing with them unread resets the
            # connection, and the client may lose the answer it has not read yet.
            linger = self.phase not in (NEW, IDLE)
        if not linger or transport.is_closing() or not transport.can_write_eof():
            self._close_now()
            return
        self.phase = LINGER
        self.deadline = self.loop.time() + LINGER_SECONDS
        self._unset_keepalive_if_required()
        transport.write_eof()  # the client reads the answer and EOF; its writes still land
        if self.flow is not None and self.flow.read_paused:  # paused by uvicorn's buffering
            self.flow.resume_reading()

    def _close_now(self) -> None:
        self.phase = LINGER
        self.deadline = 0.0
        if self.real_transport is not None:
            self.real_transport.close()

    def expire(self) -> None:
        """The sweep found this connection past its deadline."""
        phase = self.phase
        if phase == HEAD:
            if self.running():  # a pipelined head behind a running request: wait for it
                self.deadline = self.loop.time() + self.limits.header_timeout
                return
            seconds = self.limits.header_timeout
            self.refuse(408, f"request: head not received within {seconds:g} s")
        elif phase == BODY:
            seconds = self.limits.body_timeout
            self.refuse(408, f"body: not received within {seconds:g} s")
        else:  # nothing received yet, or lingering: no request to answer
            self._close_now()

    def evict(self) -> None:
        """Make room for a new connection under the cap."""
        if self.phase in (HEAD, BODY):
            self.refuse(
                503,
                f"server: at its limit of {self.limits.max_connections} connections; this "
                "one was the slowest to send its request",
                b"retry-after: %d\r\n" % RETRY_AFTER_SECONDS,
            )
        else:
            self._close_now()


# Eviction order at the cap: what is lingering, then heads still arriving (oldest first), then
# connections with nothing sent yet, then idle keep-alive ones, then bodies still arriving: all
# of these wait on their client, so slow clients cannot hold the cap. A request the app is
# working on is never cut.
_EVICTION_RANK = {LINGER: 0, HEAD: 1, NEW: 2, IDLE: 3, BODY: 4}


def _evict(connections: set[Any]) -> bool:
    """Close one connection that is not running a request; False if there is none."""
    best: CeeHttpProtocol | None = None
    best_key = (9, 0.0)
    for protocol in connections:
        phase = getattr(protocol, "phase", APP)
        rank = _EVICTION_RANK.get(phase)
        if rank is None or (phase != BODY and protocol.running()):
            continue
        key = (rank, protocol.deadline)
        if key < best_key:
            best, best_key = protocol, key
    if best is None:
        return False
    best.evict()
    return True


class _Sweeper:
    """One timer per server that expires the connections past their deadline."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, connections: set[Any], limits: StackLimits
    ) -> None:
        self.loop = loop
        self.connections = connections
        self.interval = limits.sweep_interval()

    @classmethod
    def ensure(
        cls, loop: asyncio.AbstractEventLoop, connections: set[Any], limits: StackLimits
    ) -> None:
        if id(connections) not in _sweepers:
            sweeper = _sweepers[id(connections)] = cls(loop, connections, limits)
            loop.call_later(sweeper.interval, sweeper.sweep)

    def sweep(self) -> None:
        if self.loop.is_closed():
            return
        now = self.loop.time()
        # A copy: closing changes the set (at connection_lost).
        for protocol in list(self.connections):
            deadline = getattr(protocol, "deadline", 0.0)
            if deadline and now >= deadline:
                try:
                    protocol.expire()
                except Exception:
                    log.exception("could not expire a connection")
        self.loop.call_later(self.interval, self.sweep)


# The sweeper of each server's set of connections (a serving process has one), by the set's id:
# the sweeper holds the set, so the id cannot be reused by another while it is here.
_sweepers: dict[int, _Sweeper] = {}
