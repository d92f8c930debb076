-- The panel (issue 11): server-side sessions, the login throttle, the audit trail, and API keys
-- kept encrypted beside their HMAC so the panel can show one again.

-- NULL for keys made before this change: those can only be rotated, never shown.
ALTER TABLE api_keys ADD COLUMN key_cipher TEXT;

-- `id` is a SHA-256 of the cookie's value: a copied database does not yield live sessions.
-- No config trigger on these tables: a login must not make every node rebuild its key cache.
CREATE TABLE panel_sessions (
    id TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    csrf_token TEXT NOT NULL,
    address TEXT NOT NULL,
    logged_in_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    seen_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX panel_sessions_by_user ON panel_sessions (user_id);

CREATE TABLE login_failures (
    id BIGSERIAL PRIMARY KEY,
    username TEXT NOT NULL,
    address TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX login_failures_by_user ON login_failures (username, at);
CREATE INDEX login_failures_by_address ON login_failures (address, at);

-- actor NULL: the operator's CLI (it has no panel user); address NULL likewise.
CREATE TABLE audit_log (
    id BIGSERIAL PRIMARY KEY,
    account_id BIGINT NOT NULL,
    actor TEXT,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    address TEXT,
    at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX audit_log_by_account ON audit_log (account_id, id);
