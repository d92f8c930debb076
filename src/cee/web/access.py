"""The access log: one line per API request, in the process's log format (`CEE_ACCESS_LOG`).

Not through `logging`: a record per request cost ~10 µs there (a LogRecord, a handler lock, a
write and flush each), several per cent of an `addsync`. Here a request appends one formatted
line to a buffer, and the buffer is written to stderr in one call at most every
FLUSH_SECONDS (or when it holds FLUSH_LINES), so the lines are at most that late. The lines have
the shape of every other log line of the process (see `cee.logs`).
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

import orjson

from cee.logs import UtcClock

FLUSH_SECONDS = 0.2
FLUSH_LINES = 512
LOGGER = "cee.access"


class AccessLog:
    def __init__(self, *, enabled: bool, json: bool) -> None:
        self.enabled = enabled
        self.json = json
        self._clock = UtcClock()
        self._lines: list[bytes] = []
        self._flush_pending = False

    def write(
        self,
        requestid: str,
        kind: str,
        activity: str,
        status: int,
        seconds: float,
        account_id: int | None,
        key_prefix: str | None,
    ) -> None:
        now = time.time()
        duration_ms = round(seconds * 1000, 2)
        if self.json:
            line: dict[str, Any] = {
                "time": self._clock.stamp(now),
                "level": "info",
                "logger": LOGGER,
                "message": f"{kind} {activity} {status}",
                "requestid": requestid,
                "type": kind,
                "activity": activity,
                "status": status,
                "duration_ms": duration_ms,
            }
            if account_id is not None:
                line["account_id"] = account_id
                line["key_prefix"] = key_prefix
            self._lines.append(orjson.dumps(line) + b"\n")
        else:
            who = f" account={account_id} key={key_prefix}" if account_id is not None else ""
            self._lines.append(
                f"{self._clock.stamp(now)} INFO {LOGGER} requestid={requestid} type={kind} "
                f"activity={activity} status={status} duration_ms={duration_ms}{who}\n".encode()
            )
        if len(self._lines) >= FLUSH_LINES:
            self.flush()
        elif not self._flush_pending:
            self._flush_pending = True
            asyncio.get_running_loop().call_later(FLUSH_SECONDS, self.flush)

    def flush(self) -> None:
        self._flush_pending = False
        if not self._lines:
            return
        data = b"".join(self._lines)
        self._lines.clear()
        stream = sys.stderr
        stream.flush()  # whatever `logging` wrote before goes first
        if hasattr(stream, "buffer"):
            stream.buffer.write(data)
        else:  # replaced by something text-only (a test's capture)
            stream.write(data.decode())
        stream.flush()

    def configure(self, *, enabled: bool, json: bool) -> None:
        self.flush()
        self.enabled, self.json = enabled, json


# The process's one access log; `CeeApp` configures it from the settings.
ACCESS = AccessLog(enabled=False, json=False)
