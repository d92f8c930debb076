"""Numbered schema migrations, applied with yoyo (one folder of .sql files per dialect)."""

from __future__ import annotations

from pathlib import Path

from yoyo import get_backend, read_migrations

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def shipped_migrations(dialect: str) -> set[str]:
    """The ids (file stems) of the migrations this version ships for `dialect`."""
    folder = MIGRATIONS_DIR / dialect
    return {p.stem for p in folder.glob("*.sql") if not p.stem.endswith(".rollback")}


def apply_migrations(url: str, dialect: str) -> int:
    """Apply pending migrations; returns how many ran. Safe to run from several processes."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return _apply_postgres(url, dialect)
    return _apply(url, dialect)


def _apply(url: str, dialect: str) -> int:
    backend = get_backend(url)
    try:
        migrations = read_migrations(str(MIGRATIONS_DIR / dialect))
        with backend.lock():
            pending = backend.to_apply(migrations)
            backend.apply_migrations(pending)
        return len(pending)
    finally:
        backend.connection.close()  # yoyo leaves it open


# Any constant: the advisory lock that serialises `cee init`/`cee serve` starting together.
_MIGRATION_LOCK = 0x6CEE0001


def _apply_postgres(url: str, dialect: str) -> int:
    # yoyo's own lock is a row in a table it first creates, and two processes creating that
    # table at once can collide; a session advisory lock taken first makes starts queue.
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_MIGRATION_LOCK,))
        try:
            return _apply("postgresql+psycopg://" + url.split("://", 1)[1], dialect)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_MIGRATION_LOCK,))
