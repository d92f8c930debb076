"""Both dialect folders of named SQL define the same queries, and every query the code needs."""

from __future__ import annotations

from pathlib import Path

import aiosql
import pytest

from cee.storage.queries import DIALECT_ONLY, QUERY_NAMES, SQL_DIR

DIALECTS = ("sqlite", "postgres")


def names_in(dialect: str) -> set[str]:
    """The query names a dialect folder defines (as aiosql reads them)."""
    folder = SQL_DIR / dialect
    assert folder.is_dir(), f"no SQL folder for {dialect}: {folder}"
    loaded = aiosql.from_path(folder, "sqlite3", mandatory_parameters=False)
    return {name for name in loaded.available_queries if not name.endswith("_cursor")}


def files_in(dialect: str) -> set[str]:
    return {p.name for p in Path(SQL_DIR / dialect).glob("*.sql")}


def test_both_dialects_define_the_same_query_names() -> None:
    sqlite, postgres = names_in("sqlite"), names_in("postgres")
    assert sorted(sqlite - postgres - set(DIALECT_ONLY["sqlite"])) == [], "for SQLite only"
    assert sorted(postgres - sqlite - set(DIALECT_ONLY["postgres"])) == [], "for PostgreSQL only"
    # A name declared one dialect's own is not defined by the other after all.
    assert sorted(postgres & set(DIALECT_ONLY["sqlite"])) == []
    assert sorted(sqlite & set(DIALECT_ONLY["postgres"])) == []


def test_both_dialects_use_the_same_file_names() -> None:
    # One resource name through every layer: contacts.sql in each folder, and so on.
    assert files_in("sqlite") == files_in("postgres")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_query_the_code_needs_is_defined(dialect: str) -> None:
    missing = sorted(set(QUERY_NAMES) - names_in(dialect))
    assert missing == []
