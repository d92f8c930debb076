"""Storage: one Store interface, a SQLite and a PostgreSQL implementation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cee.storage.base import Store

if TYPE_CHECKING:
    from cee.settings import Settings


def open_store(url: str, settings: Settings | None = None) -> Store:
    """The Store for a database URL (not yet opened: call `await store.open()`).

    `settings` tunes the PostgreSQL store (pool size, config poll); SQLite needs none.
    """
    if url.startswith("sqlite:///"):
        from cee.storage.sqlite.store import SqliteStore

        return SqliteStore(url.removeprefix("sqlite:///"))
    if url.startswith(("postgresql://", "postgres://")):
        from cee.storage.postgres.store import PostgresStore

        if settings is None:
            return PostgresStore(url)
        return PostgresStore(
            url,
            pool_size=settings.pool_size,
            config_poll_seconds=settings.config_poll_seconds,
        )
    raise ValueError(f"database URL must start with sqlite:/// or postgresql://, got {url!r}")
