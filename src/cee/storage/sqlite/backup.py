"""Backing up a live SQLite database, and putting a backup back on a stopped server.

The copy uses SQLite's online backup API in a single step: it reads one snapshot (WAL readers
never block the writer, nor it them), so the copy holds every transaction committed before the
step began (every `Success` answered before `cee backup` started) and nothing half-written.
Copying in several steps would let the server's commits restart it over and over under load.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path


class BackupError(Exception):
    """The backup or restore could not be done; the message says why and what to do."""


def backup(database: str, out: str) -> int:
    """Copy the database at `database` to the new file `out`; returns its size in bytes."""
    if not os.path.exists(database):
        raise BackupError(f"no CEE database at {database}")
    if os.path.exists(out):
        raise BackupError(f"{out} exists already; choose a new file name")
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    target = sqlite3.connect(out)
    try:
        source.execute("PRAGMA busy_timeout = 10000")
        source.backup(target)  # pages=-1: all of it in one step, one snapshot
        target.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal
    finally:
        target.close()
        source.close()
    _check_is_cee(out)
    return os.path.getsize(out)


def restore(backup_file: str, database: str) -> None:
    """Replace the database at `database` with `backup_file`; the server must be stopped."""
    if not os.path.exists(backup_file):
        raise BackupError(f"no backup at {backup_file}")
    _check_is_cee(backup_file)
    if os.path.exists(database):
        _check_not_in_use(database)
    Path(database).parent.mkdir(parents=True, exist_ok=True)
    staged = database + ".restoring"
    if os.path.exists(staged):
        os.remove(staged)
    source = sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)
    target = sqlite3.connect(staged)
    try:
        source.backup(target)
        target.execute("PRAGMA journal_mode = WAL")
    finally:
        target.close()
        source.close()
    # The old database's WAL must not be replayed onto the restored file.
    for suffix in ("-wal", "-shm"):
        if os.path.exists(database + suffix):
            os.remove(database + suffix)
    os.replace(staged, database)
    # A server started next reads keys and settings afresh; the stamp tells any other process.
    stamp = database + ".config"
    with open(stamp, "w") as f:
        f.write("restored")


def _check_is_cee(path: str) -> None:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        ok = conn.execute("PRAGMA quick_check").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a SQLite database: {exc}") from None
    finally:
        conn.close()
    if ok != "ok":
        raise BackupError(f"{path} is damaged: {ok}")
    if not {"meta", "accounts", "contacts"} <= tables:
        raise BackupError(f"{path} is not a CEE database (no meta, accounts, contacts tables)")


def _check_not_in_use(database: str) -> None:
    """Refuse while another process has the database open (a running `cee serve`).

    Leaving WAL mode needs the only connection to the database; a server holds several, so
    the switch fails at once while one runs. (The restore puts WAL back.)
    """
    conn = sqlite3.connect(database, timeout=0)
    try:
        mode = conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
    except sqlite3.OperationalError as exc:
        raise BackupError(
            f"{database} is in use ({exc}): stop `cee serve` and any `cee worker` first"
        ) from None
    finally:
        conn.close()
    if mode != "delete":
        raise BackupError(f"{database} is in use: stop `cee serve` and any `cee worker` first")
