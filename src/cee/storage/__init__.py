"""Storage: one Store interface, a SQLite and a PostgreSQL implementation."""

from __future__ import annotations

from cee.storage.base import Store


def open_store(url: str) -> Store:
    """The Store for a database URL (not yet opened: call `await store.open()`)."""
    if url.startswith("sqlite:///"):
        from cee.storage.sqlite.store import SqliteStore

        return SqliteStore(url.removeprefix("sqlite:///"))
    if url.startswith(("postgresql://", "postgres://")):
        from cee.storage.postgres.store import PostgresStore

        return PostgresStore(url)
    raise ValueError(f"database URL must start with sqlite:/// or postgresql://, got {url!r}")
