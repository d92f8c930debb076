"""SQLite connections: the pragmas every connection gets, and the values written with rows."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

import orjson

from cee.storage.queries import Queries

Q = Queries("sqlite")


def connect(path: str) -> sqlite3.Connection:
    """A connection to the database file with CEE's pragmas (reader or writer alike)."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout = 10000")
    conn.execute("PRAGMA journal_mode = WAL")
    # FULL: a Success is on disk even if the machine loses power right after the answer.
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    # 32 MB of page cache a connection. At 64 MB, make bench's server peaked at 170 MB once the
    # in-process worker gave way to `add`s (the writer then touches the journal's tail and the
    # backlog it applies, and filled all of its cache); at 32 MB it peaked at 125 MB with add
    # and arrays at the same ratios to their ceilings (18 %, 40 %).
    conn.execute("PRAGMA cache_size = -32768")
    # Checkpoint every ~40 MB of WAL rather than 4 MB: random keys rewrite the same index
    # pages commit after commit, and a rarer checkpoint copies each one to the database
    # once instead of many times (measured ~+35% rows/s for 1,000-contact transactions).
    # Durability is unchanged: every commit still syncs the WAL. Normally the store's
    # background checkpointer gets there first; this bounds the WAL if it ever falls behind.
    conn.execute("PRAGMA wal_autocheckpoint = 10000")
    return conn


def utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def dump(value: Any) -> str:
    """A JSON column's text."""
    return orjson.dumps(value).decode()
