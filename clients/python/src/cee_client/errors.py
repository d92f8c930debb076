"""Every error the client raises: one class per row of the contract's error table.

An error answer of the server (`{"status": "error", "error_code": N, "details": ...}`) becomes
the class of its error_code; a request that got no answer at all becomes a `TransportError`.

    CeeError                  .error_code .details .requestid
    ├── DuplicateContact      302  the primary key (or a list/attribute name) already exists
    ├── BadRequest            400  a parameter is missing or malformed; details name it
    ├── InvalidApiKey         401  the key is unknown, revoked, or its user disabled
    ├── Forbidden             403  the user may not do this
    │   └── ApiModeOff        403  API Mode is off for the key's account
    ├── NotFound              404  a list, contact or request that must exist does not
    ├── TooLarge              413  the body or the number of contacts is over the limit
    ├── InvalidContact        422  a contact breaks an attribute rule; .attribute names it
    ├── RateLimited           429  too many requests; .retry_after (and .limit .remaining .reset)
    ├── ServerError           5xx  the server failed (or answered something not in the contract)
    ├── UnexpectedAnswer      an answer outside the contract's error table (another status)
    ├── TransportError        no answer: the request may or may not have reached the server
    │   ├── ConnectError      the connection could not be made (the request never left)
    │   └── Timeout           no answer in time (the server may still apply the request)
    └── WaitTimeout           `wait` gave up before the request was done; .status is the last seen
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cee_client._models import Status


class CeeError(Exception):
    """Base of every error of the client; `details` is the server's text, for humans."""

    def __init__(
        self, details: str, *, error_code: int | None = None, requestid: str | None = None
    ) -> None:
        super().__init__(details)
        self.details = details
        self.error_code = error_code
        self.requestid = requestid

    def __str__(self) -> str:
        code = f"{self.error_code}: " if self.error_code is not None else ""
        rid = f" (requestid {self.requestid})" if self.requestid else ""
        return f"{code}{self.details}{rid}"


class DuplicateContact(CeeError):
    """302: Netcore's duplicate answer (the seed keeps the 302 status, with no Location)."""


class BadRequest(CeeError):
    """400."""


class InvalidApiKey(CeeError):
    """401 (Netcore documents the body `{"result": "Invalid API key"}`)."""


class Forbidden(CeeError):
    """403."""


class ApiModeOff(Forbidden):
    """403 because the account's API Mode is off: an admin must enable it in the panel."""


class NotFound(CeeError):
    """404."""


class TooLarge(CeeError):
    """413."""


# The server names the attribute first: "CITY: 'x' is not ...".
_ATTRIBUTE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*):")


class InvalidContact(CeeError):
    """422; `.attribute` is the attribute the details name first, when they name one."""

    def __init__(
        self, details: str, *, error_code: int | None = 422, requestid: str | None = None
    ) -> None:
        super().__init__(details, error_code=error_code, requestid=requestid)
        match = _ATTRIBUTE.match(details)
        self.attribute: str | None = match.group(1).upper() if match else None


class RateLimited(CeeError):
    """429; `.retry_after` is the server's Retry-After in seconds (None when it sent none).

    `.limit`, `.remaining` and `.reset` are the RateLimit-Limit/-Remaining/-Reset headers a
    server sends when the key's own rate limit refused (None when absent).
    """

    limit: int | None = None
    remaining: int | None = None
    reset: float | None = None

    def __init__(
        self,
        details: str,
        *,
        error_code: int | None = 429,
        requestid: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(details, error_code=error_code, requestid=requestid)
        self.retry_after = retry_after


class ServerError(CeeError):
    """5xx."""


class UnexpectedAnswer(CeeError):
    """An HTTP status the contract does not use (a proxy's 407, say)."""


class TransportError(CeeError):
    """No answer arrived; `__cause__` is httpx's own exception."""


class ConnectError(TransportError):
    """The connection could not be made, so the server never saw the request."""


class Timeout(TransportError):
    """The answer did not come in time; the server may still have applied the request."""


class WaitTimeout(CeeError):
    """`wait` ran out of time; `.status` is the request's state when it gave up."""

    def __init__(self, details: str, *, status: Status, requestid: str | None = None) -> None:
        super().__init__(details, requestid=requestid)
        self.status = status


# error_code -> class: the one table the client reads answers through.
BY_CODE: dict[int, type[CeeError]] = {
    302: DuplicateContact,
    400: BadRequest,
    401: InvalidApiKey,
    403: Forbidden,
    404: NotFound,
    413: TooLarge,
    422: InvalidContact,
    429: RateLimited,
}


def error_for(
    code: int, details: str, requestid: str | None, retry_after: float | None = None
) -> CeeError:
    """The typed error of an error answer with this error_code."""
    if code == 429:
        return RateLimited(details, requestid=requestid, retry_after=retry_after)
    if code == 403 and "api mode" in details.lower():
        return ApiModeOff(details, error_code=code, requestid=requestid)
    if code >= 500:
        return ServerError(details, error_code=code, requestid=requestid)
    kind = BY_CODE.get(code, UnexpectedAnswer)
    return kind(details, error_code=code, requestid=requestid)


def details_of(body: Any, fallback: str) -> str:
    """The human text of an error body, whatever shape a server or proxy gave it."""
    if isinstance(body, dict):
        for name in ("details", "result", "message"):
            value = body.get(name)
            if isinstance(value, str) and value:
                return value
    return fallback
