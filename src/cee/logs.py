"""One log format for every CEE process: the CLI, `cee serve` and the processes it spawns.

Plain text by default (for a terminal); `CEE_LOG_FORMAT=json` writes one JSON object per line,
for a log shipper: `time`, `level`, `logger`, `message`, and whichever request fields the record
carries (`requestid`, `type`, `activity`, `status`, `duration_ms`, `account_id`,
`key_prefix`). A key's prefix is what identifies it in logs; the key itself is never logged.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

import orjson

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
LOG_FORMAT_ENV = "CEE_LOG_FORMAT"
FORMATS = ("text", "json")
# The fields a record may carry through `extra=`, in the order a JSON line shows them.
REQUEST_FIELDS = (
    "requestid",
    "type",
    "activity",
    "status",
    "duration_ms",
    "account_id",
    "key_prefix",
)


def log_format() -> str:
    """The chosen format: `CEE_LOG_FORMAT`, text when unset or unknown."""
    value = os.environ.get(LOG_FORMAT_ENV, "text").strip().lower()
    return value if value in FORMATS else "text"


class UtcClock:
    """ISO-8601 UTC timestamps with milliseconds, the seconds part formatted once a second."""

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""

    def stamp(self, now: float) -> str:
        second = int(now)
        if second != self._second:
            self._second = second
            self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self._prefix}.{int((now - second) * 1000):03d}Z"


class JsonFormatter(logging.Formatter):
    """A log record as one JSON object on one line."""

    def __init__(self) -> None:
        super().__init__()
        self._clock = UtcClock()

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": self._clock.stamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in REQUEST_FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


def configure_logging(cee_level: int = logging.WARNING) -> None:
    """Warnings from libraries; CEE's own messages from `cee_level` up; in the chosen format."""
    if log_format() == "json":
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        logging.basicConfig(level=logging.WARNING, handlers=[handler], force=True)
    else:
        logging.basicConfig(level=logging.WARNING, format=FORMAT)
    logging.getLogger("cee").setLevel(cee_level)
