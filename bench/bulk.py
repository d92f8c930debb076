"""`make bench-bulk`: a bulkupload of a generated CSV served on loopback, timed end to end.

The CSV has `--rows` rows (1,000,000 by default) of random emails and 4 attributes (EMAIL, NAME,
CITY, AGE), 0.1 % of them bad (an invalid email); a thread of this script serves it over HTTP
on 127.0.0.1. A fresh `cee serve` (allowed to fetch from loopback) imports it; the time is from
the bulkupload request to the job's `done`, and the server's peak RSS (VmHWM, summed over its
processes) is read at the end. Alongside: the storage ceiling of run.py (raw batched inserts,
no HTTP, no validation) for the ratio. `--database postgresql://...` runs PostgreSQL instead.

While the import runs, a light addsync load (2 connections) measures the API's p99 against the
same load before the import. The issue's targets: 1,000,000 rows in at most 20 s on SQLite and
30 s on PostgreSQL, peak RSS under 300 MB, addsync p99 under 3x its idle figure.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import threading
import time
import urllib.parse
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import (  # bench/ is not a package; run.py holds the shared parts
    HOST,
    Database,
    Load,
    PostgresDatabase,
    SqliteDatabase,
    api_path,
    contact,
    form_body,
    initialise,
    one_request,
    random_email,
    run_client,
    serving,
    storage_ceiling,
)

TARGET_SECONDS = {"sqlite": 20.0, "postgres": 30.0}
TARGET_RSS_MB = 300.0
TARGET_P99_RATIO = 3.0  # addsync's p99 while an import runs, against its idle p99
# addsync's latency is probed with a light load (2 connections, one request at a time each):
# the question is whether the API keeps answering beside an import, not its throughput.
PROBE_CONNECTIONS = 2
PROBE_SECONDS = 4.0
BAD_EVERY = 1000  # 0.1 % bad rows
CEILING_CONTACTS = 200_000
CITIES = ["Pune", "Delhi", "Mumbai", "Chennai", "Kochi", "Goa", "Agra", "Surat"]


def write_csv(path: Path, rows: int) -> int:
    """The file; how many of its rows are bad."""
    rng = random.Random(14)
    bad = 0
    with open(path, "w", newline="") as out:
        out.write("EMAIL,NAME,CITY,AGE\r\n")
        for i in range(rows):
            email = random_email(i, rng)
            if i % BAD_EVERY == BAD_EVERY - 1:
                email, bad = email.replace("@", "#"), bad + 1
            out.write(f'{email},"Contact {i}",{CITIES[i % 8]},{18 + i % 60}\r\n')
    return bad


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve_dir(directory: Path) -> ThreadingHTTPServer:
    httpd = ThreadingHTTPServer((HOST, 0), partial(Quiet, directory=str(directory)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def api(port: int, apikey: str, **params: Any) -> dict[str, Any]:
    query = urllib.parse.urlencode({"apikey": apikey, **params})
    status, body = one_request(port, "POST", f"/apiv2?{query}", b"")
    answer: dict[str, Any] = orjson.loads(body)
    if status != 200:
        raise RuntimeError(f"{params.get('activity')}: {status} {answer}")
    return answer


def probe(port: int, apikey: str, tag: str) -> Load:
    rng = random.Random(tag)
    return run_client(
        port,
        api_path(apikey, "addsync"),
        lambda i: form_body(contact(random_email(i, rng).replace("@", f".{tag}@"))),
        connections=PROBE_CONNECTIONS,
        seconds=PROBE_SECONDS,
        max_requests=1_000_000,
    )


def run_import(db: Database, work: Path, url: str, rows: int, timeout: float) -> dict[str, Any]:
    apikey = initialise(db)
    os.environ["CEE_BULK_ALLOW_HOSTS"] = HOST
    with serving(db, work) as server:
        probe(server.port, apikey, "warm")
        idle = probe(server.port, apikey, "idle")
        busy: list[Load] = []
        started = time.perf_counter()
        requestid = api(server.port, apikey, type="contact", activity="bulkupload", path=url)[
            "requestid"
        ]
        deadline = time.monotonic() + timeout
        prober = threading.Thread(target=lambda: busy.append(probe(server.port, apikey, "busy")))
        prober.start()
        while True:
            found = api(
                server.port, apikey, type="request", activity="status", requestid=requestid
            )["result"]
            if found["state"] == "done":
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"not done after {timeout:.0f} s: {found}")
            time.sleep(0.1)
        seconds = time.perf_counter() - started
        prober.join()
        rss = server.peak_rss_mb()
    return {
        "rows": rows,
        "seconds": seconds,
        "rows_per_s": rows / seconds,
        "result": found["result"],
        "succeeded": found["succeeded"],
        "failed": found["failed"],
        "peak_rss_mb": rss,
        "addsync_idle_p99_ms": idle.p99_ms,
        "addsync_busy_p99_ms": busy[0].p99_ms,
        # Only meaningful when the import outlasted the probe (PROBE_SECONDS).
        "addsync_probe_within_import": seconds >= PROBE_SECONDS,
    }


def phase(make_db: Any, work: Path, rows: int, ceiling_rows_per_s: float) -> dict[str, Any]:
    """`make bench`'s bulk phase: a smaller import, its rows/s against the storage ceiling that
    run.py measured on the same backend."""
    folder = Path(tempfile.mkdtemp(prefix="bulk-", dir=work))
    bad = write_csv(folder / "contacts.csv", rows)
    httpd = serve_dir(folder)
    url = f"http://{HOST}:{httpd.server_address[1]}/contacts.csv"
    db = make_db()
    try:
        result = run_import(db, work, url, rows, timeout=300)
    finally:
        db.drop()
        httpd.shutdown()
    result["bad_rows"] = bad
    result["ratio_to_ceiling"] = result["rows_per_s"] / ceiling_rows_per_s
    result["addsync_p99_ratio"] = result["addsync_busy_p99_ms"] / result["addsync_idle_p99_ms"]
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database", help="postgresql://... (default: SQLite)")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--no-ceiling", action="store_true", help="skip the storage ceiling")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results-bulk.json"))
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="cee-bench-bulk-"))
    csv_path = work / "contacts.csv"
    bad = write_csv(csv_path, args.rows)
    httpd = serve_dir(work)
    url = f"http://{HOST}:{httpd.server_address[1]}/contacts.csv"
    print(f"{args.rows} rows ({bad} bad), {csv_path.stat().st_size / 1e6:.1f} MB, at {url}")

    def fresh() -> Database:
        return PostgresDatabase(args.database) if args.database else SqliteDatabase(work)

    db = fresh()
    try:
        result = run_import(db, work, url, args.rows, args.timeout)
    finally:
        db.drop()
    result["dialect"] = db.label
    if not args.no_ceiling:
        ceiling_db = fresh()
        try:
            count = min(args.rows, CEILING_CONTACTS)
            ceiling = storage_ceiling(ceiling_db, count, time.monotonic() + 120)
        finally:
            ceiling_db.drop()
        result["storage_ceiling_rows_per_s"] = ceiling["contacts_per_s"]
        result["ratio_to_ceiling"] = result["rows_per_s"] / ceiling["contacts_per_s"]
    httpd.shutdown()

    target = TARGET_SECONDS[db.label] * args.rows / 1_000_000
    result["target_seconds"] = target
    p99_ratio = result["addsync_busy_p99_ms"] / result["addsync_idle_p99_ms"]
    result["addsync_p99_ratio"] = p99_ratio
    result["ok"] = (
        result["seconds"] <= target
        and result["peak_rss_mb"] < TARGET_RSS_MB
        and p99_ratio < TARGET_P99_RATIO
    )
    print(
        f"{db.label}: {result['rows']} rows in {result['seconds']:.1f} s = "
        f"{result['rows_per_s']:,.0f} rows/s ({result['result']}: {result['succeeded']} "
        f"imported, {result['failed']} rejected); peak RSS {result['peak_rss_mb']:.0f} MB"
    )
    print(
        f"addsync p99 idle {result['addsync_idle_p99_ms']:.1f} ms, during the import "
        f"{result['addsync_busy_p99_ms']:.1f} ms: x{p99_ratio:.2f} (target < {TARGET_P99_RATIO:g})"
        + ("" if result["addsync_probe_within_import"] else " (the import ended first)")
    )
    if "ratio_to_ceiling" in result:
        print(
            f"storage ceiling {result['storage_ceiling_rows_per_s']:,.0f} rows/s; "
            f"ratio {result['ratio_to_ceiling']:.2f}"
        )
    print(
        f"target: <= {target:.1f} s, < {TARGET_RSS_MB:.0f} MB, p99 x < {TARGET_P99_RATIO:g}: "
        f"{'met' if result['ok'] else 'NOT met'}"
    )
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    return 0 if result["failed"] == bad else 1


if __name__ == "__main__":
    sys.exit(main())
