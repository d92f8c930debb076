"""The notify email of an import (bulkupload, v3 batchadd), over SMTP (the stdlib client, on a
thread).

`smtp_url`: `smtp://[user:password@]host[:port]` (plain, port 25), `smtp+starttls://...`
(upgraded with STARTTLS, port 587) or `smtps://...` (TLS from the start, port 465).
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.message import EmailMessage
from typing import Any
from urllib.parse import unquote, urlsplit

SMTP_SECONDS = 30.0
PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


class MailFailed(Exception):
    """The mail could not be handed to the SMTP server; the message says why."""


def message(sender: str, to: str, body: dict[str, Any]) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = f"CEE import {body['requestid']}: {body['result']}"
    lines = [
        f"Import {body['requestid']} finished: {body['result']}.",
        "",
        f"Records: {body['total']}",
        f"Imported: {body['succeeded']}",
        f"Rejected: {body['failed']}",
    ]
    if body.get("reason"):
        lines += ["", f"Reason: {body['reason']}"]
    lines += [
        "",
        "Which records failed, and why: type=request&activity=status&requestid="
        + str(body["requestid"]),
    ]
    mail.set_content("\n".join(lines) + "\n")
    return mail


def _send(smtp_url: str, mail: EmailMessage) -> None:
    parts = urlsplit(smtp_url)
    scheme = parts.scheme.lower()
    if scheme not in PORTS or not parts.hostname:
        raise MailFailed("CEE_SMTP_URL: expected smtp://, smtp+starttls:// or smtps://host")
    port = parts.port or PORTS[scheme]
    try:
        client: smtplib.SMTP
        if scheme == "smtps":
            client = smtplib.SMTP_SSL(
                parts.hostname, port, timeout=SMTP_SECONDS, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(parts.hostname, port, timeout=SMTP_SECONDS)
        with client:
            if scheme == "smtp+starttls":
                client.starttls(context=ssl.create_default_context())
            if parts.username:
                client.login(unquote(parts.username), unquote(parts.password or ""))
            client.send_message(mail)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailFailed(f"the SMTP server {parts.hostname}:{port} refused it ({exc})") from exc


async def send_summary(smtp_url: str, sender: str, to: str, body: dict[str, Any]) -> None:
    await asyncio.to_thread(_send, smtp_url, message(sender, to, body))
