"""What the store keeps of bulk imports: the job, its progress, its rejected rows.

A job's life: `queued` when accepted; `running` once a worker claims it (a lease, renewed with
every chunk, as journal claims are); `notifying` once every row is in and the outcome is fixed
(the callback and the mail are being sent); `done`. A worker that dies leaves its lease to run
out (or, on its own host, to be released at once) and the next claimer carries on: from the
last committed chunk for a running job, from the notifications for a notifying one.

Each chunk's contacts, its rejected rows and the job's new progress commit in one transaction,
and only while the claim is still held, so a row is applied exactly once however often the
job is interrupted.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any

import orjson

from cee.domain.contacts import ContactRecord
from cee.domain.errors import CeeError


@dataclass(frozen=True, slots=True)
class BulkJob:
    id: int
    requestid: str
    account_id: int
    user_id: int
    key_prefix: str
    path: str
    listid: int | None = None
    callback: str | None = None
    notifyemail: str | None = None
    state: str = "queued"  # queued | running | notifying | done
    attempts: int = 0
    rows_done: int = 0  # data rows committed: where a resumed job starts
    bytes_done: int = 0
    bytes_total: int | None = None  # the file's declared length, when it has one
    succeeded: int = 0
    failed: int = 0
    result: str | None = None  # Success | Partial | Failed, once every row is in
    reason: str | None = None  # why the job failed as a whole (not a CSV, fetch refused...)
    notes: dict[str, Any] = field(default_factory=dict)  # callback attempts, mail outcome
    created_at: str = ""
    finished_at: str | None = None


@dataclass(frozen=True, slots=True)
class Reject:
    """A row that was not imported, and why."""

    index: int
    line: int
    error: CeeError
    fields: list[str]


# Records per piece of a chunk's rows: a store that writes a chunk in several transactions
# (SQLite, between requests' commits) cuts it between pieces, each of which is one JSON array
# for a set-based statement to take as it is.
PIECE_ROWS = 100


def pieces_of(rows: list[tuple[str, str, dict[str, Any]]]) -> list[bytes]:
    """(match key, key as given, attributes) rows as a chunk's pieces."""
    return [orjson.dumps(rows[i : i + PIECE_ROWS]) for i in range(0, len(rows), PIECE_ROWS)]


@dataclass(frozen=True, slots=True)
class Chunk:
    """One transaction's worth of an import (or several, between pieces): its rows and the
    progress once they commit."""

    # The judged records, PIECE_ROWS at a time: each piece a JSON array of [match key, key as
    # given, attributes] (None for an attribute cleared), as the import's reader sends them
    # and as a set-based insert takes them (`records()` makes ContactRecords of them).
    pieces: list[bytes]
    rejects: list[Reject]
    rows_done: int
    bytes_done: int
    bytes_total: int | None
    indexes: list[int]  # each record's row (0-based data row), in order
    distinct: bool  # no match key is given twice among the records

    @classmethod
    def of(
        cls,
        records: list[ContactRecord],
        indexes: list[int],
        rejects: list[Reject],
        rows_done: int,
        bytes_done: int = 0,
        bytes_total: int | None = None,
    ) -> Chunk:
        rows = [(r.key, r.key_display, r.attributes) for r in records]
        pieces = pieces_of(rows)
        distinct = len({r.key for r in records}) == len(records)
        return cls(pieces, rejects, rows_done, bytes_done, bytes_total, indexes, distinct)

    def records(self, first: int = 0, last: int | None = None) -> list[ContactRecord]:
        """The records of pieces [first, last)."""
        return [
            ContactRecord(k, d, a)
            for piece in self.pieces[first:last]
            for k, d, a in orjson.loads(piece)
        ]

    def part(self, first: int, last: int) -> tuple[list[Reject], int, int]:
        """Of pieces [first, last): the rejected rows among them (the first part also takes
        those before its first record, the last those after its last), the progress once they
        are in (up to the next record's row, or the chunk's own at its end), and how many
        records they hold."""
        n = len(self.indexes)
        start, end = min(first * PIECE_ROWS, n), min(last * PIECE_ROWS, n)
        if start == 0 and end >= n:
            return self.rejects, self.rows_done, n
        low = self.indexes[start] if start > 0 else -1
        high = self.indexes[end] if end < n else self.rows_done
        return [r for r in self.rejects if low <= r.index < high], high, end - start


@dataclass(frozen=True, slots=True)
class StoredReject:
    index: int
    line: int
    error: str  # the domain error's name
    details: str
    fields: list[str]


class BulkStore(abc.ABC):
    """The bulk-import half of the store interface (both backends implement it)."""

    @abc.abstractmethod
    async def bulk_create(self, job: BulkJob) -> None:
        """Store an accepted job durably (`job.id` is ignored)."""

    @abc.abstractmethod
    async def bulk_claim(self, worker_id: str, limit: int, lease_seconds: float) -> list[BulkJob]:
        """Claim the oldest jobs that are queued, or not done and whose lease ran out."""

    @abc.abstractmethod
    async def bulk_renew(self, job_id: int, worker_id: str, lease_seconds: float) -> bool:
        """Extend the claim; False if it was lost."""

    @abc.abstractmethod
    async def bulk_chunk(
        self, job: BulkJob, worker_id: str, chunk: Chunk, lease_seconds: float
    ) -> bool:
        """Upsert the chunk's records (as `add`), store its rejects, advance the progress and
        renew the lease, in one transaction; False, changing nothing, if the claim was lost."""

    @abc.abstractmethod
    async def bulk_finish(
        self, job_id: int, worker_id: str, result: str, reason: str | None
    ) -> bool:
        """Fix the outcome: the job moves to `notifying`. False if the claim was lost."""

    @abc.abstractmethod
    async def bulk_note(
        self, job_id: int, worker_id: str, notes: dict[str, Any], *, done: bool
    ) -> bool:
        """Record the notifications so far; with done=True the job is `done`, its claim gone."""

    @abc.abstractmethod
    async def bulk_job(self, account_id: int, requestid: str) -> BulkJob | None: ...

    @abc.abstractmethod
    async def bulk_rejects(self, job_id: int, offset: int, limit: int) -> list[StoredReject]:
        """Rejected rows in row order."""

    @abc.abstractmethod
    async def bulk_forget(self, account_id: int, match_key: str) -> int:
        """Erasure: drop the account's rejected rows that hold the key; how many there were."""

    @abc.abstractmethod
    async def bulk_claimers(self) -> list[str]:
        """The ids of the workers holding bulk claims now."""

    @abc.abstractmethod
    async def bulk_release(self, worker_id: str) -> int:
        """Give a dead worker's jobs back at once; how many there were."""

    @abc.abstractmethod
    async def find_webhook_secret(self, account_id: int) -> str | None:
        """The account's callback-signing secret if one was made, else None (nothing made)."""

    @abc.abstractmethod
    async def webhook_secret(self, account_id: int, *, rotate: bool = False) -> str:
        """The account's callback-signing secret, made on first use (or anew with rotate)."""
