"""SQLite keeps a new contact's creation entry on its row until the contact first changes
(storage/sqlite/creations.py); what a user reads must not tell where it is kept.

Through the write jobs themselves on a real database file: the history of a contact created
by addsync, add and an import, before and after each kind of change, and every page of the
activity exports' reads, against the entries the contact should have.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from cee.domain.contacts import ContactRecord
from cee.domain.writes import ContactOp, WriteContext
from cee.storage.migrate import apply_migrations
from cee.storage.sqlite import contacts
from cee.storage.sqlite.connection import connect

NOW = "2026-01-01T00:00:00"
ALL_TIME = ("2000-01-01", "2100-01-01")


def record(email: str, **attributes: object) -> ContactRecord:
    return ContactRecord(email.lower(), email, {"EMAIL": email, **attributes})


@pytest.fixture
def conn(tmp_path: Path) -> sqlite3.Connection:
    path = tmp_path / "kept.db"
    apply_migrations(f"sqlite:///{path}", "sqlite")
    conn = connect(str(path))
    conn.execute("INSERT INTO accounts (name, created_at) VALUES ('a', ?)", (NOW,))
    conn.execute("INSERT INTO lists (account_id, name, created_at) VALUES (1, 'l', ?)", (NOW,))
    return conn


def ctx(activity: str, n: int) -> WriteContext:
    return WriteContext(1, str(n) * 32, "key1", activity)


def seen(conn: sqlite3.Connection, key: str) -> list[tuple[str, str, dict[str, object]]]:
    return [
        (e.requestid[0], e.activity, e.changes)
        for e in contacts.read_history(conn, 1, key, None, None)
    ]


def kept_rows(conn: sqlite3.Connection) -> int:
    (n,) = conn.execute(
        "SELECT count(*) FROM contacts WHERE created_requestid IS NOT NULL"
    ).fetchone()
    return int(n)


def test_an_addsync_create_reads_as_its_creation_entry_then_moves_on_change(
    conn: sqlite3.Connection,
) -> None:
    [outcomes] = contacts.create_contacts(
        conn, [(ctx("addsync", 1), [record("a@example.com", NAME="Ann")], 1)]
    )
    assert outcomes == [None]
    creation = (
        "1",
        "addsync",
        {"EMAIL": [None, "a@example.com"], "NAME": [None, "Ann"], "_list_joined": 1},
    )
    assert seen(conn, "a@example.com") == [creation]
    assert kept_rows(conn) == 1  # no history row was written for it
    assert conn.execute("SELECT count(*) FROM contact_history").fetchone() == (0,)
    contacts.write_contacts(
        conn, ctx("update", 2), ContactOp.UPDATE, [record("a@example.com", NAME="Anna")], None
    )
    # The creation entry still says what the contact was created with, then the change.
    assert seen(conn, "a@example.com") == [creation, ("2", "update", {"NAME": ["Ann", "Anna"]})]
    assert kept_rows(conn) == 0


@pytest.mark.parametrize("change", ["blacklist", "leave", "empty"])
def test_every_kind_of_change_keeps_the_creation_entry_first(
    conn: sqlite3.Connection, change: str
) -> None:
    contacts.write_contacts(
        conn, ctx("bulkupload", 3), ContactOp.UPSERT, [record("b@example.com", CITY="Pune")], 1
    )
    creation = (
        "3",
        "bulkupload",
        {"EMAIL": [None, "b@example.com"], "CITY": [None, "Pune"], "_list_joined": 1},
    )
    assert seen(conn, "b@example.com") == [creation]
    if change == "blacklist":
        contacts.set_blacklisted(conn, ctx("blacklist", 4), record("b@example.com"), True)
    elif change == "leave":
        contacts.remove_from_list(conn, ctx("delete", 4), "b@example.com", 1)
    else:
        contacts.empty_list(conn, ctx("emptylist", 4), 1)
    history = seen(conn, "b@example.com")
    assert history[0] == creation and len(history) == 2 and history[1][0] == "4"


def test_every_page_of_the_activity_reads_agrees_with_the_whole(conn: sqlite3.Connection) -> None:
    contacts.write_contacts(
        conn, ctx("add", 5), ContactOp.UPSERT, [record("c@example.com", AGE=1)], None
    )
    for n, age in enumerate((2, 3, 4), start=6):
        contacts.write_contacts(
            conn, ctx("add", n), ContactOp.UPSERT, [record("c@example.com", AGE=age)], None
        )
    # Before the changes moved it, and (a fresh contact) while it is still kept.
    contacts.write_contacts(
        conn, ctx("add", 9), ContactOp.UPSERT, [record("d@example.com", NAME="Dee")], None
    )
    for key in ("c@example.com", "d@example.com"):
        for activity, change in (
            (None, None),
            ("add", None),
            (None, "AGE"),
            (None, "NAME"),
            ("update", None),
        ):
            where = (1, key, *ALL_TIME, activity, change)
            total, whole = contacts.read_history_page(conn, where, 0, None)
            assert total == len(whole)
            for offset in range(len(whole) + 1):
                for limit in range(len(whole) + 2):
                    count, page = contacts.read_history_page(conn, where, offset, limit)
                    assert (count, page) == (total, whole[offset : offset + limit])
    total, whole = contacts.read_history_page(
        conn, (1, "d@example.com", *ALL_TIME, None, "NAME"), 0, None
    )
    assert total == 1 and whole[0].changes == {
        "EMAIL": [None, "d@example.com"],
        "NAME": [None, "Dee"],
    }
    # The time bounds hold for the kept entry as for the rest.
    assert contacts.read_history_page(
        conn, (1, "d@example.com", "2100-01-01", "2200-01-01", None, None), 0, None
    ) == (0, [])
    assert contacts.read_history(conn, 1, "d@example.com", "2100-01-01", None) == []
