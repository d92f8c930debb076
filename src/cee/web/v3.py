"""Netcore's JSON v3 endpoints: `POST /v3/contact/batchadd` and `POST /v3/contact/blacklist`.

The key comes in the `api-key` header and the body is JSON; answers and errors are in the same
envelope, codes and requestid as /apiv2's (CONTRACT.md sections 3 and 6). batchadd is `add`
with a JSON body: journaled, applied by the worker, its outcome under the requestid in
`type=request&activity=status`. blacklist is applied before the answer, one outcome per value.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cee.domain.contacts import ContactRecord, primary_key_value
from cee.domain.errors import (
    BadParameter,
    CeeError,
    InvalidContact,
    RateLimited,
    TooLarge,
    Unsupported,
)
from cee.domain.journal import JournalEntry
from cee.domain.keys import Principal
from cee.domain.outcomes import Outcome, result_word
from cee.domain.parameters import parse_listid
from cee.domain.writes import WriteContext
from cee.engine import Engine
from cee.ingest.imports.guard import AllowList, Refused, check_url
from cee.metrics import REQUESTS
from cee.web import idempotency
from cee.web.access import ACCESS
from cee.web.errors import (
    error_body,
    error_code,
    internal_error_body,
    rate_limit_headers,
    record_entry,
)
from cee.web.requestids import new_requestid

log = logging.getLogger(__name__)

# Netcore's batch API caps a contact at 20 attributes (CONTRACT.md section 4).
MAX_ATTRIBUTES = 20

ANY_METHOD = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
V3Handler = Callable[[Engine, Request, str], Awaitable[dict[str, Any]]]


def _json(status: int, body: dict[str, Any], requestid: str, extra: dict[str, str]) -> Response:
    return Response(
        orjson.dumps(body),
        status_code=status,
        media_type="application/json",
        headers={"x-request-id": requestid, **extra},
    )


def endpoint(engine: Engine, handler: V3Handler) -> Callable[[Request], Awaitable[Response]]:
    name = handler.__name__  # the metrics' and access log's activity: batchadd, blacklist

    async def answer(request: Request) -> Response:
        started = time.perf_counter()
        requestid = new_requestid()
        extra: dict[str, str] = {}
        who: Principal | None = None
        try:
            if request.method != "POST":
                # Answered here rather than by the router: the panel's catch-all mount would
                # otherwise take a GET to these paths and answer 404.
                extra["allow"] = "POST"
                raise Unsupported(f"method: {request.method} is not allowed on {request.url.path}")
            who = await _principal(engine, request)
            if who.rate_per_minute:
                await engine.limits.admit(who)
            status, body, requestid = await _once(engine, handler, request, requestid, who, extra)
        except CeeError as exc:
            if isinstance(exc, RateLimited):
                extra.update((k.decode(), v.decode()) for k, v in rate_limit_headers(exc))
            status, body = error_code(exc), error_body(exc, requestid)
        except Exception:
            log.exception("requestid %s: internal error", requestid)
            status, body = 500, internal_error_body(requestid)
        seconds = time.perf_counter() - started
        REQUESTS.record("v3", name, status, seconds)
        if ACCESS.enabled:
            account, prefix = (who.account_id, who.key_prefix) if who else (None, None)
            ACCESS.write(requestid, "v3", name, status, seconds, account, prefix)
        return _json(status, body, requestid, extra)

    return answer


async def _once(
    engine: Engine,
    handler: V3Handler,
    request: Request,
    requestid: str,
    who: Principal,
    extra: dict[str, str],
) -> tuple[int, dict[str, Any], str]:
    """The handler's answer; with an Idempotency-Key, once per key (see web/idempotency.py)."""
    key = request.headers.get(idempotency.HEADER)
    if key is None:
        return 200, await handler(engine, request, requestid), requestid

    async def run() -> tuple[int, dict[str, Any]]:
        return 200, await handler(engine, request, requestid)

    body = await request.body()  # kept by Starlette: the handler reads the same bytes
    headers = {h: request.headers.get(h) for h in ("primarykey", "channel")}
    done = await idempotency.answer_once(
        engine,
        who,
        idempotency.parse_key(key),
        idempotency.fingerprint(request.url.path, {"body": body.hex(), **headers}),
        requestid,
        run,
    )
    if done.replayed:
        extra["idempotent-replayed"] = "true"
    return done.status, done.body, done.requestid


async def _principal(engine: Engine, request: Request) -> Principal:
    await engine.catalog.ensure_fresh()
    return engine.catalog.authenticate(request.headers.get("api-key"))


async def _body(engine: Engine, request: Request) -> dict[str, Any]:
    limit = engine.settings.max_body_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"body: {declared} bytes; the limit is {limit}")
    raw = b""
    async for piece in request.stream():
        raw += piece
        if len(raw) > limit:
            raise TooLarge(f"body: over the limit of {limit} bytes")
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadParameter(f"body: not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise BadParameter("body: expected a JSON object")
    return value


def _data_list(body: dict[str, Any], max_records: int) -> list[Any]:
    data = body.get("data")
    if data is None:
        raise BadParameter("data: missing (a JSON array)")
    if not isinstance(data, list):
        raise BadParameter("data: expected a JSON array")
    if not data:
        raise BadParameter("data: an empty array holds nothing")
    if len(data) > max_records:
        raise TooLarge(f"data: {len(data)} records in one request; the limit is {max_records}")
    return data


def _check_primary_key(given: Any, engine: Engine, principal: Principal) -> None:
    if given is None or given == "":
        return
    actual = engine.catalog.schema(principal.account_id).primary_key
    if not isinstance(given, str) or given.strip().upper() != actual:
        raise BadParameter(f"primarykey: this account's primary key is {actual}")


async def batchadd(engine: Engine, request: Request, requestid: str) -> dict[str, Any]:
    principal = await _principal(engine, request)
    body = await _body(engine, request)
    data = _data_list(body, engine.settings.max_records)
    for index, item in enumerate(data):
        if isinstance(item, dict) and len(item) > MAX_ATTRIBUTES:
            raise InvalidContact(
                f"data[{index}]: {len(item)} attributes; the limit is {MAX_ATTRIBUTES}"
            )
    _check_primary_key(body.get("primarykey"), engine, principal)
    listid = parse_listid(body.get("listid"))
    payload: dict[str, Any] = {"data": data}
    if listid is not None:
        payload["listid"] = listid
    callback = body.get("callback") or body.get("callbackurl")
    if callback is not None:
        if not isinstance(callback, str):
            raise BadParameter("callback: expected a URL")
        try:
            await check_url(callback, AllowList.parse(engine.settings.bulk_allow_hosts))
        except Refused as exc:
            raise BadParameter(f"callback: {exc}") from None
        payload["callback"] = callback
    if body.get("notifyemail") is not None:
        payload["notifyemail"] = str(body["notifyemail"])
    gate = engine.journal
    gate.admit()
    p = principal
    entry = JournalEntry(0, requestid, p.account_id, p.user_id, p.key_prefix, "add", payload)
    await engine.store.journal_append(entry)
    gate.appended()
    return {"requestid": requestid, "result": "Success"}


async def blacklist(engine: Engine, request: Request, requestid: str) -> dict[str, Any]:
    principal = await _principal(engine, request)
    _check_primary_key(request.headers.get("primarykey"), engine, principal)
    channel = request.headers.get("channel", "email").strip().lower() or "email"
    if channel != "email":
        raise BadParameter(f"channel: '{channel}' cannot be blacklisted here (only email)")
    data = _data_list(await _body(engine, request), engine.settings.max_records)
    schema = engine.catalog.schema(principal.account_id)
    ctx = WriteContext(principal.account_id, requestid, principal.key_prefix, "blacklist")
    records: list[ContactRecord | CeeError] = []
    for value in data:
        try:
            key, display = primary_key_value(value, schema)
            records.append(ContactRecord(key, display, {schema.primary_key: display}))
        except (BadParameter, InvalidContact) as exc:
            records.append(InvalidContact(exc.details.replace("data:", "value:", 1)))
    # Concurrently: the store's group commit takes them in a few transactions, not one each.
    written = await asyncio.gather(
        *(
            engine.store.set_blacklisted(ctx, r, True)
            for r in records
            if isinstance(r, ContactRecord)
        ),
        return_exceptions=True,
    )
    done = iter(written)
    outcomes: list[Outcome] = []
    for r in records:
        if isinstance(r, CeeError):
            outcomes.append(r)
            continue
        result = next(done)
        if isinstance(result, CeeError):
            outcomes.append(result)
        elif isinstance(result, BaseException):
            raise result
        else:
            outcomes.append(None)
    return {
        "requestid": requestid,
        "result": result_word(outcomes),
        "records": [record_entry(i, o) for i, o in enumerate(outcomes)],
    }


def routes(engine: Engine) -> list[Route]:
    return [
        Route("/v3/contact/batchadd", endpoint(engine, batchadd), methods=ANY_METHOD),
        Route("/v3/contact/blacklist", endpoint(engine, blacklist), methods=ANY_METHOD),
    ]
