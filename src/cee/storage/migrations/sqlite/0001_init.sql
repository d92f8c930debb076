-- The whole schema of the first release. Timestamps are ISO-8601 UTC text.

CREATE TABLE meta (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE accounts (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    api_mode INTEGER NOT NULL DEFAULT 1,
    primary_key TEXT NOT NULL DEFAULT 'EMAIL',
    created_at TEXT NOT NULL
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    is_admin INTEGER NOT NULL DEFAULT 0,
    active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL
);

CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    key_hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

CREATE TABLE attributes (
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    name TEXT NOT NULL,
    datatype TEXT NOT NULL,
    builtin INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    PRIMARY KEY (account_id, name)
) WITHOUT ROWID;

CREATE TABLE lists (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (account_id, name)
);

CREATE TABLE contacts (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    match_key TEXT NOT NULL,
    key_display TEXT NOT NULL,
    attributes TEXT NOT NULL,
    email_blacklisted INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (account_id, match_key)
);

CREATE TABLE list_members (
    list_id INTEGER NOT NULL REFERENCES lists(id),
    contact_id INTEGER NOT NULL REFERENCES contacts(id),
    added_at TEXT NOT NULL,
    PRIMARY KEY (list_id, contact_id)
) WITHOUT ROWID;

CREATE INDEX list_members_by_contact ON list_members (contact_id);

CREATE TABLE contact_history (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL,
    match_key TEXT NOT NULL,
    requestid TEXT NOT NULL,
    key_prefix TEXT NOT NULL,
    activity TEXT NOT NULL,
    changes TEXT NOT NULL,
    at TEXT NOT NULL
);

CREATE INDEX contact_history_by_contact ON contact_history (account_id, match_key, id);

CREATE TABLE journal (
    id INTEGER PRIMARY KEY,
    requestid TEXT NOT NULL UNIQUE,
    account_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    key_prefix TEXT NOT NULL,
    activity TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'queued',
    claimed_by TEXT,
    claimed_until REAL,
    result TEXT,
    records TEXT,
    created_at TEXT NOT NULL,
    finished_at TEXT
);

CREATE INDEX journal_by_state ON journal (state, id);
