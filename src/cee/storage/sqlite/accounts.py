"""Configuration writes on SQLite: the secret, accounts, users, keys, attributes, lists.

Write jobs: functions of the write connection, run by the writer in a group commit and named in
the job table (`jobs.py`). The store bumps the configuration stamp after each of them, so that
every process drops its catalog.
"""

from __future__ import annotations

import sqlite3

from cee.domain.attributes import BUILTIN_ATTRIBUTES
from cee.domain.errors import Duplicate
from cee.domain.keys import new_secret
from cee.storage.sqlite.connection import Q, utcnow


def get_or_make_secret(conn: sqlite3.Connection) -> str:
    row = conn.execute(Q.get_meta, ("key_secret",)).fetchone()
    if row is not None:
        return str(row[0])
    value = new_secret()
    conn.execute(Q.put_meta, ("key_secret", value))
    return value


def insert_account(conn: sqlite3.Connection, name: str, primary_key: str) -> int:
    now = utcnow()
    try:
        account_id = int(conn.execute(Q.insert_account, (name, primary_key, now)).fetchone()[0])
    except sqlite3.IntegrityError:
        raise Duplicate.entry(name, "account") from None
    for attr, datatype in BUILTIN_ATTRIBUTES.items():
        conn.execute(Q.insert_attribute, (account_id, attr, datatype.value, 1, now))
    return account_id


def update_api_mode(conn: sqlite3.Connection, account_id: int, on: bool) -> None:
    conn.execute(Q.update_api_mode, (int(on), account_id))


def update_primary_key(conn: sqlite3.Connection, account_id: int, attribute: str) -> None:
    conn.execute(Q.update_primary_key, (attribute, account_id))


def insert_user(
    conn: sqlite3.Connection, account_id: int, username: str, password_hash: str, is_admin: bool
) -> int:
    try:
        row = conn.execute(
            Q.insert_user, (account_id, username, password_hash, int(is_admin), utcnow())
        ).fetchone()
    except sqlite3.IntegrityError:
        raise Duplicate.entry(username, "username") from None
    return int(row[0])


def update_user_active(conn: sqlite3.Connection, user_id: int, active: bool) -> None:
    conn.execute(Q.update_user_active, (int(active), user_id))


def replace_key(conn: sqlite3.Connection, user_id: int, key_hash: str, prefix: str) -> None:
    now = utcnow()
    conn.execute(Q.revoke_user_keys, (now, user_id))
    conn.execute(Q.insert_key, (user_id, key_hash, prefix, now))


def insert_attribute(conn: sqlite3.Connection, account_id: int, name: str, datatype: str) -> None:
    row = conn.execute(Q.insert_attribute, (account_id, name, datatype, 0, utcnow())).fetchone()
    if row is None:
        raise Duplicate.entry(name, "attribute")


def insert_list(conn: sqlite3.Connection, account_id: int, name: str) -> int:
    row = conn.execute(Q.insert_list, (account_id, name, utcnow())).fetchone()
    if row is None:
        raise Duplicate.entry(name, "listname")
    return int(row[0])
