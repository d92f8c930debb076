-- Per-user request limits (0 = none) with the token buckets that nodes share, and the
-- answers kept for Idempotency-Key (per account, 24 h).

ALTER TABLE users ADD COLUMN rate_per_minute INTEGER NOT NULL DEFAULT 0;

-- Times are seconds since the epoch, of the database's clock: every node reads one clock.
CREATE TABLE rate_buckets (
    user_id BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    tokens DOUBLE PRECISION NOT NULL,
    granted INTEGER NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL
);

CREATE TABLE idempotency_keys (
    account_id BIGINT NOT NULL REFERENCES accounts(id),
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    requestid TEXT NOT NULL,
    status INTEGER,
    answer TEXT,
    created_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (account_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
