"""Storage: one Store interface, a SQLite and a PostgreSQL implementation.

A store is built from its database URL here and only here (`open_store`): the URL's scheme
picks the backend, and nothing above storage looks at the scheme or the store's class.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cee.storage.base import Store

if TYPE_CHECKING:
    from cee.settings import Settings
    from cee.storage.sqlite.store import SqliteStore

SQLITE_SCHEME = "sqlite:///"
POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def open_store(url: str, settings: Settings | None = None) -> Store:
    """The Store for a database URL (not yet opened: call `await store.open()`).

    `settings` tunes the PostgreSQL store (pool size, config poll); SQLite needs none.
    """
    if url.startswith(SQLITE_SCHEME):
        return open_sqlite_store(url)
    if url.startswith(POSTGRES_SCHEMES):
        from cee.storage.postgres.store import PostgresStore

        if settings is None:
            return PostgresStore(url)
        return PostgresStore(
            url,
            pool_size=settings.pool_size,
            config_poll_seconds=settings.config_poll_seconds,
        )
    raise ValueError(f"database URL must start with sqlite:/// or postgresql://, got {url!r}")


def open_sqlite_store(url: str, writer_socket: str | None = None) -> SqliteStore:
    """The SQLite store of a sqlite:/// URL; with `writer_socket` it sends every write to the
    writer process listening there (`cee serve --processes`) instead of writing itself.

    Typed as the SQLite store: the writer process and its peers use what only it has.
    """
    from cee.storage.sqlite.store import SqliteStore

    path = sqlite_path(url)
    if path is None:
        raise ValueError(f"not a SQLite database URL: {url!r}")
    return SqliteStore(path, writer_socket)


def sqlite_path(url: str) -> str | None:
    """The database file of a sqlite:/// URL (for file-level tasks: backup, restore); None
    for a database of another backend."""
    return url.removeprefix(SQLITE_SCHEME) if url.startswith(SQLITE_SCHEME) else None


def single_writer(url: str) -> bool:
    """True when the database takes one write connection at a time (SQLite): processes that
    share it then send their writes to one writer process, so they share its group commit."""
    return url.startswith(SQLITE_SCHEME)
