"""The SQLite side of `PanelStore`: sessions, login failures, audit, sealed keys, requests.

A mixin of `SqliteStore`: reads go to its reader threads, writes to its one writer as
named jobs of the closed table in `jobs.py` (with `--processes` the writer process runs them,
sent there by name with plain-value arguments).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import orjson

from cee.storage.panel import AuditRow, PanelStore, RequestRow, SessionRow
from cee.storage.queries import Queries

T = TypeVar("T")
Q = Queries("sqlite")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _before(seconds: float) -> str:
    return (datetime.now(UTC) - timedelta(seconds=seconds)).isoformat(timespec="microseconds")


def _age(moment: str) -> float:
    return (datetime.now(UTC) - datetime.fromisoformat(moment)) / timedelta(seconds=1)


class SqlitePanel(PanelStore):
    if TYPE_CHECKING:

        async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T: ...
        async def _write(self, name: str, *args: Any, weight: int = 1) -> Any: ...

    async def create_session(
        self, session_hash: str, user_id: int, csrf_token: str, address: str
    ) -> None:
        await self._write("insert_session", session_hash, user_id, csrf_token, address)

    async def get_session(self, session_hash: str) -> SessionRow | None:
        row = await self._read(lambda c: c.execute(Q.select_session, (session_hash,)).fetchone())
        if row is None:
            return None
        return SessionRow(row[0], row[1], row[2], bool(row[3]), row[4], _age(row[5]), _age(row[6]))

    async def touch_session(self, session_hash: str, *, relogin: bool = False) -> None:
        await self._write("touch_session", session_hash, relogin)

    async def delete_session(self, session_hash: str) -> None:
        await self._write("delete_session", session_hash)

    async def delete_user_sessions(self, user_id: int) -> None:
        await self._write("delete_user_sessions", user_id)

    async def delete_idle_sessions(self, idle_seconds: float) -> None:
        await self._write("delete_idle_sessions", _before(idle_seconds))

    async def record_login_failure(self, username: str, address: str) -> None:
        await self._write("insert_login_failure", username, address, _now())

    async def count_login_failures(
        self, username: str, address: str, window_seconds: float
    ) -> tuple[int, int]:
        since = _before(window_seconds)
        row = await self._read(
            lambda c: c.execute(
                Q.count_login_failures, (username, since, address, since)
            ).fetchone()
        )
        return int(row[0]), int(row[1])

    async def forget_login_failures(self, older_than_seconds: float) -> None:
        await self._write("delete_login_failures", _before(older_than_seconds))

    async def insert_audit(
        self,
        account_id: int,
        actor: str | None,
        action: str,
        target: str,
        address: str | None,
    ) -> None:
        await self._write("insert_audit", account_id, actor, action, target, address, _now())

    async def audit_entries(self, account_id: int, limit: int, offset: int) -> list[AuditRow]:
        rows = await self._read(
            lambda c: c.execute(Q.select_audit, (account_id, limit, offset)).fetchall()
        )
        return [AuditRow(*r) for r in rows]

    async def set_password_hash(self, user_id: int, password_hash: str) -> None:
        await self._write("update_user_password", password_hash, user_id)

    async def set_user_admin(self, user_id: int, is_admin: bool) -> None:
        await self._write("update_user_admin", int(is_admin), user_id)

    async def set_phone_region(self, account_id: int, region: str | None) -> None:
        await self._write("update_phone_region", region, account_id)

    async def replace_sealed_key(
        self, user_id: int, key_hash: str, prefix: str, sealed: str
    ) -> None:
        await self._write("replace_sealed_key", user_id, key_hash, prefix, sealed)

    async def current_key(self, user_id: int) -> tuple[str, str | None] | None:
        row = await self._read(lambda c: c.execute(Q.select_current_key, (user_id,)).fetchone())
        return (row[0], row[1]) if row else None

    async def recent_requests(self, account_id: int, limit: int, offset: int) -> list[RequestRow]:
        rows = await self._read(
            lambda c: c.execute(Q.select_recent_journal, (account_id, limit, offset)).fetchall()
        )
        return [
            RequestRow(r[0], r[1], r[2], r[3], orjson.loads(r[4]) if r[4] else None, r[5], r[6])
            for r in rows
        ]


# -- write jobs: functions of the write connection, named in jobs.py (see SqliteStore._write) -----


def insert_session(
    conn: sqlite3.Connection, session_hash: str, user_id: int, csrf_token: str, address: str
) -> None:
    now = _now()
    conn.execute(Q.insert_session, (session_hash, user_id, csrf_token, address, now, now))


def touch_session(conn: sqlite3.Connection, session_hash: str, relogin: bool) -> None:
    now = _now()
    if relogin:
        conn.execute(Q.refresh_session_login, (now, now, session_hash))
    else:
        conn.execute(Q.touch_session, (now, session_hash))


def replace_sealed_key(
    conn: sqlite3.Connection, user_id: int, key_hash: str, prefix: str, sealed: str
) -> None:
    now = _now()
    conn.execute(Q.revoke_user_keys, (now, user_id))
    conn.execute(Q.insert_sealed_key, (user_id, key_hash, prefix, now, sealed))
