"""What operating CEE keeps beside the engine's data: shared rate-limit buckets and the answers
kept for Idempotency-Key.

Declared apart from `base.Store` (which inherits it), as the panel's and bulk's are; both
backends implement it in their own `ops.py`.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class KeptAnswer:
    """The request that claimed an Idempotency-Key, and its answer once it has one."""

    fingerprint: str
    requestid: str
    status: int | None  # None while the first request is still being answered
    answer: str | None  # the JSON body, as sent


class OpsStore(abc.ABC):
    @abc.abstractmethod
    async def bulk_job_counts(self) -> dict[str, int]:
        """How many bulk upload jobs are in each state (for the metrics)."""

    # -- rate limits ----------------------------------------------------------------------

    @abc.abstractmethod
    async def set_rate_limit(self, user_id: int, per_minute: int) -> None:
        """The user's requests a minute (0: no limit); the key's bucket starts full again."""

    @abc.abstractmethod
    async def take_rate_tokens(self, user_id: int, per_minute: int, want: int) -> tuple[int, float]:
        """Take up to `want` tokens from the user's shared bucket: (granted, tokens left).

        The bucket holds `per_minute` tokens and refills at `per_minute` a minute; every
        process and node takes from the same one.
        """

    # -- Idempotency-Key ------------------------------------------------------------------

    @abc.abstractmethod
    async def idempotency_claim(
        self,
        account_id: int,
        key: str,
        fingerprint: str,
        requestid: str,
        keep_seconds: float,
        abandon_seconds: float,
    ) -> KeptAnswer | None:
        """Claim `key` for this request (None), or the claim that holds it already.

        A kept answer older than `keep_seconds`, and a claim still unanswered after
        `abandon_seconds` (its process died), no longer hold the key.
        """

    @abc.abstractmethod
    async def idempotency_get(self, account_id: int, key: str) -> KeptAnswer | None: ...

    @abc.abstractmethod
    async def idempotency_finish(
        self, account_id: int, key: str, requestid: str, status: int, answer: str
    ) -> None:
        """Keep the answer of the request that claimed `key`."""

    @abc.abstractmethod
    async def idempotency_release(self, account_id: int, key: str, requestid: str) -> None:
        """Give an unanswered claim up (the request failed in a way a retry should redo)."""

    @abc.abstractmethod
    async def idempotency_purge(self, keep_seconds: float) -> int:
        """Forget answers older than `keep_seconds`; how many there were."""
