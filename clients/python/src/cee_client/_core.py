"""The client's shared core: every activity as data, answers read into models or typed errors.

`Client` and `AsyncClient` differ only in how they send (and sleep); what to send, which
answers to retry, how long to wait and what an answer means lives here once, as in httpx's
`BaseClient`. Each activity is a `Call`: the parameters of the request and the function that
reads a success answer.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Generic, TypeVar

import httpx

from cee_client import errors
from cee_client._models import (
    Attribute,
    BatchReport,
    Contact,
    Failure,
    ListInfo,
    RecordResult,
    Status,
    UserSummary,
)

T = TypeVar("T")

REGIONS = {
    "us": "https://api.netcoresmartech.com",
    "in": "https://apiin.netcoresmartech.com",
    "eu": "https://jsonapi.eu-north-1.eu.netcoresmartech.com",
}
USER_AGENT = "cee-client/0.1.0"

Body = dict[str, Any]


@dataclass(frozen=True)
class Retries:
    """When and how long to retry: capped exponential backoff with jitter.

    Only what cannot do harm is retried: a connection that failed (the request never left),
    a 429 (after its Retry-After) and 502/503/504 (a proxy or a restarting server). A 302, any
    other 4xx, a 500 and a timeout are not: repeating them either cannot help or might apply
    the request twice. Writes carry an Idempotency-Key, so a retried write that did arrive the
    first time is answered from the first answer rather than applied again.
    """

    attempts: int = 4  # tries in all, the first included
    backoff: float = 0.5  # seconds before the first retry; doubles each time
    max_backoff: float = 8.0
    # A Retry-After longer than this is not waited for: the RateLimited error is raised.
    max_retry_after: float = 60.0

    def delay(self, retry: int, retry_after: float | None = None) -> float:
        """Seconds to sleep before retry number `retry` (0-based)."""
        ceiling = min(self.max_backoff, self.backoff * 2.0**retry)
        if retry_after is not None:
            # The server said when: wait that long, plus a little so clients told the same
            # moment do not all arrive at it together.
            return retry_after + random.uniform(0.0, min(ceiling, 1.0) / 4)
        # Half fixed, half random ("equal jitter"): clients that failed together spread out.
        return ceiling / 2 + random.uniform(0.0, ceiling / 2)


RETRY_STATUSES = frozenset({429, 502, 503, 504})


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request of one activity, and how to read its success answer."""

    params: dict[str, str]
    read: Callable[[Body], T]
    form: dict[str, str] | None = None
    # A write gets an Idempotency-Key, the same on every attempt of this call.
    write: bool = False
    idempotency_key: str | None = None
    # The JSON v3 endpoints: a path, a JSON body and the key in a header.
    path: str = "/apiv2"
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: either form HTTP allows (delta-seconds or an HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max((moment - datetime.now(UTC)).total_seconds(), 0.0)


def base_url_for(base_url: str | None, region: str | None) -> str:
    if base_url and region:
        raise ValueError("give base_url or region, not both")
    if region is not None:
        try:
            return REGIONS[region]
        except KeyError:
            raise ValueError(f"region: {region!r} is not one of {', '.join(REGIONS)}") from None
    if not base_url:
        raise ValueError("base_url or region is required")
    return base_url.rstrip("/")


class Core:
    """What both clients share: the key, the retry rule, building and reading requests."""

    def __init__(self, api_key: str, base_url: str, retries: Retries) -> None:
        if not api_key:
            raise ValueError("api_key is required")
        self.api_key = api_key
        self.base_url = base_url
        self.retries = retries

    def build(self, http: httpx.Client | httpx.AsyncClient, call: Call[Any]) -> httpx.Request:
        headers = {"User-Agent": USER_AGENT, **call.headers}
        if call.write:
            headers["Idempotency-Key"] = call.idempotency_key or uuid.uuid4().hex
        if call.path != "/apiv2":
            headers["api-key"] = self.api_key
            return http.build_request(
                "POST", self.base_url + call.path, json=call.json, headers=headers
            )
        # apikey in the body, as real clients send it: a URL ends up in proxy and server logs.
        form = {"apikey": self.api_key, **(call.form or {})}
        return http.build_request(
            "POST", self.base_url + "/apiv2", params=call.params, data=form, headers=headers
        )

    def retry_after_error(self, exc: httpx.TransportError, retry: int) -> float | None:
        """Seconds before retrying after a failed connection; None: do not retry."""
        if retry + 1 >= self.retries.attempts:
            return None
        if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.RemoteProtocolError):
            # The request never reached the server, or the connection was dropped before any
            # answer (a restarting server): the Idempotency-Key makes the latter safe too.
            return self.retries.delay(retry)
        return None

    def retry_after_answer(self, response: httpx.Response, retry: int) -> float | None:
        """Seconds before retrying after this answer; None: the answer is final."""
        if response.status_code not in RETRY_STATUSES or retry + 1 >= self.retries.attempts:
            return None
        wait = parse_retry_after(response.headers.get("retry-after"))
        if wait is not None and wait > self.retries.max_retry_after:
            return None
        return self.retries.delay(retry, wait)

    def transport_error(self, exc: httpx.TransportError) -> errors.TransportError:
        if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
            return errors.ConnectError(f"could not connect to {self.base_url}: {exc}")
        if isinstance(exc, httpx.TimeoutException):
            return errors.Timeout(f"no answer from {self.base_url} in time: {exc!r}")
        return errors.TransportError(f"{self.base_url}: {exc!r}")

    def read(self, call: Call[T], response: httpx.Response) -> T:
        """The answer as the call's model, or the typed error it is."""
        try:
            body: Any = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        requestid = response.headers.get("x-request-id")
        if isinstance(body, dict):
            requestid = body.get("requestid") or requestid
        status = response.status_code
        if isinstance(body, dict) and body.get("status") == "error" and "error_code" in body:
            # The envelope's error_code decides, not the HTTP status: the contract makes them
            # equal, but a proxy in between or another server may not keep the status.
            code = _int(body["error_code"], status)
            details = errors.details_of(body, f"error {code}")
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            raise _rate_headers(errors.error_for(code, details, requestid, retry_after), response)
        if isinstance(body, dict) and body.get("result") == "Invalid API key":
            raise errors.InvalidApiKey("Invalid API key", error_code=401, requestid=requestid)
        if status != 200 or not isinstance(body, dict):
            text = errors.details_of(body, response.text[:200] or response.reason_phrase)
            if status == 200:
                raise errors.ServerError(
                    f"the answer is not a JSON object: {text}", error_code=status
                )
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            raise _rate_headers(errors.error_for(status, text, requestid, retry_after), response)
        return call.read(body)


def _rate_headers(exc: errors.CeeError, response: httpx.Response) -> errors.CeeError:
    """A RateLimited with the RateLimit-* headers the answer carried."""
    if isinstance(exc, errors.RateLimited):
        headers = response.headers
        limit, remaining = headers.get("ratelimit-limit"), headers.get("ratelimit-remaining")
        exc.limit = _int(limit, 0) if limit is not None else None
        exc.remaining = _int(remaining, 0) if remaining is not None else None
        exc.reset = parse_retry_after(headers.get("ratelimit-reset"))
    return exc


def _int(value: Any, fallback: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return fallback


# -- the activities, one builder each ---------------------------------------------------------


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _requestid(body: Body) -> str:
    return str(body["requestid"])


def _contact_form(contact: Any, listid: int | None) -> dict[str, str]:
    form = {"data": _dumps(contact)}
    if listid is not None:
        form["listid"] = str(listid)
    return form


def _key_data(primary_key: str | int) -> str:
    # Netcore documents `data` as the bare value; a JSON object is the other documented form.
    return str(primary_key)


def contact_call(activity: str, contact: Any, listid: int | None = None) -> Call[str]:
    return Call(
        {"type": "contact", "activity": activity},
        _requestid,
        _contact_form(contact, listid),
        write=True,
    )


def records_call(activity: str, records: list[Any], listid: int | None, key: str) -> Call[Body]:
    """A chunk of add_many: an array, whose answer carries one entry per record."""
    return Call(
        {"type": "contact", "activity": activity},
        lambda body: body,
        _contact_form(records, listid),
        write=True,
        idempotency_key=key,
    )


def delete(primary_key: str | int, listid: int) -> Call[str]:
    form = {"data": _key_data(primary_key), "listid": str(listid)}
    return Call({"type": "contact", "activity": "delete"}, _requestid, form, write=True)


def view(primary_key: str | int) -> Call[Contact]:
    return Call(
        {"type": "contact", "activity": "view"},
        lambda body: Contact.from_wire(body["result"]),
        {"data": _key_data(primary_key)},
    )


def blacklist(primary_key: str | int, on: bool) -> Call[str]:
    activity = "blacklist" if on else "unblacklist"
    form = {"data": _key_data(primary_key)}
    return Call({"type": "contact", "activity": activity}, _requestid, form, write=True)


def create_list(name: str) -> Call[int]:
    return Call(
        {"type": "lists", "activity": "create"},
        lambda body: int(body["result"]["listid"]),
        {"listname": name},
        write=True,
    )


def lists() -> Call[list[ListInfo]]:
    def read(body: Body) -> list[ListInfo]:
        return [
            ListInfo(int(r["listid"]), str(r["listname"]), int(r.get("count", 0)))
            for r in body["result"]
        ]

    return Call({"type": "lists", "activity": "getalllist"}, read)


def empty_list(name: str, background: bool) -> Call[None]:
    form = {"listname": name}
    if background:
        form["async"] = "1"
    return Call({"type": "lists", "activity": "emptylist"}, lambda body: None, form, write=True)


def create_attribute(name: str, datatype: str) -> Call[Attribute]:
    def read(body: Body) -> Attribute:
        result = body["result"]
        return Attribute(str(result["name"]), str(result["datatype"]))

    form = {"name": name, "datatype": datatype}
    return Call({"type": "attributes", "activity": "create"}, read, form, write=True)


def attributes() -> Call[list[Attribute]]:
    def read(body: Body) -> list[Attribute]:
        return [
            Attribute(str(r["name"]), str(r["datatype"]), bool(r.get("builtin", False)))
            for r in body["result"]
        ]

    return Call({"type": "attributes", "activity": "getall"}, read)


def request_status(requestid: str) -> Call[Status]:
    return Call(
        {"type": "request", "activity": "status"},
        lambda body: Status.from_wire(body["result"]),
        {"requestid": requestid},
    )


def erase(primary_key: str | int) -> Call[str]:
    form = {"primary_key": str(primary_key)}
    params = {"type": "erasure_user_data", "activity": "request_erasure_data"}
    return Call(params, _requestid, form, write=True)


def _ddmmyyyy(value: date | str) -> str:
    return value.strftime("%d%m%Y") if isinstance(value, date) else value


def user_summary(
    primary_key: str | int, from_date: date | str, to_date: date | str
) -> Call[UserSummary]:
    def read(body: Body) -> UserSummary:
        data = body["result"]["user_data"]
        return UserSummary(
            str(body.get("primary_key", primary_key)),
            dict(data.get("attribute_data") or {}),
            list(data.get("activity_data") or []),
        )

    data = {
        "primary_key": primary_key,
        "from_date": _ddmmyyyy(from_date),
        "to_date": _ddmmyyyy(to_date),
    }
    params = {"type": "export_data", "activity": "get_user_summary_data"}
    return Call(params, read, {"data": _dumps(data)})


def bulkupload(
    path: str, listid: int | None, callback: str | None, notifyemail: str | None
) -> Call[str]:
    form = {"path": path}
    for name, value in (("listid", listid), ("callback", callback), ("notifyemail", notifyemail)):
        if value is not None:
            form[name] = str(value)
    return Call({"type": "contact", "activity": "bulkupload"}, _requestid, form, write=True)


def batchadd(
    records: list[Any],
    listid: int | None,
    primarykey: str | None,
    notifyemail: str | None,
    callback: str | None,
) -> Call[str]:
    body: dict[str, Any] = {"data": records}
    for name, value in (
        ("listid", listid),
        ("primarykey", primarykey),
        ("notifyemail", notifyemail),
        ("callback", callback),
    ):
        if value is not None:
            body[name] = value
    return Call({}, _requestid, write=True, path="/v3/contact/batchadd", json=body)


def blacklist_many(values: list[str], primarykey: str | None, channel: str) -> Call[BatchReport]:
    def read(body: Body) -> BatchReport:
        report = BatchReport()
        for entry in body.get("records") or []:
            record = RecordResult.from_wire(entry)
            report.total += 1
            if record.ok:
                report.succeeded += 1
            else:
                report.failures.append(
                    Failure(record.index, record.error_code, record.details or "")
                )
        if not body.get("records"):  # an answer without per-value records: all went through
            report.total = report.succeeded = len(values)
        return report

    headers = {"channel": channel}
    if primarykey is not None:
        headers["primarykey"] = primarykey
    return Call(
        {}, read, write=True, path="/v3/contact/blacklist", json={"data": values}, headers=headers
    )
