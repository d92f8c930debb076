"""Contact writes as plans: what to insert, update, join and record, decided without the database.

A store reads what a write depends on (which lists exist and whose they are, the contacts
already stored under the records' keys), hands it to a function here, and carries the plan out
in its own SQL. The rules (an existing key is a 302 on create and a merge on upsert, an absent
one a 404 on update; the first of two records with one key creates it; a list of another
account does not exist; what each history entry says) are written once, here, for both
databases.

    plan_creates   addsync: many callers' records at once (one group commit)
    plan_merge     add/update: one caller's records against the stored contacts
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from cee.domain.contacts import ContactRecord, creation_changes, merge_attributes
from cee.domain.errors import Duplicate, NotFound
from cee.domain.outcomes import Outcome


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


# One addsync caller's records, waiting to be merged into the next group commit.
CreateJob = tuple[WriteContext, list[ContactRecord], int | None]
# A history entry: the contact's match key and what changed ({name: [before, after]}).
Change = tuple[str, dict[str, Any]]


# -- the contract's messages for contact writes, each written once ----------------------------


def missing_list(listid: int | str) -> NotFound:
    return NotFound(f"listid: list {listid} does not exist in this account")


def duplicate_contact(record: ContactRecord) -> Duplicate:
    """The seed's 302: the value as given, and the key Netcore names."""
    return Duplicate.entry(record.key_display, "uniqid")


def absent_contact(display: str, parameter: str = "data") -> NotFound:
    return NotFound(f"{parameter}: no contact '{display}' in this account")


def absent_for_update(record: ContactRecord) -> NotFound:
    return NotFound(f"data: no contact '{record.key_display}' to update")


def not_a_member(display: str, listid: int) -> NotFound:
    return NotFound(f"data: contact '{display}' is not in list {listid}")


def list_joined(changes: dict[str, Any], listid: int) -> dict[str, Any]:
    return {**changes, "_list_joined": listid}


def list_left(listid: int) -> dict[str, Any]:
    return {"_list_left": listid}


def blacklist_change(before: bool, after: bool) -> dict[str, Any]:
    return {"_blacklisted": [before, after]}


def owns_list(owners: Mapping[int, int], account_id: int, listid: int | None) -> bool:
    """Whether `listid` (if any) is a list of the account; `owners`: list id -> account id."""
    return listid is None or owners.get(listid) == account_id


# -- addsync: creates ---------------------------------------------------------------------------


@dataclass(slots=True)
class NewContact:
    """A contact the plan inserts, with the history entry it starts with."""

    ctx: WriteContext
    record: ContactRecord
    attributes: dict[str, Any]
    listid: int | None  # the list it joins as it is created
    job: int  # where its outcome goes: results[job][index]
    index: int

    def creation(self) -> dict[str, Any]:
        """Its first history entry, for a store that writes one (a merge plan gives its
        entries apart): every attribute from nothing to its value, and the list it joins.
        Made on demand: SQLite keeps the entry on the contact's row instead, and the dict per
        record was a few per cent of an array's CPU."""
        changes: dict[str, Any] = creation_changes(self.attributes)
        return changes if self.listid is None else list_joined(changes, self.listid)


@dataclass(slots=True)
class CreatePlan:
    """Per caller, its outcomes (None until settled for a record in `new`) or NotFound for a
    list that is not the account's; the contacts to insert."""

    results: list[list[Outcome] | NotFound]
    new: list[NewContact]

    def settle(self, created: Collection[tuple[int, str]]) -> list[list[Outcome] | NotFound]:
        """Given the (account, match key) pairs the insert created, every caller's outcomes:
        a record whose contact was not created existed already (or was made meanwhile)."""
        for contact in self.new:
            if (contact.ctx.account_id, contact.record.key) not in created:
                outcomes = self.results[contact.job]
                assert isinstance(outcomes, list)
                outcomes[contact.index] = duplicate_contact(contact.record)
        return self.results


def plan_creates(jobs: list[CreateJob], owners: Mapping[int, int]) -> CreatePlan:
    """Every waiting addsync caller at once. `owners`: the given lists' id -> account id."""
    results: list[list[Outcome] | NotFound] = []
    new: list[NewContact] = []
    first: set[tuple[int, str]] = set()
    for j, (ctx, records, listid) in enumerate(jobs):
        account_id = ctx.account_id
        if not owns_list(owners, account_id, listid):
            assert listid is not None
            results.append(missing_list(listid))
            continue
        outcomes: list[Outcome] = [None] * len(records)
        for r, record in enumerate(records):
            pair = (account_id, record.key)
            if pair in first:
                # The same key twice in one commit: the first one given creates it.
                outcomes[r] = duplicate_contact(record)
                continue
            first.add(pair)
            new.append(NewContact(ctx, record, record.stored_attributes(), listid, j, r))
        results.append(outcomes)
    return CreatePlan(results, new)


# -- add and update: merges ---------------------------------------------------------------------


@dataclass(slots=True)
class Stored:
    """A contact as stored, read (and locked) by the store before planning."""

    id: int
    attributes: dict[str, Any]


@dataclass(slots=True)
class _Planned:
    stored: Stored | None  # None: the plan creates it
    attributes: dict[str, Any]
    record: ContactRecord  # its first record (for a new contact, the one that creates it)
    dirty: bool = False
    first_entry: int | None = None  # its first history entry's position


@dataclass(slots=True)
class MergePlan:
    outcomes: list[Outcome]
    new: list[NewContact]  # to insert; they join the plan's list as they are created
    updated: list[tuple[int, dict[str, Any]]]  # (id, attributes) of stored contacts that changed
    members: list[int]  # stored contacts to join the plan's list (unless members already)
    listid: int | None
    _entries: list[Change] = field(default_factory=list)
    _firsts: dict[int, int] = field(default_factory=dict)  # stored id -> its first entry

    def history(self, joined: Collection[int]) -> list[Change]:
        """The history entries in record order, given which stored contacts (ids) the list
        join actually added: each joining contact's first entry says `_list_joined`."""
        entries = self._entries
        if self.listid is not None:
            entries = list(entries)
            for contact_id, at in self._firsts.items():
                if contact_id in joined:
                    key, changes = entries[at]
                    entries[at] = (key, list_joined(changes, self.listid))
        return [(key, changes) for key, changes in entries if changes]


def plan_merge(
    ctx: WriteContext,
    op: ContactOp,
    records: list[ContactRecord],
    listid: int | None,
    stored: Mapping[str, Stored],
) -> MergePlan:
    """Upsert (add) or update one caller's records. `stored`: match key -> the stored contact,
    for every record's key that exists. The caller has checked that `listid` is the account's.
    """
    assert op is not ContactOp.CREATE, "creates are planned by plan_creates"
    contacts: dict[str, _Planned] = {}
    outcomes: list[Outcome] = []
    entries: list[Change] = []
    for record in records:
        contact = contacts.get(record.key)
        if contact is None:
            found = stored.get(record.key)
            if found is not None:
                contact = _Planned(found, found.attributes, record)
            elif op is ContactOp.UPDATE:
                outcomes.append(absent_for_update(record))
                continue
            else:
                attributes = record.stored_attributes()
                contact = _Planned(None, attributes, record)
                contacts[record.key] = contact
                changes = creation_changes(attributes)
                if listid is not None:
                    changes = list_joined(changes, listid)  # new contacts always join
                entries.append((record.key, changes))
                outcomes.append(None)
                continue
            contacts[record.key] = contact
        merged, changes = merge_attributes(contact.attributes, record.attributes)
        if changes:
            contact.attributes = merged
            contact.dirty = contact.stored is not None
        if contact.first_entry is None:
            contact.first_entry = len(entries)
        entries.append((record.key, changes))
        outcomes.append(None)
    new: list[NewContact] = []
    updated: list[tuple[int, dict[str, Any]]] = []
    members: list[int] = []
    firsts: dict[int, int] = {}
    for contact in contacts.values():
        if contact.stored is None:
            new.append(NewContact(ctx, contact.record, contact.attributes, listid, 0, 0))
            continue
        if contact.dirty:
            updated.append((contact.stored.id, contact.attributes))
        if listid is not None:
            members.append(contact.stored.id)
            assert contact.first_entry is not None
            firsts[contact.stored.id] = contact.first_entry
    return MergePlan(outcomes, new, updated, members, listid, entries, firsts)
