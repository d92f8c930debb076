"""Numbered schema migrations, applied with yoyo (one folder of .sql files per dialect)."""

from __future__ import annotations

from pathlib import Path

from yoyo import get_backend, read_migrations

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def apply_migrations(url: str, dialect: str) -> int:
    """Apply pending migrations; returns how many ran. Safe to run from several processes."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    backend = get_backend(url)
    migrations = read_migrations(str(MIGRATIONS_DIR / dialect))
    with backend.lock():
        pending = backend.to_apply(migrations)
        backend.apply_migrations(pending)
    return len(pending)
