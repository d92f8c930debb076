"""`make bench`: CEE's write paths against the HTTP and storage ceilings, measured in one run.

What it measures, all on loopback, bounded in time (about 1.5 minutes; `--large` adds about one
more):

- HTTP ceiling: `cee serve --ceiling` (the same uvicorn stack answering a constant JSON) under
  the same POST as addsync, 32 connections.
- Storage ceiling: raw batched inserts of 1,000 random-email contacts per transaction into the
  schema made by the real migrations, on a connection with the store's own pragmas
  (synchronous=FULL), no HTTP. On PostgreSQL one multi-row insert per batch from 4 sessions
  at once, as many as the array load uses.
- addsync, one new contact (unique random email) per request, 32 connections: req/s, p50, p99.
- addsync, arrays of 1,000 random-email contacts: contacts/s, for the same number of contacts as
  the storage ceiling, from an empty store as it.
- add (async acceptance): req/s, p99; "n/a" while the activity does not answer Success.
- Peak RSS of the server (VmHWM), and product / ceiling ratios against the issue's figures.
- bulkupload of a 100,000-row CSV served on loopback (bench/bulk.py): rows/s and the ratio to
  the storage ceiling, addsync's p99 during it against before; `make bench-bulk` runs 1,000,000.
- `--large`: addsync against an empty store and one pre-filled with 1,000,000 contacts.
- `--processes N`: `cee serve --processes N` for every server, the HTTP ceiling's included;
  peak RSS is then the sum over the server's processes.
- `--database postgresql://...`: the same against PostgreSQL (a fresh database made on that
  server and dropped after), as a second column.

The load generator is wrk when installed (Debian's `wrk`; a Lua script makes a unique email per
request), else a small asyncio client of this script's own (slower: it competes with the server
for the CPU, so its ratios are pessimistic). Results go to stdout and bench/results.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

HERE = Path(__file__).resolve().parent
CEE = str(Path(sys.executable).parent / "cee")
HOST = "127.0.0.1"
CONNECTIONS = 32
ARRAY_SIZE = 1000
ARRAY_CONNECTIONS = 4
# Both the storage ceiling and the array run insert this many contacts into an empty store, so
# that they meet the same growing table.
ARRAY_CONTACTS = 120_000
LARGE_FILL = 1_000_000
# make bench's bulkupload phase; `make bench-bulk` (bench/bulk.py) runs the million.
BULK_ROWS = 100_000
# `cee serve --processes`: the same for the ceiling and the product (set by --processes).
PROCESSES = 1
RUN_DEADLINE_SECONDS = 170  # make bench must finish in under 3 minutes
LARGE_DEADLINE_SECONDS = 300

# Issue 16's figures (set from the cost analysis of the speed issue before it): product /
# ceiling at least this.
TARGETS = {"addsync": 0.30, "arrays": 0.60, "add": 0.35}
TARGET_P99_MS = 15.0
TARGET_RSS_MB = 150.0
TARGET_LARGE_SLOWDOWN = 0.20

# Common mailbox providers plus many company domains: real lists repeat domains a lot.
DOMAINS = ["gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "icloud.com"] + [
    f"co{i}.example.com" for i in range(1000)
]


def random_email(serial: int, rng: random.Random) -> str:
    # A random prefix so keys arrive in no order (real lists are not sorted); the serial makes
    # each one unique.
    return f"{rng.getrandbits(48):012x}.{serial}@{rng.choice(DOMAINS)}"


def contact(email: str) -> dict[str, str]:
    return {"EMAIL": email, "FIRST_NAME": "Mike"}


def form_body(data: Any, listid: int | None = None) -> bytes:
    fields = {"data": orjson.dumps(data).decode()}
    if listid is not None:
        fields["listid"] = str(listid)
    return urllib.parse.urlencode(fields, quote_via=urllib.parse.quote).encode()


# -- servers ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    def peak_rss_mb(self) -> float:
        """VmHWM, the most resident memory a process ever had, summed over the server's
        processes (with --processes: the supervisor, the HTTP, writer and worker processes)."""
        total = 0.0
        for pid in [self.proc.pid, *_descendants(self.proc.pid)]:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        total += int(line.split()[1]) / 1024
            except FileNotFoundError:
                pass
        return total or float("nan")


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


@contextmanager
def serving(db: Database, workdir: Path, *, ceiling: bool = False) -> Iterator[Server]:
    port = free_port()
    log = workdir / f"server-{port}.log"
    args = [CEE, "serve", "--port", str(port), "--host", HOST, *db.cli_args()]
    args += ["--processes", str(PROCESSES)]
    if ceiling:
        args.append("--ceiling")
    env = {**os.environ, "CEE_LOG_LEVEL": "warning"}
    with open(log, "wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env)
    server = Server(proc, port, log)
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited: see {log}\n{log.read_text()[-2000:]}")
            try:
                with socket.create_connection((HOST, port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the server did not start in 30 s: see {log}") from None
                time.sleep(0.1)
        yield server
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# -- databases --------------------------------------------------------------------------------


class Database:
    """Where one product run keeps its data: a fresh SQLite dir or a fresh PostgreSQL db."""

    label = ""

    def cli_args(self) -> list[str]:
        raise NotImplementedError

    def url(self) -> str:
        raise NotImplementedError

    def count(self, table: str) -> int:
        raise NotImplementedError

    def drop(self) -> None:
        pass


class SqliteDatabase(Database):
    label = "sqlite"

    def __init__(self, workdir: Path) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="db-", dir=workdir))

    def cli_args(self) -> list[str]:
        return ["--data-dir", str(self.dir)]

    def url(self) -> str:
        return f"sqlite:///{self.dir / 'cee.db'}"

    def count(self, table: str) -> int:
        with sqlite3.connect(self.dir / "cee.db") as conn:
            return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])

    def drop(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


class PostgresDatabase(Database):
    label = "postgres"

    def __init__(self, admin_url: str) -> None:
        import psycopg

        self.admin_url = admin_url
        self.name = f"cee_bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')
        base = admin_url.split("?", 1)[0].rsplit("/", 1)[0]
        self._url = f"{base}/{self.name}"

    def cli_args(self) -> list[str]:
        return ["--database", self._url]

    def url(self) -> str:
        return self._url

    def count(self, table: str) -> int:
        import psycopg

        with psycopg.connect(self._url) as conn:
            row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
            return int(row[0]) if row else 0

    def drop(self) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def initialise(db: Database) -> str:
    """`cee init` on the fresh database; returns the API key it prints once."""
    out = subprocess.run(
        [CEE, "init", "--json", *db.cli_args()], check=True, capture_output=True, timeout=60
    )
    return str(json.loads(out.stdout)["api_key"])


def create_list(port: int, apikey: str) -> int:
    query = urllib.parse.urlencode(
        {"type": "lists", "activity": "create", "apikey": apikey, "listname": "Bench"}
    )
    status, body = one_request(port, "POST", f"/apiv2?{query}", b"")
    if status != 200:
        raise RuntimeError(f"could not create a list: {status} {body[:200]!r}")
    return int(orjson.loads(body)["result"]["listid"])


# -- storage ceiling --------------------------------------------------------------------------


def storage_ceiling(db: Database, count: int, deadline: float) -> dict[str, Any]:
    """Raw batched inserts: 1,000 random-email contacts per transaction, no HTTP, no checks."""
    from cee.storage.migrate import apply_migrations

    apply_migrations(db.url(), db.label)
    rng = random.Random(7)
    now = "2026-01-01T00:00:00.000000+00:00"
    batches = []
    for b in range(count // ARRAY_SIZE):
        rows = []
        for i in range(ARRAY_SIZE):
            email = random_email(b * ARRAY_SIZE + i, rng)
            rows.append((email.lower(), email, orjson.dumps(contact(email)).decode(), now))
        batches.append(rows)
    if isinstance(db, SqliteDatabase):
        return _sqlite_ceiling(db, batches, deadline)
    return _postgres_ceiling(db, batches, deadline)


def _sqlite_ceiling(
    db: SqliteDatabase, batches: list[list[tuple[str, ...]]], deadline: float
) -> dict[str, Any]:
    from cee.storage.sqlite.connection import connect

    # The store's own connection: the same pragmas (WAL, synchronous=FULL, cache size).
    conn = connect(str(db.dir / "cee.db"))
    conn.execute("INSERT INTO accounts (name, created_at) VALUES ('bench', '2026-01-01')")
    sql = (
        "INSERT INTO contacts (account_id, match_key, key_display, attributes, created_at, "
        "updated_at) VALUES (1, ?1, ?2, ?3, ?4, ?4)"
    )
    done = 0
    start = time.perf_counter()
    for rows in batches:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(sql, rows)
        conn.execute("COMMIT")
        done += len(rows)
        if time.monotonic() > deadline:
            break
    elapsed = time.perf_counter() - start
    conn.close()
    return {"contacts": done, "seconds": elapsed, "contacts_per_s": done / elapsed}


def _postgres_ceiling(
    db: PostgresDatabase, batches: list[list[tuple[str, ...]]], deadline: float
) -> dict[str, Any]:
    import psycopg

    # One multi-row statement per batch (as the store's own group commit writes), from as many
    # connections as the array load uses: PostgreSQL inserts from several sessions at once, so
    # a single-session ceiling would be one the product itself beats.
    sql = (
        "INSERT INTO contacts (account_id, match_key, key_display, attributes, created_at, "
        "updated_at) SELECT 1, k, d, a::json, %s, %s "
        "FROM unnest(%s::text[], %s::text[], %s::text[]) AS t(k, d, a)"
    )
    with psycopg.connect(db.url()) as conn:
        conn.execute("INSERT INTO accounts (name) VALUES ('bench')")
        conn.commit()

    def insert(share: list[list[tuple[str, ...]]]) -> int:
        done = 0
        with psycopg.connect(db.url()) as conn:
            for rows in share:
                now = rows[0][3]
                columns = ([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])
                conn.execute(sql, (now, now, *columns))
                conn.commit()
                done += len(rows)
                if time.monotonic() > deadline:
                    break
        return done

    shares = [batches[i::ARRAY_CONNECTIONS] for i in range(ARRAY_CONNECTIONS)]
    start = time.perf_counter()
    with ThreadPoolExecutor(ARRAY_CONNECTIONS) as pool:
        done = sum(pool.map(insert, shares))
    elapsed = time.perf_counter() - start
    return {"contacts": done, "seconds": elapsed, "contacts_per_s": done / elapsed}


# -- load generation --------------------------------------------------------------------------

WRK_SCRIPT = r"""
-- One request per call; a unique random email each time (args: run tag, listid or "").
counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
end
local n = 0
local tag, listid
function init(args)
  math.randomseed(os.time() + tid * 7919)
  tag = args[1]
  listid = args[2] or ""
end
local function domain()
  local r = math.random(0, 1004)
  if r < 5 then
    return ({"gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "icloud.com"})[r + 1]
  end
  return "co" .. (r - 5) .. ".example.com"
end
local headers = {["Content-Type"] = "application/x-www-form-urlencoded"}
request = function()
  n = n + 1
  local email = string.format("%06x%06x.%s%d.%d@%s", math.random(0, 0xffffff),
    math.random(0, 0xffffff), tag, tid, n, domain())
  local body = "data=%7B%22EMAIL%22%3A%22" .. email .. "%22%2C%22FIRST_NAME%22%3A%22Mike%22%7D"
  if listid ~= "" then body = body .. "&listid=" .. listid end
  return wrk.format("POST", nil, headers, body)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT {\"requests\":%d,\"duration_us\":%d,\"p50_us\":%d,\"p99_us\":%d," ..
    "\"errors\":%d,\"status_errors\":%d}\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
"""


@dataclass
class Load:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def run_wrk(port: int, path: str, seconds: float, tag: str, listid: int | None, work: Path) -> Load:
    script = work / "bench.lua"
    script.write_text(WRK_SCRIPT)
    args = [
        "wrk",
        "-t2",
        f"-c{CONNECTIONS}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "5s",
        "-s",
        str(script),
        f"http://{HOST}:{port}{path}",
        "--",
        tag,
        str(listid) if listid is not None else "",
    ]
    out = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 30, check=True)
    line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT "))
    r = json.loads(line.removeprefix("RESULT "))
    return Load(
        requests=r["requests"],
        seconds=r["duration_us"] / 1e6,
        p50_ms=r["p50_us"] / 1000,
        p99_ms=r["p99_us"] / 1000,
        errors=r["errors"] + r["status_errors"],
    )


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, await reader.readexactly(length) if length else b""


def _request_bytes(method: str, path: str, body: bytes) -> bytes:
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: {HOST}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def one_request(port: int, method: str, path: str, body: bytes) -> tuple[int, bytes]:
    async def go() -> tuple[int, bytes]:
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            writer.write(_request_bytes(method, path, body))
            return await asyncio.wait_for(_read_response(reader), 30)
        finally:
            writer.close()

    return asyncio.run(go())


def run_client(
    port: int,
    path: str,
    bodies: Callable[[int], bytes],
    *,
    connections: int,
    seconds: float,
    max_requests: int,
) -> Load:
    """The fallback load generator: keep-alive connections, each one request at a time."""

    async def main() -> Load:
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        issued = 0
        errors = 0
        stop_at = time.perf_counter() + seconds

        async def connection() -> None:
            nonlocal issued, errors
            reader, writer = await asyncio.open_connection(HOST, port)
            try:
                while issued < max_requests and time.perf_counter() < stop_at:
                    issued += 1
                    request = _request_bytes("POST", path, bodies(issued))
                    t0 = time.perf_counter()
                    writer.write(request)
                    try:
                        status, _ = await asyncio.wait_for(_read_response(reader), 60)
                    except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
                        errors += 1
                        return
                    latencies.append(time.perf_counter() - t0)
                    statuses[status] = statuses.get(status, 0) + 1
            finally:
                writer.close()

        start = time.perf_counter()
        await asyncio.gather(*(connection() for _ in range(connections)))
        elapsed = time.perf_counter() - start
        latencies.sort()

        def pct(p: float) -> float:
            if not latencies:
                return float("nan")
            return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

        bad = sum(n for s, n in statuses.items() if s != 200)
        return Load(len(latencies), elapsed, pct(0.50), pct(0.99), errors + bad, statuses)

    return asyncio.run(main())


class Loader:
    """wrk when present, else the asyncio client: one POST shape for ceiling and product."""

    def __init__(self, work: Path, force_python: bool) -> None:
        self.work = work
        self.wrk = not force_python and shutil.which("wrk") is not None
        self.name = "wrk (2 threads)" if self.wrk else "asyncio client (bench/run.py)"
        self._tags = 0

    def single(self, port: int, path: str, seconds: float, listid: int | None = None) -> Load:
        self._tags += 1
        tag = f"r{os.getpid()}x{self._tags}"
        if self.wrk:
            return run_wrk(port, path, seconds, tag, listid, self.work)
        rng = random.Random(tag)
        return run_client(
            port,
            path,
            lambda i: form_body(contact(random_email(i, rng).replace("@", f".{tag}@")), listid),
            connections=CONNECTIONS,
            seconds=seconds,
            max_requests=2_000_000,
        )


# -- the phases -------------------------------------------------------------------------------


def api_path(apikey: str, activity: str) -> str:
    query = urllib.parse.urlencode({"type": "contact", "activity": activity, "apikey": apikey})
    return f"/apiv2?{query}"


def array_bodies(count: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    return [
        form_body([contact(random_email(b * ARRAY_SIZE + i, rng)) for i in range(ARRAY_SIZE)])
        for b in range(count // ARRAY_SIZE)
    ]


def probe_add(port: int, path: str) -> str | None:
    """None when `add` answers Success; else why it is not measured."""
    status, body = one_request(port, "POST", path, form_body(contact("probe@example.com")))
    try:
        answer = orjson.loads(body)
    except orjson.JSONDecodeError:
        answer = {}
    if status == 200 and answer.get("result") == "Success":
        return None
    return f"add answers {status}: {body[:120].decode(errors='replace')}"


def product_run(
    db: Database, loader: Loader, work: Path, seconds: float, arrays: list[bytes]
) -> dict[str, Any]:
    """One server on a fresh store: arrays first (empty table, as the storage ceiling), then
    addsync one per request, then add; peak RSS over all of it."""
    apikey = initialise(db)
    out: dict[str, Any] = {}
    with serving(db, work) as server:
        # Arrays of 1,000.
        path = api_path(apikey, "addsync")
        load = run_client(
            server.port,
            path,
            lambda i: arrays[i - 1],
            connections=ARRAY_CONNECTIONS,
            seconds=60,
            max_requests=len(arrays),
        )
        contacts = db.count("contacts")
        out["arrays"] = {
            "requests": load.requests,
            "seconds": load.seconds,
            "contacts": contacts,
            "contacts_per_s": contacts / load.seconds,
            "p99_ms": load.p99_ms,
            "errors": load.errors,
        }
        # One new contact per request, joining a list (the seed's shape).
        listid = create_list(server.port, apikey)
        loader.single(server.port, path, 1, listid)  # warm-up
        before = db.count("contacts")
        load = loader.single(server.port, path, seconds, listid)
        created = db.count("contacts") - before
        out["addsync"] = _load_dict(load) | {"created": created}
        if created < load.requests:
            out["addsync"]["problem"] = f"only {created} contacts for {load.requests} answers"
        # add: acceptance into the journal.
        add_path = api_path(apikey, "add")
        why = probe_add(server.port, add_path)
        if why is None:
            load = loader.single(server.port, add_path, seconds, listid)
            out["add"] = _load_dict(load)
        else:
            out["add"] = {"n/a": why}
        out["peak_rss_mb"] = server.peak_rss_mb()
    return out


def _load_dict(load: Load) -> dict[str, Any]:
    return {
        "requests": load.requests,
        "seconds": load.seconds,
        "req_per_s": load.rate,
        "p50_ms": load.p50_ms,
        "p99_ms": load.p99_ms,
        "errors": load.errors,
    }


def http_ceiling(loader: Loader, work: Path, seconds: float) -> dict[str, Any]:
    db = SqliteDatabase(work)  # unused by --ceiling, but serve wants a place
    with serving(db, work, ceiling=True) as server:
        path = api_path("cee_ceiling", "addsync")
        loader.single(server.port, path, 1, 1)
        load = loader.single(server.port, path, seconds, 1)
        rss = server.peak_rss_mb()
    db.drop()
    return _load_dict(load) | {"peak_rss_mb": rss}


def fill_sqlite(db: SqliteDatabase, count: int) -> float:
    """Put `count` random-email contacts (and their creation history) straight into the store.

    Sorted, in big transactions, with synchronous=OFF: only the measurement after it matters.
    """
    start = time.perf_counter()
    rng = random.Random(11)
    emails = sorted(f"{rng.getrandbits(64):016x}.{i}@{rng.choice(DOMAINS)}" for i in range(count))
    conn = sqlite3.connect(db.dir / "cee.db", isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    now = "2026-01-01T00:00:00.000000+00:00"
    chunk = 100_000
    for at in range(0, count, chunk):
        part = emails[at : at + chunk]
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO contacts (account_id, match_key, key_display, attributes, created_at, "
            "updated_at) VALUES (1, ?1, ?1, ?2, ?3, ?3)",
            ((e, orjson.dumps(contact(e)).decode(), now) for e in part),
        )
        conn.executemany(
            "INSERT INTO contact_history (account_id, match_key, requestid, key_prefix, "
            "activity, changes, at) VALUES (1, ?1, ?2, 'cee_fill', 'addsync', ?3, ?4)",
            ((e, uuid.uuid4().hex, orjson.dumps({"EMAIL": [None, e]}).decode(), now) for e in part),
        )
        conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return time.perf_counter() - start


def fill_postgres(db: PostgresDatabase, count: int) -> float:
    import psycopg

    start = time.perf_counter()
    rng = random.Random(11)
    with psycopg.connect(db.url()) as conn, conn.cursor() as cur:
        with cur.copy(
            "COPY contacts (account_id, match_key, key_display, attributes) FROM STDIN"
        ) as copy:
            for i in range(count):
                e = f"{rng.getrandbits(64):016x}.{i}@{rng.choice(DOMAINS)}"
                copy.write_row((1, e, e, orjson.dumps(contact(e)).decode()))
        conn.commit()
    return time.perf_counter() - start


def large_run(
    make_db: Callable[[], Database], loader: Loader, work: Path, seconds: float
) -> dict[str, Any]:
    """addsync one per request against an empty store, then against 1,000,000 contacts."""
    out: dict[str, Any] = {}
    for label, fill in (("empty", 0), ("filled", LARGE_FILL)):
        db = make_db()
        try:
            apikey = initialise(db)
            if fill:
                if isinstance(db, SqliteDatabase):
                    out["fill_seconds"] = fill_sqlite(db, fill)
                else:
                    assert isinstance(db, PostgresDatabase)
                    out["fill_seconds"] = fill_postgres(db, fill)
            with serving(db, work) as server:
                path = api_path(apikey, "addsync")
                loader.single(server.port, path, 1)
                out[label] = _load_dict(loader.single(server.port, path, seconds))
                out[f"{label}_rss_mb"] = server.peak_rss_mb()
        finally:
            db.drop()
    out["slowdown"] = 1 - out["filled"]["req_per_s"] / out["empty"]["req_per_s"]
    return out


# -- the report -------------------------------------------------------------------------------


def bulk_phase(make_db: Callable[[], Database], work: Path, ceiling: float) -> dict[str, Any]:
    """A bulkupload of BULK_ROWS rows (bench/bulk.py, imported here: it imports this module)."""
    from bulk import phase

    return dict(phase(make_db, work, BULK_ROWS, ceiling))


def ratios(result: dict[str, Any], http: dict[str, Any]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    ceiling = http["req_per_s"]
    out["addsync"] = result["addsync"]["req_per_s"] / ceiling
    out["arrays"] = result["arrays"]["contacts_per_s"] / result["storage_ceiling"]["contacts_per_s"]
    add = result["add"]
    out["add"] = add["req_per_s"] / ceiling if "req_per_s" in add else None
    return out


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "NOT met")


def table(results: dict[str, Any]) -> str:
    cols = [c for c in ("sqlite", "postgres") if c in results["backends"]]
    http = results["http_ceiling"]
    rows: list[tuple[str, ...]] = []

    def add_row(label: str, fn: Callable[[dict[str, Any]], str], target: str = "") -> None:
        rows.append((label, *(fn(results["backends"][c]) for c in cols), target))

    def num(v: Any, fmt: str = "{:,.0f}") -> str:
        return "n/a" if v is None else fmt.format(v)

    rows.append(
        (
            "HTTP ceiling (constant JSON), req/s",
            *[num(http["req_per_s"])] * len(cols),
            f"p50 {http['p50_ms']:.1f} ms, p99 {http['p99_ms']:.1f} ms",
        )
    )
    add_row(
        "storage ceiling (raw 1,000/txn), contacts/s",
        lambda b: num(b["storage_ceiling"]["contacts_per_s"]),
    )
    add_row("addsync 1/request, req/s", lambda b: num(b["addsync"]["req_per_s"]))
    add_row("  p50 ms", lambda b: num(b["addsync"]["p50_ms"], "{:.1f}"))
    add_row(
        "  p99 ms", lambda b: num(b["addsync"]["p99_ms"], "{:.1f}"), f"≤ {TARGET_P99_MS:.0f} ms"
    )
    add_row(
        "  ratio to HTTP ceiling",
        lambda b: num(b["ratios"]["addsync"], "{:.0%}"),
        f"≥ {TARGETS['addsync']:.0%}",
    )
    add_row("addsync arrays of 1,000, contacts/s", lambda b: num(b["arrays"]["contacts_per_s"]))
    add_row(
        "  ratio to storage ceiling",
        lambda b: num(b["ratios"]["arrays"], "{:.0%}"),
        f"≥ {TARGETS['arrays']:.0%}",
    )
    add_row("add acceptance, req/s", lambda b: num(b["add"].get("req_per_s")))
    add_row("  p99 ms", lambda b: num(b["add"].get("p99_ms"), "{:.1f}"))
    add_row(
        "  ratio to HTTP ceiling",
        lambda b: num(b["ratios"]["add"], "{:.0%}"),
        f"≥ {TARGETS['add']:.0%}",
    )
    add_row(
        "server peak RSS, MB",
        lambda b: num(b["peak_rss_mb"], "{:.0f}"),
        f"< {TARGET_RSS_MB:.0f} MB",
    )
    if any("large" in results["backends"][c] for c in cols):
        add_row(
            "addsync, empty store, req/s",
            lambda b: num(b.get("large", {}).get("empty", {}).get("req_per_s")),
        )
        add_row(
            "addsync, 1,000,000 contacts, req/s",
            lambda b: num(b.get("large", {}).get("filled", {}).get("req_per_s")),
        )
        add_row(
            "  slowdown",
            lambda b: num(b.get("large", {}).get("slowdown"), "{:.0%}"),
            f"≤ {TARGET_LARGE_SLOWDOWN:.0%}",
        )
    header = ("", *cols, "figure to reach")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def checks(b: dict[str, Any]) -> dict[str, bool | None]:
    r = b["ratios"]
    out: dict[str, bool | None] = {
        "addsync ratio": r["addsync"] >= TARGETS["addsync"],
        "addsync p99": b["addsync"]["p99_ms"] <= TARGET_P99_MS,
        "arrays ratio": r["arrays"] >= TARGETS["arrays"],
        "add ratio": None if r["add"] is None else r["add"] >= TARGETS["add"],
        "peak RSS": b["peak_rss_mb"] < TARGET_RSS_MB,
    }
    if "large" in b:
        out["1M slowdown"] = b["large"]["slowdown"] <= TARGET_LARGE_SLOWDOWN
    return out


# -- main -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    global PROCESSES
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="each timed HTTP phase")
    parser.add_argument("--large", action="store_true", help="also: empty vs 1,000,000 contacts")
    parser.add_argument(
        "--database",
        default=None,
        help="also run against PostgreSQL: an admin URL (a fresh database is made and dropped)",
    )
    parser.add_argument("--python-client", action="store_true", help="do not use wrk")
    parser.add_argument(
        "--processes", type=int, default=PROCESSES, help="cee serve --processes, ceiling too"
    )
    parser.add_argument("--only-sqlite", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", default=str(HERE / "results.json"))
    args = parser.parse_args(argv)
    PROCESSES = args.processes

    started = time.monotonic()
    budget = LARGE_DEADLINE_SECONDS if args.large else RUN_DEADLINE_SECONDS
    if args.database:
        budget *= 2
    deadline = started + budget
    work = Path(tempfile.mkdtemp(prefix="cee-bench-"))
    loader = Loader(work, args.python_client)
    results: dict[str, Any] = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "load_generator": loader.name,
        "connections": CONNECTIONS,
        "processes": PROCESSES,
        "seconds_per_phase": args.seconds,
        "backends": {},
    }
    print(
        f"CEE bench: load generator {loader.name}, {CONNECTIONS} connections, "
        f"{args.seconds:.0f} s per phase, loopback",
        flush=True,
    )
    try:
        print("  arrays: preparing request bodies…", flush=True)
        arrays = array_bodies(ARRAY_CONTACTS, seed=3)
        print("  HTTP ceiling…", flush=True)
        results["http_ceiling"] = http_ceiling(loader, work, args.seconds)
        backends: list[tuple[str, Callable[[], Database]]] = [
            ("sqlite", lambda: SqliteDatabase(work))
        ]
        if args.database:
            admin = args.database
            backends.append(("postgres", lambda: PostgresDatabase(admin)))
        for label, make_db in backends:
            b: dict[str, Any] = {}
            print(f"  {label}: storage ceiling…", flush=True)
            db = make_db()
            try:
                b["storage_ceiling"] = storage_ceiling(db, ARRAY_CONTACTS, deadline)
            finally:
                db.drop()
            print(f"  {label}: arrays, addsync, add…", flush=True)
            db = make_db()
            try:
                b.update(product_run(db, loader, work, args.seconds, arrays))
            finally:
                db.drop()
            b["ratios"] = ratios(b, results["http_ceiling"])
            print(f"  {label}: bulkupload of a {BULK_ROWS}-row CSV…", flush=True)
            b["bulkupload"] = bulk_phase(make_db, work, b["storage_ceiling"]["contacts_per_s"])
            if args.large:
                print(f"  {label}: addsync on an empty store vs 1,000,000 contacts…", flush=True)
                b["large"] = large_run(make_db, loader, work, args.seconds)
            b["checks"] = checks(b)
            results["backends"][label] = b
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results["total_seconds"] = time.monotonic() - started
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print()
    print(table(results))
    print()
    for label, b in results["backends"].items():
        said = ", ".join(f"{name}: {verdict(ok)}" for name, ok in b["checks"].items())
        print(f"{label}: {said}")
        for phase in ("addsync", "add", "arrays"):
            problem = b.get(phase, {}).get("problem") or b.get(phase, {}).get("n/a")
            if problem:
                print(f"  {phase}: {problem}")
            if b.get(phase, {}).get("errors"):
                print(f"  {phase}: {b[phase]['errors']} failed requests")
        bulk = b.get("bulkupload")
        if bulk:
            print(
                f"  bulkupload: {bulk['rows']} rows in {bulk['seconds']:.1f} s = "
                f"{bulk['rows_per_s']:,.0f} rows/s, {bulk['ratio_to_ceiling']:.2f} of the storage "
                f"ceiling; addsync p99 x{bulk['addsync_p99_ratio']:.1f} during it; peak RSS "
                f"{bulk['peak_rss_mb']:.0f} MB"
            )
    print(f"\n{results['total_seconds']:.0f} s in all; written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
