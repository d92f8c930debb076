"""Per-key request limits: a token bucket of N tokens refilled at N a minute (a burst of N).

One process alone (SQLite without `--processes`) keeps its buckets in memory: exact, and free
of I/O. Where several processes or nodes serve one database, the bucket lives in the database
(`Store.take_rate_tokens`) and each process *leases* tokens from it a few at a time, spending
them locally; so every admitted request took a token from the one shared bucket, and the bound
holds however many nodes there are. A lease is dropped after LEASE_SECONDS unused, so tokens a
node took but did not spend (the client went to another node) are not spent later as a burst
beyond N; they are what the nodes may under-admit, at most `nodes x lease size` at a time.

A key without a limit costs one integer test per request.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from cee import metrics
from cee.domain.errors import RateLimited
from cee.domain.keys import Principal
from cee.storage import Store

# Tokens a process takes from the shared bucket at once: 1 % of the limit (at least one), so a
# node strands at most 1 % of a minute's allowance and a busy key costs one round trip every
# limit/100 requests.
LEASE_FRACTION = 0.01
LEASE_SECONDS = 1.0


@dataclass(slots=True)
class _Bucket:
    per_minute: int
    tokens: float
    at: float  # time.monotonic() of `tokens`


class RateLimiter:
    def __init__(self, store: Store, *, shared: bool) -> None:
        self.store = store
        self.shared = shared
        self._buckets: dict[int, _Bucket] = {}  # local: the bucket itself; shared: the lease

    async def admit(self, principal: Principal) -> None:
        """Take one token for the key's request, or raise RateLimited (a 429)."""
        limit = principal.rate_per_minute
        if limit <= 0:
            return
        now = time.monotonic()
        bucket = self._buckets.get(principal.user_id)
        if self.shared:
            await self._admit_leased(principal.user_id, limit, bucket, now)
        else:
            self._admit_local(principal.user_id, limit, bucket, now)

    def _admit_local(self, user_id: int, limit: int, bucket: _Bucket | None, now: float) -> None:
        if bucket is None or bucket.per_minute != limit:
            bucket = self._buckets[user_id] = _Bucket(limit, float(limit), now)
        else:
            bucket.tokens = min(limit, bucket.tokens + (now - bucket.at) * limit / 60.0)
            bucket.at = now
        if bucket.tokens < 1.0:
            raise _refused(limit, bucket.tokens)
        bucket.tokens -= 1.0

    async def _admit_leased(
        self, user_id: int, limit: int, lease: _Bucket | None, now: float
    ) -> None:
        if (
            lease is not None
            and lease.per_minute == limit
            and lease.tokens >= 1.0
            and now - lease.at < LEASE_SECONDS
        ):
            lease.tokens -= 1.0
            return
        want = max(1, int(limit * LEASE_FRACTION))
        granted, left = await self.store.take_rate_tokens(user_id, limit, want)
        if granted < 1:
            self._buckets.pop(user_id, None)
            raise _refused(limit, left)
        self._buckets[user_id] = _Bucket(limit, float(granted - 1), now)


def _refused(limit: int, tokens: float) -> RateLimited:
    metrics.RATE_LIMITED_KEY.inc()
    wait = max(1, math.ceil((1.0 - tokens) * 60.0 / limit))
    return RateLimited(
        f"rate limit: this key may make {limit} requests a minute; retry after {wait}s",
        wait,
        limit,
    )
