"""`/apiv2`: parse query and body, authenticate, dispatch on (type, activity) through the route
table (`routes.py`), answer JSON.

A plain ASGI callable rather than a framework route: this is the hot path, and per-request
framework machinery (routing, request objects, model validation) costs more than the rest of
the work. Every answer carries a fresh requestid, in the body and in `X-Request-Id`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import orjson

from cee.domain.errors import BadParameter, CeeError, Internal, RateLimited, TooLarge
from cee.domain.keys import Principal
from cee.engine import Engine
from cee.metrics import REQUESTS
from cee.web import idempotency
from cee.web.access import ACCESS
from cee.web.apiv2.call import ApiCall, RawBody
from cee.web.apiv2.params import parse_body, parse_query, query_key
from cee.web.apiv2.routes import ACTIVITIES, READS, ROUTES, TYPES
from cee.web.errors import error_body, error_code, internal_error_body, rate_limit_headers
from cee.web.requestids import new_requestid
from cee.web.security import API_HEADERS

log = logging.getLogger(__name__)
# The type and activity a request is counted and logged under until its route is known (a bad
# key is refused before `type` is read; an unknown type has none): one fixed value, so that
# clients sending junk cannot grow the metrics' label sets without bound.
UNRESOLVED = "-"

Scope = dict[str, Any]


class ClientGone(Exception):
    """The client went away (or the stack cut it off) before its body was all read."""


def _check_length(value: bytes, limit: int) -> None:
    # httptools has already refused a Content-Length that is not a number; this one only
    # bounds what may be buffered, before any of it is read.
    if int(value) > limit:
        raise TooLarge(f"body: {int(value)} bytes; the limit is {limit}")


async def _read_body(receive: Any, limit: int) -> bytes:
    message = await receive()
    if message["type"] == "http.disconnect":
        raise ClientGone
    chunk = message.get("body", b"")
    if not message.get("more_body", False):  # the usual case: the whole body in one message
        if len(chunk) > limit:
            raise TooLarge(f"body: over the limit of {limit} bytes")
        return bytes(chunk)
    chunks: list[bytes] = [chunk]
    size = len(chunk)
    more = True
    while more:
        if size > limit:
            raise TooLarge(f"body: over the limit of {limit} bytes")
        message = await receive()
        if message["type"] == "http.disconnect":
            # Never act on part of a body: a cut-off form can still parse (`listid=1` of
            # `listid=12`).
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        chunks.append(chunk)
        more = message.get("more_body", False)
    if size > limit:
        raise TooLarge(f"body: over the limit of {limit} bytes")
    return b"".join(chunks)


# Set in the scope once the whole body has been read.
BODY_READ = "cee.body_read"


def _declares_body(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if (name == b"content-length" and value.strip(b"0")) or name == b"transfer-encoding":
            return True
    return False


def _word(params: dict[str, Any], name: str, choices: list[str]) -> str:
    value = params.get(name)
    if value is not None and not isinstance(value, str):
        raise BadParameter(f"{name}: expected text (one of {', '.join(choices)})")
    if not value or not value.strip():
        raise BadParameter(f"{name}: missing (one of {', '.join(choices)})")
    return value.strip().lower()


_JSON = (b"content-type", b"application/json")


async def send_json(
    send: Any, status: int, body: dict[str, Any], requestid: str, extra: list[Any] | None = None
) -> None:
    payload = orjson.dumps(body)
    headers = [
        _JSON,
        (b"content-length", b"%d" % len(payload)),
        (b"x-request-id", requestid.encode()),
        *API_HEADERS,
    ]
    if extra:
        headers.extend(extra)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


async def send_file(send: Any, status: int, body: RawBody, requestid: str) -> None:
    headers = [
        (b"content-type", body.content_type.encode()),
        (b"content-length", str(len(body.content)).encode()),
        (b"content-disposition", f'attachment; filename="{body.filename}"'.encode()),
        (b"x-request-id", requestid.encode()),
        *API_HEADERS,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body.content})


@dataclass(slots=True)
class Exchange:
    """One request as the ops side sees it: its requestid, its route once resolved, who sent
    it once authenticated, and any headers its answer adds."""

    requestid: str
    kind: str = UNRESOLVED
    activity: str = UNRESOLVED
    principal: Principal | None = None
    headers: list[tuple[bytes, bytes]] | None = None


async def handle(engine: Engine, scope: Scope, receive: Any, send: Any) -> None:
    started = time.perf_counter()
    ex = Exchange(new_requestid())
    try:
        status, body = await _answer(engine, scope, receive, ex)
    except ClientGone:
        return  # no one to answer
    except CeeError as exc:
        status, body = error_code(exc), error_body(exc, ex.requestid)
        if isinstance(exc, RateLimited):
            ex.headers = [*(ex.headers or []), *rate_limit_headers(exc)]
        elif isinstance(exc, Internal):
            log.error("requestid %s: %s", ex.requestid, exc.details, extra=_log_fields(ex))
        if not scope.get(BODY_READ) and _declares_body(scope):
            # Refused before its body was read (too large, a PUT, a bad key): the connection
            # closes rather than draining what may be gigabytes, after the stack's lingering
            # close has let the client finish writing and read this answer (cee.web.stack).
            ex.headers = [*(ex.headers or []), (b"connection", b"close")]
    except Exception:
        log.exception("requestid %s: internal error", ex.requestid, extra=_log_fields(ex))
        status, body = 500, internal_error_body(ex.requestid)
    if isinstance(body, RawBody):
        await send_file(send, status, body, ex.requestid)
    else:
        await send_json(send, status, body, ex.requestid, ex.headers)
    seconds = time.perf_counter() - started
    REQUESTS.record(ex.kind, ex.activity, status, seconds)
    if ACCESS.enabled:
        who = ex.principal
        ACCESS.write(
            ex.requestid,
            ex.kind,
            ex.activity,
            status,
            seconds,
            who.account_id if who else None,
            who.key_prefix if who else None,
        )


def _log_fields(ex: Exchange) -> dict[str, Any]:
    """The request's fields for a log record's `extra` (the JSON log shows them)."""
    who = ex.principal
    return {
        "requestid": ex.requestid,
        "type": ex.kind,
        "activity": ex.activity,
        "account_id": who.account_id if who else None,
        "key_prefix": who.key_prefix if who else None,
    }


async def _answer(engine: Engine, scope: Scope, receive: Any, ex: Exchange) -> Any:
    await engine.catalog.ensure_fresh()
    # The three request headers this handler reads, found in one pass.
    # The three request headers this handler reads, found in one pass (the first of each).
    content_type = length = idempotency_key = None
    for name, value in scope["headers"]:
        if name == b"content-type":
            if content_type is None:
                content_type = value
        elif name == b"content-length":
            if length is None:
                length = value
        elif name == idempotency.HEADER_BYTES and idempotency_key is None:
            idempotency_key = value
    try:
        params = parse_query(scope["query_string"])
        if scope["method"] not in ("GET", "POST"):
            raise BadParameter(f"method: {scope['method']} is not supported; use POST or GET")
        limit = engine.settings.max_body_bytes
        if length is not None:
            _check_length(length, limit)
        body = await _read_body(receive, limit)
        if body:
            params.update(parse_body(bytes(content_type or b""), body))
        scope[BODY_READ] = True
    except (BadParameter, TooLarge):
        # The key is checked before anything else wherever it can be read. The body wins over
        # the query, so a key in the query is final only once the body is known not to hold
        # one: here the request is refused before (or while) reading the body, and the query's
        # key, if any, is checked first (401/403 rather than this error).
        readable_key = query_key(scope["query_string"])
        if readable_key is not None:
            engine.catalog.authenticate(readable_key)
        raise
    apikey = params.get("apikey")
    principal = engine.catalog.authenticate(apikey if isinstance(apikey, str) else None)
    ex.principal = principal
    if principal.rate_per_minute:
        await engine.limits.admit(principal)
    kind = _word(params, "type", TYPES)
    activities = ACTIVITIES.get(kind)
    if not activities:
        raise BadParameter(f"type: '{kind}' is not one of {', '.join(TYPES)}")
    activity = _word(params, "activity", activities)
    handler = ROUTES.get((kind, activity))
    if handler is None:
        raise BadParameter(
            f"activity: '{activity}' is not an activity of type {kind} "
            f"(one of {', '.join(activities)})"
        )
    ex.kind, ex.activity = kind, activity
    call = ApiCall(params, principal, ex.requestid, activity, engine)
    key = bytes(idempotency_key or b"")
    if not key or (kind, activity) in READS:
        return await handler(call)
    done = await idempotency.answer_once(
        engine,
        principal,
        idempotency.parse_key(key.decode("latin-1")),
        idempotency.fingerprint(f"apiv2/{kind}/{activity}", params),
        ex.requestid,
        lambda: handler(call),
    )
    if done.replayed:
        ex.requestid = done.requestid
        ex.headers = [idempotency.REPLAYED]
    return done.status, done.body
