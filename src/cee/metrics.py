"""Prometheus metrics: what a CEE process counts, and the text `/metrics` answers with.

Under `cee serve --processes N` every process (the HTTP ones, the writer, the worker) writes its
samples to files in one folder named by PROMETHEUS_MULTIPROC_DIR, which the supervisor sets
before it spawns them; `/metrics` in any HTTP process then adds them all up. prometheus_client
picks that mode when a metric is first made, from the environment, which is why the folder must
be set before this module is imported in a child (it is: spawned children read their
environment first).

Recording is on the hot path, so the request counter and histogram are resolved to their label
children once per (type, activity, status) and kept (`RequestMetrics`): a request then costs one
dictionary lookup on a tuple and two increments, no label handling.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import TYPE_CHECKING

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as _multiprocess

if TYPE_CHECKING:
    from cee.storage import Store

log = logging.getLogger(__name__)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST

# Seconds; the contract's latency goals sit between 1 and 20 ms, so the buckets are dense there.
_LATENCY_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.015, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

HTTP_REQUESTS = Counter(
    "cee_http_requests_total",
    "API requests answered, by type, activity and HTTP status.",
    ["type", "activity", "code"],
)
HTTP_DURATION = Histogram(
    "cee_http_request_duration_seconds",
    "Time from the request's arrival to its answer, by type and activity.",
    ["type", "activity"],
    buckets=_LATENCY_BUCKETS,
)
WRITER_BATCH_SIZE = Histogram(
    "cee_writer_batch_size",
    "Write jobs (requests) sharing one group commit.",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
)
WRITER_COMMIT_SECONDS = Histogram(
    "cee_writer_commit_seconds",
    "Time one group commit took, statements and the flush to disk.",
    buckets=_LATENCY_BUCKETS,
)
# Every serving process measures the same journal; the most recent reading is the true one.
JOURNAL_DEPTH = Gauge(
    "cee_journal_depth",
    "Async requests accepted and not yet applied.",
    multiprocess_mode="mostrecent",
)
JOURNAL_OLDEST_AGE = Gauge(
    "cee_journal_oldest_age_seconds",
    "Age of the oldest async request not yet applied (0 when none waits): the worker's lag.",
    multiprocess_mode="mostrecent",
)
BULK_JOBS = Gauge(
    "cee_bulk_jobs",
    "Bulk upload jobs by state.",
    ["state"],
    multiprocess_mode="mostrecent",
)
RATE_LIMITED = Counter(
    "cee_rate_limited_total",
    "Requests answered 429: over the key's rate limit (key) or the journal full (journal).",
    ["reason"],
)
# Shown at 0 from the start, so that a rate() over them works before the first 429.
RATE_LIMITED_KEY = RATE_LIMITED.labels("key")
RATE_LIMITED_JOURNAL = RATE_LIMITED.labels("journal")


class RequestMetrics:
    """The request counter and histogram, with their label children resolved once."""

    def __init__(self) -> None:
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def record(self, kind: str, activity: str, status: int, seconds: float) -> None:
        children = self._children.get((kind, activity, status))
        if children is None:
            children = (
                HTTP_REQUESTS.labels(kind, activity, str(status)),
                HTTP_DURATION.labels(kind, activity),
            )
            self._children[kind, activity, status] = children
        children[0].inc()
        children[1].observe(seconds)


REQUESTS = RequestMetrics()


def render() -> bytes:
    """Every metric in the Prometheus text format, summed over the processes when there are
    several."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        _multiprocess.MultiProcessCollector(registry)
        return bytes(generate_latest(registry))
    return bytes(generate_latest(REGISTRY))


BULK_REFRESH_SECONDS = 5.0
BULK_STATES = ("queued", "running", "notifying", "done")


async def watch_bulk_jobs(store: Store) -> None:
    """Keep `cee_bulk_jobs{state}` in step with the store, until cancelled; shown only once
    there has been a bulk job (an account that never uploads sees no such series)."""
    while True:
        try:
            counts = await store.bulk_job_counts()
            if counts:
                for state in {*BULK_STATES, *counts}:
                    BULK_JOBS.labels(state).set(counts.get(state, 0))
        except Exception:
            log.exception("could not count the bulk jobs")
        await asyncio.sleep(BULK_REFRESH_SECONDS)
