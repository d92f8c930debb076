"""`Idempotency-Key` (ext) on write activities: a retried request is answered, not redone.

The first request with a key claims it in the database (per account, atomically: of two
requests arriving together with one key, one claims and the other waits), runs, and keeps its
answer for KEEP_SECONDS. The same key with the same request then gets that answer again (same
status, same body and requestid, `Idempotent-Replayed: true`) without running: a retried
addsync answers 200 as the first did, never a 302 for the contact it made itself. The same key
with a different request is refused (422). A request that ends in a fault (500) or a 429 gives
its key back, so that the retry runs.

"The same request": the same route (type and activity, or v3 path) and the same parameters,
the API key aside (a rotated key retrying is still the same request).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson

from cee.domain.errors import BadParameter, CeeError, Conflict, KeyReused, RateLimited
from cee.domain.keys import Principal
from cee.engine import Engine
from cee.storage.ops import KeptAnswer
from cee.web.errors import error_body, error_code

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
HEADER_BYTES = b"idempotency-key"
REPLAYED = (b"idempotent-replayed", b"true")
KEEP_SECONDS = 24 * 3600.0
# A claim unanswered this long belongs to a request whose process died: a retry may take over.
ABANDON_SECONDS = 60.0
# How long a second request with the key waits for the first one's answer before a 409.
WAIT_SECONDS = 10.0
POLL_SECONDS = 0.02
MAX_KEY_LENGTH = 255
PURGE_SECONDS = 3600.0

Run = Callable[[], Awaitable[tuple[int, Any]]]


@dataclass(frozen=True, slots=True)
class Answered:
    status: int
    body: Any
    requestid: str
    replayed: bool


def parse_key(raw: str) -> str:
    key = raw.strip()
    if not key:
        raise BadParameter(f"{HEADER}: empty")
    if len(key) > MAX_KEY_LENGTH:
        raise BadParameter(f"{HEADER}: longer than {MAX_KEY_LENGTH} characters")
    if not key.isascii() or not key.isprintable():
        raise BadParameter(f"{HEADER}: only printable ASCII characters")
    return key


def fingerprint(route: str, params: dict[str, Any]) -> str:
    """What makes two requests the same one: the route and the parameters, the key aside."""
    significant = {k: v for k, v in params.items() if k != "apikey"}
    text = orjson.dumps([route, significant], option=orjson.OPT_SORT_KEYS, default=str)
    return hashlib.sha256(text).hexdigest()


async def answer_once(
    engine: Engine, principal: Principal, key: str, print_: str, requestid: str, run: Run
) -> Answered:
    """Run the request once per key: its own answer, or the kept one replayed."""
    store = engine.store
    account = principal.account_id
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        kept = await store.idempotency_claim(
            account, key, print_, requestid, KEEP_SECONDS, ABANDON_SECONDS
        )
        if kept is None:
            return await _first(engine, account, key, requestid, run)
        if kept.fingerprint != print_:
            raise KeyReused(
                f"{HEADER}: '{key}' was used for a different request (another activity or "
                "other parameters); use a new key for a new request"
            )
        kept = await _wait_for_answer(engine, account, key, kept, deadline)
        if kept is None:
            continue  # the first request gave the key back: claim it again
        assert kept.status is not None and kept.answer is not None
        return Answered(kept.status, orjson.loads(kept.answer), kept.requestid, True)


async def _first(engine: Engine, account: int, key: str, requestid: str, run: Run) -> Answered:
    store = engine.store
    try:
        status, body = await run()
    except RateLimited:
        await store.idempotency_release(account, key, requestid)
        raise
    except CeeError as exc:
        status, body = error_code(exc), error_body(exc, requestid)
    except BaseException:
        await store.idempotency_release(account, key, requestid)
        raise
    if not isinstance(body, dict):  # a file answer (never a write's): nothing to replay
        await store.idempotency_release(account, key, requestid)
        return Answered(status, body, requestid, False)
    await store.idempotency_finish(account, key, requestid, status, orjson.dumps(body).decode())
    return Answered(status, body, requestid, False)


async def _wait_for_answer(
    engine: Engine, account: int, key: str, kept: KeptAnswer, deadline: float
) -> KeptAnswer | None:
    """The claim once answered; None if it was given up meanwhile; Conflict past the wait."""
    current: KeptAnswer | None = kept
    while current is not None and current.status is None:
        if time.monotonic() > deadline:
            raise Conflict(
                f"{HEADER}: the first request with this key is still being answered; "
                "retry in a few seconds"
            )
        await asyncio.sleep(POLL_SECONDS)
        current = await engine.store.idempotency_get(account, key)
    return current


async def purge_kept_answers(engine: Engine) -> None:
    """Background job: forget answers older than KEEP_SECONDS, once an hour."""
    while True:
        await asyncio.sleep(PURGE_SECONDS)
        try:
            await engine.store.idempotency_purge(KEEP_SECONDS)
        except Exception:
            log.exception("could not purge old Idempotency-Key answers")
