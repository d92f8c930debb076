"""Domain errors: each has a stable name and no HTTP status.

The web layer maps names to the Netcore error envelope in one table (`cee.web.errors`), so the
rules here never need to know about transports.

    CeeError
    ├── BadParameter       a request parameter is missing or malformed
    ├── InvalidKey         the API key is unknown, revoked, or its user is disabled
    ├── Forbidden          API Mode is off, or the user may not do this
    ├── NotFound           a list, contact or request that must exist does not
    ├── TooLarge           the body or the record count is over the limit
    ├── InvalidContact     a contact breaks an attribute rule (per record in arrays)
    ├── Duplicate          the primary key (or list/attribute name) already exists
    ├── Conflict           the change cannot be made in the current state (an admin rule)
    ├── Unsupported        the path exists but does not offer what was asked of it
    ├── KeyReused          an Idempotency-Key came back with a different request
    ├── RateLimited        over the key's rate limit, or the journal is too deep: retry later
    └── Internal           the engine could not do it (details carry no internals)
"""

from __future__ import annotations


class CeeError(Exception):
    """Base of every error a client may see; `name` is stable, `details` is for humans."""

    name = "error"

    def __init__(self, details: str) -> None:
        super().__init__(details)
        self.details = details


class BadParameter(CeeError):
    name = "bad_parameter"


class InvalidKey(CeeError):
    name = "invalid_key"

    def __init__(self, details: str = "Invalid API key") -> None:
        super().__init__(details)


class Forbidden(CeeError):
    name = "forbidden"


class NotFound(CeeError):
    name = "not_found"


class TooLarge(CeeError):
    name = "too_large"


class InvalidContact(CeeError):
    name = "invalid_contact"


class Duplicate(CeeError):
    name = "duplicate"

    @classmethod
    def entry(cls, value: str, key: str) -> Duplicate:
        """The MySQL-shaped message Netcore answers with (the seed's Response 2)."""
        return cls(f"Duplicate entry '{value}' for key '{key}'")


class Conflict(CeeError):
    """An operator change the account's state forbids, e.g. a new primary key once it has
    contacts (they are unique by the old key only)."""

    name = "conflict"


class Unsupported(CeeError):
    name = "unsupported"


class KeyReused(CeeError):
    name = "key_reused"


class RateLimited(CeeError):
    """`retry_after`: whole seconds to wait; `limit`: the key's requests a minute, when the
    key's own limit (rather than the journal) is what refused."""

    name = "rate_limited"

    def __init__(self, details: str, retry_after: int, limit: int | None = None) -> None:
        super().__init__(details)
        self.retry_after = retry_after
        self.limit = limit


class Internal(CeeError):
    name = "internal"
