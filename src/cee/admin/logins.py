"""Panel logins: passwords checked, failures throttled, sessions kept server-side.

A session is a random token in the browser's cookie; the database keeps only its SHA-256, so a
copy of the database does not yield live sessions. Because the session lives in the database,
logout, a disabled user and a changed password end it at once on every process and node.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass

from cee.domain.errors import BadParameter, Forbidden, RateLimited
from cee.domain.keys import hash_password, verify_password
from cee.storage.base import Store, UserRow
from cee.storage.panel import SessionRow

log = logging.getLogger(__name__)

THROTTLE_FAILURES = 5  # failures for one username or one address within the window ...
THROTTLE_WINDOW_SECONDS = 15 * 60  # ... after which further attempts wait
FRESH_LOGIN_SECONDS = 10 * 60  # how recent a password must be to show an API key
TOUCH_EVERY_SECONDS = 60.0
STALE_SESSION_SECONDS = 24 * 3600  # a session's last-seen time is written at most this often
MIN_PASSWORD_LENGTH = 12
WRONG_LOGIN = "Username or password: wrong, or the user is disabled"

# Checked when the username does not exist, so a wrong username costs what a wrong password
# does and the answer's timing does not tell which usernames exist.
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


@dataclass(frozen=True, slots=True)
class Login:
    """A new session: the token for the cookie (shown to nobody else) and its user."""

    token: str
    user: UserRow


def session_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def _find_user(store: Store, username: str) -> UserRow | None:
    for row in await store.users():
        if row.username == username:
            return row
    return None


async def check_throttle(store: Store, username: str, address: str) -> None:
    """RateLimited (and a log line) once the username or the address failed too often."""
    by_user, by_address = await store.count_login_failures(
        username, address, THROTTLE_WINDOW_SECONDS
    )
    if by_user >= THROTTLE_FAILURES or by_address >= THROTTLE_FAILURES:
        log.warning(
            "panel login throttled: user %r from %s (%d failures for the user, %d from the "
            "address in %d minutes)",
            username,
            address,
            by_user,
            by_address,
            THROTTLE_WINDOW_SECONDS // 60,
        )
        raise RateLimited(
            "login: too many failed attempts; wait 15 minutes and try again",
            retry_after=THROTTLE_WINDOW_SECONDS,
        )


async def _verify(store: Store, username: str, password: str, address: str) -> UserRow:
    await check_throttle(store, username, address)
    user = await _find_user(store, username)
    ok = verify_password(user.password_hash if user else _DUMMY_HASH, password)
    if user is None or not ok or not user.active:
        await store.record_login_failure(username, address)
        log.warning("panel login failed: user %r from %s", username, address)
        raise Forbidden(WRONG_LOGIN)
    return user


async def log_in(store: Store, username: str, password: str, address: str) -> Login:
    """A new session for the user; Forbidden if wrong, RateLimited if throttled."""
    user = await _verify(store, username.strip(), password, address)
    token = secrets.token_urlsafe(32)
    await store.create_session(session_hash(token), user.id, secrets.token_urlsafe(32), address)
    # Housekeeping at each login, so neither table grows without bound: failures past the
    # window count for nothing, and sessions idle for a day are dead under any idle setting.
    await store.forget_login_failures(THROTTLE_WINDOW_SECONDS)
    await store.delete_idle_sessions(STALE_SESSION_SECONDS)
    log.info("panel login: user %r from %s", user.username, address)
    return Login(token, user)


async def session(store: Store, token: str | None, idle_seconds: float) -> SessionRow | None:
    """The live session of a cookie's token; None (and the row dropped) when idle too long."""
    if not token:
        return None
    key = session_hash(token)
    row = await store.get_session(key)
    if row is None:
        return None
    if row.seen_age > idle_seconds:
        await store.delete_session(key)
        return None
    if row.seen_age > TOUCH_EVERY_SECONDS:
        await store.touch_session(key)
    return row


async def log_out(store: Store, token: str) -> None:
    await store.delete_session(session_hash(token))


def is_fresh(row: SessionRow) -> bool:
    """Whether the session's password was given recently enough to show an API key."""
    return row.login_age <= FRESH_LOGIN_SECONDS


async def confirm_password(
    store: Store, token: str, row: SessionRow, password: str, address: str
) -> None:
    """The password asked again (to show a key): the session counts as fresh login again."""
    await _verify(store, row.username, password, address)
    await store.touch_session(session_hash(token), relogin=True)


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadParameter(f"password: at least {MIN_PASSWORD_LENGTH} characters")


async def set_password(store: Store, user: UserRow, password: str) -> None:
    """A new password; every session of the user ends (the caller logs the current one in)."""
    check_new_password(password)
    await store.set_password_hash(user.id, hash_password(password))
    await store.delete_user_sessions(user.id)


async def change_own_password(
    store: Store, row: SessionRow, current: str, new: str, address: str
) -> Login:
    """Change the session user's own password after checking the current one; a new session."""
    user = await _verify(store, row.username, current, address)
    await set_password(store, user, new)
    return await log_in(store, user.username, new, address)
