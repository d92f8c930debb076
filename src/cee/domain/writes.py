"""Contact writes: how a write treats an existing contact, and who makes it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ContactOp(StrEnum):
    """How a contact write treats an existing contact."""

    CREATE = "create"  # addsync: an existing primary key is a Duplicate (302)
    UPSERT = "upsert"  # add: create, or merge the given attributes into the existing contact
    UPDATE = "update"  # update: merge into an existing contact; NotFound if absent


@dataclass(frozen=True, slots=True)
class WriteContext:
    """Who writes and under which request: stamped on every history entry."""

    account_id: int
    requestid: str
    key_prefix: str
    activity: str
