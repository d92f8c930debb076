"""Where addsync's CPU goes, per request, without HTTP: the profile behind `make bench`'s ratios.

Drives `/apiv2`'s ASGI handler in-process (no sockets, no uvicorn) with 32 concurrent callers,
each sending one new contact per request as `make bench` does, on a fresh SQLite store, and
prints CPU microseconds per request (all threads, and the event loop's thread alone) for:

- `request code`: parse, authenticate, validate, answer; the store's write answers at once;
- `+ writer, no SQL`: the same through the real group-commit writer (BEGIN, COMMIT, futures),
  with the inserts left out;
- `+ SQL (the product)`: everything, as served.

With `--add`, the same for the async `add` (no worker running while it is accepted):

- `acceptance`: parse, authenticate, journal the request durably, answer;
- `applying`: then a worker draining those entries (judging, the upsert, the report), per entry.

    .venv/bin/python bench/costs.py [--requests 20000] [--add]

Set `make bench`'s HTTP ceiling beside it (bench/sensitivity.py shows what W µs of work per
request costs against that ceiling on this machine). Bounded: a few seconds per row.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import random
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any

from cee import runtime
from cee.ingest.worker import Worker
from cee.settings import Settings
from cee.storage.sqlite.jobs import JOBS
from cee.web.apiv2 import handler as apiv2

CEE = str(Path(sys.executable).parent / "cee")
CALLERS = 32
ADD_MODES = ("acceptance", "applying")


def _no_sql(conn: Any, jobs: list[Any]) -> list[Any]:
    conn.execute("SELECT 1").fetchone()
    return [[None] * len(records) for _, records, _ in jobs]


async def _answer_at_once(ctx: Any, op: Any, records: list[Any], listid: Any) -> list[None]:
    return [None] * len(records)


async def run(mode: str, requests: int) -> tuple[float, float]:
    """CPU µs per request, all threads and the loop's: `mode` one of main()'s rows."""
    data_dir = tempfile.mkdtemp(prefix="cee-costs-")
    out = subprocess.run(
        [CEE, "init", "--json", "--data-dir", data_dir], check=True, capture_output=True
    )
    key = json.loads(out.stdout)["api_key"]
    engine = runtime.engine_for(Settings.load(data_dir=data_dir))
    await engine.start([])
    real_create = JOBS["create_contacts"]
    if mode == "request code":
        engine.store.write_contacts = _answer_at_once  # type: ignore[method-assign]
    elif mode == "+ writer, no SQL":
        JOBS["create_contacts"] = dataclasses.replace(real_create, fn=_no_sql)
    activity = "add" if mode in ADD_MODES else "addsync"
    query = f"type=contact&activity={activity}&apikey={key}".encode()
    rng = random.Random(7)
    bodies = [
        b"data="
        + urllib.parse.quote(
            json.dumps({"EMAIL": f"{rng.getrandbits(48):012x}.{i}@co{i % 1000}.example.com"})
        ).encode()
        for i in range(requests)
    ]
    headers = [(b"content-type", b"application/x-www-form-urlencoded")]
    statuses: dict[int, int] = {}

    async def send(message: dict[str, Any]) -> None:
        if "status" in message:
            statuses[message["status"]] = statuses.get(message["status"], 0) + 1

    async def caller(mine: list[bytes]) -> None:
        for body in mine:

            async def receive(body: bytes = body) -> dict[str, Any]:
                return {"type": "http.request", "body": body, "more_body": False}

            scope = {"type": "http", "method": "POST", "query_string": query, "headers": headers}
            await apiv2.handle(engine, scope, receive, send)

    cpu, loop_cpu = time.process_time(), time.thread_time()
    try:
        await asyncio.gather(*(caller(bodies[i::CALLERS]) for i in range(CALLERS)))
    finally:
        JOBS["create_contacts"] = real_create
    cpu, loop_cpu = time.process_time() - cpu, time.thread_time() - loop_cpu
    if mode == "applying":
        cpu, loop_cpu = time.process_time(), time.thread_time()
        worker = Worker(engine)
        while await worker.run_once():
            pass
        cpu, loop_cpu = time.process_time() - cpu, time.thread_time() - loop_cpu
        if (await engine.store.journal_depth())[0]:
            raise RuntimeError("applying: the journal was not drained")
    await engine.stop()
    if statuses != {200: requests}:
        raise RuntimeError(f"{mode}: answers {statuses}")
    return 1e6 * cpu / requests, 1e6 * loop_cpu / requests


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--add", action="store_true", help="the async add instead of addsync")
    args = parser.parse_args()
    title = "add, one contact" if args.add else "addsync, one contact"
    print(f"{title:<24} {'CPU µs/request':>15} {'of it, loop thread':>19}")
    modes = ADD_MODES if args.add else ("request code", "+ writer, no SQL", "+ SQL (the product)")
    for mode in modes:
        cpu, loop_cpu = asyncio.run(run(mode, args.requests))
        print(f"{mode:<24} {cpu:>15.1f} {loop_cpu:>19.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
