"""A finished import's summary: POSTed, signed, to `callback`, and mailed to `notifyemail`.

The callback body is signed with the account's webhook secret (`cee account webhook-secret`):
`X-CEE-Signature: sha256=<hex HMAC-SHA256 of the raw body, keyed by the secret's text>`, so a
receiver can tell CEE's summary from a forged one. A callback that fails (no answer, or not a
2xx) is retried with doubling pauses; every attempt is recorded in the job's notes, which the
request status shows. Delivery is at least once: a worker that dies mid-notification leaves
the job to the next one, which sends again.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson

from cee.ingest.imports.fetch import post_json
from cee.ingest.imports.guard import AllowList, Refused
from cee.ingest.imports.mail import MailFailed, send_summary
from cee.storage.bulk import BulkJob

SIGNATURE_HEADER = "X-CEE-Signature"
CALLBACK_SECONDS = 10.0

Save = Callable[[dict[str, Any]], Awaitable[None]]


def summary(job: BulkJob) -> dict[str, Any]:
    body: dict[str, Any] = {
        "requestid": job.requestid,
        "result": job.result,
        "total": job.succeeded + job.failed,
        "succeeded": job.succeeded,
        "failed": job.failed,
    }
    if job.reason:
        body["reason"] = job.reason
    if job.listid is not None:
        body["listid"] = job.listid
    return body


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


async def deliver_callback(
    url: str,
    body_fields: dict[str, Any],
    secret: str,
    allow: AllowList,
    notes: dict[str, Any],
    save: Save,
    *,
    attempts: int,
    backoff: float,
) -> None:
    """POST the summary until a 2xx or `attempts` tries; each try lands in notes["callback"]."""
    record = notes.setdefault("callback", {"url": url, "attempts": []})
    if record.get("delivered"):
        return  # a resumed job whose callback went through before the crash
    body = orjson.dumps(body_fields)
    headers = {SIGNATURE_HEADER: signature(secret, body)}
    pause = backoff
    for attempt in range(1, attempts + 1):
        entry: dict[str, Any] = {"attempt": len(record["attempts"]) + 1, "at": _now()}
        try:
            status = await post_json(url, body, headers, allow, CALLBACK_SECONDS)
            entry["status"] = status
        except Refused as exc:
            entry["error"] = f"callback: {exc}"
            status = 0
        except httpx.HTTPError as exc:
            entry["error"] = str(exc) or type(exc).__name__
            status = 0
        record["attempts"].append(entry)
        record["delivered"] = 200 <= status < 300
        await save(notes)
        if record["delivered"] or attempt == attempts:
            return
        await asyncio.sleep(pause)
        pause *= 2


async def deliver_mail(
    to: str,
    body_fields: dict[str, Any],
    smtp_url: str,
    sender: str,
    notes: dict[str, Any],
    save: Save,
) -> None:
    if notes.get("mail", {}).get("sent"):
        return
    if not smtp_url:
        notes["mail"] = {
            "to": to,
            "sent": False,
            "details": "no mail was sent: CEE_SMTP_URL is not set",
        }
    else:
        try:
            await send_summary(smtp_url, sender, to, body_fields)
            notes["mail"] = {"to": to, "sent": True, "at": _now()}
        except MailFailed as exc:
            notes["mail"] = {"to": to, "sent": False, "details": str(exc)}
    await save(notes)
