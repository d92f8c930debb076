"""The audit trail: every admin change passes through `record`, whichever front end made it.

`record` stores the entry (the panel's Audit page reads them back with `entries`), so CLI and
panel changes land in the same trail. Who acted, and from which address, is set once per
request or command with `acting_as`, not threaded through every rule's arguments. Sinks are
extra listeners (a log, a metric) registered by whoever wants them.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

from cee.storage.base import Store
from cee.storage.panel import AuditRow

# The CLI is the operator at the machine; the panel sets its logged-in user per request.
CLI_ACTOR = "cli"
_actor: contextvars.ContextVar[str] = contextvars.ContextVar("cee_admin_actor", default=CLI_ACTOR)
_address: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "cee_admin_address", default=None
)


@dataclass(frozen=True, slots=True)
class AuditEvent:
    action: str  # e.g. "user.disable", "key.rotate"
    account_id: int
    target: str  # what was changed: a username, list name, attribute, "on"/"off"
    actor: str
    address: str | None = None  # the panel client's address; None from the CLI


Sink = Callable[[Store, AuditEvent], Awaitable[None]]
_sinks: list[Sink] = []


def add_sink(sink: Sink) -> None:
    _sinks.append(sink)


def remove_sink(sink: Sink) -> None:
    _sinks.remove(sink)


@contextlib.contextmanager
def acting_as(actor: str, address: str | None = None) -> Iterator[None]:
    token = _actor.set(actor)
    where = _address.set(address)
    try:
        yield
    finally:
        _address.reset(where)
        _actor.reset(token)


def current_actor() -> str:
    return _actor.get()


async def record(store: Store, action: str, *, account_id: int, target: str) -> None:
    event = AuditEvent(action, account_id, target, _actor.get(), _address.get())
    await store.insert_audit(account_id, event.actor, action, target, event.address)
    for sink in list(_sinks):
        await sink(store, event)


async def entries(store: Store, account_id: int, limit: int, offset: int = 0) -> list[AuditRow]:
    """The account's trail, newest first."""
    return await store.audit_entries(account_id, limit, offset)
