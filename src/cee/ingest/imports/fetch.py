"""The guarded HTTP client of bulk imports and callbacks (httpx, with a checking dialler).

httpx resolves and dials through httpcore's network backend; `GuardedBackend` resolves the host
itself, checks every address (`guard.checked_addresses`) and dials the checked address, so the
address connected to is the one judged, whatever DNS says a moment later. Redirects are followed
here rather than by httpx, each new URL checked again. Proxies from the environment are ignored:
a proxy would do the dialling, and the guard would check only the proxy.
"""

from __future__ import annotations

import contextlib
import time
import typing
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpcore
import httpx

from cee.ingest.imports.guard import AllowList, Refused, checked_addresses, parse_url

USER_AGENT = "cee-bulkupload"


class FetchFailed(Exception):
    """The file could not be fetched whole; the message says why (for the job's reason)."""


@dataclass(frozen=True, slots=True)
class Limits:
    max_bytes: int
    seconds: float  # the whole download
    redirects: int = 5
    idle_seconds: float = 30.0  # one read, connect or TLS handshake


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's dialler, resolving and checking the host before every connection."""

    def __init__(self, allow: AllowList) -> None:
        self.allow = allow
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await checked_addresses(host, port, self.allow)
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self.inner.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise Refused("Unix sockets are never dialled")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, allow: AllowList) -> None:
        super().__init__(trust_env=False)
        # httpx has no parameter for the network backend, so its pool is replaced by one with
        # the same defaults and the guarded backend (httpx is pinned: this attribute is stable).
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=4,
            network_backend=GuardedBackend(allow),
        )


def client(allow: AllowList, idle_seconds: float) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=GuardedTransport(allow),
        follow_redirects=False,
        trust_env=False,
        timeout=httpx.Timeout(idle_seconds),
        headers={"user-agent": USER_AGENT},
    )


@dataclass(slots=True)
class Body:
    """A response being read: its declared length (None if unknown) and its chunks."""

    response: httpx.Response
    length: int | None
    limits: Limits
    deadline: float
    received: int = 0

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body a piece at a time (decompressed, so a gzip bomb meets the same size limit);
        FetchFailed past the size or time limit."""
        try:
            async for piece in self.response.aiter_bytes():
                self.received += len(piece)
                if self.received > self.limits.max_bytes:
                    raise FetchFailed(
                        f"the file is over the limit of {self.limits.max_bytes} bytes "
                        "(CEE_BULK_MAX_BYTES)"
                    )
                if time.monotonic() > self.deadline:
                    raise FetchFailed(
                        f"the download took over {self.limits.seconds:g} s (CEE_BULK_FETCH_SECONDS)"
                    )
                yield piece
        except httpx.HTTPError as exc:
            raise FetchFailed(
                f"the download broke off after {self.received} bytes ({exc})"
            ) from exc


@contextlib.asynccontextmanager
async def open_url(url: str, allow: AllowList, limits: Limits) -> AsyncIterator[Body]:
    """GET `url`, following up to `limits.redirects` redirects, each one checked; the body.

    Refused if the URL or an address on the way is not allowed; FetchFailed for anything else
    that keeps the file from being read (an HTTP error status, a refused connection, a size
    over the limit).
    """
    deadline = time.monotonic() + limits.seconds
    async with client(allow, limits.idle_seconds) as http:
        current = url
        for hop in range(limits.redirects + 1):
            parse_url(current)  # a redirect to file: or gopher: is refused like a request
            try:
                response = await http.send(http.build_request("GET", current), stream=True)
            except (httpx.HTTPError, httpx.InvalidURL) as exc:
                raise FetchFailed(
                    f"could not fetch {current} ({exc or type(exc).__name__})"
                ) from exc
            try:
                if response.is_redirect:
                    if hop == limits.redirects:
                        raise FetchFailed(f"more than {limits.redirects} redirects")
                    location = response.headers.get("location")
                    if not location:
                        raise FetchFailed(f"{current} redirects without a Location")
                    try:
                        current = str(response.url.join(location))
                    except httpx.InvalidURL as exc:
                        raise FetchFailed(f"{current} redirects to a bad URL ({exc})") from None
                    continue
                if response.status_code != 200:
                    raise FetchFailed(f"{current} answered HTTP {response.status_code}")
                length = _length(response)
                if length is not None and length > limits.max_bytes:
                    raise FetchFailed(
                        f"the file is {length} bytes; the limit is {limits.max_bytes} "
                        "(CEE_BULK_MAX_BYTES)"
                    )
                yield Body(response, length, limits, deadline)
                return
            finally:
                await response.aclose()
    raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover


def _length(response: httpx.Response) -> int | None:
    raw = response.headers.get("content-length")
    if raw is None or response.headers.get("content-encoding"):
        return None
    try:
        return int(raw)
    except ValueError:
        return None


async def post_json(
    url: str, payload: bytes, headers: dict[str, str], allow: AllowList, seconds: float
) -> int:
    """POST a JSON body; the HTTP status. Redirects are not followed (a callback that moves
    is not delivered). Refused or httpx.HTTPError when it cannot be sent."""
    parse_url(url)
    async with client(allow, seconds) as http:
        response = await http.post(
            url, content=payload, headers={"content-type": "application/json", **headers}
        )
        return response.status_code
