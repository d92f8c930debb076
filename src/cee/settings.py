"""Every setting in one table: name, default, environment variable, help.

The CLI reads flags first, then the environment, then these defaults; docs/settings.md lists the
same table (a test keeps the two in step).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    default: Any
    env: str
    help: str
    kind: type = str


SETTINGS: tuple[Setting, ...] = (
    Setting("data_dir", "./var", "CEE_DATA_DIR", "Folder of the embedded SQLite database."),
    Setting(
        "database",
        "",
        "CEE_DATABASE_URL",
        "Database URL: sqlite:///path/to/cee.db or postgresql://user@host/db. "
        "Empty: SQLite in the data dir.",
    ),
    Setting("host", "127.0.0.1", "CEE_HOST", "Address `cee serve` listens on."),
    Setting("port", 8080, "CEE_PORT", "Port `cee serve` listens on.", int),
    Setting(
        "max_body_bytes",
        10 * 1024 * 1024,
        "CEE_MAX_BODY_BYTES",
        "Largest request body accepted; larger ones get 413.",
        int,
    ),
    Setting(
        "max_records", 1000, "CEE_MAX_RECORDS", "Most contacts in one request's data array.", int
    ),
    Setting(
        "phone_region",
        "IN",
        "CEE_PHONE_REGION",
        "Region (ISO 3166 code) used to read phone numbers given without a country code.",
    ),
    Setting(
        "journal_max_depth",
        100_000,
        "CEE_JOURNAL_MAX_DEPTH",
        "Queued async requests past which `add` answers 429 with Retry-After.",
        int,
    ),
    Setting(
        "worker",
        True,
        "CEE_WORKER",
        "Run the async worker inside `cee serve` (set 0 to run `cee worker` separately).",
        bool,
    ),
    Setting(
        "processes",
        1,
        "CEE_PROCESSES",
        "HTTP processes `cee serve` runs; above 1, the async worker and (on SQLite) the one "
        "write connection they all share run in processes of their own.",
        int,
    ),
    Setting(
        "config_poll_seconds",
        1.0,
        "CEE_CONFIG_POLL_SECONDS",
        "PostgreSQL: how often a node re-checks keys and API Mode when no notification came.",
        float,
    ),
    Setting(
        "pool_size",
        10,
        "CEE_POOL_SIZE",
        "PostgreSQL: most connections one process opens (writers, reads, worker claims); "
        "plus one for LISTEN in a serving process.",
        int,
    ),
    Setting(
        "claim_seconds",
        30.0,
        "CEE_CLAIM_SECONDS",
        "How long a worker's claim on an async request lasts before another worker may take it.",
        float,
    ),
    Setting(
        "bulk_allow_hosts",
        "",
        "CEE_BULK_ALLOW_HOSTS",
        "Hosts and networks (comma-separated names, addresses or CIDRs) that bulkupload and "
        "callbacks may reach although they are loopback, private, link-local or reserved.",
    ),
    Setting(
        "bulk_max_bytes",
        2 * 1024**3,
        "CEE_BULK_MAX_BYTES",
        "Largest CSV file a bulkupload fetches; a larger one fails the job.",
        int,
    ),
    Setting(
        "bulk_fetch_seconds",
        3600.0,
        "CEE_BULK_FETCH_SECONDS",
        "Longest a bulkupload's download may take; a slower one fails the job.",
        float,
    ),
    Setting(
        "bulk_concurrency",
        2,
        "CEE_BULK_CONCURRENCY",
        "Bulk imports one worker runs at once (every worker of a cluster runs this many).",
        int,
    ),
    Setting(
        "bulk_chunk_rows",
        10000,
        "CEE_BULK_CHUNK_ROWS",
        "Rows of a bulk import the reader sends at a time, written in one transaction when the "
        "API is quiet (on SQLite, 100 at a time between requests' commits while it writes).",
        int,
    ),
    Setting(
        "bulk_callback_attempts",
        5,
        "CEE_BULK_CALLBACK_ATTEMPTS",
        "How often a bulkupload's callback is tried before it is given up.",
        int,
    ),
    Setting(
        "bulk_callback_backoff",
        2.0,
        "CEE_BULK_CALLBACK_BACKOFF",
        "Seconds before a failed callback is retried; doubled after every attempt.",
        float,
    ),
    Setting(
        "smtp_url",
        "",
        "CEE_SMTP_URL",
        "SMTP server for bulkupload's notifyemail: smtp://[user:pass@]host[:port], "
        "smtp+starttls://... or smtps://...; empty: no mail is sent (the job says so).",
    ),
    Setting("smtp_from", "cee@localhost", "CEE_SMTP_FROM", "Sender of notify emails."),
    Setting(
        "header_timeout_seconds",
        10.0,
        "CEE_HEADER_TIMEOUT_SECONDS",
        "Time a connection has to send a request's head (line and headers) from its start or "
        "from its first byte after an idle keep-alive; then 408 and closed.",
        float,
    ),
    Setting(
        "body_timeout_seconds",
        60.0,
        "CEE_BODY_TIMEOUT_SECONDS",
        "Time a request has to send its whole body after its head; then 408 and closed.",
        float,
    ),
    Setting(
        "keepalive_seconds",
        5.0,
        "CEE_KEEPALIVE_SECONDS",
        "How long an idle keep-alive connection stays open between requests.",
        float,
    ),
    Setting(
        "max_connections",
        1000,
        "CEE_MAX_CONNECTIONS",
        "Open connections per HTTP process; at the cap a new one replaces the oldest that is "
        "not running a request, or gets 503 if all are.",
        int,
    ),
    Setting("log_level", "info", "CEE_LOG_LEVEL", "debug, info, warning or error."),
    Setting(
        "log_format",
        "text",
        "CEE_LOG_FORMAT",
        "text (for a terminal) or json (one JSON object per line, for a log shipper).",
    ),
    Setting(
        "access_log",
        True,
        "CEE_ACCESS_LOG",
        "Log one line per API request (requestid, type, activity, status, duration, account, "
        "key prefix); 0 turns it off.",
        bool,
    ),
    Setting(
        "shutdown_seconds",
        30.0,
        "CEE_SHUTDOWN_SECONDS",
        "On SIGTERM, how long `cee serve` waits for requests in flight before it stops anyway.",
        float,
    ),
    Setting(
        "panel_secure_cookies",
        False,
        "CEE_PANEL_SECURE_COOKIES",
        "Mark the panel's cookies Secure (set it behind an https proxy; https requests always "
        "get Secure cookies).",
        bool,
    ),
    Setting(
        "panel_idle_minutes",
        30.0,
        "CEE_PANEL_IDLE_MINUTES",
        "A panel session unused this long ends; the user logs in again.",
        float,
    ),
)


def _parse(setting: Setting, raw: str) -> Any:
    if setting.kind is bool:
        return raw.strip().lower() not in ("0", "false", "no", "off", "")
    return setting.kind(raw)


@dataclass(frozen=True)
class Settings:
    values: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, **overrides: Any) -> Settings:
        """Defaults, then the environment, then non-None overrides (CLI flags)."""
        values: dict[str, Any] = {}
        for setting in SETTINGS:
            raw = os.environ.get(setting.env)
            values[setting.name] = setting.default if raw is None else _parse(setting, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(values)

    def __post_init__(self) -> None:
        # Each value as a plain attribute too: `__getattr__` runs only after a normal lookup
        # has failed and raised, which on the request path (max_body_bytes, max_records) cost
        # about a microsecond a read.
        for name, value in self.values.items():
            if not hasattr(type(self), name):
                object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    def database_url(self) -> str:
        if self.values["database"]:
            return str(self.values["database"])
        return f"sqlite:///{os.path.abspath(os.path.join(self.values['data_dir'], 'cee.db'))}"
