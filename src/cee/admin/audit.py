"""The audit hook: every admin change passes through `record`, whichever front end made it.

Nothing is stored yet; the panel (which shows an Audit page) registers a sink here, so CLI and
panel changes land in the same trail without either knowing how it is kept. Who acted is set
once per request or command with `acting_as`, not threaded through every rule's arguments.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

from cee.storage.base import Store

# The CLI is the operator at the machine; the panel sets its logged-in user per request.
CLI_ACTOR = "cli"
_actor: contextvars.ContextVar[str] = contextvars.ContextVar("cee_admin_actor", default=CLI_ACTOR)


@dataclass(frozen=True, slots=True)
class AuditEvent:
    action: str  # e.g. "user.disable", "key.rotate"
    account_id: int
    target: str  # what was changed: a username, list name, attribute, "on"/"off"
    actor: str


Sink = Callable[[Store, AuditEvent], Awaitable[None]]
_sinks: list[Sink] = []


def add_sink(sink: Sink) -> None:
    _sinks.append(sink)


def remove_sink(sink: Sink) -> None:
    _sinks.remove(sink)


@contextlib.contextmanager
def acting_as(actor: str) -> Iterator[None]:
    token = _actor.set(actor)
    try:
        yield
    finally:
        _actor.reset(token)


async def record(store: Store, action: str, *, account_id: int, target: str) -> None:
    event = AuditEvent(action, account_id, target, _actor.get())
    for sink in list(_sinks):
        await sink(store, event)
