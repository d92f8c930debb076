"""API keys at rest: the database holds a key's HMAC and a sealed copy, never the key; the
sealed copy opens only for its user under this deployment's secret; Show is audited."""

from __future__ import annotations

import asyncio

import pytest

from cee.admin import accounts, audit, keys, users
from cee.domain.errors import NotFound
from cee.domain.key_vault import open_key, seal_key
from cee.domain.keys import hash_key, key_prefix, new_api_key
from tests.conftest import opened


def test_a_sealed_key_opens_only_for_its_user_and_secret() -> None:
    secret, other_secret = b"s" * 32, b"t" * 32
    key = new_api_key()
    sealed = seal_key(secret, 7, key)
    assert key not in sealed
    assert open_key(secret, 7, sealed) == key
    assert seal_key(secret, 7, key) != sealed  # a fresh nonce each time
    with pytest.raises(NotFound, match="rotate to view"):
        open_key(secret, 8, sealed)  # copied onto another user's row
    with pytest.raises(NotFound):
        open_key(other_secret, 7, sealed)  # another deployment's database
    tampered = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    with pytest.raises(NotFound):
        open_key(secret, 7, tampered)


def test_the_database_holds_no_key_in_clear_and_show_is_audited(url: str) -> None:
    async def main() -> None:
        async with opened(url) as store:
            creds = await accounts.create_account(store, "keys")
            made = await users.create_user(store, creds.account_id, "kim")
            rows = await _key_rows(store, url)
            for key in (creds.api_key, made.api_key):
                assert all(key not in str(value) for row in rows for value in row)
            kim = await users.find_user(store, "kim")
            with audit.acting_as("admin", "127.0.0.1"):
                assert await keys.show_key(store, kim) == made.api_key
            [entry] = [
                e
                for e in await audit.entries(store, creds.account_id, 50)
                if e.action == "key.show"
            ]
            assert (entry.actor, entry.target, entry.address) == ("admin", "kim", "127.0.0.1")
            # A key stored the old way (hash only) cannot be shown, only rotated.
            old = new_api_key()
            await store.replace_key(kim.id, hash_key(await store.secret(), old), key_prefix(old))
            assert not await keys.can_show(store, kim)
            with pytest.raises(NotFound, match="rotate to view"):
                await keys.show_key(store, kim)
            rotated = await keys.rotate_key(store, kim)
            assert await keys.show_key(store, kim) == rotated

    asyncio.run(main())


async def _key_rows(store: object, url: str) -> list[tuple[object, ...]]:
    """Every column of every api_keys row, read with the backend's own driver."""
    if url.startswith("sqlite:///"):
        import sqlite3

        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            return list(conn.execute("SELECT * FROM api_keys"))
    import psycopg

    with psycopg.connect(url) as conn:
        return list(conn.execute("SELECT * FROM api_keys").fetchall())
