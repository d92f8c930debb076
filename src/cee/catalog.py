"""The in-memory catalog: API keys and account schemas, so the hot path does no I/O.

It is rebuilt whole whenever the store says configuration changed (a key rotated, a user
disabled, API Mode switched, an attribute defined), which the store learns from another process
by a stamp file (SQLite) or LISTEN/NOTIFY (PostgreSQL). The data is small: one row per key and
per attribute.
"""

from __future__ import annotations

import asyncio

from cee.domain.contacts import Schema
from cee.domain.errors import Forbidden, InvalidKey
from cee.domain.keys import Principal, hash_key, key_prefix
from cee.storage.base import KeyRow, Store

# The two ways that exist to turn it on: the panel, at Netcore's own path (what a Netcore user
# looks for), and the CLI.
API_MODE_OFF = (
    "API Mode is off for this account: turn it on in the panel under Admin → Account "
    "Configuration → Advance details → API Mode, or with `cee account api-mode on`"
)


class Catalog:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._secret = b""
        self._keys: dict[str, KeyRow] = {}
        self._schemas: dict[int, Schema] = {}
        # Keys already seen to authenticate, so the HMAC runs once per key, not per request.
        # Only valid keys go in (its size is bounded by the live keys), and a rebuild empties it.
        self._principals: dict[str, Principal] = {}
        self._lock = asyncio.Lock()

    async def refresh(self) -> None:
        async with self._lock:
            if not self._secret:
                self._secret = await self.store.secret()
            keys = await self.store.active_keys()
            accounts = await self.store.accounts()
            attributes = await self.store.all_attributes()
            self._keys = {k.key_hash: k for k in keys}
            self._principals = {}
            self._schemas = {
                a.id: Schema(attributes.get(a.id, {}), a.primary_key, a.phone_region)
                for a in accounts
            }

    async def ensure_fresh(self) -> None:
        """Rebuild if anything changed since the last look (a stat() or a flag: cheap)."""
        if self.store.config_changed():
            await self.refresh()
        elif self._lock.locked():
            # Another caller (a request, the worker) took the change signal and is rebuilding
            # right now: wait for it, or this request would run on the catalog it replaces.
            async with self._lock:
                pass

    def authenticate(self, apikey: str | None) -> Principal:
        if not apikey:
            raise InvalidKey()
        known = self._principals.get(apikey)
        if known is not None:
            return known
        row = self._keys.get(hash_key(self._secret, apikey))
        if row is None or not row.user_active:
            raise InvalidKey()
        if not row.api_mode:
            raise Forbidden(API_MODE_OFF)
        principal = Principal(row.account_id, row.user_id, key_prefix(apikey), row.rate_per_minute)
        self._principals[apikey] = principal
        return principal

    def schema(self, account_id: int) -> Schema:
        return self._schemas[account_id]
