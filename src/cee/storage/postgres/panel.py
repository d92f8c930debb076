"""The PostgreSQL side of `PanelStore`: sessions, login failures, audit, sealed keys, requests.

A mixin of `PostgresStore`. Single-statement writes go straight to the pool (each its own
autocommitted transaction): they change nothing the hot path caches, so they need neither the
group-commit writer nor a config notice. Ages and windows use the database's clock, so every
node agrees on an idle timeout or a throttle window.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import orjson

from cee.storage.panel import AuditRow, PanelStore, RequestRow, SessionRow
from cee.storage.queries import Queries

T = TypeVar("T")
Q = Queries("postgres")


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat(timespec="microseconds")


class PostgresPanel(PanelStore):
    _pool: Any

    if TYPE_CHECKING:

        async def _admin_write(self, fn: Callable[[Any], Awaitable[T]]) -> T: ...

    async def create_session(
        self, session_hash: str, user_id: int, csrf_token: str, address: str
    ) -> None:
        await self._pool.execute(Q.insert_session, session_hash, user_id, csrf_token, address)

    async def get_session(self, session_hash: str) -> SessionRow | None:
        r = await self._pool.fetchrow(Q.select_session, session_hash)
        if r is None:
            return None
        return SessionRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6])

    async def touch_session(self, session_hash: str, *, relogin: bool = False) -> None:
        sql = Q.refresh_session_login if relogin else Q.touch_session
        await self._pool.execute(sql, session_hash)

    async def delete_session(self, session_hash: str) -> None:
        await self._pool.execute(Q.delete_session, session_hash)

    async def delete_user_sessions(self, user_id: int) -> None:
        await self._pool.execute(Q.delete_user_sessions, user_id)

    async def delete_idle_sessions(self, idle_seconds: float) -> None:
        await self._pool.execute(Q.delete_idle_sessions, float(idle_seconds))

    async def record_login_failure(self, username: str, address: str) -> None:
        await self._pool.execute(Q.insert_login_failure, username, address)

    async def count_login_failures(
        self, username: str, address: str, window_seconds: float
    ) -> tuple[int, int]:
        r = await self._pool.fetchrow(
            Q.count_login_failures, username, address, float(window_seconds)
        )
        return int(r[0]), int(r[1])

    async def forget_login_failures(self, older_than_seconds: float) -> None:
        await self._pool.execute(Q.delete_login_failures, float(older_than_seconds))

    async def insert_audit(
        self,
        account_id: int,
        actor: str | None,
        action: str,
        target: str,
        address: str | None,
    ) -> None:
        await self._pool.execute(Q.insert_audit, account_id, actor, action, target, address)

    async def audit_entries(self, account_id: int, limit: int, offset: int) -> list[AuditRow]:
        rows = await self._pool.fetch(Q.select_audit, account_id, limit, offset)
        return [AuditRow(r[0], _iso(r[1]) or "", r[2], r[3], r[4], r[5]) for r in rows]

    async def set_password_hash(self, user_id: int, password_hash: str) -> None:
        await self._pool.execute(Q.update_user_password, password_hash, user_id)

    async def set_user_admin(self, user_id: int, is_admin: bool) -> None:
        await self._pool.execute(Q.update_user_admin, is_admin, user_id)

    async def set_phone_region(self, account_id: int, region: str | None) -> None:
        # Through the writer as an admin change: the accounts trigger tells every node.
        await self._admin_write(lambda c: c.execute(Q.update_phone_region, region, account_id))

    async def replace_sealed_key(
        self, user_id: int, key_hash: str, prefix: str, sealed: str
    ) -> None:
        async def rotate(conn: Any) -> None:
            await conn.execute(Q.revoke_user_keys, user_id)
            await conn.execute(Q.insert_sealed_key, user_id, key_hash, prefix, sealed)

        await self._admin_write(rotate)

    async def current_key(self, user_id: int) -> tuple[str, str | None] | None:
        r = await self._pool.fetchrow(Q.select_current_key, user_id)
        return (r[0], r[1]) if r else None

    async def recent_requests(self, account_id: int, limit: int, offset: int) -> list[RequestRow]:
        rows = await self._pool.fetch(Q.select_recent_journal, account_id, limit, offset)
        return [
            RequestRow(
                r[0],
                r[1],
                r[2],
                r[3],
                orjson.loads(r[4]) if r[4] else None,
                _iso(r[5]) or "",
                _iso(r[6]),
            )
            for r in rows
        ]
