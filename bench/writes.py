"""CPU and wall time per contact of SQLite's own write jobs, without HTTP or the writer.

Two jobs, each on a fresh database file with CEE's pragmas (synchronous=FULL: every batch is
committed and synced):

- `arrays`: `create_contacts` of 1,000-contact addsync arrays, 100 of them;
- `bulk`: a bulk import's chunks of 10,000 new contacts through `upsert_pieces`, 100 of them
  (a million contacts, where the random key index makes the commits dearer).

`make bench` measures the same paths end to end; this isolates the storage's share, so that a
change to it can be compared against the tree before it on the same machine state:
`PYTHONPATH=<other tree>/src .venv/bin/python bench/writes.py` beside
`.venv/bin/python bench/writes.py`, alternately.
"""

from __future__ import annotations

import argparse
import random
import string
import sys
import tempfile
import time
from pathlib import Path

from cee.domain.contacts import ContactRecord
from cee.domain.writes import WriteContext
from cee.storage.migrate import apply_migrations
from cee.storage.sqlite import contacts
from cee.storage.sqlite.connection import connect

CITIES = ["Pune", "Delhi", "Mumbai", "Chennai"]


def records(rng: random.Random, n: int) -> list[ContactRecord]:
    out = []
    for i in range(n):
        email = "".join(rng.choices(string.ascii_lowercase, k=12)) + "@example.com"
        attributes = {
            "EMAIL": email,
            "NAME": f"Contact {i}",
            "CITY": CITIES[i % 4],
            "AGE": 18 + i % 60,
        }
        out.append(ContactRecord(email, email, attributes))
    return out


def run(job: str, batches: int, size: int) -> tuple[float, float]:
    """(wall, CPU) µs a contact of `batches` transactions of `size` contacts."""
    path = Path(tempfile.mkdtemp(prefix="cee-writes-")) / "cee.db"
    apply_migrations(f"sqlite:///{path}", "sqlite")
    conn = connect(str(path))
    conn.execute("INSERT INTO accounts (name, created_at) VALUES ('bench', '2026-01-01')")
    ctx = WriteContext(1, "0" * 32, "bench", "addsync" if job == "arrays" else "bulkupload")
    rng = random.Random(16)
    wall = cpu = 0.0
    for _ in range(batches):
        batch = records(rng, size)
        chunk = None
        if job == "bulk":
            from cee.storage.bulk import Chunk  # only what the tree has: older ones lack it

            chunk = Chunk.of(batch, list(range(size)), [], size)
        started, used = time.perf_counter(), time.process_time()
        conn.execute("BEGIN IMMEDIATE")
        if chunk is None:
            contacts.create_contacts(conn, [(ctx, batch, None)])
        else:
            contacts.upsert_pieces(conn, ctx, chunk, 0, len(chunk.pieces), None)
        conn.execute("COMMIT")
        wall += time.perf_counter() - started
        cpu += time.process_time() - used
    conn.close()
    n = batches * size
    return 1e6 * wall / n, 1e6 * cpu / n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--batches", type=int, default=100)
    args = parser.parse_args()
    print(f"{'job':<28}{'wall µs/contact':>16}{'CPU µs/contact':>16}")
    for job, size in (("arrays", 1000), ("bulk", 10_000)):
        if job == "bulk" and not hasattr(contacts, "upsert_pieces"):
            print(f"{'bulk chunks of 10,000':<28}{'(not in this tree)':>32}")
            continue
        wall, cpu = run(job, args.batches, size)
        label = "addsync arrays of 1,000" if job == "arrays" else "bulk chunks of 10,000"
        print(f"{label:<28}{wall:>16.2f}{cpu:>16.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
