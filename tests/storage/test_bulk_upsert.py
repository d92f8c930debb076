"""A bulk chunk's upsert, thousands of records in one set-based write, leaves exactly what the
same records applied one at a time (as separate `add`s) leave.

The same records (new and existing contacts, a key given twice, clears, list members old and
new) go once through `contacts.write_contacts` one record at a time and once as one chunk into
two databases; contacts, memberships and history must be identical.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from cee.domain.contacts import ContactRecord
from cee.domain.writes import ContactOp, WriteContext
from cee.storage.bulk import Chunk
from cee.storage.migrate import apply_migrations
from cee.storage.sqlite.connection import connect
from cee.storage.sqlite.contacts import read_history, upsert_pieces, write_contacts

NOW = "2026-01-01T00:00:00"


def record(email: str, **attributes: object) -> ContactRecord:
    return ContactRecord(email.lower(), email, {"EMAIL": email, **attributes})


def database(path: Path) -> sqlite3.Connection:
    apply_migrations(f"sqlite:///{path}", "sqlite")
    conn = connect(str(path))
    conn.execute("INSERT INTO accounts (name, created_at) VALUES ('a', ?)", (NOW,))
    conn.execute("INSERT INTO lists (account_id, name, created_at) VALUES (1, 'l', ?)", (NOW,))
    ctx = WriteContext(1, "0" * 32, "seed", "add")
    write_contacts(
        conn,
        ctx,
        ContactOp.UPSERT,
        [record("old@example.com", NAME="Old", CITY="Agra"), record("member@example.com")],
        None,
    )
    conn.execute(
        "INSERT INTO list_members (list_id, contact_id, added_at) "
        "SELECT 1, id, ? FROM contacts WHERE match_key = 'member@example.com'",
        (NOW,),
    )
    return conn


def snapshot(conn: sqlite3.Connection) -> tuple[list[tuple[object, ...]], ...]:
    contacts = conn.execute(
        "SELECT match_key, key_display, attributes FROM contacts ORDER BY match_key"
    ).fetchall()
    members = conn.execute(
        "SELECT c.match_key FROM list_members m JOIN contacts c ON c.id = m.contact_id ORDER BY 1"
    ).fetchall()
    # As a user reads it: each contact's entries, oldest first (where the store keeps them,
    # contact_history or a kept creation entry, is its own affair).
    history = [
        (key, entry.requestid, entry.activity, entry.changes)
        for key, _, _ in contacts
        for entry in read_history(conn, 1, key, None, None)
    ]
    return contacts, members, history


def test_a_chunk_upsert_equals_one_record_at_a_time(tmp_path: Path) -> None:
    records = [
        record("new@example.com", NAME="New", CITY="Pune"),
        record("old@example.com", NAME="Renamed"),  # merged: CITY kept
        record("member@example.com"),  # already in the list, nothing changes: no history
        record("NEW@example.com", CITY=None),  # the same new key again: merged, CITY cleared
        record("old@example.com", NAME="Renamed"),  # no change the second time
        record("other@example.com", AGE=30),
    ]
    ctx = WriteContext(1, "1" * 32, "bulk", "bulkupload")
    one_by_one = database(tmp_path / "a.db")
    for r in records:
        write_contacts(one_by_one, ctx, ContactOp.UPSERT, [r], 1)
    chunked = database(tmp_path / "b.db")
    write_contacts(chunked, ctx, ContactOp.UPSERT, records, 1)
    expected, got = snapshot(one_by_one), snapshot(chunked)
    assert got == expected
    _, members, history = got
    assert [m[0] for m in members] == [
        "member@example.com",
        "new@example.com",
        "old@example.com",
        "other@example.com",
    ]
    assert len([h for h in history if h[1] == "1" * 32]) == 4  # new x2, old, other
    # Without a list as well.
    plain_a, plain_b = database(tmp_path / "c.db"), database(tmp_path / "d.db")
    for r in records:
        write_contacts(plain_a, ctx, ContactOp.UPSERT, [r], None)
    write_contacts(plain_b, ctx, ContactOp.UPSERT, records, None)
    assert snapshot(plain_b) == snapshot(plain_a)


def test_a_chunk_in_pieces_equals_one_record_at_a_time(tmp_path: Path) -> None:
    # 250 records in three pieces, some of them contacts that exist (merged, the list joined),
    # the rest new: the set-based insert of each piece, then the plan for the ones that exist.
    records = [record(f"new{i}@example.com", NAME=f"New {i}") for i in range(250)]
    records[7] = record("old@example.com", NAME="Renamed")
    records[160] = record("member@example.com", CITY="Goa")
    ctx = WriteContext(1, "2" * 32, "bulk", "bulkupload")
    chunk = Chunk.of(records, list(range(250)), [], 250)
    assert chunk.distinct and len(chunk.pieces) == 3
    for listid in (1, None):
        one_by_one = database(tmp_path / f"e{listid}.db")
        for r in records:
            write_contacts(one_by_one, ctx, ContactOp.UPSERT, [r], listid)
        pieces = database(tmp_path / f"f{listid}.db")
        upsert_pieces(pieces, ctx, chunk, 0, 2, listid)
        upsert_pieces(pieces, ctx, chunk, 2, 3, listid)
        assert snapshot(pieces) == snapshot(one_by_one)
    # A key given twice: the whole chunk goes through the plan.
    twice = Chunk.of([*records, record("new0@example.com", CITY="Pune")], list(range(251)), [], 251)
    assert not twice.distinct
    one_by_one, pieces = database(tmp_path / "g.db"), database(tmp_path / "h.db")
    for r in [*records, record("new0@example.com", CITY="Pune")]:
        write_contacts(one_by_one, ctx, ContactOp.UPSERT, [r], 1)
    upsert_pieces(pieces, ctx, twice, 0, 3, 1)
    assert snapshot(pieces) == snapshot(one_by_one)
