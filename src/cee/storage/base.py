"""The one storage interface both backends implement, and the rows it hands back.

Everything above this layer speaks these types; nothing above it sees SQL. Contact writes take
already-validated `ContactRecord`s (see `cee.domain.contacts`) and return one outcome per record,
in order: `None` for success or the domain error for that record. A record that fails leaves no
trace; the others are kept.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any, ClassVar

from cee.domain.attributes import Attribute, Datatype
from cee.domain.contacts import ContactRecord
from cee.domain.errors import CeeError
from cee.domain.journal import JournalEntry
from cee.domain.outcomes import Outcome as Outcome
from cee.domain.writes import ContactOp, WriteContext
from cee.storage.bulk import BulkStore
from cee.storage.ops import OpsStore
from cee.storage.panel import PanelStore


@dataclass(frozen=True, slots=True)
class AccountRow:
    id: int
    name: str
    api_mode: bool
    primary_key: str
    phone_region: str | None = None  # None: the deployment's phone_region setting


@dataclass(frozen=True, slots=True)
class UserRow:
    id: int
    account_id: int
    username: str
    is_admin: bool
    active: bool
    password_hash: str = field(repr=False)
    key_prefix: str | None = None
    rate_per_minute: int = 0  # the key's limit; 0: none


@dataclass(frozen=True, slots=True)
class KeyRow:
    """An unrevoked key with what authentication needs to know about its owner."""

    key_hash: str
    prefix: str
    account_id: int
    user_id: int
    user_active: bool
    api_mode: bool
    rate_per_minute: int = 0


@dataclass(frozen=True, slots=True)
class ListRow:
    id: int
    name: str
    members: int


@dataclass(frozen=True, slots=True)
class ContactView:
    primary_key: str
    attributes: dict[str, Any]
    lists: list[int]
    email_blacklisted: bool
    created_at: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    at: str
    requestid: str
    key_prefix: str
    activity: str
    changes: dict[str, Any]


@dataclass(frozen=True, slots=True)
class JournalStatus:
    requestid: str
    state: str  # queued | running | done
    result: str | None  # Success | Partial | Failed, once done
    records: list[dict[str, Any]] | None


class Store(BulkStore, PanelStore, OpsStore, abc.ABC):
    """A database holding accounts, keys, attributes, lists, contacts, history and the journal
    (and, through BulkStore, bulk import jobs; through PanelStore, panel sessions and audit)."""

    dialect: ClassVar[str]

    # -- life cycle and change signalling -------------------------------------------------

    @abc.abstractmethod
    async def open(self, *, migrate: bool = False) -> None:
        """Connect; with migrate=True create the database and apply pending migrations."""

    @abc.abstractmethod
    async def close(self) -> None: ...

    @abc.abstractmethod
    def config_changed(self) -> bool:
        """True once since keys, users, API Mode, attributes or lists changed anywhere.

        Must be cheap (no database round trip): it is asked on every request so that the
        in-memory catalog is dropped at once when another process or node changes it.
        """

    @abc.abstractmethod
    async def is_initialised(self) -> bool: ...

    @abc.abstractmethod
    async def applied_migrations(self) -> set[str]:
        """The ids of the migrations applied to the database (a round trip: /readyz asks)."""

    @abc.abstractmethod
    async def secret(self) -> bytes:
        """The deployment's key-hashing secret, made on first call and stored in the database."""

    # -- accounts, users, keys ------------------------------------------------------------

    @abc.abstractmethod
    async def create_account(self, name: str, primary_key: str) -> int:
        """A new account with the built-in attributes; Duplicate if the name is taken."""

    @abc.abstractmethod
    async def accounts(self) -> list[AccountRow]: ...

    @abc.abstractmethod
    async def set_api_mode(self, account_id: int, on: bool) -> None: ...

    @abc.abstractmethod
    async def set_primary_key(self, account_id: int, attribute: str) -> None:
        """Only while the account has no contacts (callers check)."""

    @abc.abstractmethod
    async def create_user(
        self, account_id: int, username: str, password_hash: str, is_admin: bool
    ) -> int:
        """Duplicate if the username is taken (usernames are global: they log in)."""

    @abc.abstractmethod
    async def users(self, account_id: int | None = None) -> list[UserRow]: ...

    @abc.abstractmethod
    async def set_user_active(self, user_id: int, active: bool) -> None: ...

    @abc.abstractmethod
    async def replace_key(self, user_id: int, key_hash: str, prefix: str) -> None:
        """Revoke the user's keys and store the new one, in one transaction."""

    @abc.abstractmethod
    async def active_keys(self) -> list[KeyRow]: ...

    @abc.abstractmethod
    async def count_contacts(self, account_id: int) -> int: ...

    # -- attributes and lists -------------------------------------------------------------

    @abc.abstractmethod
    async def attributes(self, account_id: int) -> list[Attribute]: ...

    @abc.abstractmethod
    async def all_attributes(self) -> dict[int, dict[str, Datatype]]:
        """Every account's attribute map, for the in-memory catalog."""

    @abc.abstractmethod
    async def create_attribute(self, account_id: int, name: str, datatype: Datatype) -> None:
        """Duplicate if the account has that name already."""

    @abc.abstractmethod
    async def create_list(self, account_id: int, name: str) -> int:
        """Duplicate if the account has a list of that name."""

    @abc.abstractmethod
    async def lists(self, account_id: int) -> list[ListRow]: ...

    @abc.abstractmethod
    async def find_list(self, account_id: int, name: str) -> ListRow | None: ...

    # -- contacts -------------------------------------------------------------------------

    @abc.abstractmethod
    async def write_contacts(
        self,
        ctx: WriteContext,
        op: ContactOp,
        records: list[ContactRecord],
        listid: int | None,
    ) -> list[Outcome]:
        """Create/merge the records, join `listid`, keep history; durable before it returns.

        Group-committed: concurrent callers share one transaction. Raises NotFound (and
        writes nothing) if `listid` is not a list of the account.
        """

    @abc.abstractmethod
    async def get_contact(self, account_id: int, match_key: str) -> ContactView | None: ...

    @abc.abstractmethod
    async def export_page(
        self, account_id: int, listid: int | None, after: int, limit: int
    ) -> list[tuple[int, ContactView]]:
        """Up to `limit` contacts (of one list, or all) with ids above `after`, by id: `cee
        export` pages through a whole account this way without holding it in memory."""

    @abc.abstractmethod
    async def remove_from_list(self, ctx: WriteContext, match_key: str, listid: int) -> None:
        """NotFound if the list or the contact does not exist in the account."""

    @abc.abstractmethod
    async def set_blacklisted(
        self, ctx: WriteContext, record: ContactRecord, blacklisted: bool
    ) -> None:
        """Block/unblock the email channel; creates the contact if absent."""

    @abc.abstractmethod
    async def empty_list(self, ctx: WriteContext, listid: int) -> int:
        """Remove every member; returns how many were removed."""

    @abc.abstractmethod
    async def erase_contact(self, ctx: WriteContext, match_key: str) -> bool:
        """Delete the contact, its memberships and its history; False if absent."""

    @abc.abstractmethod
    async def history(
        self, account_id: int, match_key: str, since: str | None = None, until: str | None = None
    ) -> list[HistoryEntry]: ...

    @abc.abstractmethod
    async def history_page(
        self,
        account_id: int,
        match_key: str,
        since: str,
        until: str,
        *,
        activity: str | None = None,
        change: str | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> tuple[int, list[HistoryEntry]]:
        """(how many entries match, one page of them oldest first) in [since, until).

        `activity` keeps the entries one activity made; `change` those that changed that key
        (`_blacklisted`: the email channel's blacklist).
        """

    # -- the async journal ----------------------------------------------------------------

    @abc.abstractmethod
    async def journal_append(self, entry: JournalEntry) -> None:
        """Store an accepted async request durably (group-committed); `entry.id` is ignored."""

    @abc.abstractmethod
    async def journal_claim(
        self, worker_id: str, limit: int, lease_seconds: float
    ) -> list[JournalEntry]:
        """Claim the oldest queued entries, or running ones whose lease expired."""

    @abc.abstractmethod
    async def journal_apply(
        self,
        entry: JournalEntry,
        worker_id: str,
        op: ContactOp,
        records: list[ContactRecord | CeeError],
        listid: int | None,
    ) -> bool:
        """Apply an entry's valid records and mark it done, in one transaction.

        Records given as errors are reported as failed under the requestid. Returns False (and
        changes nothing) if the claim was lost to another worker in the meantime.
        """

    @abc.abstractmethod
    async def journal_empty_list(self, entry: JournalEntry, worker_id: str, listid: int) -> bool:
        """Empty the list (as `empty_list`) and mark the entry done, in one transaction.

        The async `emptylist`. A list that no longer exists is reported as one failed record
        (NotFound) under the requestid. Returns False (and changes nothing) if the claim was lost
        to another worker in the meantime.
        """

    @abc.abstractmethod
    async def journal_defer_if_waiting(self, entry: JournalEntry, worker_id: str) -> bool:
        """Put the entry back in the queue if an older entry of its account is still pending
        elsewhere (queued, or claimed by another worker); True if it was put back.

        What keeps arrival order when several workers apply batches side by side. Deferring is
        not an attempt: the entry's attempt count is as before its claim.
        """

    @abc.abstractmethod
    async def journal_claimers(self) -> list[str]:
        """The ids of the workers holding claims now."""

    @abc.abstractmethod
    async def journal_release(self, worker_id: str) -> int:
        """Put a dead worker's claimed entries back in the queue; how many there were."""

    @abc.abstractmethod
    async def journal_status(self, account_id: int, requestid: str) -> JournalStatus | None: ...

    @abc.abstractmethod
    async def journal_depth(self) -> tuple[int, float]:
        """(entries not yet done, age in seconds of the oldest of them; 0 if none)."""
