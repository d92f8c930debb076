"""API keys and panel passwords: how they are made, stored and checked.

A key is `cee_` followed by 40 random URL-safe characters. Only an HMAC-SHA256 of it, keyed with
the deployment's secret, is stored: a stolen database does not yield working keys, and the hash
lets the server find a key's owner with one dictionary lookup. The panel shows the first
characters (the *prefix*) so a user can tell keys apart.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError

KEY_PREFIX = "cee_"
PREFIX_SHOWN = 12

_hasher = PasswordHasher()


def new_api_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(30)


def key_prefix(key: str) -> str:
    return key[:PREFIX_SHOWN]


def hash_key(secret: bytes, key: str) -> str:
    # hmac.digest: the one-shot C path, a few times faster than hmac.new(...).hexdigest().
    return hmac.digest(secret, key.encode("utf-8", "surrogateescape"), "sha256").hex()


def new_secret() -> str:
    return secrets.token_hex(32)


def new_password() -> str:
    return secrets.token_urlsafe(15)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a valid API key speaks for."""

    account_id: int
    user_id: int
    key_prefix: str
    rate_per_minute: int = 0  # the key's request limit (`cee key limit`); 0: none


def verify_password(password_hash: str, password: str) -> bool:
    """Whether the password matches its argon2 hash (constant work whatever the answer)."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, InvalidHashError):
        return False
