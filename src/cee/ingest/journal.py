"""The serving side of the async journal: back-pressure and the wake-up of a local worker.

`add` must answer fast, so it never counts the journal itself: it reads an estimate that a
background job refreshes from the store twice a second (so a `cee worker` in another process
is seen draining it) and that each accepted request bumps in between.
"""

from __future__ import annotations

import asyncio
import logging

from cee import metrics
from cee.domain.errors import RateLimited
from cee.storage import Store

log = logging.getLogger(__name__)

DEPTH_REFRESH_SECONDS = 0.5
RETRY_AFTER_SECONDS = 1


class JournalGate:
    """An estimate of the journal's depth, and an event set whenever an entry is appended."""

    def __init__(self, max_depth: int) -> None:
        self.max_depth = max_depth
        self.depth = 0
        # Set by `add` after each append: an in-process worker wakes at once instead of polling.
        self.arrived = asyncio.Event()
        # Requests this process has journaled: a worker on the same event loop reads whether it
        # moved during its last batch, to give the loop back to them (ingest/worker.py).
        self.accepted = 0

    def admit(self) -> None:
        """RateLimited once the journal holds `max_depth` entries not yet done."""
        if self.depth >= self.max_depth:
            metrics.RATE_LIMITED_JOURNAL.inc()
            raise RateLimited(
                f"the async journal holds {self.depth} requests (the limit is "
                f"{self.max_depth}); retry after {RETRY_AFTER_SECONDS}s",
                RETRY_AFTER_SECONDS,
            )

    def appended(self) -> None:
        self.depth += 1
        self.accepted += 1
        self.arrived.set()

    def finished(self, count: int) -> None:
        self.depth = max(self.depth - count, 0)

    def measured(self, depth: int, oldest_age: float) -> None:
        self.depth = depth
        metrics.JOURNAL_DEPTH.set(depth)
        metrics.JOURNAL_OLDEST_AGE.set(oldest_age)


async def watch_depth(store: Store, gate: JournalGate) -> None:
    """Keep `gate`'s estimate in step with the store, until cancelled."""
    while True:
        try:
            depth, age = await store.journal_depth()
            gate.measured(depth, age)
        except Exception:
            log.exception("could not read the journal depth")
        await asyncio.sleep(DEPTH_REFRESH_SECONDS)
