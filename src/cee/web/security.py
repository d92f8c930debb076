"""Security headers: what a browser should be told about every answer CEE sends.

JSON answers may not be framed, sniffed as HTML, or leak their URL (which may carry an API key
in `apikey=`) through a Referer. Panel pages get a content security policy that allows scripts
and styles only from the panel's own static files: no inline script, so an injected `<script>`
does not run.
"""

from __future__ import annotations

from typing import Any

# On every answer.
COMMON: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),  # frame-ancestors' older spelling, for older browsers
)
# JSON and text: nothing in them is ever to be loaded or run by a browser.
API_CSP = b"default-src 'none'; frame-ancestors 'none'"
# HTML (the panel): its own files only, no inline script or style, never inside a frame.
PANEL_CSP = (
    b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    b"form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
# The /apiv2 hot path appends this one list as it is.
API_HEADERS: list[tuple[bytes, bytes]] = [*COMMON, (b"content-security-policy", API_CSP)]


class SecurityHeaders:
    """ASGI middleware: add the headers an answer does not set itself."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = with_security_headers(list(message.get("headers", [])))
            await send(message)

        await self.app(scope, receive, send_with_headers)


def with_security_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    present = {name.lower() for name, _ in headers}
    html = any(
        name.lower() == b"content-type" and value.startswith(b"text/html")
        for name, value in headers
    )
    for name, value in COMMON:
        if name not in present:
            headers.append((name, value))
    if b"content-security-policy" not in present:
        headers.append((b"content-security-policy", PANEL_CSP if html else API_CSP))
    return headers
