"""The async journal: one accepted request, and what applying it reports.

The worker judges each record first (as the sync activity would); the store then writes the
valid ones and marks the entry done with a report, in one transaction. What that report says
is decided here, once for both stores: records judged invalid keep their error, a list that
no longer exists fails every record that was to be written, the rest have the write's outcome.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cee.domain.contacts import ContactRecord
from cee.domain.errors import CeeError, NotFound
from cee.domain.outcomes import Outcome, merge_outcomes, result_word, stored_report
from cee.domain.writes import WriteContext

# A journal report: the result word (Success | Partial | Failed) and one entry per record.
Report = tuple[str, list[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One accepted async request, as the worker sees it."""

    id: int
    requestid: str
    account_id: int
    user_id: int
    key_prefix: str
    activity: str
    payload: dict[str, Any]
    attempts: int = 0  # how many times it was claimed, this claim included

    def context(self) -> WriteContext:
        """Its writes are stamped with the request that was accepted, not the worker."""
        return WriteContext(self.account_id, self.requestid, self.key_prefix, self.activity)


def to_write(records: list[ContactRecord | CeeError]) -> list[ContactRecord]:
    """The records the worker judged valid: the ones the store writes."""
    return [r for r in records if isinstance(r, ContactRecord)]


def applied(records: list[ContactRecord | CeeError], written: list[Outcome] | NotFound) -> Report:
    """The report of an applied add/update: `written` is the outcomes of `to_write(records)`,
    or the NotFound of a list that no longer exists."""
    if isinstance(written, NotFound):
        written = [written for _ in to_write(records)]
    merged = merge_outcomes(records, written)
    return result_word(merged), stored_report(merged)


def emptied(outcome: Outcome) -> Report:
    """The report of an applied async emptylist: one record, the list's."""
    return result_word([outcome]), stored_report([outcome])
