"""The one table from domain errors to the Netcore error envelope (CONTRACT.md section 3)."""

from __future__ import annotations

from typing import Any

from cee.domain.errors import (
    BadParameter,
    CeeError,
    Conflict,
    Duplicate,
    Forbidden,
    Internal,
    InvalidContact,
    InvalidKey,
    KeyReused,
    NotFound,
    RateLimited,
    TooLarge,
    Unsupported,
)
from cee.domain.outcomes import Outcome

INTERNAL = 500

# error_code = HTTP status; the seed's duplicate is a 302 with no Location header. Every error
# of domain/errors.py has a row (tests/test_errors.py): a name missing here would answer 500.
ERROR_CODES: dict[str, int] = {
    Duplicate.name: 302,
    BadParameter.name: 400,
    InvalidKey.name: 401,
    Forbidden.name: 403,
    NotFound.name: 404,
    Conflict.name: 409,  # admin rules; and an Idempotency-Key whose first request is not done
    Unsupported.name: 405,  # a method a path outside /apiv2 does not answer
    TooLarge.name: 413,
    InvalidContact.name: 422,
    KeyReused.name: 422,  # Idempotency-Key: the same key with another request
    RateLimited.name: 429,
    Internal.name: INTERNAL,
}


def error_code(exc: CeeError) -> int:
    return ERROR_CODES.get(exc.name, INTERNAL)


def page_status(exc: CeeError) -> int:
    """The HTTP status of a panel page refusing with `exc`: the table's code, except the
    seed's duplicate. A 302 tells a browser to follow a Location that is not there, so a page
    says "that name is taken" with 409, as a change the state forbids."""
    code = error_code(exc)
    return ERROR_CODES[Conflict.name] if code == ERROR_CODES[Duplicate.name] else code


def rate_limit_headers(exc: RateLimited) -> list[tuple[bytes, bytes]]:
    """Retry-After, and the RateLimit-* headers when a key's own limit refused."""
    wait = str(exc.retry_after).encode()
    out = [(b"retry-after", wait)]
    if exc.limit is not None:
        out += [
            (b"ratelimit-limit", str(exc.limit).encode()),
            (b"ratelimit-remaining", b"0"),
            (b"ratelimit-reset", wait),
        ]
    return out


def error_body(exc: CeeError, requestid: str) -> dict[str, Any]:
    body: dict[str, Any] = {"status": "error", "error_code": error_code(exc)}
    if isinstance(exc, InvalidKey):
        body["result"] = "Invalid API key"  # the documented field, kept for old clients
    body["details"] = exc.details
    body["requestid"] = requestid
    return body


def internal_error_body(requestid: str) -> dict[str, Any]:
    return {
        "status": "error",
        "error_code": INTERNAL,
        "details": f"internal error; quote requestid {requestid} to the operator",
        "requestid": requestid,
    }


def record_entry(index: int, outcome: Outcome) -> dict[str, Any]:
    """One element of `records` in a multi-contact answer."""
    if outcome is None:
        return {"index": index, "result": "Success"}
    return {
        "index": index,
        "status": "error",
        "error_code": error_code(outcome),
        "details": outcome.details,
    }


def wire_record(stored: dict[str, Any]) -> dict[str, Any]:
    """A journal report entry (domain error names) in the wire shape (error codes)."""
    if "error" not in stored:
        return {"index": stored["index"], "result": "Success"}
    return {
        "index": stored["index"],
        "status": "error",
        "error_code": ERROR_CODES.get(stored["error"], INTERNAL),
        "details": stored["details"],
    }
