-- Per-user request limits (0 = none) with the token buckets that processes share, and the
-- answers kept for Idempotency-Key (per account, 24 h).

ALTER TABLE users ADD COLUMN rate_per_minute INTEGER NOT NULL DEFAULT 0;

-- Times are seconds since the epoch (REAL): the bucket arithmetic is on numbers.
CREATE TABLE rate_buckets (
    user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    tokens REAL NOT NULL,
    granted INTEGER NOT NULL,
    updated_at REAL NOT NULL
);

CREATE TABLE idempotency_keys (
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    requestid TEXT NOT NULL,
    status INTEGER,
    answer TEXT,
    created_at REAL NOT NULL,
    PRIMARY KEY (account_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
