"""What the panel keeps beside the engine's data: sessions, login failures, audit, sealed keys.

Declared apart from `base.Store` (which inherits it) so the hot path's interface stays readable;
both backends implement it in their own `panel.py`.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class SessionRow:
    """A live panel session and who it belongs to (only ever an active user)."""

    user_id: int
    account_id: int
    username: str
    is_admin: bool
    csrf_token: str
    login_age: float  # seconds since the password was last given in this session
    seen_age: float  # seconds since the session's last request


@dataclass(frozen=True, slots=True)
class AuditRow:
    id: int
    at: str
    actor: str | None  # None: the operator's CLI
    action: str
    target: str
    address: str | None


@dataclass(frozen=True, slots=True)
class RequestRow:
    """One async request as the Requests page lists it."""

    requestid: str
    activity: str
    state: str
    result: str | None
    records: list[dict[str, Any]] | None
    created_at: str
    finished_at: str | None


class PanelStore(abc.ABC):
    # -- sessions -------------------------------------------------------------------------

    @abc.abstractmethod
    async def create_session(
        self, session_hash: str, user_id: int, csrf_token: str, address: str
    ) -> None: ...

    @abc.abstractmethod
    async def get_session(self, session_hash: str) -> SessionRow | None:
        """The session if it exists and its user is active (callers apply the idle timeout)."""

    @abc.abstractmethod
    async def touch_session(self, session_hash: str, *, relogin: bool = False) -> None:
        """Mark the session seen now; `relogin`: the password was just given again."""

    @abc.abstractmethod
    async def delete_session(self, session_hash: str) -> None: ...

    @abc.abstractmethod
    async def delete_user_sessions(self, user_id: int) -> None: ...

    @abc.abstractmethod
    async def delete_idle_sessions(self, idle_seconds: float) -> None: ...

    # -- login throttle -------------------------------------------------------------------

    @abc.abstractmethod
    async def record_login_failure(self, username: str, address: str) -> None: ...

    @abc.abstractmethod
    async def count_login_failures(
        self, username: str, address: str, window_seconds: float
    ) -> tuple[int, int]:
        """(failures for the username, failures from the address) within the window."""

    @abc.abstractmethod
    async def forget_login_failures(self, older_than_seconds: float) -> None: ...

    # -- audit, passwords, sealed keys, requests ------------------------------------------

    @abc.abstractmethod
    async def insert_audit(
        self,
        account_id: int,
        actor: str | None,
        action: str,
        target: str,
        address: str | None,
    ) -> None: ...

    @abc.abstractmethod
    async def audit_entries(self, account_id: int, limit: int, offset: int) -> list[AuditRow]: ...

    @abc.abstractmethod
    async def set_password_hash(self, user_id: int, password_hash: str) -> None: ...

    @abc.abstractmethod
    async def set_user_admin(self, user_id: int, is_admin: bool) -> None: ...

    @abc.abstractmethod
    async def set_phone_region(self, account_id: int, region: str | None) -> None:
        """The account's region for mobile numbers; None: the deployment's default."""

    @abc.abstractmethod
    async def replace_sealed_key(
        self, user_id: int, key_hash: str, prefix: str, sealed: str
    ) -> None:
        """As `replace_key`, storing the key's sealed copy too, in one transaction."""

    @abc.abstractmethod
    async def current_key(self, user_id: int) -> tuple[str, str | None] | None:
        """(prefix, sealed copy or None for an old key) of the user's live key; None if none."""

    @abc.abstractmethod
    async def recent_requests(
        self, account_id: int, limit: int, offset: int
    ) -> list[RequestRow]: ...
