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


@dataclass(frozen=True, slots=True)
class Chunk:
    """One transaction's worth of an import: its rows and the progress once it commits."""

    records: list[ContactRecord]
    rejects: list[Reject]
    rows_done: int
    bytes_done: int
    bytes_total: int | None


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
